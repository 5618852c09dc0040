"""Datasets by name -> numpy arrays and ``tf.data`` pipelines; plus the user's own data.

Every image comes out float32, NHWC, in [0, 1]. A named dataset is looked for in
local folders first (``data_roots()``), then fetched by its standard downloader
(Keras, scikit-learn, TensorFlow Datasets). When all of them fail, the error lists
every place looked at and how to get the data. Protocols fixed here, once:

- splits: the official test split; validation is carved from train with a seed
  (``split_validation``), so train and validation never overlap for one seed and
  fraction;
- Bernoulli models: ``dataset(..., binarize=True)`` draws a fresh binarisation each
  epoch (dynamic); ``binarize_fixed`` is the one seeded binarisation for evaluation.

CelebA and UTKFace are for non-commercial research only (see ``DATASETS``): they are
read from where the user keeps them, decoded copies go to the user's cache folder
(``AEZOO_CACHE``, default ``~/.cache/aezoo``), never into this repository.

Example:
    >>> from aezoo import data
    >>> train = data.dataset("fashion_mnist", batch_size=128, validation_fraction=0.1)
    >>> val = data.dataset("fashion_mnist", split="validation", validation_fraction=0.1)
    >>> x_test = data.load_arrays("fashion_mnist", split="test")
"""

import dataclasses
import difflib
import functools
import gzip
import io
import logging
import os
import tarfile
import tempfile
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

#: where Debian's ``dataset-fashion-mnist`` package puts its files (``fashion-mnist/``)
DEBIAN_DATASETS = Path("/usr/share/datasets")
#: the folder that holds the ``aezoo`` package (the repository root in a checkout)
_REPO_ROOT = Path(__file__).resolve().parent.parent
#: extensions ``from_directory`` reads (lower case)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
SPLITS = ("train", "validation", "test")


class DatasetNotFoundError(FileNotFoundError):
    """No local copy and no working downloader for a named dataset."""


