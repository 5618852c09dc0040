"""aezoo.saving: the preset folder is complete, atomic, checksummed, and Keras-readable."""

import hashlib
import json

import h5py
import numpy as np
import pytest
import keras
import yaml

import aezoo
from aezoo import presets
from aezoo.evaluation import PROTOCOL

METADATA = {"dataset": "mnist", "split": "test", "metrics": {"mse_per_pixel": 0.0123, "psnr": 19.1},
            "protocol": PROTOCOL, "recipe": "recipes/tiny.py", "recipe_git_sha": "abc123"}


@pytest.fixture(scope="module")
def trained():
    """A tiny dense-ae after one epoch (so it has optimizer state), and inputs."""
    model = aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=4, hidden_units=(16,))
    x = np.random.default_rng(0).random((16, 8, 8, 1), dtype="float32")
    model.fit(x, epochs=1, batch_size=8, verbose=0)
    return model, x


@pytest.fixture
def preset(trained, tmp_path):
    model, x = trained
    return presets.save_preset(model, tmp_path / "weights" / "tiny", preset="tiny", metadata=METADATA,
                              demo_inputs=x[:3])


def flip_one_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_round_trip_gives_the_same_compiled_model(trained, preset):
    model, x = trained
    loaded = presets.load_preset_folder(preset)
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), rtol=1e-6)
    assert loaded.compiled and loaded.optimizer is not None
    assert loaded.preset_metadata["preset"] == "tiny"
    assert not presets.load_preset_folder(preset, compile=False).compiled
    np.testing.assert_array_equal(presets.load_demo_inputs(preset), x[:3])


def test_folder_layout_and_manifest(trained, preset):
    model, _ = trained
    names = {p.name for p in preset.iterdir()}
    assert names == {"config.json", "model.weights.h5", "metadata.json", "README.md", "demo_inputs.npy"}
    assert [p.name for p in preset.parent.iterdir()] == ["tiny"]  # no temp folder left beside it
    meta = json.loads((preset / "metadata.json").read_text())
    assert set(meta["files"]) == names - {"metadata.json"}
    for name, entry in meta["files"].items():
        data = (preset / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert meta["parameters"] == model.count_params() and meta["architecture"] == "dense-ae"
    assert meta["keras_version"] == keras.__version__ and meta["aezoo_version"] == aezoo.__version__
    assert meta["tensorflow_version"] and meta["recipe_git_sha"] == "abc123"
    assert meta["metrics"]["psnr"] == 19.1 and meta["protocol"]["name"] == PROTOCOL["name"]
    # config.json is Keras's serialisation of the model, minus the training-time compile config
    config = json.loads((preset / "config.json").read_text())
    assert config["registered_name"] == "aezoo>DenseAutoencoder" and "compile_config" not in config
    with h5py.File(preset / "model.weights.h5") as f:
        assert "optimizer" not in f  # weights only: no Adam slots


def test_keras_load_model_reads_the_folder(trained, preset):
    model, x = trained
    loaded = keras.saving.load_model(preset)
    assert isinstance(loaded, type(model))
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), rtol=1e-6)


def test_model_card_has_the_hub_header_and_metrics(preset):
    text = (preset / "README.md").read_text()
    header = yaml.safe_load(text.split("---")[1])
    assert header["library_name"] == "keras" and header["license"] == "apache-2.0"
    assert header["tags"] == ["aezoo", "autoencoder", "dense-ae"] and header["datasets"] == ["ylecun/mnist"]
    assert "| mse_per_pixel | 0.0123 |" in text and "git checkout abc123" in text
    assert "aezoo train tiny  # the recipe: recipes/tiny.py" in text and "non-commercial" not in text
    faces = presets.model_card({**json.loads((preset / "metadata.json").read_text()), "dataset": "faces"})
    assert yaml.safe_load(faces.split("---")[1])["license"] == "other"
    assert yaml.safe_load(faces.split("---")[1])["license_name"] == "faces-research-only"
    assert "non-commercial research only" in faces


def test_crash_mid_write_leaves_no_preset_and_no_half_files(trained, tmp_path, monkeypatch):
    model, _ = trained
    root = tmp_path / "weights"

    def crash(metadata):
        raise RuntimeError("disk full")

    monkeypatch.setattr("aezoo.presets.folder.model_card", crash)  # config and weights are written by then
    with pytest.raises(RuntimeError, match="disk full"):
        presets.save_preset(model, root / "tiny", preset="tiny")
    assert list(root.iterdir()) == []

    monkeypatch.undo()
    presets.save_preset(model, root / "tiny", preset="tiny", metadata=METADATA)
    before = {p.name: p.read_bytes() for p in (root / "tiny").iterdir()}
    monkeypatch.setattr("aezoo.presets.folder.model_card", crash)
    with pytest.raises(RuntimeError):
        presets.save_preset(model, root / "tiny", preset="tiny")
    assert [p.name for p in root.iterdir()] == ["tiny"]  # the old preset, intact
    assert {p.name: p.read_bytes() for p in (root / "tiny").iterdir()} == before


def test_overwrite_replaces_the_whole_folder(trained, preset):
    model, _ = trained
    presets.save_preset(model, preset, preset="tiny")  # no demo inputs this time
    assert not (preset / "demo_inputs.npy").exists()
    assert [p.name for p in preset.parent.iterdir()] == ["tiny"]
    presets.verify_preset(preset)
    with pytest.raises(FileExistsError):
        presets.save_preset(model, preset, preset="tiny", overwrite=False)


