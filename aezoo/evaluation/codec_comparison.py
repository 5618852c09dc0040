"""Learned codecs against JPEG, WebP and AVIF on the same images, every byte of every file counted.

    python -m aezoo.evaluation.codec_comparison PRESET [PRESET ...] [--images N]

Each codec preset is one rate point: the mean over images of ``8 * len(file) / (H * W)``
bits per pixel and of RGB PSNR. Each baseline format is swept over Pillow qualities; the
points at rates near the codecs' (within a factor 1.5 of their range, at least the four
nearest) make its curve. Bjøntegaard-delta rates (``aezoo.evaluation.bd_rate``) of the
codecs against each format are reported twice: full files on both sides, and with each
baseline file's fixed overhead (``image_formats.payload_bytes``) subtracted, so that a
reader sees how much of the difference is the container. Prints JSON.
"""

import argparse
import json
import sys

import numpy as np

from aezoo.evaluation import image_formats
from aezoo.evaluation.bd_rate import bd_rate

QUALITIES = tuple(range(5, 100, 5))


def codec_point(model, images):
    """Mean full-file bpp, payload bpp, header bytes and PSNR of one codec on ``images``."""
    files = model.compress(images)
    decoded = model.decompress(files)
    pixels = images.shape[1] * images.shape[2]
    return {"bpp": float(np.mean([8 * len(f) for f in files]) / pixels),
            "payload_bpp": float(np.mean([8 * image_formats.payload_bytes(f, "aezoo") for f in files]) / pixels),
            "overhead_bytes": float(np.mean([len(f) - image_formats.payload_bytes(f, "aezoo") for f in files])),
            "psnr": float(np.mean(image_formats.psnr(images, np.stack(decoded))))}


def _matched(points, low, high):
    """The sweep's points within a factor 1.5 of [low, high] bpp; at least the 4 nearest."""
    inside = [p for p in points if low / 1.5 <= p["bpp"] <= high * 1.5]
    if len(inside) >= 4:
        return inside
    centre = np.log(np.sqrt(low * high))
    return sorted(sorted(points, key=lambda p: abs(np.log(p["bpp"]) - centre))[:4], key=lambda p: p["bpp"])


def compare(models, images, formats=image_formats.FORMATS, qualities=QUALITIES):
    """``{"codecs": [points], "<format>": {"points", "bd_rate", "bd_rate_without_overhead"}}``."""
    ours = [dict(codec_point(model, images), preset=(getattr(model, "preset_metadata", None) or {}).get("preset"))
            for model in models]
    report = {"images": int(len(images)), "codecs": ours}
    rates, psnr = [p["bpp"] for p in ours], [p["psnr"] for p in ours]
    for fmt in formats:
        points = _matched(image_formats.curve(images, fmt, qualities), min(rates), max(rates))
        entry = {"points": points}
        try:
            entry["bd_rate"] = bd_rate([p["bpp"] for p in points], [p["psnr"] for p in points], rates, psnr)
            entry["bd_rate_without_overhead"] = bd_rate([p["payload_bpp"] for p in points],
                                                        [p["psnr"] for p in points], rates, psnr)
        except ValueError as err:  # fewer than 4 codec points, or no shared PSNR range
            entry["bd_rate_error"] = str(err)
        report[fmt] = entry
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m aezoo.evaluation.codec_comparison",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="+", help="codec presets, one per rate (names or folders)")
    parser.add_argument("--images", type=int, default=1000, help="first N faces of the test split")
    args = parser.parse_args(argv)
    import aezoo
    from aezoo.data.arrays import load_arrays

    images = load_arrays("faces", split="test", image_size=64)[:args.images]
    models = [aezoo.load(p, compile=False) for p in args.presets]
    print(json.dumps(compare(models, images), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
