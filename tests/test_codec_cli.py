"""``aezoo compress`` and ``aezoo decompress``: folders of images and of .aezc files, one-line
errors with exit 2 on bad input, nothing written then, and no overwriting of folders aezoo
did not write."""

import numpy as np
import pytest
from PIL import Image

import aezoo
from aezoo.cli import main
from test_codecs import smooth_images

pytest.importorskip("constriction")


@pytest.fixture(scope="module")
def codec_folder(tmp_path_factory):
    model = aezoo.build("factorized-codec", input_shape=(None, None, 3), filters=8, latent_dim=6, seed=0)
    model.update()
    return aezoo.presets.save_preset(model, tmp_path_factory.mktemp("presets") / "tiny-codec", preset="tiny-codec")


def _images(folder):
    folder.mkdir()
    pictures = {"a.png": smooth_images(1, 48, seed=1)[0][:30, :41], "sub/b.jpg": smooth_images(1, 48, seed=2)[0]}
    for name, image in pictures.items():
        (folder / name).parent.mkdir(exist_ok=True)
        Image.fromarray(np.round(image * 255).astype(np.uint8)).save(folder / name)
    return folder


def test_compress_then_decompress_a_folder(tmp_path, codec_folder, capsys):
    images = _images(tmp_path / "images")
    assert main(["compress", str(codec_folder), str(images), "-o", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.aezc", "b.aezc"]
    assert main(["compress", str(codec_folder), str(images), "-o", str(tmp_path / "out")]) == 0  # its own: replaced
    assert main(["decompress", str(tmp_path / "out"), "-o", str(tmp_path / "back"), "--preset",
                 str(codec_folder)]) == 0
    model = aezoo.presets.load_preset_folder(codec_folder)
    for name, size in (("a", (30, 41)), ("b", (48, 48))):
        decoded = np.asarray(Image.open(tmp_path / "back" / f"{name}.png"))
        assert decoded.shape == (*size, 3)
        expected = model.decompress((tmp_path / "out" / f"{name}.aezc").read_bytes())
        np.testing.assert_array_equal(decoded, np.round(expected * 255).astype(np.uint8))
    assert main(["decompress", str(tmp_path / "out" / "a.aezc"), "-o", str(tmp_path / "back"), "--preset",
                 str(codec_folder)]) == 0  # one file; a folder it wrote is replaced
    assert [p.name for p in (tmp_path / "back").iterdir()] == ["a.png"]


def _error(capsys):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_bad_input_exits_2_in_one_line_and_writes_nothing(tmp_path, codec_folder, capsys):
    images = _images(tmp_path / "images")
    out = tmp_path / "out"
    assert main(["compress", str(codec_folder), str(images), "-o", str(out)]) == 0
    capsys.readouterr()

    assert main(["decompress", str(out), "-o", str(tmp_path / "back")]) == 2  # tiny-codec is in no catalog
    assert "tiny-codec" in _error(capsys)

    (out / "a.aezc").write_bytes((out / "a.aezc").read_bytes()[:-2])
    assert main(["decompress", str(out), "-o", str(tmp_path / "back"), "--preset", str(codec_folder)]) == 2
    assert "a.aezc: truncated aezoo codec file" in _error(capsys)
    assert not (tmp_path / "back").exists()

    other = aezoo.build("factorized-codec", input_shape=(None, None, 3), filters=8, latent_dim=6, seed=3)
    other.update()
    other_folder = aezoo.presets.save_preset(other, tmp_path / "other-codec", preset="other-codec")
    assert main(["decompress", str(out / "b.aezc"), "-o", str(tmp_path / "back"), "--preset",
                 str(other_folder)]) == 2
    assert "b.aezc: this file was made by preset tiny-codec" in _error(capsys)
    assert not (tmp_path / "back").exists()

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(["compress", str(codec_folder), str(images), "-o", str(mine)]) == 2
    assert "is not an aezoo codec folder" in _error(capsys)
    assert main(["decompress", str(out / "b.aezc"), "-o", str(mine), "--preset", str(codec_folder)]) == 2
    assert "is not an aezoo decompress folder" in _error(capsys)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]

    assert main(["compress", "dense-ae-mnist", str(images), "-o", str(tmp_path / "x")]) == 2
    assert "not a codec" in _error(capsys)
