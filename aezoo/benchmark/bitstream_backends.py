"""Does a codec file decode the same on every Keras backend? Encode on each, decode on each.

    python -m aezoo.benchmark bitstream PRESET [--images N] [--backends tensorflow,jax,torch]

Keras fixes its backend at import, so each backend runs in a child process: first each
encodes the same images (the faces test split, or ``--images-file x.npy``) into files and
records its quantised latents and, for the hyperprior, its scale indexes; then each decodes
every backend's files. For every (encoder, decoder) pair it reports the files decoded to
exactly the encoder's latents, the files refused (a hyperprior whose scale indexes this
backend computes differently: the header's checksum), and the scale indexes that differ,
element by element: those the file codes with (fixed point, ``aezoo.models.fixed_point``:
none may differ) and, for comparison, those each backend's float hyper-decoder gives.
Prints JSON.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

BACKENDS = ("tensorflow", "jax", "torch")


def _child_encode(preset, images, out):
    import aezoo
    from aezoo.uses import bitstream

    model = aezoo.load(preset, compile=False)
    x = np.load(images)
    files = model.compress(x)
    for i, data in enumerate(files):
        (out / f"{i}.aezc").write_bytes(data)
    padded = bitstream.pad(x, model.size_multiple)
    arrays = {"latents": model.encode(padded)}
    if model.architecture == "hyperprior-codec":
        pairs = [_indexes(model, data) for data in files]
        arrays["indexes"] = np.stack([p[0] for p in pairs])
        arrays["float_indexes"] = np.stack([p[1] for p in pairs])
    np.savez(out / "encoded.npz", **arrays)


def _indexes(model, data):
    """(the scale indexes the file codes with, those the backend's float hyper-decoder gives)."""
    from aezoo.uses import bitstream

    header = bitstream.read_header(data)
    size = bitstream.padded_size(header.height, header.width, model.size_multiple)
    _, z_hat, indexes = model._side_information(bitstream.payload(data, header), size)
    return indexes, model.scale_indexes(z_hat, exact=False)


def _child_decode(preset, sources, out):
    """Decode every backend's files of ``preset`` (folders ``sources``) into ``out``."""
    import aezoo
    from aezoo.uses.bitstream import BitstreamError

    model = aezoo.load(preset, compile=False)
    report = {}
    for source in sources:
        files = sorted(source.glob("*.aezc"), key=lambda p: int(p.stem))
        latents, images, refused, indexes, float_indexes = [], [], [], [], []
        for path in files:
            data = path.read_bytes()
            if model.architecture == "hyperprior-codec":
                exact, floating = _indexes(model, data)
                indexes.append(exact)
                float_indexes.append(floating)
            try:
                latents.append(model.decompress_latents(data))
                images.append(model.decode(latents[-1][None])[0])
            except BitstreamError as err:
                refused.append(str(err))
                latents.append(None)
                images.append(None)
        np.savez(out / f"{source.name}.npz", **{f"latents_{i}": v for i, v in enumerate(latents) if v is not None},
                 **{f"image_{i}": v for i, v in enumerate(images) if v is not None},
                 **({"indexes": np.stack(indexes), "float_indexes": np.stack(float_indexes)} if indexes else {}))
        report[source.name] = refused
    (out / "refused.json").write_text(json.dumps(report))


def _run_child(backend, job):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-m", "aezoo.benchmark.bitstream_backends", "--child", str(job)],
                          env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode:
        raise RuntimeError(f"{backend} child failed: {(proc.stdout + proc.stderr)[-3000:]}")


def cross_backend(presets, images, backends=BACKENDS, workdir=None):
    """Encode ``images`` with each preset on each backend, decode every file on each backend;
    returns ``{preset: report}`` (two child processes per backend, whatever the presets)."""
    work = Path(workdir or tempfile.mkdtemp(prefix="aezoo-bitstream-"))
    work.mkdir(parents=True, exist_ok=True)
    np.save(work / "images.npy", np.asarray(images, np.float32))
    folder = {preset: work / f"preset{i}" for i, preset in enumerate(presets)}
    for phase in ("encode", "decode"):
        for backend in backends:
            tasks = []
            for preset in presets:
                out = folder[preset] / f"{phase[:3]}-{backend}"
                out.mkdir(parents=True, exist_ok=True)
                sources = [str(folder[preset] / f"enc-{b}") for b in backends]
                tasks.append([str(preset), str(work / "images.npy") if phase == "encode" else sources, str(out)])
            job = work / f"{phase}-{backend}.json"
            job.write_text(json.dumps({"phase": phase, "tasks": tasks}))
            _run_child(backend, job)
    return {str(preset): _compare(folder[preset], len(images), backends) for preset in presets}


def _compare(folder, n, backends):
    pairs = {}
    for encoder in backends:
        encoded = np.load(folder / f"enc-{encoder}" / "encoded.npz")
        for decoder in backends:
            decoded = np.load(folder / f"dec-{decoder}" / f"enc-{encoder}.npz")
            refused = json.loads((folder / f"dec-{decoder}" / "refused.json").read_text())[f"enc-{encoder}"]
            exact = sum(f"latents_{i}" in decoded and np.array_equal(decoded[f"latents_{i}"], encoded["latents"][i])
                        for i in range(n))
            pair = {"files": n, "exact_latents": int(exact), "refused": len(refused),
                    "bytes": int(sum(p.stat().st_size for p in (folder / f"enc-{encoder}").glob("*.aezc")))}
            if "indexes" in encoded:
                differ = encoded["indexes"] != decoded["indexes"]
                floats = encoded["float_indexes"] != decoded["float_indexes"]
                pair.update(files_with_index_differences=int(differ.reshape(n, -1).any(1).sum()),
                            differing_indexes=int(differ.sum()), indexes=int(differ.size),
                            files_with_float_index_differences=int(floats.reshape(n, -1).any(1).sum()),
                            differing_float_indexes=int(floats.sum()))
            pairs[f"{encoder}->{decoder}"] = pair
    return {"images": n, "backends": list(backends), "pairs": pairs, "workdir": str(folder)}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        job = json.loads(Path(argv[1]).read_text())
        for preset, source, out in job["tasks"]:
            if job["phase"] == "encode":
                _child_encode(preset, Path(source), Path(out))
            else:
                _child_decode(preset, [Path(p) for p in source], Path(out))
        return 0
    parser = argparse.ArgumentParser(prog="python -m aezoo.benchmark bitstream", description=__doc__.splitlines()[0])
    parser.add_argument("preset", help="codec preset name or folder")
    parser.add_argument("--images", type=int, default=1000, help="first N faces of the test split")
    parser.add_argument("--images-file", help="a .npy of images (n, H, W, 3) in [0, 1] instead")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    args = parser.parse_args(argv)
    if args.images_file:
        images = np.load(args.images_file)
    else:
        from aezoo.data.arrays import load_arrays

        images = load_arrays("faces", split="test", image_size=64)[:args.images]
    report = cross_backend([args.preset], images, tuple(args.backends.split(",")))[args.preset]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
