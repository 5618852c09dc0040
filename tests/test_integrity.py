"""Pinned presets: an edited, truncated, extended or incomplete preset folder is refused
when loaded by name, from any source, with one line naming the file (issue: integrity)."""

import hashlib
import json
import shutil

import pytest

import aezoo
from aezoo import presets
from aezoo.cli import main
from aezoo.presets import catalog, pins

PRESET = "conv-vae-fashion"


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    """A copy of the bundled weights that the loader treats as the bundle."""
    source = presets.bundled_weights_dir() / PRESET
    root = tmp_path / "weights"
    shutil.copytree(source, root / PRESET)
    monkeypatch.setattr("aezoo.presets.loader.bundled_weights_dir", lambda: root)
    return root / PRESET


def _rehash(folder, name):
    """Rewrite metadata.json's entry for ``name`` to match the edited file (an attacker's move)."""
    meta_path = folder / "metadata.json"
    meta = json.loads(meta_path.read_text())
    data = (folder / name).read_bytes()
    meta["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    meta_path.write_text(json.dumps(meta, indent=2))


def _refused(capsys, name, *expected):
    with pytest.raises(presets.ChecksumError) as err:
        aezoo.load(name)
    message = str(err.value)
    assert "\n" not in message and all(e in message for e in expected), message
    # the command line says the same in one line, exit code 2, no traceback
    assert main(["show", name]) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and "Traceback" not in stderr and all(e in stderr for e in expected)


def test_the_untouched_copy_loads_under_its_pin(bundle):
    assert catalog.PRESETS[PRESET].manifest_sha256 == presets.folder.manifest_sha256(bundle)
    assert aezoo.load(PRESET).latent_dim == 32


def test_weights_and_metadata_edited_together_are_refused(bundle, capsys):
    weights = bytearray((bundle / "model.weights.h5").read_bytes())
    weights[len(weights) // 2] ^= 0xFF
    (bundle / "model.weights.h5").write_bytes(bytes(weights))
    _rehash(bundle, "model.weights.h5")
    presets.verify_preset(bundle)  # self-consistent: only the pin can tell
    _refused(capsys, PRESET, "metadata.json", "aezoo pins")


@pytest.mark.parametrize("key, value", [("likelihood", "gaussian"), ("beta", 4.0)])
def test_config_edited_with_metadata_rehashed_is_refused(bundle, capsys, key, value):
    config = json.loads((bundle / "config.json").read_text())
    config["config"][key] = value
    (bundle / "config.json").write_text(json.dumps(config))
    _rehash(bundle, "config.json")
    _refused(capsys, PRESET, "metadata.json", "aezoo pins")


def test_truncated_extra_and_missing_files_are_refused_naming_the_file(bundle, capsys):
    weights = bundle / "model.weights.h5"
    original = weights.read_bytes()
    weights.write_bytes(original[:1000])
    _refused(capsys, PRESET, "model.weights.h5", "truncated")
    weights.write_bytes(original)

    (bundle / "notes.txt").write_text("not part of the preset")
    _refused(capsys, PRESET, "notes.txt", "not listed")
    (bundle / "notes.txt").unlink()

    (bundle / "demo_inputs.npy").unlink()
    _refused(capsys, PRESET, "demo_inputs.npy", "missing")


def test_a_hub_snapshot_is_checked_against_the_same_pin(bundle, tmp_path, monkeypatch):
    """hf://aezoo/<preset> is the catalog's repo: the pin applies to the cache/Hub copy too."""
    config = json.loads((bundle / "config.json").read_text())
    config["config"]["beta"] = 2.0
    (bundle / "config.json").write_text(json.dumps(config))
    _rehash(bundle, "config.json")
    monkeypatch.setattr("aezoo.presets.loader._from_hub", lambda repo_id, revision, tried, label=None, subfolder="": bundle)
    with pytest.raises(presets.ChecksumError, match="aezoo pins"):
        aezoo.load(f"hf://{catalog.PRESETS[PRESET].hf_repo}")
    folder, pinned = presets.resolve(f"hf://someone/{PRESET}")  # not aezoo's repo: no pin to hold
    assert pinned is None and presets.load_preset_folder(folder).latent_dim == 32


def test_pins_match_every_bundled_preset():
    """Fails when weights change without `python -m aezoo.presets.pins --update`."""
    assert pins.current_pins() == json.loads(catalog.PINS_FILE.read_text())
    assert all(catalog.PRESETS[name].manifest_sha256 for name in pins.current_pins())


def test_another_revision_is_the_users_explicit_choice():
    spec = catalog.PRESETS[PRESET]
    assert presets.loader._pin(spec, None) == (spec.manifest_sha256, spec.revision)
    assert presets.loader._pin(spec, "some-other-branch") == (None, "some-other-branch")