# --------------------------------------------------------------------------
# The table of datasets
# --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a named dataset is, and whether you may use it.

    ``image_shape`` is the default shape of one example; ``image_sizes`` are the
    sizes ``image_size`` accepts (the first is the default; ``None``: any size).
    """

    name: str
    image_shape: tuple
    num_classes: int | None
    license: str
    commercial_use: bool
    source: str
    image_sizes: tuple | None = ()
    labels: str = ""
    notes: str = ""


DATASETS = {
    info.name: info
    for info in (
        DatasetInfo(
            "fashion_mnist", (28, 28, 1), 10, "MIT (Zalando SE)", True,
            "Zalando Research Fashion-MNIST: Debian package dataset-fashion-mnist "
            "(/usr/share/datasets/fashion-mnist/, IDX .gz) or keras.datasets.fashion_mnist",
            (28,), "class 0-9", "official 60k/10k split; pixels / 255",
        ),
        DatasetInfo(
            "mnist", (28, 28, 1), 10, "CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)", True,
            "LeCun, Cortes & Burges MNIST: mnist/mnist.npz (keras layout) or keras.datasets.mnist",
            (28,), "digit 0-9", "official 60k/10k split; pixels / 255",
        ),
        DatasetInfo(
            "digits", (8, 8, 1), 10, "CC BY 4.0 (UCI Optical Recognition of Handwritten Digits)", True,
            "sklearn.datasets.load_digits (bundled with scikit-learn, no download)",
            (8,), "digit 0-9",
            "1,797 images with no official split: test = sorted(default_rng(0).permutation(1797)[:360]); "
            "pixels / 16",
        ),
        DatasetInfo(
            "faces", (32, 32, 3), None, "CelebA agreement: non-commercial research only, no redistribution",
            False,
            "CelebA (Liu et al., ICCV 2015), aligned images 000001-010000 at half size: "
            "celeba_10k/celeba_10k_32x32.npz and celeba_10k/celeba_10k_89x109_jpg.tar.gz",
            (32, 64), "dict of CelebA's 40 binary attributes (Smiling, Male, Young, ...): 1 has it, 0 not",
            "split by file index: 000001-009000 train, 009001-010000 test; crop box (9, 19, 79, 89) of "
            "the 89x109 JPEG, resized with PIL LANCZOS",
        ),
        DatasetInfo(
            "utkface", (32, 32, 3), None, "UTKFace: non-commercial research only", False,
            "UTKFace aligned & cropped part 1 (Zhang et al., CVPR 2017), 9,780 faces: "
            "utkface_crop_part1/utkface_crop_part1_32x32.npz and ..._200x200_jpg.tar.gz",
            (32, 64), "dict: age (years), gender (0 male, 1 female), race (0-4); -1 = unknown",
            "test = default_rng(0).permutation(n)[:n // 10] indices into the sorted file list; "
            "full 200x200 image resized with PIL LANCZOS (no crop)",
        ),
        DatasetInfo(
            "olivetti", (64, 64, 1), 40, "AT&T Laboratories Cambridge: credit required, no licence granted",
            False,
            "AT&T/ORL Database of Faces, 64x64 version by Sam Roweis: olivetti_faces/olivetti_faces.npz "
            "or sklearn.datasets.fetch_olivetti_faces",
            (64,), "subject 0-39",
            "images 0-7 of each subject train, 8-9 test; pixels / 242 (the data maximum), which equals "
            "scikit-learn's fetch_olivetti_faces floats",
        ),
        DatasetInfo(
            "celeb_a", (64, 64, 3), None, "CelebA agreement: non-commercial research only, no redistribution",
            False,
            "full CelebA (202,599 images) through tensorflow_datasets.load('celeb_a') (needs internet "
            "or a prepared TFDS data_dir)",
            None, "",
            "official partitions: 'validation' is CelebA's own validation partition (validation_fraction "
            "is ignored); central 140x140 crop (top 38, left 18) resized with lanczos3",
        ),
    )
}

#: other spellings accepted for dataset names (preset names use the short ones)
ALIASES = {"fashion": "fashion_mnist", "celeba": "celeb_a"}


def get_info(name):
    """The ``DatasetInfo`` of a dataset name; unknown names get close matches."""
    key = str(name).strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in DATASETS:
        close = difflib.get_close_matches(str(name).lower(), list(DATASETS) + list(ALIASES), n=3, cutoff=0.4)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(f"Unknown dataset {name!r}.{hint} Known datasets: {', '.join(DATASETS)}")
    return DATASETS[key]


# --------------------------------------------------------------------------
# Where data lives
# --------------------------------------------------------------------------
def data_roots():
    """Local folders searched for named datasets, in order, existing or not.

    ``$AEZOO_DATA`` (one folder, or several joined by ``os.pathsep``), Debian's
    ``/usr/share/datasets``, then a ``shared/datasets`` folder beside (or inside) the
    current directory and the repository root: CI runs from a fresh clone with
    ``../shared`` beside it.
    """
    roots = [Path(p).expanduser() for p in os.environ.get("AEZOO_DATA", "").split(os.pathsep) if p]
    roots.append(Path(DEBIAN_DATASETS))
    for base in (Path.cwd(), Path(_REPO_ROOT)):
        roots += [base.parent / "shared" / "datasets", base / "shared" / "datasets"]
    unique, seen = [], set()
    for root in roots:
        key = os.path.realpath(root)
        if key not in seen:
            seen.add(key)
            unique.append(Path(os.path.normpath(os.path.abspath(root))))
    return unique


def cache_dir():
    """Folder for decoded copies (``$AEZOO_CACHE``, else ``~/.cache/aezoo``): the user's, not the repo's."""
    if os.environ.get("AEZOO_CACHE"):
        return Path(os.environ["AEZOO_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "aezoo"


class _Search:
    """Records every place looked at, so a failure can list them all."""

    def __init__(self, name):
        self.name, self.looked, self.tried, self.layout = name, [], [], None

    def find(self, *relatives):
        """First existing ``root/relative`` over roots (outer) and candidates (inner)."""
        self.layout = self.layout or relatives[0]
        for root in data_roots():
            for rel in relatives:
                path = root / rel
                self.looked.append(path)
                if path.exists():
                    return path
        return None

    def download(self, what, fn):
        """Run a downloader; on failure remember why and return None."""
        try:
            return fn()
        except Exception as err:  # network, quota, missing manual files: all end the same way
            first_line = (str(err).strip().splitlines() or [""])[0][:200]
            self.tried.append(f"{what}: failed with {type(err).__name__}: {first_line}")
            return None

    def error(self, how_to_get):
        lines = [f"Dataset {self.name!r} was not found. Looked, in order, at:"]
        for path in self.looked:
            lines.append(f"  - {path}" + ("" if path.parent.is_dir() else "   (folder missing)"))
        lines += [f"  - {t}" for t in self.tried]
        lines.append(f"To get it: {how_to_get}")
        if self.layout:
            lines.append(f"Or put the files in a folder of your own as $AEZOO_DATA/{self.layout} "
                         "and set AEZOO_DATA to that folder.")
        return DatasetNotFoundError("\n".join(lines))


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


def _load_mnist(size):
    search = _Search("mnist")
    path = search.find("mnist/mnist.npz")
    if path is not None:
        with np.load(path, allow_pickle=False) as f:
            return _Raw(_nhwc(f["x_train"]), f["y_train"], _nhwc(f["x_test"]), f["y_test"], 255.0)

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
    path = search.find("olivetti_faces/olivetti_faces.npz")
    if path is not None:
        with np.load(path, allow_pickle=False) as f:
            return _Raw(_nhwc(f["x_train"]), f["y_train"], _nhwc(f["x_test"]), f["y_test"], 242.0)

    def sklearn_download():
        from sklearn.datasets import fetch_olivetti_faces

        return fetch_olivetti_faces()

    got = search.download("sklearn.datasets.fetch_olivetti_faces() (cache ~/scikit_learn_data)", sklearn_download)
    if got is None:
        raise search.error("connect to the internet so scikit-learn can download the Olivetti faces.")
    x = np.rint(got.images * 242.0).astype(np.uint8)[..., None]  # sklearn's floats are pixels / 242
    test = np.arange(len(x)) % 10 >= 8
    return _Raw(x[~test], got.target[~test], x[test], got.target[test], 242.0)


# ---- face datasets kept as JPEGs: decode once, cache as .npy in the user's cache
_CELEBA_CROP = (9, 19, 79, 89)  # (left, top, right, bottom) of the 89x109 half-size JPEG


def _jpeg_paths(folder):
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() == ".jpg" and p.is_file())


def _jpeg_source_files(source, limit=None):
    """(basename, bytes) of the .jpg files in a tar(.gz) or folder, sorted by name."""
    items = []
    source = Path(source)
    if source.is_dir():
        for path in _jpeg_paths(source)[:limit]:
            items.append((path.name, path.read_bytes()))
    else:
        with tarfile.open(source, "r|*") as tar:  # streamed: one pass over the gzip
            for member in tar:
                if member.isfile() and member.name.lower().endswith(".jpg"):
                    items.append((os.path.basename(member.name), tar.extractfile(member).read()))
                    if limit is not None and len(items) >= limit:
                        break
    return sorted(items)


def decode_face_jpegs(source, kind, size, limit=None):
    """Decode the JPEGs of ``faces``/``utkface`` to uint8 ``(n, size, size, 3)``, sorted by name.

    ``faces``: crop box (9, 19, 79, 89), then PIL LANCZOS resize; ``utkface``: LANCZOS
    resize of the whole image. At size 32 this reproduces the stored 32x32 npz files.
    ``limit`` decodes only the first files (tests, quick looks).
    """
    from PIL import Image

    items = _jpeg_source_files(source, limit)
    if not items:
        raise FileNotFoundError(f"no .jpg files in {source}")
    x = np.empty((len(items), size, size, 3), np.uint8)
    for i, (_, blob) in enumerate(items):
        with Image.open(io.BytesIO(blob)) as img:
            img = img.convert("RGB")
            if kind == "faces":
                img = img.crop(_CELEBA_CROP)
            x[i] = np.asarray(img.resize((size, size), Image.LANCZOS))
    return np.array([name for name, _ in items]), x


def _atomic_save(path, array):
    """np.save to a temp file in the same folder, then rename: never a half-written cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, array, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _cached_decode(source, kind, size):
    """``decode_face_jpegs`` through an .npy cache keyed by kind, size and source."""
    source = Path(source)
    fingerprint = source.stat().st_size if source.is_file() else len(_jpeg_paths(source))
    stem = cache_dir() / f"{kind}_{size}x{size}_{fingerprint}"
    x_path, names_path = Path(f"{stem}_x.npy"), Path(f"{stem}_names.npy")
    if x_path.exists() and names_path.exists():
        try:
            names, x = np.load(names_path, allow_pickle=False), np.load(x_path, allow_pickle=False)
            if len(names) == len(x) and x.shape[1:] == (size, size, 3):
                return names, x
        except (OSError, ValueError) as err:
            logger.warning("ignoring unreadable cache %s (%s); decoding again", x_path, err)
    logger.info("decoding %s JPEGs from %s at %dx%d (once; cached in %s)", kind, source, size, size, stem.parent)
    names, x = decode_face_jpegs(source, kind, size)
    try:
        _atomic_save(names_path, names)
        _atomic_save(x_path, x)
    except OSError as err:
        logger.warning("could not write the cache %s (%s); continuing without it", stem.parent, err)
    return names, x


