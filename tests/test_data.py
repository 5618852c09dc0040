"""aezoo.data: named datasets, tf.data pipelines, binarisation, the user's own images.

Real datasets are read from the local copies (/usr/share/datasets, ../shared/datasets);
a test skips, saying why, when its copy is absent. Everything else uses tiny fake data
in temp folders, with the search roots pointed there.
"""

import gzip
import os
import tarfile

import numpy as np
import pytest
from PIL import Image

from aezoo import data


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """Point every local root at empty temp folders; return the AEZOO_DATA folder."""
    root = tmp_path / "aezoo_data"
    root.mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.setenv("AEZOO_DATA", str(root))
    monkeypatch.setenv("AEZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("aezoo.data.search.DEBIAN_DATASETS", tmp_path / "debian")
    monkeypatch.setattr("aezoo.data.search._REPO_ROOT", tmp_path / "repo" / "clone")
    monkeypatch.chdir(tmp_path / "cwd")
    return root


def load_or_skip(name, **kwargs):
    try:
        return data.load_arrays(name, **kwargs)
    except data.DatasetNotFoundError as err:
        pytest.skip(f"no local copy of {name!r} on this machine: {str(err).splitlines()[0]}")


def write_idx_gz(path, array):
    """Write a uint8 array in the IDX format (gzip), as Fashion-MNIST ships it."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + np.ascontiguousarray(array, np.uint8).tobytes())


def write_fake_fashion(folder, n_train=5, n_test=3):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    x_tr, x_te = rng.integers(0, 256, (n_train, 28, 28)), rng.integers(0, 256, (n_test, 28, 28))
    write_idx_gz(folder / "train-images-idx3-ubyte.gz", x_tr)
    write_idx_gz(folder / "train-labels-idx1-ubyte.gz", np.arange(n_train) % 10)
    write_idx_gz(folder / "t10k-images-idx3-ubyte.gz", x_te)
    write_idx_gz(folder / "t10k-labels-idx1-ubyte.gz", np.arange(n_test) % 10)
    return x_tr, x_te


def write_fake_mnist_npz(path, n_train=6, n_test=4):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    np.savez(path, x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), y_train=np.arange(n_train) % 10,
             x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), y_test=np.arange(n_test) % 10)


def write_jpeg(path, size, seed):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=90)


def batches(ds):
    return [b.numpy() for b in ds]


# --------------------------------------------------------------------------
# the table, names, roots
# --------------------------------------------------------------------------
def test_dataset_table_names_and_licences():
    assert set(data.DATASETS) == {"fashion_mnist", "mnist", "digits", "faces", "utkface", "olivetti", "celeb_a"}
    for name, info in data.DATASETS.items():
        assert info.name == name and len(info.image_shape) == 3 and info.license and info.source
    for name in ("faces", "utkface", "celeb_a"):
        assert data.DATASETS[name].commercial_use is False, name
    with pytest.raises(Exception):
        data.DATASETS["mnist"].name = "other"  # frozen


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match="fashion_mnist") as err:
        data.load_arrays("fasion_mnist")
    assert "Known datasets" in str(err.value)
    with pytest.raises(ValueError, match="Did you mean"):
        data.dataset("mnits")


def test_bad_split_and_image_size_are_clear():
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_arrays("digits", split="valid")
    with pytest.raises(ValueError, match=r"choose one of \[32, 64\]"):
        data.load_arrays("faces", image_size=48)
    with pytest.raises(ValueError, match="choose one of"):
        data.dataset("digits", image_size=16)


def test_data_roots_order(monkeypatch, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("AEZOO_DATA", os.pathsep.join([str(first), str(second)]))
    (tmp_path / "repo" / "work").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "repo" / "work")
    roots = data.data_roots()
    assert roots[:3] == [first, second, data.DEBIAN_DATASETS]
    assert tmp_path / "repo" / "shared" / "datasets" in roots  # ../shared beside the current dir
    assert data.search._REPO_ROOT.parent / "shared" / "datasets" in roots  # ../shared beside the clone


# --------------------------------------------------------------------------
# real datasets (local copies)
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, train_shape, test_shape, classes",
    [
        ("fashion_mnist", (60000, 28, 28, 1), (10000, 28, 28, 1), 10),
        ("mnist", (60000, 28, 28, 1), (10000, 28, 28, 1), 10),
        ("digits", (1437, 8, 8, 1), (360, 8, 8, 1), 10),
        ("olivetti", (320, 64, 64, 1), (80, 64, 64, 1), 40),
    ],
)
def test_labelled_datasets_shapes_dtypes_ranges(name, train_shape, test_shape, classes):
    x, y = load_or_skip(name, with_labels=True)
    x_test, y_test = data.load_arrays(name, split="test", with_labels=True)
    assert x.shape == train_shape and x_test.shape == test_shape
    assert x.dtype == np.float32 and x.min() == 0.0 and x.max() == 1.0  # each uses its full range
    assert y.shape == (len(x),) and set(np.unique(y)) == set(range(classes))
    assert len(y_test) == len(x_test)
    assert data.DATASETS[name].image_shape == train_shape[1:]


def test_olivetti_matches_sklearn_scaling():
    x = load_or_skip("olivetti")
    x_test = data.load_arrays("olivetti", split="test")
    # sklearn's fetch_olivetti_faces min-max scales the same pixels: its mean is 0.5470426
    assert abs(np.concatenate([x, x_test]).mean() - 0.5470426) < 1e-5


def test_faces_32():
    x = load_or_skip("faces")
    x_test, y = data.load_arrays("faces", split="test", with_labels=True)
    assert x.shape == (9000, 32, 32, 3) and x_test.shape == (1000, 32, 32, 3)
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0


def _attribute_file_rows():
    """CelebA's attribute list parsed here independently of aezoo.data: {stem: {name: +-1}}."""
    found = [r / "celeba_10k" / "list_attr_celeba_10k.txt" for r in data.data_roots()]
    path = next((p for p in found if p.is_file()), None)
    if path is None:
        pytest.skip("CelebA attribute list not installed")
    lines = path.read_text().splitlines()
    names = lines[1].split()
    return names, {line.split()[0][:-4]: dict(zip(names, map(int, line.split()[1:]))) for line in lines[2:]}


def test_faces_carry_celeba_attributes_in_file_order():
    """y is CelebA's 40 attributes as 0/1; train is 000001-009000 and test 009001-010000, so
    row i of each split is image 1+i (train) or 9001+i (test) of the attribute list."""
    names, rows = _attribute_file_rows()
    for size in (32, 64):
        for split, first in (("train", 1), ("test", 9001)):
            x, y = data.load_arrays("faces", split=split, image_size=size, with_labels=True)
            assert sorted(y) == sorted(names) and all(len(v) == len(x) for v in y.values())
            for i in (0, 1, len(x) - 1):
                stem = f"{first + i:06d}"
                assert {k: int(v[i]) for k, v in y.items()} == {k: int(v > 0) for k, v in rows[stem].items()}
    _, y = data.load_arrays("faces", split="train", with_labels=True)
    assert 0.40 < y["Smiling"].mean() < 0.56  # SOURCE.md: 48.2% over the 10k


def test_celeba_attribute_list_errors(tmp_path):
    bad = tmp_path / "attrs.txt"
    bad.write_text("2\nSmiling Male\n000001.jpg 1 -1\n000002.jpg 1\n")
    with pytest.raises(ValueError, match="000002.jpg has 1 values, expected 2"):
        data.read_celeba_attributes(bad)
    bad.write_text("Smiling Male\n")
    with pytest.raises(ValueError, match="not a CelebA attribute list"):
        data.read_celeba_attributes(bad)


def test_demo_faces_are_redistributable_and_credited():
    faces, credits = data.demo_faces(64)
    assert faces.shape == (4, 64, 64, 3) and faces.dtype == np.float32 and 0 <= faces.min() <= faces.max() <= 1
    assert "public domain" in credits[0] and all("AT&T Laboratories Cambridge" in c for c in credits[1:])
    assert data.demo_faces(32)[0].shape == (4, 32, 32, 3)


def test_utkface_labels():
    x, y = load_or_skip("utkface", with_labels=True)
    assert x.shape == (8802, 32, 32, 3)
    assert set(y) == {"age", "gender", "race"}
    assert all(len(v) == len(x) for v in y.values())
    assert set(np.unique(y["gender"])) <= {-1, 0, 1} and set(np.unique(y["race"])) <= {-1, 0, 1, 2, 3, 4}
    assert 1 <= y["age"].min() and y["age"].max() <= 116


def test_jpeg_decode_reproduces_stored_32x32_npz():
    root = next((r for r in data.data_roots() if (r / "celeba_10k" / "celeba_10k_32x32.npz").exists()), None)
    if root is None:
        pytest.skip("no shared/datasets/celeba_10k folder on this machine")
    names, x = data.decode_face_jpegs(root / "celeba_10k" / "celeba_10k_89x109_jpg.tar.gz", "faces", 32, limit=20)
    with np.load(root / "celeba_10k" / "celeba_10k_32x32.npz") as f:
        np.testing.assert_array_equal(x, f["x_train"][:20])
        np.testing.assert_array_equal(names, f["names_train"][:20])


@pytest.mark.slow
@pytest.mark.parametrize("name, n_train", [("faces", 9000), ("utkface", 8802)])
def test_full_64x64_decode(name, n_train, tmp_path, monkeypatch):
    monkeypatch.setenv("AEZOO_CACHE", str(tmp_path))
    x = load_or_skip(name, image_size=64)
    assert x.shape == (n_train, 64, 64, 3) and x.dtype == np.float32
    assert len(list(tmp_path.glob(f"{name}_64x64_*_x.npy"))) == 1


# --------------------------------------------------------------------------
# 64x64 faces from JPEGs, with the cache (fake data)
# --------------------------------------------------------------------------
def test_faces_64_from_tar_is_split_by_index_and_cached(isolated, tmp_path, monkeypatch):
    src = tmp_path / "src" / "celeba_10k"
    for i, index in enumerate((1, 2, 9001)):
        write_jpeg(src / f"{index:06d}.jpg", (89, 109), seed=i)
    tar_path = isolated / "celeba_10k" / "celeba_10k_89x109_jpg.tar.gz"
    tar_path.parent.mkdir()
    with tarfile.open(tar_path, "w:gz") as tar:
        tar.add(src, arcname="celeba_10k")

    x = data.load_arrays("faces", image_size=64)
    x_test = data.load_arrays("faces", split="test", image_size=64)
    assert x.shape == (2, 64, 64, 3) and x_test.shape == (1, 64, 64, 3)
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(cached) == 2 and not any(name.endswith(".tmp") for name in cached)

    # second load in a new process (cleared memo) reads the cache, decodes nothing
    data.arrays._load_raw_cached.cache_clear()
    monkeypatch.setattr("aezoo.data.faces.decode_face_jpegs", lambda *a, **k: pytest.fail("decoded again"))
    np.testing.assert_array_equal(data.load_arrays("faces", image_size=64), x)


def test_utkface_64_from_extracted_folder_parses_labels(isolated):
    folder = isolated / "utkface_crop_part1" / "crop_part1"
    names = [f"{20 + i}_{i % 2}_{i % 5}_2017011{i}.jpg.chip.jpg" for i in range(9)] + ["39_1_20170116.jpg.chip.jpg"]
    for i, name in enumerate(names):
        write_jpeg(folder / name, (40, 40), seed=i)
    (x, y), (x_test, y_test) = (data.load_arrays("utkface", split=s, image_size=64, with_labels=True)
                                for s in ("train", "test"))
    assert x.shape == (9, 64, 64, 3) and x_test.shape == (1, 64, 64, 3)  # n // 10 held out
    ages = sorted(np.concatenate([y["age"], y_test["age"]]))
    assert ages == sorted([20 + i for i in range(9)] + [39])
    race = dict(zip(np.concatenate([y["age"], y_test["age"]]), np.concatenate([y["race"], y_test["race"]])))
    assert race[39] == -1 and race[23] == 3  # missing race field -> -1


# --------------------------------------------------------------------------
# where data comes from: order, downloaders, the error when all fail
# --------------------------------------------------------------------------
def test_missing_data_error_lists_every_place(isolated, monkeypatch):
    import keras

    def offline():
        raise ConnectionError("no internet")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(data.DatasetNotFoundError) as err:
        data.load_arrays("mnist")
    message = str(err.value)
    for root in data.data_roots():
        assert str(root / "mnist" / "mnist.npz") in message
    assert "keras.datasets.mnist.load_data()" in message and "no internet" in message
    assert "AEZOO_DATA" in message
    assert isinstance(err.value, FileNotFoundError)

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(data.DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.load_arrays("fashion_mnist")
    with pytest.raises(data.DatasetNotFoundError, match="celeba_10k_32x32.npz"):
        data.load_arrays("faces")


def test_local_copy_wins_over_downloader(isolated, monkeypatch):
    import keras

    write_fake_mnist_npz(isolated / "mnist" / "mnist.npz")
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: pytest.fail("downloader called"))
    x, y = data.load_arrays("mnist", with_labels=True)
    assert x.shape == (6, 28, 28, 1) and list(y) == [0, 1, 2, 3, 4, 5]


def test_downloader_used_when_no_local_copy(isolated, monkeypatch):
    import keras

    calls = []
    fake = np.zeros((3, 28, 28), np.uint8)
    monkeypatch.setattr(keras.datasets.mnist, "load_data",
                        lambda: calls.append(1) or ((fake, np.arange(3)), (fake[:1], np.arange(1))))
    assert data.load_arrays("mnist").shape == (3, 28, 28, 1) and calls == [1]


def test_fashion_idx_files_in_aezoo_data(isolated):
    x_tr, _ = write_fake_fashion(isolated / "fashion-mnist")
    x, y = data.load_arrays("fashion_mnist", with_labels=True)
    np.testing.assert_allclose(x[..., 0], x_tr / 255.0, atol=1e-7)
    assert list(y) == [0, 1, 2, 3, 4]


def test_keras_cache_is_used_offline(isolated, monkeypatch, tmp_path):
    """keras' own cache (KERAS_HOME/datasets): fashion-mnist has no pinned hash, so a
    cached copy is read without a download. (mnist.npz is hash-checked, hence not used here.)"""
    config = pytest.importorskip("keras.src.backend.config")
    if not hasattr(config, "_KERAS_DIR"):
        pytest.skip("this keras keeps its cache folder elsewhere")
    keras_home = tmp_path / "keras_home"
    x_tr, _ = write_fake_fashion(keras_home / "datasets" / "fashion-mnist", n_train=4)
    monkeypatch.setattr(config, "_KERAS_DIR", str(keras_home))  # KERAS_HOME is read at import
    x = data.load_arrays("fashion_mnist")
    np.testing.assert_allclose(x[..., 0], x_tr / 255.0, atol=1e-7)


# --------------------------------------------------------------------------
# tf.data pipelines
# --------------------------------------------------------------------------
def test_dataset_batches_shape_and_range():
    load_or_skip("fashion_mnist", split="test")
    got = batches(data.dataset("fashion_mnist", batch_size=128, subset=300))
    assert [b.shape for b in got] == [(128, 28, 28, 1), (128, 28, 28, 1), (44, 28, 28, 1)]
    assert all(b.dtype == np.float32 and b.min() >= 0 and b.max() <= 1 for b in got)
    test = batches(data.dataset("fashion_mnist", split="test", batch_size=1000, shuffle=False, subset=1000))
    np.testing.assert_array_equal(test[0], data.load_arrays("fashion_mnist", split="test")[:1000])


def test_dataset_is_deterministic_for_a_seed():
    x = np.random.default_rng(0).integers(0, 256, (64, 4, 4, 1), dtype=np.uint8)
    one = np.concatenate(batches(data.dataset(x, batch_size=16, seed=3)))
    two = np.concatenate(batches(data.dataset(x, batch_size=16, seed=3)))
    other = np.concatenate(batches(data.dataset(x, batch_size=16, seed=4)))
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, other)
    np.testing.assert_allclose(np.sort(one.ravel()), np.sort(x.ravel() / 255.0), atol=1e-7)  # a permutation

    ds = data.dataset(x, batch_size=64, seed=3)
    epoch1, epoch2 = batches(ds)[0], batches(ds)[0]
    assert not np.array_equal(epoch1, epoch2)  # reshuffled every epoch


