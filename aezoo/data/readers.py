"""Readers of the small named datasets (IDX, npz, scikit-learn): uint8 NHWC arrays."""

import dataclasses
import gzip

import numpy as np

from aezoo.data.search import _Search

# --------------------------------------------------------------------------
# Readers for each dataset: return _Raw (uint8 NHWC + the divisor to reach [0, 1])
# --------------------------------------------------------------------------
@dataclasses.dataclass
class _Raw:
    x_train: np.ndarray
    y_train: object
    x_test: np.ndarray
    y_test: object
    scale: float


def _nhwc(x):
    x = np.asarray(x)
    return x[..., None] if x.ndim == 3 else x


def read_idx(path):
    """Parse an IDX file (``.gz`` or plain), the MNIST/Fashion-MNIST format, into numpy."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number {data[:4]!r})")
    ndim = data[3]
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    if len(data) - offset != int(np.prod(dims)):
        raise ValueError(f"{path}: header says shape {dims} but holds {len(data) - offset} bytes")
    return np.frombuffer(data, np.uint8, offset=offset).reshape(dims)


_IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _load_fashion_mnist(size):
    search = _Search("fashion_mnist")
    folder = search.find("fashion-mnist/" + _IDX_FILES[0])
    if folder is not None and all((folder.parent / f).exists() for f in _IDX_FILES):
        x_tr, y_tr, x_te, y_te = (read_idx(folder.parent / f) for f in _IDX_FILES)
        return _Raw(_nhwc(x_tr), y_tr, _nhwc(x_te), y_te, 255.0)
    if folder is not None:
        search.tried.append(f"{folder.parent}: incomplete, needs all of {', '.join(_IDX_FILES)}")

    def keras_download():
        import keras

        return keras.datasets.fashion_mnist.load_data()

    got = search.download("keras.datasets.fashion_mnist.load_data() (cache ~/.keras/datasets/fashion-mnist)",
                          keras_download)
    if got is None:
        raise search.error("apt-get install dataset-fashion-mnist (Debian/Ubuntu), or connect to the internet "
                           "so keras.datasets.fashion_mnist can download it.")
    (x_tr, y_tr), (x_te, y_te) = got
    return _Raw(_nhwc(x_tr), y_tr, _nhwc(x_te), y_te, 255.0)


def _local_split_npz(search, relative_path, scale):
    """A local ``.npz`` holding x_train, y_train, x_test, y_test, as ``_Raw``; None if absent."""
    path = search.find(relative_path)
    if path is None:
        return None
    with np.load(path, allow_pickle=False) as f:
        return _Raw(_nhwc(f["x_train"]), f["y_train"], _nhwc(f["x_test"]), f["y_test"], scale)


def _load_mnist(size):
    search = _Search("mnist")
    local = _local_split_npz(search, "mnist/mnist.npz", 255.0)
    if local is not None:
        return local

    def keras_download():
        import keras

        return keras.datasets.mnist.load_data()

    got = search.download("keras.datasets.mnist.load_data() (cache ~/.keras/datasets/mnist.npz)", keras_download)
    if got is None:
        raise search.error("connect to the internet so keras.datasets.mnist can download mnist.npz.")
    (x_tr, y_tr), (x_te, y_te) = got
    return _Raw(_nhwc(x_tr), y_tr, _nhwc(x_te), y_te, 255.0)


def _load_digits(size):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.images.astype(np.uint8)[..., None]  # values 0..16
    test = np.zeros(len(x), bool)
    test[np.random.default_rng(0).permutation(len(x))[:360]] = True
    return _Raw(x[~test], digits.target[~test], x[test], digits.target[test], 16.0)


def _load_olivetti(size):
    search = _Search("olivetti")
    local = _local_split_npz(search, "olivetti_faces/olivetti_faces.npz", 242.0)
    if local is not None:
        return local

    def sklearn_download():
        from sklearn.datasets import fetch_olivetti_faces

        return fetch_olivetti_faces()

    got = search.download("sklearn.datasets.fetch_olivetti_faces() (cache ~/scikit_learn_data)", sklearn_download)
    if got is None:
        raise search.error("connect to the internet so scikit-learn can download the Olivetti faces.")
    x = np.rint(got.images * 242.0).astype(np.uint8)[..., None]  # sklearn's floats are pixels / 242
    test = np.arange(len(x)) % 10 >= 8
    return _Raw(x[~test], got.target[~test], x[test], got.target[test], 242.0)
