"""The "smile vector" on real faces: CelebA's Smiling attribute added to redistributable faces.

Run: ``python recipes/experiments/attribute_faces.py --attribute Smiling -o weights/figures/smile_vector.png``.
The face presets store attribute vectors computed by their recipe (a preset trained
before recipes stored them gets the same computation here) exactly as the seeds teach: mean code of 20 smiling minus 20 non-smiling CelebA training faces
(``aezoo.uses.latent.attribute_vector``). This script adds the stored vector with strengths
0..+3 to the codes of the demo faces (``aezoo.data.demo_faces``: NASA's public-domain
astronaut portrait and AT&T's Olivetti faces), so the figure holds no CelebA pixel.
"""

import argparse
import textwrap

import numpy as np

import aezoo
from aezoo import data
from aezoo.uses import latent, plots


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attribute", default="Smiling", help="a stored attribute, e.g. Smiling, Male, Young")
    parser.add_argument("--preset", default="conv-vae-faces")
    parser.add_argument("--strengths", default="0,1,2,3")
    parser.add_argument("-o", "--output", default="smile_vector.png")
    args = parser.parse_args(argv)

    model = aezoo.load(args.preset)
    stored = (model.preset_metadata or {}).get("attribute_vectors") or {}
    if args.attribute in stored:
        vector = latent.preset_attribute_vector(model, args.attribute)
        how = stored[args.attribute]["how"]
    else:  # a preset trained before recipes stored vectors: the same computation, here
        from aezoo.training.runner import attribute_vectors

        x_train, y_train = data.load_arrays("faces", "train", model.data_shape[0], with_labels=True)
        computed = attribute_vectors(model, x_train, y_train, [args.attribute], 20, seed=0)[args.attribute]
        vector, how = np.asarray(computed["vector"], "float32"), computed["how"]
    strengths = tuple(float(s) for s in args.strengths.split(","))
    faces, credits = data.demo_faces(model.data_shape[0])
    sweep = latent.apply_attribute(model, faces, vector, strengths)
    rows = np.concatenate([faces[:, None], sweep], axis=1)  # first column: the real input
    plots.attribute_sweep(rows, ("input",) + strengths, args.output,
                          title=f"{args.preset}: '{args.attribute}' vector\n" + textwrap.fill(how, 70))
    print(f"wrote {args.output} (|vector| = {np.linalg.norm(vector):.2f}); faces: {sorted(set(credits))}")


if __name__ == "__main__":
    main()