def test_validation_and_train_are_disjoint():
    ids = np.arange(200, dtype=np.uint8).reshape(200, 1, 1, 1)  # each example is its own id
    kw = dict(batch_size=50, seed=7, validation_fraction=0.1)
    train = np.concatenate(batches(data.dataset(ids, split="train", **kw))).ravel() * 255
    val = np.concatenate(batches(data.dataset(ids, split="validation", **kw))).ravel() * 255
    train, val = set(np.rint(train).astype(int)), set(np.rint(val).astype(int))
    assert len(val) == 20 and len(train) == 180 and not train & val and train | val == set(range(200))
    # the default fraction for split="validation" is 0.1, and the carve equals split_validation
    default = np.rint(np.concatenate(batches(data.dataset(ids, split="validation", seed=7, shuffle=False))) * 255)
    np.testing.assert_array_equal(default, data.split_validation(ids, seed=7)[1])

    x_tr = data.dataset("digits", validation_fraction=0.2, batch_size=2000)
    x_va = data.dataset("digits", split="validation", validation_fraction=0.2, batch_size=2000)
    assert len(batches(x_tr)[0]) + len(batches(x_va)[0]) == 1437


def test_dynamic_binarisation_fresh_each_epoch_and_seeded():
    x = np.full((32, 6, 6, 1), 0.5, np.float32)
    ds = data.dataset(x, batch_size=32, shuffle=False, binarize=True, seed=1)
    epoch1, epoch2 = batches(ds)[0], batches(ds)[0]
    assert set(np.unique(epoch1)) == {0.0, 1.0}
    assert not np.array_equal(epoch1, epoch2)
    again = batches(data.dataset(x, batch_size=32, shuffle=False, binarize=True, seed=1))[0]
    np.testing.assert_array_equal(epoch1, again)
    assert 0.4 < epoch1.mean() < 0.6


