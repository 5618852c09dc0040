"""Converted checkpoints equal their PyTorch originals (issue 21).

The originals are the reference: TAESD's own ``taesd.py`` (imported from
``../shared/weights/taesd``, never copied) and diffusers' ``AutoencoderTiny``. The same
inputs go through both; latents and images must agree in float32.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import aezoo
from aezoo.convert import ConversionError
from aezoo.convert.taesd import from_taesd_files, tiny_from_diffusers
from aezoo.data.photos import photos

torch = pytest.importorskip("torch", reason="torch runs the PyTorch originals (bash tests/run.sh installs it)")
TAESD_DIR = Path(__file__).resolve().parents[2] / "shared" / "weights" / "taesd"
needs_taesd = pytest.mark.skipif(not (TAESD_DIR / "taesd.py").is_file(),
                                 reason=f"the original TAEF2 weights and taesd.py are not at {TAESD_DIR}")
TOLERANCE = 1e-4  # float32, random small models
PHOTO_TOLERANCE = 1e-3  # the bound on real photos (images; latents relative to their range)


def original():
    spec = importlib.util.spec_from_file_location("taesd_original", TAESD_DIR / "taesd.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nchw(x):
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def reference_outputs(encoder, decoder, x):
    with torch.no_grad():
        z = encoder(nchw(x))
        return nhwc(z), nhwc(decoder(z).clamp(0, 1))


@needs_taesd
@pytest.mark.parametrize("size", [256, 512])
def test_taef2_preset_equals_the_original_on_real_photos(size):
    ref = original().TAESD(str(TAESD_DIR / "taef2_encoder.pth"), str(TAESD_DIR / "taef2_decoder.pth")).eval()
    model = aezoo.load("taef2")
    x = photos(size)
    z_ref, x_ref = reference_outputs(ref.encoder, ref.decoder, x)
    z = model.encode(x, batch_size=1)
    assert z.shape == (2, size // 8, size // 8, 32)
    assert np.abs(z - z_ref).max() <= PHOTO_TOLERANCE * (z_ref.max() - z_ref.min())
    assert np.abs(model.decode(z_ref, batch_size=1) - x_ref).max() <= PHOTO_TOLERANCE
    assert np.abs(model.reconstruct(x, batch_size=1) - x_ref).max() <= 10 * PHOTO_TOLERANCE


@needs_taesd
@pytest.mark.parametrize("variant,channels,kind", [("taesd", 4, None), ("taef1", 16, None), ("taesana", 32, "f32")])
def test_every_taesd_variant_converts_from_its_original_files(variant, channels, kind, tmp_path):
    """The family's other members: the original module at random weights, saved as the
    original .pth pair under the original file names, converted, compared."""
    taesd = original()
    torch.manual_seed(0)
    make = (taesd.F32Encoder, taesd.F32Decoder) if kind == "f32" else (taesd.Encoder, taesd.Decoder)
    encoder, decoder = make[0](channels).eval(), make[1](channels).eval()
    torch.save(encoder.state_dict(), tmp_path / f"{variant}_encoder.pth")
    torch.save(decoder.state_dict(), tmp_path / f"{variant}_decoder.pth")
    model = from_taesd_files(tmp_path / f"{variant}_encoder.pth")
    f = 32 if kind == "f32" else 8
    x = np.random.default_rng(1).uniform(0, 1, (2, 2 * f, 3 * f, 3)).astype("float32")
    z_ref, x_ref = reference_outputs(encoder, decoder, x)
    np.testing.assert_allclose(model.encode(x), z_ref, atol=TOLERANCE)
    np.testing.assert_allclose(model.decode(z_ref), x_ref, atol=TOLERANCE)


def test_diffusers_autoencoder_tiny_converts_from_its_folder(tmp_path):
    diffusers = pytest.importorskip("diffusers", reason="diffusers is a test dependency ([test] extra)")
    torch.manual_seed(0)
    ref = diffusers.AutoencoderTiny(latent_channels=16).eval()
    ref.save_pretrained(tmp_path / "tiny")
    from aezoo.convert import convert_folder

    model = convert_folder(tmp_path / "tiny")
    x = np.random.default_rng(2).uniform(0, 1, (2, 32, 48, 3)).astype("float32")
    with torch.no_grad():  # diffusers' AutoencoderTiny speaks [-1, 1]; aezoo [0, 1]
        z_ref = ref.encode(nchw(x * 2 - 1)).latents
        x_ref = (ref.decode(z_ref).sample.clamp(-1, 1) + 1) / 2
    np.testing.assert_allclose(model.encode(x), nhwc(z_ref), atol=TOLERANCE)
    np.testing.assert_allclose(model.decode(nhwc(z_ref)), nhwc(x_ref), atol=TOLERANCE)


@needs_taesd
def test_a_missing_extra_or_misshaped_tensor_is_one_line_naming_it(tmp_path):
    state = torch.load(TAESD_DIR / "taef2_encoder.pth", weights_only=True)
    decoder = TAESD_DIR / "taef2_decoder.pth"
    cases = {
        "missing": ({k: v for k, v in state.items() if k != "1.conv.2.weight"}, "'encoder.1.conv.2.weight' is missing"),
        "extra": ({**state, "99.weight": state["0.weight"]}, "not used.*encoder.99.weight"),
        "shape": ({**state, "0.bias": state["0.bias"][:3]}, "'encoder.0.bias' has shape \\(3,\\)"),
    }
    for name, (tensors, message) in cases.items():
        path = tmp_path / name / "taef2_encoder.pth"
        path.parent.mkdir()
        torch.save(tensors, path)
        with pytest.raises(ConversionError, match=message) as info:
            from_taesd_files(path, decoder)
        assert "\n" not in str(info.value)


def test_unreadable_sources_are_one_line(tmp_path):
    truncated = tmp_path / "taef2_encoder.pth"
    truncated.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ConversionError, match="not a readable PyTorch checkpoint"):
        from_taesd_files(truncated, truncated)
    with pytest.raises(ConversionError, match="cannot tell the TAESD variant"):
        from_taesd_files(tmp_path / "mystery_encoder.pth")
    with pytest.raises(ConversionError, match="is not TAESD's layout"):
        tiny_from_diffusers({"_class_name": "AutoencoderTiny", "encoder_block_out_channels": [32, 32, 32, 32]}, {})


@needs_taesd
@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_taef2_equals_the_original_on_other_backends(backend):
    """The same comparison with Keras on PyTorch and JAX, each in its own process."""
    if backend == "jax" and importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed here (the no-TensorFlow JAX check compares taef2 with TensorFlow's outputs)")
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import test_converted as t; "
            "t.test_taef2_preset_equals_the_original_on_real_photos(256)")
    env = {**os.environ, "KERAS_BACKEND": backend}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]


@needs_taesd
def test_cli_converts_a_taesd_pair_and_refuses_other_models(tmp_path, capsys, monkeypatch):
    from aezoo.cli import main

    monkeypatch.setenv("AEZOO_CACHE", str(tmp_path / "cache"))
    assert main(["convert", str(TAESD_DIR / "taef2_encoder.pth"), "-o", str(tmp_path / "mine")]) == 0
    model = aezoo.load(str(tmp_path / "mine"))
    meta = model.preset_metadata
    assert meta["converted_from"].endswith("taef2_encoder.pth") and model.latent_channels == 32
    assert meta["source"]["files"]["taef2_decoder.pth"]["sha256"].startswith("0a44a31e")
    unet = tmp_path / "unet"
    unet.mkdir()
    (unet / "config.json").write_text('{"_class_name": "UNet2DConditionModel"}')
    (unet / "diffusion_pytorch_model.safetensors").write_bytes(b"")
    capsys.readouterr()
    assert main(["convert", str(unet), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "UNet2DConditionModel, not an autoencoder" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_demo_draws_a_photo_its_latent_channels_and_its_reconstruction(tmp_path):
    from aezoo.cli import main

    assert main(["demo", "taef2", "-o", str(tmp_path / "demo.png")]) == 0
    assert (tmp_path / "demo.png").stat().st_size > 50_000


def test_tiny_ae_refuses_sizes_that_do_not_divide_and_diffusers_range():
    model = aezoo.load("taef2")
    with pytest.raises(ValueError, match="must divide by 8, got 30x32: crop or resize to 24x32"):
        model.encode(np.zeros((1, 30, 32, 3), "float32"))
    with pytest.raises(ValueError, match=r"diffusers' convention\? pass \(x \+ 1\) / 2"):
        model.encode(np.full((1, 16, 16, 3), -1.0, "float32"))
    with pytest.raises(ValueError, match=r"z must have shape \(batch, any, any, 32\)"):
        model.decode(np.zeros((1, 2, 2, 16), "float32"))


@pytest.mark.full
def test_tiled_reconstruction_of_a_1024_photo_is_within_40_db_of_untiled():
    from aezoo.data.photos import photo

    model = aezoo.load("taef2")
    x = photo("grace_hopper", 1024)[None]
    full = model.reconstruct(x, batch_size=1)
    tiled = model.reconstruct(x, batch_size=1, tile=512, overlap=128)
    assert tiled.shape == full.shape
    assert 10 * np.log10(1.0 / np.mean(np.square(full - tiled))) >= 40.0


def test_tiling_covers_every_pixel_and_is_exact_for_a_pointwise_model():
    """With a model that acts per pixel, blending overlapping windows must give the input back
    exactly: every pixel covered, the weights normalised, starts aligned to the factor."""
    from aezoo.models.tiling import tiled

    x = np.random.default_rng(0).uniform(0, 1, (2, 40, 72, 3)).astype("float32")
    out = tiled(lambda w: w * 2.0, x, tile=16, overlap=8, step=8, out_scale=1)
    np.testing.assert_allclose(out, x * 2.0, rtol=1e-6)
    down = tiled(lambda w: w[:, ::8, ::8], x, tile=16, overlap=8, step=8, out_scale=1 / 8)
    np.testing.assert_allclose(down, x[:, ::8, ::8], rtol=1e-6)
    with pytest.raises(ValueError, match="overlap in \\[0, tile\\)"):
        tiled(lambda w: w, x, tile=16, overlap=16, step=8, out_scale=1)


def test_finetune_a_latent_diffusion_decoder_from_the_cli(tmp_path, capsys):
    """`aezoo finetune` on a model that takes any size: arrays keep theirs; the encoder stays frozen."""
    from aezoo.cli import main

    x = np.random.default_rng(3).uniform(0, 1, (4, 32, 48, 3)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    before = aezoo.load("taef2").encode(x)
    assert main(["finetune", "taef2", "--data", str(tmp_path / "x.npy"), "--out", str(tmp_path / "mine"),
                 "--epochs", "1", "--batch-size", "2", "--freeze-encoder", "--quiet"]) == 0
    tuned = aezoo.load(str(tmp_path / "mine"))
    np.testing.assert_allclose(tuned.encode(x), before, atol=1e-5)  # latents a diffusion model made stay valid
    assert tuned.preset_metadata["finetune"]["input_shape"] == [32, 48, 3]
