"""The "smile vector" on real faces: CelebA's Smiling attribute added to redistributable faces.

Run: ``python recipes/experiments/attribute_faces.py --attribute Smiling -o weights/figures/smile_vector.png``.
The face presets store attribute vectors computed by their recipe exactly as the seeds
teach: mean code of 20 smiling minus 20 non-smiling CelebA training faces
(``aezoo.uses.latent.attribute_vector``). This script adds the stored vector with strengths
0..+3 to the codes of the demo faces (``aezoo.data.demo_faces``: NASA's public-domain
astronaut portrait and AT&T's Olivetti faces), so the figure holds no CelebA pixel.
"""

import argparse

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
    vector = latent.preset_attribute_vector(model, args.attribute)
    strengths = tuple(float(s) for s in args.strengths.split(","))
    faces, credits = data.demo_faces(model.data_shape[0])
    sweep = latent.apply_attribute(model, faces, vector, strengths)
    rows = np.concatenate([faces[:, None], sweep], axis=1)  # first column: the real input
    how = model.preset_metadata["attribute_vectors"][args.attribute]["how"]
    plots.attribute_sweep(rows, ("input",) + strengths, args.output,
                          title=f"{args.preset}: '{args.attribute}' vector ({how})")
    print(f"wrote {args.output} (|vector| = {np.linalg.norm(vector):.2f}); faces: {sorted(set(credits))}")


if __name__ == "__main__":
    main()