def test_repeat_and_array_inputs():
    x = np.random.default_rng(0).integers(0, 256, (10, 5, 5), dtype=np.uint8)  # no channel axis
    ds = data.dataset(x, batch_size=4, repeat=True, image_size=8)
    got = [b.numpy() for b in ds.take(5)]
    assert all(b.shape == (4, 8, 8, 1) for b in got)  # repeats past 10 examples; resized
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        data.dataset(x.astype(np.float32))
    with pytest.raises(ValueError, match="no official test split"):
        data.dataset(x, split="test")
    with pytest.raises(ValueError, match="batch_size"):
        data.dataset(x, batch_size=0)


def test_fixed_binarisation_is_reproducible():
    x = np.random.default_rng(0).uniform(size=(100, 8, 8, 1)).astype(np.float32)
    a, b, c = data.binarize_fixed(x, seed=0), data.binarize_fixed(x, seed=0), data.binarize_fixed(x, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float32 and set(np.unique(a)) == {0.0, 1.0} and abs(a.mean() - x.mean()) < 0.02
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        data.binarize_fixed(x * 2)


def test_corrupt_delegates_to_the_corruption_layer():
    from aezoo.models.layers import Corruption

    x = np.random.default_rng(0).uniform(size=(20, 8, 8, 1)).astype(np.float32)
    masked = data.corrupt(x, "masking", 0.5, seed=2)
    np.testing.assert_array_equal(masked, data.corrupt(x, "masking", 0.5, seed=2))
    np.testing.assert_array_equal(masked, np.asarray(Corruption("masking", 0.5, 2).corrupt(x)))
    assert 0.4 < (masked == 0).mean() < 0.6
    with pytest.raises(ValueError, match="corruption kind"):
        data.corrupt(x, "blur", 0.1, seed=0)


# --------------------------------------------------------------------------
# celeb_a through tensorflow_datasets (mocked: no download)
# --------------------------------------------------------------------------
def test_celeb_a_through_tfds_mock():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=5):
        x, y = data.load_arrays("celeb_a", split="test", image_size=32, with_labels=True)
        got = batches(data.dataset("celeb_a", batch_size=2, subset=4, image_size=16, binarize=True))
    assert x.shape == (5, 32, 32, 3) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1 and y is None
    assert [b.shape for b in got] == [(2, 16, 16, 3), (2, 16, 16, 3)]
    assert set(np.unique(np.concatenate(got))) <= {0.0, 1.0}


