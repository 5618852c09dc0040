"""Face datasets kept as JPEGs (CelebA 10k, UTKFace): decode once, cache as .npy in the
user's cache (never in the repo); CelebA's attributes; the redistributable demo faces."""

import io
import logging
import os
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from aezoo.data.readers import _Raw
from aezoo.data.search import _Search, cache_dir

logger = logging.getLogger(__name__)

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

    with np.load(Path(__file__).resolve().parents[1] / "assets" / "demo_faces.npz", allow_pickle=False) as f:
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
