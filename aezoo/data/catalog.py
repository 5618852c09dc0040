"""The table of named datasets: shape, classes, licence, where each comes from, protocol."""

import dataclasses
import difflib
from pathlib import Path


DEBIAN_DATASETS = Path("/usr/share/datasets")
#: the folder that holds the ``aezoo`` package (the repository root in a checkout)
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