# --------------------------------------------------------------------------
# the user's own folder of images
# --------------------------------------------------------------------------
def test_from_directory_reads_nested_pngs_and_jpgs(tmp_path):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)]
    for i, colour in enumerate(colours):
        sub = tmp_path / ("a" if i < 3 else "b/c")
        sub.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (20 + i, 12), colour).save(sub / f"img{i}.png")
    Image.new("L", (9, 9), 128).save(tmp_path / "gray.PNG")
    write_jpeg(tmp_path / "b" / "photo.jpeg", (30, 20), seed=0)
    (tmp_path / "notes.txt").write_text("not an image")

    got = batches(data.from_directory(tmp_path, 16, batch_size=4, seed=0))
    assert [b.shape for b in got] == [(4, 16, 16, 3), (3, 16, 16, 3)]
    assert all(b.dtype == np.float32 and b.min() >= 0 and b.max() <= 1 for b in got)

    arrays = data.load_directory_arrays(tmp_path, (8, 10))
    assert arrays.shape == (7, 8, 10, 3)
    files = data.image_files(tmp_path)  # sorted order: a/img0..2, b/c/img3..4, b/photo.jpeg, gray.PNG
    red = arrays[files.index(str(tmp_path / "a" / "img0.png"))]
    np.testing.assert_allclose(red, np.broadcast_to([1, 0, 0], (8, 10, 3)), atol=1e-6)
    np.testing.assert_allclose(arrays[files.index(str(tmp_path / "gray.PNG"))], 128 / 255, atol=1e-6)  # gray -> RGB
    gray = data.load_directory_arrays(tmp_path / "a", 4, channels=1)
    assert gray.shape == (3, 4, 4, 1)