def utkface_labels(names):
    """{age, gender, race} parsed from UTKFace file names ``age_gender_race_date...``; -1 = unknown."""
    age, gender, race = [], [], []
    for name in names:
        parts = os.path.basename(str(name)).split("_")
        age.append(int(parts[0]))
        gender.append(int(parts[1]) if parts[1] in ("0", "1") else -1)
        race.append(int(parts[2]) if len(parts) >= 4 and parts[2] in ("0", "1", "2", "3", "4") else -1)
    return {"age": np.array(age, np.int64), "gender": np.array(gender, np.int64), "race": np.array(race, np.int64)}


def read_celeba_attributes(path):
    """CelebA's ``list_attr_celeba.txt`` format -> ``{image stem: {attribute: 0 or 1}}`` as
    ``(stems, attribute names, int8 matrix)``; line 1 is the count, line 2 the 40 names."""
    with open(path, encoding="utf-8") as f:
        lines = [line.split() for line in f if line.strip()]
    if len(lines) < 2 or not lines[0][0].isdigit():
        raise ValueError(f"{path}: not a CelebA attribute list (line 1 should be the image count)")
    names = lines[1]
    rows = [r for r in lines[2:]]
    bad = next((r for r in rows if len(r) != len(names) + 1), None)
    if bad is not None:
        raise ValueError(f"{path}: row {bad[0]} has {len(bad) - 1} values, expected {len(names)}")
    stems = [Path(r[0]).stem for r in rows]
    matrix = (np.array([[int(v) for v in r[1:]] for r in rows], np.int8) > 0).astype(np.int8)
    return stems, names, matrix


