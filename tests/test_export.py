"""Serving exports: SavedModel, TFLite and ONNX encoders/decoders agree with model.encode/decode."""

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


def _run_tflite(folder, x, z, interpreter=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runners = {part: (interpreter or tf.lite.Interpreter)(model_path=str(folder / f"{part}.tflite"))
                   .get_signature_runner("serving_default") for part in ("encoder", "decoder")}
    return runners["encoder"](x=x), runners["decoder"](z=z)["x_hat"]


def _run_litert(folder, x, z):
    """The same .tflite files in LiteRT, the standalone runtime phones use (when installed)."""
    from ai_edge_litert.interpreter import Interpreter

    return _run_tflite(folder, x, z, Interpreter)


def _run_onnx(folder, x, z):
    ort = pytest.importorskip("onnxruntime")
    enc, dec = (ort.InferenceSession(str(folder / f"{part}.onnx"), providers=["CPUExecutionProvider"])
                for part in ("encoder", "decoder"))
    names = [o.name for o in enc.get_outputs()]
    return dict(zip(names, enc.run(names, {"x": x}))), dec.run(["x_hat"], {"z": z})[0]


RUNNERS = {"savedmodel": _run_saved_model, "tflite": _run_tflite, "onnx": _run_onnx}
FILES = {"savedmodel": {"encoder", "decoder", "export.json"}, "tflite": {"encoder.tflite", "decoder.tflite", "export.json"},
         "onnx": {"encoder.onnx", "decoder.onnx", "export.json"}}


def _needs(fmt):
    if fmt == "onnx":
        pytest.importorskip("tf2onnx")
        pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("fmt", ["savedmodel", "tflite", "onnx"])
@pytest.mark.parametrize("arch", ["conv-vae", "dense-ae"])
def test_export_matches_encode_and_decode(models, tmp_path, arch, fmt):
    _needs(fmt)
    model = models[arch]
    x, z = _inputs(model)
    want_enc, want_dec = _expected(model, x, z)
    out = export(model, tmp_path / "served", format=fmt)
    got_enc, got_dec = RUNNERS[fmt](out, x, z)
    assert sorted(got_enc) == sorted(want_enc)
    for name in want_enc:
        np.testing.assert_allclose(got_enc[name], want_enc[name], atol=1e-4)
    np.testing.assert_allclose(got_dec, want_dec, atol=1e-4)
    if arch == "conv-vae":  # data space: probabilities, not the decoder's logits
        assert got_dec.min() >= 0.0 and got_dec.max() <= 1.0
    desc = json.loads((out / "export.json").read_text())
    assert desc["format"] == fmt and desc["decoder"]["inputs"] == {"z": [None, model.latent_dim]}
    assert sorted(desc["encoder"]["outputs"]) == sorted(want_enc)
    assert {p.name for p in out.iterdir()} == FILES[fmt]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_export_from_a_preset_folder_carries_its_terms(models, tmp_path):
    folder = presets.save_preset(models["conv-vae"], tmp_path / "tiny-faces", preset="tiny-faces",
                                metadata={"dataset": "faces", "license": "other"})
    out = export(folder, tmp_path / "served", format="savedmodel")
    desc = json.loads((out / "export.json").read_text())
    assert desc["preset"] == "tiny-faces" and "non-commercial" in desc["terms"]


def test_bad_format_and_existing_folder(models, tmp_path):
    with pytest.raises(ValueError, match="savedmodel, tflite, onnx.*'coreml'"):
        export(models["dense-ae"], tmp_path / "x", format="coreml")
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


# ---------------------------------------------------------------- latent-diffusion autoencoders
# Measured on grace_hopper at 64x64 and a batch of two 96x64 crops (TF 2.21, tf2onnx 1.17.0,
# onnxruntime 1.32.0, x86 CPU): taef2's exported encoders and decoders differ from
# encode/decode by at most 5.3e-6 (TFLite/XNNPACK) and 4.8e-6 (ONNX Runtime), SavedModel 0;
# latents span ~9. 1e-4 leaves room for other CPUs' kernels. The .tflite files also run in
# LiteRT (ai-edge-litert) where it is installed.
ATOL = 1e-4


@pytest.fixture(scope="module")
def photos():
    """A real photo at 64x64, and a batch of two 96x64 crops: H and W are dynamic."""
    from aezoo.data.photos import photo

    crop = photo("grace_hopper", 128)[16:112, :64]
    return photo("grace_hopper", 64)[None], np.stack([crop, crop[:, ::-1]])


def _check_spatial(model, out, fmt, photos):
    import importlib.util

    runners = [RUNNERS[fmt]]
    if fmt == "tflite" and importlib.util.find_spec("ai_edge_litert") is not None:
        runners.append(_run_litert)
    for x in photos:
        z = model.encode(x)
        for run in runners:
            got_enc, got_dec = run(out, x, z)
            assert sorted(got_enc) == ["z"] and got_enc["z"].shape == z.shape
            np.testing.assert_allclose(got_enc["z"], z, atol=ATOL, rtol=0)
            np.testing.assert_allclose(got_dec, model.decode(z), atol=ATOL, rtol=0)
            assert got_dec.min() >= 0.0 and got_dec.max() <= 1.0  # clamped in the graph, as decode
    if fmt == "onnx":  # the dynamic axes are named, not tf2onnx's unk__N
        import onnx

        graph = onnx.load(str(out / "decoder.onnx")).graph
        assert [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim] == [
            "batch", "z_height", "z_width", model.latent_channels]
    desc = json.loads((out / "export.json").read_text())
    c = model.latent_channels
    assert desc["latent_kind"] == "spatial" and desc["downsampling_factor"] == model.downsampling_factor
    assert desc["encoder"] == {"inputs": {"x": [None, None, None, 3]}, "outputs": {"z": [None, None, None, c]}}
    assert desc["decoder"] == {"inputs": {"z": [None, None, None, c]}, "outputs": {"x_hat": [None, None, None, 3]}}
    assert {p.name for p in out.iterdir()} == FILES[fmt]


@pytest.mark.parametrize("fmt", ["tflite", "onnx"])
def test_a_tiny_ae_exports_for_any_image_size(tmp_path, photos, fmt):
    """A random tiny-ae (no weights to load): the edge formats keep H and W dynamic."""
    import keras

    _needs(fmt)
    keras.utils.set_random_seed(0)
    model = aezoo.build("tiny-ae", latent_channels=4)
    _check_spatial(model, export(model, tmp_path / "served", format=fmt), fmt, photos)


@pytest.fixture(scope="module")
def taef2():
    return aezoo.load("taef2", compile=False)


@pytest.mark.full
@pytest.mark.parametrize("fmt", ["savedmodel", "tflite", "onnx"])
def test_taef2_exports_agree_with_encode_and_decode_on_a_photo(taef2, tmp_path, photos, fmt):
    _needs(fmt)
    out = export(taef2, tmp_path / "served", format=fmt)
    _check_spatial(taef2, out, fmt, photos)
    desc = json.loads((out / "export.json").read_text())
    assert desc["preset"] == "taef2" and desc["license"] and desc["x_hat"].startswith("images in [0, 1]")


def test_onnx_without_tf2onnx_is_one_line_naming_the_pip_command(models, tmp_path, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tf2onnx" else find_spec(name, *a))
    with pytest.raises(ImportError) as err:
        export(models["dense-ae"], tmp_path / "x", format="onnx")
    assert "\n" not in str(err.value) and 'pip install "aezoo[export]"' in str(err.value)
    assert "missing: tf2onnx" in str(err.value) and not (tmp_path / "x").exists()


def test_a_quantised_code_grid_is_refused_in_one_line(tmp_path):
    codec = aezoo.build("factorized-codec", input_shape=(16, 16, 3), filters=4, latent_dim=4)
    with pytest.raises(ValueError, match="export handles vector and spatial latents.*latent_kind 'grid'") as err:
        export(codec, tmp_path / "x")
    assert "\n" not in str(err.value) and not (tmp_path / "x").exists()