def test_from_directory_errors_name_the_folder(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"no images in .*empty.*\.jpg, \.jpeg, \.png.* It is empty"):
        data.from_directory(empty, 32)
    (empty / "readme.md").write_text("x")
    with pytest.raises(FileNotFoundError, match=r"It holds only: \.md"):
        data.load_directory_arrays(empty, 32)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.from_directory(tmp_path / "missing", 32)
    with pytest.raises(ValueError, match="channels"):
        data.from_directory(empty, 32, channels=2)


def test_shift_augmentation_moves_each_image_and_keeps_its_pixels():
    """dataset(shift=1) and batches(shift=1): every image is its original moved by at most one
    pixel per axis (zeros coming in), offsets differ between images and between epochs."""
    x = np.zeros((16, 6, 6, 1), "float32")
    x[:, 2:4, 2:4] = 1.0  # a square well inside the border: a shift keeps all of it
    for epochs in (data.dataset(x, batch_size=16, shift=1, shuffle=False, seed=3),
                   data.batches(x, 16, shift=1, shuffle=False, seed=3)):
        corners = []
        for _ in range(2):
            batch = np.asarray(next(iter(epochs)) if hasattr(epochs, "take") else epochs[0])
            if not hasattr(epochs, "take"):
                epochs.on_epoch_end()
            assert batch.shape == x.shape and np.all(batch.sum(axis=(1, 2, 3)) == 4.0)
            corner = [tuple(np.argwhere(b[..., 0])[0]) for b in batch]
            assert all(1 <= r <= 3 and 1 <= c <= 3 for r, c in corner) and len(set(corner)) > 1
            corners.append(corner)
        assert corners[0] != corners[1]  # a fresh draw every epoch


def test_flip_augmentation_mirrors_about_half_the_images():
    x = np.random.default_rng(0).random((64, 5, 5, 3)).astype("float32")
    for batch in (np.asarray(next(iter(data.dataset(x, batch_size=64, flip=True, shuffle=False)))),
                  data.batches(x, 64, flip=True, shuffle=False)[0]):
        same = np.all(np.isclose(batch, x), axis=(1, 2, 3))
        mirrored = np.all(np.isclose(batch, x[:, :, ::-1]), axis=(1, 2, 3))
        assert np.all(same ^ mirrored) and 16 < mirrored.sum() < 48
