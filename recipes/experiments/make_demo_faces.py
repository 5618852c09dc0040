"""Build ``aezoo/assets/demo_faces.npz``: real faces that may be redistributed, for demos.

Run: ``python recipes/experiments/make_demo_faces.py`` (needs scikit-image and the
Olivetti faces, ``aezoo.data`` dataset ``olivetti``).

The face presets are trained on CelebA, whose terms forbid publishing its images, so
every demo and figure starts from these instead:
- NASA's portrait of astronaut Eileen Collins (public domain), as shipped by
  scikit-image (``skimage.data.astronaut()``), cropped to CelebA's framing (eyes at
  about half height, about a third of the width apart);
- three faces of the AT&T "Database of Faces" (Olivetti), grey levels copied to RGB;
  AT&T asks for credit: "AT&T Laboratories Cambridge".
"""

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from aezoo import data
from aezoo.io import atomic_write

ASTRONAUT_BOX = (166, 40, 286, 160)  # (left, top, right, bottom) in the 512x512 portrait
OLIVETTI_SUBJECTS = (0, 15, 29)  # three people; the first training image of each
OUT = Path(__file__).resolve().parents[2] / "aezoo" / "assets" / "demo_faces.npz"


def build(size=64):
    from skimage import data as skdata

    astronaut = Image.fromarray(skdata.astronaut()).crop(ASTRONAUT_BOX).resize((size, size), Image.LANCZOS)
    faces, credits = [np.asarray(astronaut, np.uint8)], ["NASA portrait of Eileen Collins (public domain), "
                                                        "via scikit-image's skimage.data.astronaut()"]
    x_train, y_train = data.load_arrays("olivetti", "train", with_labels=True)
    for subject in OLIVETTI_SUBJECTS:
        grey = (x_train[np.flatnonzero(y_train == subject)[0], ..., 0] * 255).round().astype(np.uint8)
        img = Image.fromarray(grey).resize((size, size), Image.LANCZOS).convert("RGB")
        faces.append(np.asarray(img, np.uint8))
        credits.append("The Database of Faces, AT&T Laboratories Cambridge (Olivetti), grey copied to RGB")
    return np.stack(faces), np.array(credits)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(OUT))
    args = parser.parse_args(argv)
    faces, credits = build()
    atomic_write(args.output, lambda f: np.savez_compressed(f, faces=faces, credits=credits), binary=True)
    print(f"wrote {args.output}: {faces.shape} {json.dumps(sorted(set(credits.tolist())))}")


if __name__ == "__main__":
    main()
