"""Real, redistributable photographs at any size: the inputs of the latent-diffusion
autoencoders' demos, checks and benchmarks.

Two public-domain portraits, both available offline wherever aezoo is installed:
NASA's astronaut portrait (shipped in ``aezoo/assets``) and Grace Hopper (US Navy;
read from matplotlib's sample data). Each is centre-cropped to a square and resized
with Lanczos, so ``photos(512)`` is the same array on every machine.
"""

from pathlib import Path

import numpy as np

ASSETS = Path(__file__).resolve().parents[1] / "assets"
NAMES = ("astronaut", "grace_hopper")


def _path(name):
    if name == "astronaut":
        return ASSETS / "astronaut.png"
    if name == "grace_hopper":
        import matplotlib

        return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    raise ValueError(f"unknown photo {name!r}; known: {', '.join(NAMES)}")


def photo(name, size=512):
    """One photo as float32 ``(size, size, 3)`` in [0, 1] (square centre crop, Lanczos)."""
    from PIL import Image

    if not isinstance(size, (int, np.integer)) or size <= 0:
        raise ValueError(f"size must be a positive int, got {size!r}")
    with Image.open(_path(name)) as im:
        im = im.convert("RGB")
        side = min(im.size)
        left, top = (im.width - side) // 2, (im.height - side) // 2
        im = im.crop((left, top, left + side, top + side))
        if side != size:
            im = im.resize((int(size), int(size)), Image.LANCZOS)
        return np.asarray(im, dtype="float32") / 255.0


def photos(size=512, names=NAMES):
    """The photos as float32 ``(len(names), size, size, 3)`` in [0, 1]."""
    return np.stack([photo(name, size) for name in names])
