"""Serving exports: SavedModel and TFLite encoders/decoders agree with model.encode/decode."""

import json
import warnings

import numpy as np
import pytest

import aezoo
from aezoo import presets
from aezoo.uses.export import export

tf = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated")


@pytest.fixture(scope="module")
def models():
    import keras

    keras.utils.set_random_seed(0)
    return {
        "conv-vae": aezoo.build("conv-vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4,), seed=0),
        "dense-ae": aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=3, hidden_units=(8,)),
    }


def _inputs(model, n=5):
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(n, *model.data_shape)).astype("float32")
    return x, rng.standard_normal((n, model.latent_dim)).astype("float32")


def _expected(model, x, z):
    """What the exports must return: encode's codes (VAEs: mean and log-variance), decode's outputs."""
    if hasattr(model, "sample"):
        z_mean, z_log_var = model.encode_distribution(x)
        np.testing.assert_allclose(z_mean, model.encode(x))
        return {"z_mean": z_mean, "z_log_var": z_log_var}, model.decode(z)
    return {"z": model.encode(x)}, model.decode(z)


def _run_saved_model(folder, x, z):
    enc = tf.saved_model.load(str(folder / "encoder")).signatures["serving_default"]
    dec = tf.saved_model.load(str(folder / "decoder")).signatures["serving_default"]
    return ({k: v.numpy() for k, v in enc(x=tf.constant(x)).items()}, dec(z=tf.constant(z))["x_hat"].numpy())


def _run_tflite(folder, x, z):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runners = {part: tf.lite.Interpreter(model_path=str(folder / f"{part}.tflite"))
                   .get_signature_runner("serving_default") for part in ("encoder", "decoder")}
    return runners["encoder"](x=x), runners["decoder"](z=z)["x_hat"]


@pytest.mark.parametrize("fmt", ["savedmodel", "tflite"])
@pytest.mark.parametrize("arch", ["conv-vae", "dense-ae"])
def test_export_matches_encode_and_decode(models, tmp_path, arch, fmt):
    model = models[arch]
    x, z = _inputs(model)
    want_enc, want_dec = _expected(model, x, z)
    out = export(model, tmp_path / "served", format=fmt)
    run = _run_saved_model if fmt == "savedmodel" else _run_tflite
    got_enc, got_dec = run(out, x, z)
    assert sorted(got_enc) == sorted(want_enc)
    for name in want_enc:
        np.testing.assert_allclose(got_enc[name], want_enc[name], atol=1e-4)
    np.testing.assert_allclose(got_dec, want_dec, atol=1e-4)
    if arch == "conv-vae":  # data space: probabilities, not the decoder's logits
        assert got_dec.min() >= 0.0 and got_dec.max() <= 1.0
    desc = json.loads((out / "export.json").read_text())
    assert desc["format"] == fmt and desc["decoder"]["inputs"] == {"z": [None, model.latent_dim]}
    assert sorted(desc["encoder"]["outputs"]) == sorted(want_enc)
    expected_files = {"encoder", "decoder", "export.json"} if fmt == "savedmodel" else {
        "encoder.tflite", "decoder.tflite", "export.json"}
    assert {p.name for p in out.iterdir()} == expected_files
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_export_from_a_preset_folder_carries_its_terms(models, tmp_path):
    folder = presets.save_preset(models["conv-vae"], tmp_path / "tiny-faces", preset="tiny-faces",
                                metadata={"dataset": "faces", "license": "other"})
    out = export(folder, tmp_path / "served", format="savedmodel")
    desc = json.loads((out / "export.json").read_text())
    assert desc["preset"] == "tiny-faces" and "non-commercial" in desc["terms"]


def test_bad_format_and_existing_folder(models, tmp_path):
    with pytest.raises(ValueError, match="savedmodel, tflite.*'onnx'"):
        export(models["dense-ae"], tmp_path / "x", format="onnx")
    assert not (tmp_path / "x").exists()
    (tmp_path / "taken").mkdir()
    with pytest.raises(FileExistsError, match="overwrite"):
        export(models["dense-ae"], tmp_path / "taken", overwrite=False)
    with pytest.raises(ValueError, match="aezoo model"):
        export(object(), tmp_path / "y")


def test_failed_export_leaves_nothing(models, tmp_path, monkeypatch):
    from aezoo.uses import export as export_module

    old = export(models["dense-ae"], tmp_path / "served")  # an earlier export survives a failed one

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_module, "_to_tflite", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        export(models["dense-ae"], tmp_path / "served", format="tflite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["served"]
    assert (old / "encoder").is_dir() and not (old / "encoder.tflite").exists()
