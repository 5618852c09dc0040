"""taef2: the original TAEF2 weights converted into the bundled preset ``weights/taef2``.

    python recipes/converted/taef2.py [--source ../shared/weights/taesd] [--out weights/taef2]

Converts ``taef2_encoder.pth`` + ``taef2_decoder.pth`` (madebyollin/taesd, commit 5cccb12,
MIT) with ``aezoo.convert.taesd``, measures the largest difference from the original
PyTorch module on real photos at 256 and 512 px (when torch is installed), measures the
reconstruction PSNR that ``aezoo eval taef2`` re-measures, and writes the preset folder
with the source files' sha256s and the licence text.
"""

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO.parent / "shared" / "weights" / "taesd"
PRESET = "taef2"
SOURCE = {
    "author": "Ollin Boer Bohan", "url": "https://github.com/madebyollin/taesd", "commit": "5cccb12",
    "license_name": "MIT", "tags": ["taesd", "flux"],
}


def original_module(source_dir):
    """The original ``taesd.py``, imported from the source folder (the reference, never copied)."""
    spec = importlib.util.spec_from_file_location("taesd_original", Path(source_dir) / "taesd.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def equivalence(model, source_dir, sizes=(256, 512)):
    """Largest absolute differences from the PyTorch original on the photos, per size."""
    import keras
    import torch

    from aezoo.data.photos import NAMES, photos

    ref = original_module(source_dir).TAESD(str(Path(source_dir) / "taef2_encoder.pth"),
                                            str(Path(source_dir) / "taef2_decoder.pth")).eval()
    out = {"reference": "taesd.py (madebyollin/taesd@5cccb12)", "images": list(NAMES),
           "backend": keras.backend.backend(), "sizes": {}}
    for size in sizes:
        x = photos(size)
        with torch.no_grad():
            z_ref = ref.encoder(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
            x_ref = ref.decoder(torch.from_numpy(z_ref.transpose(0, 3, 1, 2))).clamp(0, 1).numpy()
        z = model.encode(x, batch_size=1)
        out["sizes"][str(size)] = {
            "latents_max_abs": float(np.abs(z - z_ref).max()),
            "latent_range": float(z_ref.max() - z_ref.min()),
            "images_max_abs": float(np.abs(model.decode(z_ref, batch_size=1) - x_ref.transpose(0, 2, 3, 1)).max()),
        }
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(DEFAULT_SOURCE), help="folder with taef2_*.pth, taesd.py, LICENSE")
    parser.add_argument("--out", default=str(REPO / "weights" / PRESET))
    args = parser.parse_args(argv)

    import keras

    from aezoo.convert.taesd import from_taesd_files
    from aezoo.evaluation.photo_metrics import photo_metrics, photo_protocol
    from aezoo.io import file_digest
    from aezoo.presets import save_preset

    source_dir = Path(args.source)
    model = from_taesd_files(source_dir / "taef2_encoder.pth", source_dir / "taef2_decoder.pth")
    files = {name: file_digest(source_dir / name) for name in ("taef2_encoder.pth", "taef2_decoder.pth", "LICENSE")}
    try:
        import torch  # noqa: F401  (the reference needs it)
        eq = equivalence(model, source_dir)
    except ImportError:
        eq = None
        print("torch is not installed: the equivalence with the original is not measured", file=sys.stderr)
    metrics = photo_metrics(model)
    command = f"python {Path(__file__).resolve().relative_to(REPO)}"
    meta = {
        "source": {**SOURCE, "files": files}, "converter": "aezoo.convert.taesd.from_taesd_files",
        "downsampling_factor": model.downsampling_factor, "metrics": metrics, "protocol": photo_protocol(),
        "equivalence": eq, "split": "photos",
        "check": {"metrics": metrics, "examples": 2, "backend": keras.backend.backend(),
                  "command": f"aezoo eval {PRESET}"},
        "training": {"converted": True, "command": command, "backend": keras.backend.backend()},
    }
    meta = {k: v for k, v in meta.items() if v is not None}
    folder = save_preset(model, args.out, preset=PRESET, metadata=meta,  # the card: aezoo.convert.card
                         extra_files={"LICENSE": source_dir / "LICENSE"})
    for key, value in metrics.items():
        print(f"{key}: {value:.3f}")
    if eq:
        for size, d in eq["sizes"].items():
            print(f"vs original at {size}px: latents {d['latents_max_abs']:.2e} (range {d['latent_range']:.2f}), "
                  f"images {d['images_max_abs']:.2e}")
    print(f"wrote {folder}")


if __name__ == "__main__":
    main()
