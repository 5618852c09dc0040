"""The seeds' 2-d face map: decode the latent plane of ``conv-vae-faces-2d`` and place the
CelebA test faces at their codes, coloured by the Male, Smiling and Young attributes.

Run: ``python recipes/experiments/face_map.py -o weights/figures/face_map.png``.
Only decoded model outputs and code positions are drawn: no CelebA pixel is in the figure.
Prints, per attribute, the linear-probe accuracy of the two numbers (how well a straight
line across the plane separates the attribute) and the attribute's base rate.
"""

import argparse


import aezoo
from aezoo import data, evaluation
from aezoo.uses import plots

ATTRIBUTES = ("Male", "Smiling", "Young")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="conv-vae-faces-2d")
    parser.add_argument("-o", "--output", default="face_map.png")
    args = parser.parse_args(argv)

    model = aezoo.load(args.preset)
    size = model.data_shape[0]
    x_train, y_train = data.load_arrays("faces", "train", size, with_labels=True)
    x_test, y_test = data.load_arrays("faces", "test", size, with_labels=True)
    z_train, z_test = model.encode(x_train), model.encode(x_test)
    for name in ATTRIBUTES:
        acc = evaluation.linear_probe(z_train, y_train[name], z_test, y_test[name])
        base = max(y_test[name].mean(), 1 - y_test[name].mean())
        print(f"{name:8s} linear probe on the 2 numbers {acc:.3f} (majority class {base:.3f})")
    plots.attribute_map(model, x_test, {k: y_test[k] for k in ATTRIBUTES}, args.output,
                        title=f"{args.preset}: 1,000 test faces placed at their 2-d codes")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
