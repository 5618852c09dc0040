"""Latent map of a preset: test-set codes coloured by class, and the decoded latent plane.

Run: ``python recipes/experiments/latent_map.py conv-vae-fashion-2d -o latent-map.png``.
For a 2-d latent both panels are exact; for larger latents the codes are PCA-projected.
"""

import argparse

import aezoo
from aezoo import data
from aezoo.uses import plots

FASHION = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", nargs="?", default="conv-vae-fashion-2d")
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("-o", "--output", default="latent-map.png")
    args = parser.parse_args(argv)
    model = aezoo.load(args.preset)
    meta = model.preset_metadata
    x, y = data.load_arrays(meta["dataset"], "test", meta.get("image_size"), with_labels=True)
    names = FASHION if meta["dataset"] == "fashion_mnist" else None
    plots.latent_map(model, x[: args.examples], y[: args.examples], args.output, class_names=names)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