def _celeba_labels(search, folder, names):
    """The 40 attributes of the faces ``names`` (file names or stems) as ``{attribute: 0/1 array}``,
    or None when the attribute list is not installed."""
    path = search.find(folder + "list_attr_celeba_10k.txt")
    if path is None:
        return None
    stems, attributes, matrix = read_celeba_attributes(path)
    index = {stem: i for i, stem in enumerate(stems)}
    try:
        rows = [index[Path(str(n)).stem] for n in names]
    except KeyError as err:
        raise ValueError(f"{path} has no attributes for image {err.args[0]}") from None
    return {name: matrix[rows, j].astype(np.int64) for j, name in enumerate(attributes)}


def demo_faces(image_size=64):
    """Real faces that may be redistributed, float32 ``(4, size, size, 3)`` in [0, 1], and
    their credits: NASA's public-domain astronaut portrait and three AT&T (Olivetti)
    faces. Demos and figures of the CelebA presets start from these, never from CelebA."""
    from PIL import Image

    with np.load(Path(__file__).resolve().parent / "assets" / "demo_faces.npz", allow_pickle=False) as f:
        faces, credits = f["faces"], [str(c) for c in f["credits"]]
    if image_size != faces.shape[1]:
        faces = np.stack([np.asarray(Image.fromarray(face).resize((image_size, image_size), Image.LANCZOS))
                          for face in faces])
    return faces.astype(np.float32) / 255.0, credits


