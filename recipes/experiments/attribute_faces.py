"""The "smile vector" experiment on faces: an attribute direction from UTKFace labels.

Run: ``python recipes/experiments/attribute_faces.py --attribute gender -o attribute.png``.
Encodes 20 UTKFace test faces with the attribute and 20 without using the
``conv-vae-faces`` preset (trained on CelebA), takes the difference of mean codes
(``aezoo.latent.attribute_vector``), and adds it with strengths -2..2 to the codes of
faces *sampled from the model's prior*: the figure shows only the model's outputs, no
dataset image. Attributes: ``gender`` (female minus male) or ``age`` (60+ minus 20-30).
"""

import argparse

import numpy as np

import aezoo
from aezoo import data, latent, plots


def groups(attribute, x, y):
    if attribute == "gender":
        return x[y["gender"] == 1], x[y["gender"] == 0]
    if attribute == "age":
        return x[y["age"] >= 60], x[(y["age"] >= 20) & (y["age"] <= 30)]
    raise ValueError(f"attribute must be 'gender' or 'age', got {attribute!r}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attribute", default="gender", choices=["gender", "age"])
    parser.add_argument("--preset", default="conv-vae-faces")
    parser.add_argument("--per-group", type=int, default=20)
    parser.add_argument("-o", "--output", default="attribute.png")
    args = parser.parse_args(argv)

    model = aezoo.load(args.preset)
    x, y = data.load_arrays("utkface", "test", image_size=model.data_shape[0], with_labels=True)
    with_attr, without_attr = groups(args.attribute, x, y)
    rng = np.random.default_rng(0)
    pick = lambda a: a[rng.choice(len(a), args.per_group, replace=False)]  # noqa: E731
    vector = latent.attribute_vector(model, pick(with_attr), pick(without_attr))
    strengths = (-2.0, -1.0, 0.0, 1.0, 2.0)
    faces = model.sample(4, seed=1, temperature=0.8)
    sweep = latent.apply_attribute(model, faces, vector, strengths)
    plots.attribute_sweep(sweep, strengths, args.output, title=f"{args.preset}: {args.attribute} vector from UTKFace labels")
    print(f"wrote {args.output} (|vector| = {np.linalg.norm(vector):.2f})")


if __name__ == "__main__":
    main()