@pytest.mark.parametrize("damage, expected", [
    (flip_one_byte, r"model\.weights\.h5: sha256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}"),
    (lambda p: p.write_bytes(p.read_bytes()[:-100]), r"model\.weights\.h5: truncated: expected \d+ bytes, got \d+"),
    (lambda p: p.unlink(), r"model\.weights\.h5: missing"),
])
def test_damaged_weights_are_refused_before_anything_loads(preset, monkeypatch, damage, expected):
    damage(preset / "model.weights.h5")
    with pytest.raises(presets.ChecksumError, match=expected) as info:
        presets.verify_preset(preset)
    assert isinstance(info.value, ValueError) and len(info.value.problems) == 1

    def must_not_run(*args, **kwargs):
        raise AssertionError("deserialised a preset that failed verification")

    monkeypatch.setattr(keras.saving, "deserialize_keras_object", must_not_run)
    with pytest.raises(presets.ChecksumError, match=expected):
        presets.load_preset_folder(preset)


def test_verification_catches_other_damage(preset):
    presets.verify_preset(preset)
    with pytest.raises(presets.ChecksumError, match="metadata.json: sha256 .* is not the 0000.* that aezoo pins"):
        presets.verify_preset(preset, pinned="0" * 64)
    presets.verify_preset(preset, pinned=presets.folder.manifest_sha256(preset))
    flip_one_byte(preset / "README.md")
    with pytest.raises(presets.ChecksumError, match="README.md: sha256 mismatch"):
        presets.verify_preset(preset)
    (preset / "metadata.json").unlink()
    with pytest.raises(presets.ChecksumError, match="metadata.json: missing"):
        presets.verify_preset(preset)


def test_write_model_card_keeps_the_manifest_true(preset):
    presets.write_model_card(preset, "# new card\n")
    assert (preset / "README.md").read_text() == "# new card\n"
    presets.verify_preset(preset)
    presets.write_model_card(preset)  # regenerated from metadata
    assert (preset / "README.md").read_text().startswith("---\nlibrary_name:")
    presets.verify_preset(preset)


def test_demo_inputs_must_match_the_model(trained, tmp_path):
    model, x = trained
    with pytest.raises(ValueError, match=r"shape \(n, 8, 8, 1\)"):
        presets.save_preset(model, tmp_path / "p", preset="p", demo_inputs=x[:, :4])
    with pytest.raises(ValueError, match="float"):
        presets.save_preset(model, tmp_path / "p", preset="p", demo_inputs=(x * 255).astype("uint8"))
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("architecture, config", [
    ("conv-vae", {"latent_dim": 2, "filters": (4,), "seed": 0}),
    ("denoising-ae", {"latent_dim": 4, "hidden_units": (8,), "seed": 0}),
])
def test_other_families_round_trip(tmp_path, architecture, config):
    model = aezoo.build(architecture, input_shape=(8, 8, 1), **config)
    x = np.random.default_rng(1).random((4, 8, 8, 1), dtype="float32")
    loaded = presets.load_preset_folder(presets.save_preset(model, tmp_path / "p", preset="p"))
    np.testing.assert_allclose(loaded.encode(x), model.encode(x), rtol=1e-6)


def test_model_card_records_training_targets_and_notes(preset):
    meta = json.loads((preset / "metadata.json").read_text())
    meta.update(notes="Tried 20 epochs first.", targets=[
        {"metric": "psnr", "threshold": 20.0, "higher_is_better": True, "obtained": 19.1, "met": False,
         "anchor": "a paper"}],
        training={"epochs": 7, "batch_size": 32, "seconds": 600.0, "device": "1x CPU", "backend": "jax",
                  "keras": "3.x", "command": "aezoo train recipes/tiny.py --checkpoint-dir ck", "smoke": False})
    text = presets.model_card(meta)
    assert "| psnr | 19.1 | >= 20 | **not met** | a paper |" in text and "Tried 20 epochs first." in text
    assert "7 epochs; batch 32; 10 min of training; 1x CPU; Keras 3.x on jax." in text
    assert "KERAS_BACKEND=jax aezoo train recipes/tiny.py --checkpoint-dir ck" in text
    assert "KERAS_BACKEND=jax aezoo train tiny  # the recipe" in text
    smoke = presets.model_card({**meta, "training": {**meta["training"], "smoke": True}})
    assert "## Training\n" not in smoke
    # a run from before the runner recorded its command: the card says so instead of a dangling "command:"
    older = presets.model_card({**meta, "recipe_git_sha": "abc123", "training": {"epochs": 7, "seconds": 60.0}})
    assert "Commit `abc123`. The run predates aezoo's record of its exact command" in older
    assert "7 epochs; 60 s of training." in older  # not "1 min"
    dirty = presets.model_card({**meta, "recipe_git_sha": "abc123+dirty"})
    assert "Commit `abc123` (with uncommitted changes); command:" in dirty
    assert "command:\n\n" not in older


def test_model_card_shows_an_unmeasurable_target_as_not_available(preset):
    meta = json.loads((preset / "metadata.json").read_text())
    meta["targets"] = [{"metric": "auroc", "threshold": None, "obtained": None, "met": False, "anchor": "x"}]
    assert "| auroc | n/a | <= n/a | **not met** | x |" in presets.model_card(meta)
