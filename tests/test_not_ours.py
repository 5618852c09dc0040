"""Writers never replace what aezoo did not write, and never delete an input (issue 22, item 1)."""

import os

import numpy as np
import pytest

import aezoo
from aezoo.cli import main
from aezoo.io import NotOursError
from aezoo.presets import is_preset_folder, save_preset


@pytest.fixture(scope="module")
def model():
    return aezoo.build("dense-ae", input_shape=(4, 4, 1), latent_dim=2, hidden_units=(8,))


def _user_folder(tmp_path):
    folder = tmp_path / "userdir"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    return folder


def test_save_refuses_a_folder_that_is_not_a_preset(model, tmp_path):
    folder = _user_folder(tmp_path)
    with pytest.raises(NotOursError, match="is not an aezoo preset.*notes.txt.*--force"):
        save_preset(model, folder, preset="x")
    assert (folder / "notes.txt").read_text() == "mine"
    assert sorted(os.listdir(tmp_path)) == ["userdir"]  # no stray temp folder


def test_save_refuses_a_file(model, tmp_path):
    target = tmp_path / "model"
    target.write_text("a file")
    with pytest.raises(NotOursError, match="is a file"):
        save_preset(model, target, preset="x")
    assert target.read_text() == "a file" and sorted(os.listdir(tmp_path)) == ["model"]


def test_save_replaces_its_own_preset_an_empty_folder_and_forced(model, tmp_path):
    (tmp_path / "empty").mkdir()
    save_preset(model, tmp_path / "empty", preset="x")
    assert is_preset_folder(tmp_path / "empty")
    save_preset(model, tmp_path / "empty", preset="x")  # a preset replaces a preset
    folder = _user_folder(tmp_path)
    save_preset(model, folder, preset="x", force=True)
    assert is_preset_folder(folder) and not (folder / "notes.txt").exists()


def test_forced_save_never_replaces_a_folder_holding_an_input(model, tmp_path):
    folder = _user_folder(tmp_path)
    with pytest.raises(NotOursError, match="holds this run's input"):
        save_preset(model, folder, preset="x", force=True, protect=[folder / "notes.txt"])
    assert (folder / "notes.txt").exists()


def test_cli_finetune_refuses_before_training_and_keeps_the_input(tmp_path, capsys):
    folder = _user_folder(tmp_path)
    np.save(folder / "x.npy", np.random.default_rng(0).uniform(0, 1, (8, 28, 28)).astype("float32"))
    np.save(tmp_path / "y.npy", np.load(folder / "x.npy"))
    cases = [(folder / "x.npy", [], "holds this run's input"), (folder / "x.npy", ["--force"], "holds this run's input"),
             (tmp_path / "y.npy", [], "is not an aezoo preset")]
    for data, extra, message in cases:
        code = main(["finetune", "dense-ae-mnist", "--data", str(data), "--out", str(folder),
                     "--epochs", "1", "--quiet", *extra])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and message in err, err
    assert sorted(os.listdir(folder)) == ["notes.txt", "x.npy"]