def _load_faces(size):
    search = _Search("faces")
    folder = "celeba_10k/"
    if size == 32:
        path = search.find(folder + "celeba_10k_32x32.npz")
        if path is not None:
            with np.load(path, allow_pickle=False) as f:
                return _Raw(f["x_train"], _celeba_labels(search, folder, f["names_train"]),
                            f["x_test"], _celeba_labels(search, folder, f["names_test"]), 255.0)
    source = search.find(folder + "celeba_10k_89x109_jpg.tar.gz", folder + "celeba_10k")
    if source is None:
        raise search.error(
            "CelebA is non-commercial research only and has no automatic download here: copy the "
            "celeba_10k files (see SOURCE.md) into $AEZOO_DATA/celeba_10k/, or use 'celeb_a' (full CelebA "
            "through tensorflow_datasets)."
        )
    names, x = _cached_decode(source, "faces", size)
    test = np.array([int(Path(n).stem) > 9000 for n in names], bool)
    labels = _celeba_labels(search, folder, names)
    pick = (lambda mask: None) if labels is None else (lambda mask: {k: v[mask] for k, v in labels.items()})
    return _Raw(x[~test], pick(~test), x[test], pick(test), 255.0)


def _load_utkface(size):
    search = _Search("utkface")
    folder = "utkface_crop_part1/"
    if size == 32:
        path = search.find(folder + "utkface_crop_part1_32x32.npz")
        if path is not None:
            with np.load(path, allow_pickle=False) as f:
                y = {s: {k: f[f"{k}_{s}"].astype(np.int64) for k in ("age", "gender", "race")}
                     for s in ("train", "test")}
                return _Raw(f["x_train"], y["train"], f["x_test"], y["test"], 255.0)
    source = search.find(folder + "utkface_crop_part1_200x200_jpg.tar.gz", folder + "crop_part1")
    if source is None:
        raise search.error(
            "UTKFace is non-commercial research only: download 'crop_part1' from "
            "https://susanqq.github.io/UTKFace/ and extract it to $AEZOO_DATA/utkface_crop_part1/crop_part1/."
        )
    names, x = _cached_decode(source, "utkface", size)
    test = np.zeros(len(names), bool)
    test[np.random.default_rng(0).permutation(len(names))[: len(names) // 10]] = True
    labels = utkface_labels(names)
    return _Raw(x[~test], {k: v[~test] for k, v in labels.items()},
                x[test], {k: v[test] for k, v in labels.items()}, 255.0)


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


# ---- full CelebA through tensorflow_datasets (streamed, not held in memory)
def _celeb_a_tfds(split, size):
    """tf.data of uint8 (size, size, 3) CelebA faces: central 140x140 crop, lanczos3 resize."""
    import tensorflow as tf

    search = _Search("celeb_a")

    def load():
        import tensorflow_datasets as tfds

        return tfds.load("celeb_a", split=split, shuffle_files=False)

    ds = search.download(f"tensorflow_datasets.load('celeb_a', split={split!r}) "
                         "(data_dir $TFDS_DATA_DIR or ~/tensorflow_datasets)", load)
    if ds is None:
        raise search.error(
            "connect to the internet and run tensorflow_datasets.load('celeb_a') once (its Google Drive "
            "source is sometimes over quota: then follow the TFDS celeb_a page for a manual download), or "
            "use 'faces' (a 10k CelebA subset read from local files)."
        )

    def prepare(example):
        face = tf.image.crop_to_bounding_box(example["image"], 38, 18, 140, 140)
        face = tf.image.resize(face, (size, size), method="lanczos3", antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(face), 0, 255), tf.uint8)

    return ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)


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


def binarize_fixed(x, seed=0):
    """One fixed, seeded Bernoulli draw of ``x`` (values in [0, 1]): the evaluation protocol
    for Bernoulli likelihoods, so every model is scored on the same binary test set."""
    x = np.asarray(x)
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"binarize_fixed needs values in [0, 1], got range [{x.min():.3g}, {x.max():.3g}]")
    from aezoo.evaluation import binarize  # the protocol's own draw, so both give the same bits

    return binarize(x, seed)


