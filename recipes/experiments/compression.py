"""Compression: a preset's quantised latents against JPEG at a similar size.

Run: ``python recipes/experiments/compression.py conv-ae-fashion --bits 8 --examples 1000``.
Encodes test images with ``aezoo.uses.latent.compress`` (uniform ``bits``-bit latents plus a
19-byte header per batch), decodes them, and reports bytes per image and PSNR. JPEG
(Pillow, 4:2:0 off, no optimisation of tables) is run at every quality 1..95 and the
quality whose mean size is closest to the latent codes' is reported beside it, as well
as JPEG's smallest size (quality 1; its headers alone cost hundreds of bytes) and the
smallest quality at which JPEG matches our PSNR.
"""

import argparse
import io
import json

import numpy as np
from PIL import Image

import aezoo
from aezoo import data, evaluation, presets
from aezoo.uses import latent
from aezoo.presets import resolve


def jpeg_round_trip(x, quality):
    sizes, out = [], []
    for image in x:
        arr = (np.clip(image, 0, 1) * 255).round().astype("uint8")
        pil = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
        buf = io.BytesIO()
        pil.save(buf, format="JPEG", quality=quality)
        sizes.append(buf.tell())
        decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())), dtype="float32") / 255.0
        out.append(decoded.reshape(image.shape))
    return float(np.mean(sizes)), np.stack(out)


def _same_psnr(x, by_quality, target):
    """The smallest JPEG quality whose PSNR reaches ours, and its size."""
    for q in sorted(by_quality):
        value = evaluation.psnr(x, by_quality[q][1])
        if value >= target:
            return {"quality": q, "bytes_per_image": by_quality[q][0], "psnr": value}
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset")
    parser.add_argument("--bits", type=int, default=8)
    parser.add_argument("--examples", type=int, default=1000)
    args = parser.parse_args(argv)

    model = aezoo.load(args.preset)
    meta = presets.read_metadata(resolve(args.preset)[0])
    x = data.load_arrays(meta["dataset"], "test", meta.get("image_size"))[: args.examples]
    blob = latent.compress(model, x, bits=args.bits)
    restored = latent.decompress(model, blob)
    ours = {"bytes_per_image": len(blob) / len(x), "psnr": evaluation.psnr(x, restored)}
    by_quality = {q: jpeg_round_trip(x, q) for q in range(1, 96)}
    q_near = min(by_quality, key=lambda q: abs(by_quality[q][0] - ours["bytes_per_image"]))
    report = {
        "preset": args.preset, "examples": len(x), "bits": args.bits, "aezoo": ours,
        "jpeg_similar_size": {"quality": q_near, "bytes_per_image": by_quality[q_near][0],
                              "psnr": evaluation.psnr(x, by_quality[q_near][1])},
        "jpeg_smallest": {"quality": 1, "bytes_per_image": by_quality[1][0],
                          "psnr": evaluation.psnr(x, by_quality[1][1])},
        "jpeg_same_psnr": _same_psnr(x, by_quality, ours["psnr"]),
        "raw_bytes_per_image": int(np.prod(x.shape[1:])),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
