"""Named datasets as numpy arrays, splits, binarisation and corruption (no TensorFlow).

The protocols (official test split, seeded validation carve, dynamic vs fixed
binarisation) are described once, in ``aezoo.data``'s docstring.
"""

import difflib
import functools

import numpy as np

from aezoo.data.catalog import SPLITS, get_info
from aezoo.data.faces import _load_faces, _load_utkface
from aezoo.data.readers import _load_digits, _load_fashion_mnist, _load_mnist, _load_olivetti
from aezoo.data.search import cache_dir, data_roots

_LOADERS = {
    "fashion_mnist": _load_fashion_mnist,
    "mnist": _load_mnist,
    "digits": _load_digits,
    "faces": _load_faces,
    "utkface": _load_utkface,
    "olivetti": _load_olivetti,
}


@functools.lru_cache(maxsize=6)
def _load_raw_cached(name, size, roots, cache):
    """Memoised per (dataset, size, search roots, disk cache folder): a changed root or
    cache folder ($AEZOO_DATA, $AEZOO_CACHE) is a different dataset source."""
    raw = _LOADERS[name](size)
    for arr in (raw.x_train, raw.x_test):
        arr.flags.writeable = False  # shared between callers: nobody may edit it
    return raw


def _load_raw(name, size):
    return _load_raw_cached(name, size, tuple(str(r) for r in data_roots()), str(cache_dir()))



# --------------------------------------------------------------------------
# Public: arrays
# --------------------------------------------------------------------------
def _image_size(info, image_size):
    """The size to load: the default, or a checked choice among the supported ones."""
    if image_size is None:
        return info.image_shape[0]
    if isinstance(image_size, (tuple, list)):
        if len(image_size) != 2 or image_size[0] != image_size[1]:
            raise ValueError(f"{info.name}: image_size must be one int (square images), got {image_size!r}")
        image_size = image_size[0]
    if not isinstance(image_size, (int, np.integer)) or image_size <= 0:
        raise ValueError(f"{info.name}: image_size must be a positive int, got {image_size!r}")
    if info.image_sizes is not None and image_size not in info.image_sizes:
        raise ValueError(
            f"{info.name}: image_size={image_size} is not available; choose one of {list(info.image_sizes)}"
        )
    return int(image_size)


def _check_split(split, allowed=SPLITS):
    if split not in allowed:
        close = difflib.get_close_matches(str(split), allowed, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"split must be one of {list(allowed)}, got {split!r}.{hint}")


def load_arrays(name, split="train", image_size=None, with_labels=False):
    """A named dataset split as a float32 NHWC array in [0, 1] (and its labels).

    Args:
        name: a key of ``DATASETS`` (e.g. ``"fashion_mnist"``, ``"faces"``).
        split: ``"train"`` or ``"test"`` (the official test split). For a validation
            set use ``dataset(..., split="validation")`` or ``split_validation``.
        image_size: for ``faces``/``utkface`` 32 or 64; ``celeb_a`` any size (default 64).
        with_labels: also return ``y``: class ids, a dict of arrays for ``utkface``
            (``age``, ``gender``, ``race``) and for ``faces`` (CelebA's 40 attributes,
            ``y["Smiling"]`` is 0/1), ``None`` for ``celeb_a``.

    Returns:
        ``x``, or ``(x, y)`` when ``with_labels``.
    """
    info = get_info(name)
    _check_split(split, ("train", "test"))
    size = _image_size(info, image_size)
    if info.name == "celeb_a":
        from aezoo.data.pipelines import _celeb_a_tfds

        batches = [b.numpy() for b in _celeb_a_tfds(split, size).batch(1024)]
        x = np.concatenate(batches) if batches else np.zeros((0, size, size, 3), np.uint8)
        x, y = x.astype(np.float32) / 255.0, None
    else:
        raw = _load_raw(info.name, size)
        x = getattr(raw, f"x_{split}").astype(np.float32) / np.float32(raw.scale)
        y = getattr(raw, f"y_{split}")
        if isinstance(y, dict):
            y = {k: np.array(v) for k, v in y.items()}
        elif y is not None:
            y = np.array(y, np.int64)
    return (x, y) if with_labels else x


def _validation_mask(n, validation_fraction, seed):
    """Boolean mask of the validation examples: a seeded random ``validation_fraction`` of n."""
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    mask = np.zeros(n, bool)
    mask[np.random.default_rng(seed).permutation(n)[: int(round(n * validation_fraction))]] = True
    return mask


def split_validation(x, y=None, validation_fraction=0.1, seed=0):
    """Carve a seeded validation set from training data: ``(x_train, x_val)`` or with labels
    ``((x_train, y_train), (x_val, y_val))``. The same rule as ``dataset(split=...)``; order kept."""
    mask = _validation_mask(len(x), validation_fraction, seed)
    if y is None:
        return x[~mask], x[mask]

    def take(v, m):
        return {k: a[m] for k, a in v.items()} if isinstance(v, dict) else v[m]

    return (x[~mask], take(y, ~mask)), (x[mask], take(y, mask))


def binarize(x, seed):
    """One fixed, seeded stochastic binarisation: ``(u < x)`` with ``u ~ U[0, 1)``.

    Idempotent on data that is already binary. Use the protocol's seeds
    (``aezoo.evaluation.PROTOCOL["binarization"]``) so every model sees the same binary test set.
    """
    x = np.asarray(x)
    u = np.random.default_rng(seed).random(x.shape)
    return (u < x).astype("float32")


def binarize_fixed(x, seed=0):
    """One fixed, seeded Bernoulli draw of ``x`` (values in [0, 1]): the evaluation protocol
    for Bernoulli likelihoods, so every model is scored on the same binary test set."""
    x = np.asarray(x)
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"binarize_fixed needs values in [0, 1], got range [{x.min():.3g}, {x.max():.3g}]")
    return binarize(x, seed)


def corrupt(x, kind="gaussian", strength=0.3, seed=0):
    """Corrupted copy of ``x`` (numpy) by ``aezoo.models.layers.Corruption``: the one place noise is defined.

    ``kind`` is ``"gaussian"``, ``"masking"`` or ``"salt_and_pepper"``; seeded, so reproducible.
    """
    from aezoo.models.layers import Corruption

    x = np.asarray(x, dtype=np.float32)
    return np.asarray(Corruption(kind, strength, seed).corrupt(x))


def random_shift(images, shift, rng):
    """Each image of ``(n, h, w, c)`` moved by its own whole-pixel offset in [-shift, shift]
    on both axes, zeros coming in at the edges (the augmentation of ``dataset(shift=...)``)."""
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    padded = np.pad(images, [(0, 0), (shift, shift), (shift, shift)] + [(0, 0)] * (images.ndim - 3))
    offsets = rng.integers(0, 2 * shift + 1, size=(n, 2))
    return np.stack([padded[i, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(offsets)])