def corrupt(x, kind="gaussian", strength=0.3, seed=0):
    """Corrupted copy of ``x`` (numpy) by ``aezoo.layers.Corruption``: the one place noise is defined.

    ``kind`` is ``"gaussian"``, ``"masking"`` or ``"salt_and_pepper"``; seeded, so reproducible.
    """
    from aezoo.layers import Corruption

    x = np.asarray(x, dtype=np.float32)
    return np.asarray(Corruption(kind, strength, seed).corrupt(x))


# --------------------------------------------------------------------------
# Public: tf.data pipelines
# --------------------------------------------------------------------------
def _normalise_array(x):
    """User arrays -> (array, divisor): uint8 keeps its bytes (/255 later), floats must be in [0, 1]."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"data must be an array of examples (batch, ...), got shape {x.shape}")
    if x.ndim == 3:
        x = x[..., None]  # (n, h, w) grayscale images -> NHWC
    if x.dtype == np.uint8:
        return x, 255.0
    if x.dtype == bool:
        return x.astype(np.float32), None
    if x.dtype.kind != "f":
        raise ValueError(f"data must be uint8 (0-255) or float in [0, 1], got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError("data contains NaN or infinite values")
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"float data must lie in [0, 1], got range [{x.min():.3g}, {x.max():.3g}] "
            "(images in 0-255? divide by 255.0, or pass them as uint8)"
        )
    return x, None


def _batches(ds, n, scale, batch_size, shuffle, seed, binarize, repeat, resize_to=None):
    """Shuffle -> repeat -> batch -> to float [0, 1] -> (resize) -> (dynamic binarise) -> prefetch."""
    import tensorflow as tf

    if shuffle:
        ds = ds.shuffle(max(1, min(n, 60_000)), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size)

    def to_unit(b):
        b = tf.cast(b, tf.float32)
        if scale is not None:
            b = b / scale
        if resize_to is not None:
            b = tf.clip_by_value(tf.image.resize(b, resize_to, antialias=True), 0.0, 1.0)
        return b

    ds = ds.map(to_unit, num_parallel_calls=tf.data.AUTOTUNE)
    if binarize:
        # one fresh seed per batch; rerandomize_each_iteration gives new draws every epoch
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

        def draw(b, s):
            pair = tf.stack([s, tf.constant(seed, tf.int64)])
            return tf.cast(tf.random.stateless_uniform(tf.shape(b), seed=pair) < b, tf.float32)

        ds = tf.data.Dataset.zip((ds, seeds)).map(draw, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def dataset(name_or_array, split="train", batch_size=128, shuffle=True, seed=0, binarize=False,
            repeat=False, image_size=None, validation_fraction=0.0, subset=None):
    """A ``tf.data.Dataset`` of float32 batches of ``x`` in [0, 1] (the target is the input).

    Args:
        name_or_array: a ``DATASETS`` name, or an array of examples (uint8 0-255 or
            float in [0, 1]; ``(n, h, w)`` gets a channel axis).
        split: ``"train"``, ``"validation"`` (carved from train with ``seed`` and
            ``validation_fraction``, 0.1 when left at 0) or ``"test"`` (official).
            Pass the same ``validation_fraction`` and ``seed`` for ``"train"`` to
            leave the validation examples out of it.
        batch_size: examples per batch (the last batch may be smaller).
        shuffle: reshuffle every epoch, seeded by ``seed``.
        seed: seeds the validation carve, the shuffle and the binarisation.
        binarize: dynamic binarisation, a fresh Bernoulli draw every epoch.
        repeat: repeat forever (then give ``steps_per_epoch`` to ``fit``).
        image_size: size for ``faces``/``utkface``/``celeb_a``; for arrays, resize to it.
        validation_fraction: fraction of train held out as the validation split.
        subset: keep only the first ``subset`` examples of the split (smoke runs).

    Example:
        >>> train = dataset("mnist", validation_fraction=0.1, binarize=True)
        >>> model.fit(train, validation_data=dataset("mnist", split="validation",
        ...                                          validation_fraction=0.1, shuffle=False))
    """
    import tensorflow as tf

    _check_split(split)
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if subset is not None and (not isinstance(subset, (int, np.integer)) or subset <= 0):
        raise ValueError(f"subset must be a positive int or None, got {subset!r}")
    if split == "validation" and not validation_fraction:
        validation_fraction = 0.1

    resize_to = None
    if isinstance(name_or_array, str):
        info = get_info(name_or_array)
        size = _image_size(info, image_size)
        if info.name == "celeb_a":
            ds = _celeb_a_tfds(split, size)
            if subset:
                ds = ds.take(subset)
            n = subset or 10_000  # shuffle buffer: enough to mix, small enough for memory
            return _batches(ds, n, 255.0, batch_size, shuffle, seed, binarize, repeat)
        raw = _load_raw(info.name, size)
        x, scale = (raw.x_test if split == "test" else raw.x_train), raw.scale
    else:
        if split == "test":
            raise ValueError("an array has no official test split: pass your test array itself with split='train'")
        x, scale = _normalise_array(name_or_array)
        if image_size is not None:
            resize_to = _size_pair(image_size)
    if split != "test":
        mask = _validation_mask(len(x), validation_fraction, seed)
        x = x[mask] if split == "validation" else x[~mask]
    if subset:
        x = x[:subset]
    if len(x) == 0:
        raise ValueError(f"split {split!r} is empty (validation_fraction={validation_fraction}, subset={subset})")
    ds = tf.data.Dataset.from_tensor_slices(x)
    return _batches(ds, len(x), scale, batch_size, shuffle, seed, binarize, repeat, resize_to)


# --------------------------------------------------------------------------
# Public: a folder of the user's own images
# --------------------------------------------------------------------------
def _size_pair(image_size):
    pair = (image_size, image_size) if isinstance(image_size, (int, np.integer)) else tuple(image_size)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in pair):
        raise ValueError(f"image_size must be a positive int or (height, width), got {image_size!r}")
    return tuple(int(v) for v in pair)


def image_files(path):
    """Sorted image files (jpg/jpeg/png, any depth) under ``path``; clear errors when none."""
    folder = Path(path).expanduser()
    if not folder.exists():
        raise FileNotFoundError(f"image folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"{str(folder)!r} is a file; from_directory needs a folder of images")
    files, others = [], set()
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.name.startswith("."):
            continue
        if p.suffix.lower() in IMAGE_EXTENSIONS:
            files.append(str(p))
        else:
            others.add(p.suffix.lower() or "(no extension)")
    if not files:
        found = f" It holds only: {', '.join(sorted(others))}." if others else " It is empty."
        raise FileNotFoundError(
            f"no images in {str(folder)!r} (searched recursively for {', '.join(IMAGE_EXTENSIONS)}).{found}"
        )
    return files


def from_directory(path, image_size, channels=3, batch_size=128, shuffle=True, seed=0):
    """A ``tf.data.Dataset`` of float32 batches from a folder of images (recursive).

    Each image is decoded to ``channels`` (1 gray, 3 RGB), resized to ``image_size``
    (int or ``(height, width)``; bilinear with antialiasing, no crop) and scaled to [0, 1].
    """
    import tensorflow as tf

    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
    size = _size_pair(image_size)
    files = image_files(path)

    def read(file):
        img = tf.io.decode_image(tf.io.read_file(file), channels=channels, expand_animations=False)
        img = tf.image.resize(tf.cast(img, tf.float32) / 255.0, size, antialias=True)
        img = tf.clip_by_value(img, 0.0, 1.0)
        img.set_shape(size + (channels,))
        return img

    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def load_directory_arrays(path, image_size, channels=3):
    """All images of a folder as one float32 NHWC array in [0, 1], in sorted file order
    (decoded exactly as ``from_directory`` does)."""
    batches = [b.numpy() for b in from_directory(path, image_size, channels, batch_size=256, shuffle=False)]
    return np.concatenate(batches)
