"""kl-vae against its PyTorch original: diffusers' AutoencoderKL at small random configurations.

Each configuration is built in diffusers with seeded random weights (GroupNorm scales and
shifts randomised too, so a norm mapped to the wrong layer shows), saved in one of the
real file layouts, converted, and run on the same images: posterior mean, log-variance
and decoded images must agree to 1e-4 (float32). The ledger tests prove a checkpoint
that does not fit is refused by name with nothing assigned.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import aezoo
from aezoo.convert import ConversionError
from aezoo.convert.diffusers_kl import (
    convert_diffusers_folder, convert_single_file, fill_kl_vae, kl_vae_from_diffusers_config,
)

try:  # the PyTorch original is a test dependency only
    import diffusers
    import safetensors  # noqa: F401
    import torch
except ImportError as e:
    diffusers = torch = None
    MISSING = e.name
try:  # the loopback Hub's fixtures, for hf:// loads
    from test_hub import fake_hub, hf_cache  # noqa: F401
except ImportError:  # no huggingface_hub: the Hub test skips
    fake_hub = None
needs_reference = pytest.mark.skipif(
    diffusers is None, reason=f"the reference (diffusers' AutoencoderKL on torch, safetensors) is not installed: "
                              f"{MISSING if diffusers is None else ''}")

ATOL = 1e-4
CONFIGS = {
    # SD 1.x/2.x/SDXL-like: 4 channels, quant convs, mid attention
    "sd-like": dict(block_out_channels=(8, 16), layers_per_block=1, latent_channels=4, norm_num_groups=4),
    # SD3/FLUX.1-like: 16 channels, no quant convs, a shift factor, three levels
    "flux-like": dict(block_out_channels=(8, 8, 16), layers_per_block=2, latent_channels=16, norm_num_groups=4,
                      use_quant_conv=False, use_post_quant_conv=False, scaling_factor=0.3611, shift_factor=0.1159),
    # no mid-block attention, one quant conv only, per-channel latent statistics (as Playground v2.5's)
    "no-attention": dict(block_out_channels=(8, 16), layers_per_block=1, latent_channels=4, norm_num_groups=2,
                         use_post_quant_conv=False, mid_block_add_attention=False,
                         latents_mean=(0.1, -0.2, 0.3, 0.0), latents_std=(0.5, 1.0, 2.0, 1.5)),
}


def reference_vae(name, seed=0):
    """diffusers' AutoencoderKL at ``CONFIGS[name]``, random weights, norms randomised as well."""
    config = dict(CONFIGS[name])
    levels = len(config["block_out_channels"])
    torch.manual_seed(seed)
    vae = diffusers.AutoencoderKL(down_block_types=("DownEncoderBlock2D",) * levels,
                                  up_block_types=("UpDecoderBlock2D",) * levels, **config).eval()
    with torch.no_grad():
        for name_, p in vae.named_parameters():
            if "norm" in name_:
                p.add_(0.2 * torch.randn_like(p))
    return vae


def images(n=2, h=16, w=24, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, h, w, 3)).astype("float32")


def reference_outputs(vae, x):
    """diffusers' posterior mean, log-variance, and decoded images of the mean, channels-last; images in [0, 1]."""
    with torch.no_grad():
        posterior = vae.encode(torch.from_numpy(2 * x - 1).permute(0, 3, 1, 2)).latent_dist
        decoded = vae.decode(posterior.mean).sample
    nhwc = lambda t: t.permute(0, 2, 3, 1).numpy()  # noqa: E731
    return nhwc(posterior.mean), nhwc(posterior.logvar), (nhwc(decoded) + 1) / 2


def assert_matches(model, vae, x):
    from aezoo.models import inference

    mean_ref, log_var_ref, images_ref = reference_outputs(vae, x)
    _, log_var = model.encode_distribution(x)
    np.testing.assert_allclose(model.encode(x), mean_ref, atol=ATOL, rtol=0)
    np.testing.assert_allclose(log_var, log_var_ref, atol=ATOL, rtol=0)
    np.testing.assert_allclose(inference.run(model.decoder, mean_ref), images_ref, atol=ATOL, rtol=0)
    np.testing.assert_allclose(model.decode(mean_ref), np.clip(images_ref, 0, 1), atol=ATOL, rtol=0)


def state_dict(vae):
    return {k: v.numpy().copy() for k, v in vae.state_dict().items()}


# ---------------------------------------------------------------- equivalence
@needs_reference
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_diffusers_folder_matches_the_original(name, tmp_path):
    vae = reference_vae(name)
    vae.save_pretrained(tmp_path / "vae")
    model = convert_diffusers_folder(tmp_path / "vae")
    assert_matches(model, vae, images())
    assert model.scaling_factor == pytest.approx(vae.config.scaling_factor)
    assert model.shift_factor == pytest.approx(vae.config.shift_factor or 0.0)
    # the diffusion latents as diffusers' pipelines make them (SD3/FLUX: shift; SDXL: per-channel mean and std)
    z, c = reference_outputs(vae, images())[0], vae.config
    if c.latents_mean is not None:
        expected = (z - np.float32(c.latents_mean)) * c.scaling_factor / np.float32(c.latents_std)
    else:
        expected = (z - (c.shift_factor or 0.0)) * c.scaling_factor
    np.testing.assert_allclose(model.to_diffusion_latents(model.encode(images())), expected, atol=ATOL, rtol=0)
    np.testing.assert_allclose(model.from_diffusion_latents(expected), z, atol=ATOL, rtol=0)
    assert model.encode(images()).shape == (2, 16 // model.downsampling_factor, 24 // model.downsampling_factor,
                                            vae.config.latent_channels)


@needs_reference
def test_a_stable_diffusion_sized_vae_matches_the_original():
    """SD 1.x's architecture (block_out_channels 128-256-512-512, two resnets a level, 32 groups; 83.7 M
    parameters) at random weights, on a 128x96 image: accumulated float32 error stays within 1e-4."""
    config = dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4, norm_num_groups=32)
    torch.manual_seed(0)
    vae = diffusers.AutoencoderKL(down_block_types=("DownEncoderBlock2D",) * 4,
                                  up_block_types=("UpDecoderBlock2D",) * 4, **config).eval()
    with torch.no_grad():
        for name, p in vae.named_parameters():
            if "norm" in name:
                p.add_(0.2 * torch.randn_like(p))
    from aezoo.convert.diffusers_kl import kl_vae_from_diffusers

    model = kl_vae_from_diffusers(dict(vae.config), state_dict(vae))
    assert model.count_params() == sum(p.numel() for p in vae.parameters())
    assert_matches(model, vae, images(n=1, h=128, w=96))


@needs_reference
def test_sampled_latents_follow_the_posterior(tmp_path):
    vae = reference_vae("sd-like")
    vae.save_pretrained(tmp_path)
    model = convert_diffusers_folder(tmp_path)
    x = images(n=1)
    mean, log_var = model.encode_distribution(x)
    a, b = model.encode(x, sample=True, seed=3), model.encode(x, sample=True, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, model.encode(x, sample=True, seed=4))
    eps = (a - mean) / np.exp(0.5 * log_var)  # the draw is mean + std * N(0, 1)
    assert abs(eps.mean()) < 0.5 and 0.6 < eps.std() < 1.4


@needs_reference
def test_legacy_attention_names(tmp_path):
    """Hub repos saved by diffusers < 0.14 name the attention query/key/value/proj_attn."""
    from safetensors.numpy import save_file

    vae = reference_vae("sd-like")
    old_names = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}
    legacy = {}
    for name, tensor in state_dict(vae).items():
        for new, old in old_names.items():
            name = name.replace(f".{new}.", f".{old}.")
        legacy[name] = tensor
    assert any(".query." in k for k in legacy)
    (tmp_path / "config.json").write_text(json.dumps(dict(vae.config)))
    save_file(legacy, str(tmp_path / "diffusion_pytorch_model.safetensors"))
    assert_matches(convert_diffusers_folder(tmp_path), vae, images())


def to_ldm(diffusers_state, levels):
    """The test's own map from diffusers names to the original latent-diffusion names (attention as 1x1
    convs); ``test_single_file_checkpoint`` checks it against diffusers' own single-file loader."""
    out = {}
    for name, t in diffusers_state.items():
        new = name.replace("conv_shortcut", "nin_shortcut").replace("conv_norm_out", "norm_out")
        new = new.replace("mid_block.resnets.0", "mid.block_1").replace("mid_block.resnets.1", "mid.block_2")
        for old, ldm in (("group_norm", "norm"), ("to_q", "q"), ("to_k", "k"), ("to_v", "v"), ("to_out.0", "proj_out")):
            new = new.replace(f"mid_block.attentions.0.{old}.", f"mid.attn_1.{ldm}.")
        parts = new.split(".")
        if parts[1] in ("down_blocks", "up_blocks"):  # the decoder's up.N counts from the output
            direction = parts[1][:-len("_blocks")]
            level = int(parts[2]) if direction == "down" else levels - 1 - int(parts[2])
            if parts[3] == "resnets":  # encoder.down_blocks.0.resnets.1.norm1.weight
                new = ".".join([parts[0], direction, str(level), "block", *parts[4:]])
            else:  # encoder.down_blocks.0.downsamplers.0.conv.weight
                new = ".".join([parts[0], direction, str(level), f"{direction}sample", *parts[5:]])
        if ".attn_1." in new and t.ndim == 2:
            t = t[:, :, None, None]
        out[new] = t
    return out


@needs_reference
@pytest.mark.parametrize("prefix", ["first_stage_model.", "vae.", ""], ids=["whole-pipeline", "vae-prefix", "vae-only"])
def test_single_file_checkpoint(prefix, tmp_path):
    from diffusers.loaders.single_file_utils import convert_ldm_vae_checkpoint
    from safetensors.numpy import save_file

    vae = reference_vae("sd-like")
    original = state_dict(vae)
    ldm = to_ldm(original, levels=2)
    # the fixture is the real layout: diffusers' own single-file loader maps it back exactly
    back = convert_ldm_vae_checkpoint({k: torch.from_numpy(v) for k, v in ldm.items()}, dict(vae.config))
    assert set(back) == set(original)
    for k, v in back.items():
        np.testing.assert_array_equal(v.numpy(), original[k])
    if prefix:
        ldm = {f"{prefix}{k}": v for k, v in ldm.items()}
        ldm["model.diffusion_model.input_blocks.0.0.weight"] = np.zeros((4, 4, 3, 3), "float32")  # the UNet's
    else:
        ldm["loss.discriminator.main.0.weight"] = np.zeros((8, 3, 4, 4), "float32")  # a training-only tensor
    save_file(ldm, str(tmp_path / "sd.safetensors"))
    model = convert_single_file(tmp_path / "sd.safetensors", norm_num_groups=4)
    assert model.block_out_channels == (8, 16) and model.layers_per_block == 1 and model.latent_channels == 4
    assert_matches(model, vae, images())
    # a missing tensor is named as the filler reads it, and the message says the names were mapped
    del ldm[f"{prefix}decoder.up.0.block.1.norm2.bias"]
    save_file(ldm, str(tmp_path / "cut.safetensors"))
    with pytest.raises(ConversionError, match=r"LDM names read as diffusers'\): tensor "
                                              r"'decoder.up_blocks.1.resnets.1.norm2.bias' is missing"):
        convert_single_file(tmp_path / "cut.safetensors", norm_num_groups=4)


@needs_reference
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_other_backends_match_the_original(backend, tmp_path):
    """The same equivalence in a fresh process on another Keras backend."""
    pytest.importorskip(backend, reason=f"the {backend} backend is not installed")
    import aezoo

    script = ("import sys; sys.path.insert(0, sys.argv[1]); import keras, test_kl_vae as t, pathlib; "
              "p = pathlib.Path(sys.argv[2]); v = t.reference_vae('flux-like'); v.save_pretrained(p); "
              "t.assert_matches(t.convert_diffusers_folder(p), v, t.images()); "
              "print('matched on', keras.backend.backend())")
    root = os.path.dirname(os.path.dirname(aezoo.__file__))  # this checkout's aezoo, not another install
    path = os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": path}
    result = subprocess.run([sys.executable, "-c", script, os.path.dirname(__file__), str(tmp_path / "vae")],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and f"matched on {backend}" in result.stdout, result.stderr[-3000:]


# ---------------------------------------------------------------- the ledger
def _fresh(vae):
    return kl_vae_from_diffusers_config(dict(vae.config, _class_name="AutoencoderKL"))


def _refused(model, tensors):
    before = [np.array(w) for w in model.weights]
    with pytest.raises(ConversionError) as info:
        fill_kl_vae(model, tensors, source="vae.safetensors")
    assert all(np.array_equal(b, np.array(w)) for b, w in zip(before, model.weights)), "weights assigned"
    message = str(info.value)
    assert "\n" not in message
    return message


@needs_reference
def test_missing_extra_and_misshaped_tensors_are_named():
    vae = reference_vae("sd-like")
    good = state_dict(vae)
    model = _fresh(vae)

    missing = dict(good)
    del missing["decoder.up_blocks.1.resnets.0.conv_shortcut.weight"]
    assert "decoder.up_blocks.1.resnets.0.conv_shortcut.weight" in _refused(model, missing)

    extra = dict(good, **{"encoder.down_blocks.0.resnets.9.conv1.weight": np.zeros((8, 8, 3, 3), "float32")})
    assert "encoder.down_blocks.0.resnets.9.conv1.weight" in _refused(model, extra)

    misshaped = dict(good, **{"encoder.mid_block.attentions.0.to_k.weight": np.zeros((16, 8), "float32")})
    assert "encoder.mid_block.attentions.0.to_k.weight" in _refused(model, misshaped)

    wrong_rank = dict(good, **{"decoder.conv_in.weight": np.zeros((16, 4), "float32")})
    assert "decoder.conv_in.weight" in _refused(model, wrong_rank)

    fill_kl_vae(model, good)  # the untouched dict fills the same model
    assert_matches(model, vae, images(n=1))


def test_another_model_class_is_refused_in_one_line(tmp_path):
    for class_name in ("UNet2DConditionModel", "VQModel", "AutoencoderTiny"):
        with pytest.raises(ConversionError, match=f"is a diffusers {class_name}, expected an AutoencoderKL"):
            kl_vae_from_diffusers_config({"_class_name": class_name})
    with pytest.raises(ConversionError, match="down_block_types"):
        kl_vae_from_diffusers_config({"block_out_channels": [8], "down_block_types": ["AttnDownEncoderBlock2D"]})
    (tmp_path / "config.json").write_text(json.dumps({"_class_name": "AutoencoderKL", "block_out_channels": [8],
                                                      "norm_num_groups": 4}))
    with pytest.raises(ConversionError, match="holds no diffusion_pytorch_model.safetensors"):
        convert_diffusers_folder(tmp_path)


# ---------------------------------------------------------------- the model itself
TINY = dict(block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4, latent_channels=4)


def test_fit_tunes_the_decoder_with_the_encoder_frozen():
    model = aezoo.build("kl-vae", **TINY)
    x = images(n=4, h=16, w=16)
    encoder_before = [np.array(w) for w in model.encoder.weights]
    decoder_before = [np.array(w) for w in model.decoder.weights]
    history = model.fit(x, epochs=1, batch_size=4, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert all(np.array_equal(b, np.array(w)) for b, w in zip(encoder_before, model.encoder.weights))
    assert any(not np.array_equal(b, np.array(w)) for b, w in zip(decoder_before, model.decoder.weights))
    unfrozen = aezoo.build("kl-vae", freeze_encoder=False, **TINY)
    assert len(unfrozen.trainable_weights) == len(unfrozen.weights) > len(model.trainable_weights)


def test_bad_sizes_and_channels_are_refused_in_one_line():
    model = aezoo.build("kl-vae", **dict(TINY, block_out_channels=(8, 8, 16)))  # factor 4
    cases = [
        (lambda: model.encode(images(n=1, h=16, w=18)), "must divide by 4"),
        (lambda: model.encode(images(n=1)[..., :1]), r"\(batch, any, any, 3\)"),
        (lambda: model.decode(np.zeros((1, 4, 4, 3), "float32")), r"\(batch, any, any, 4\)"),
        (lambda: aezoo.build("kl-vae", block_out_channels=(8, 12), norm_num_groups=8), "divide by norm_num_groups=8"),
        (lambda: aezoo.build("kl-vae", out_channels=1), "must equal in_channels"),
        (lambda: aezoo.build("kl-vae", block_out_channels=()), "non-empty tuple"),
        (lambda: aezoo.build("kl-vae", latents_mean=[0.0] * 4), "go together"),
        (lambda: aezoo.build("kl-vae", latents_mean=[0.0] * 3, latents_std=[1.0] * 3), "need 4 values each"),
    ]
    for call, expected in cases:
        with pytest.raises(ValueError, match=expected) as info:
            call()
        assert "\n" not in str(info.value)


def test_single_file_without_one_vae_is_refused_in_one_line(tmp_path):
    save_file = pytest.importorskip("safetensors.numpy", reason="safetensors writes the fixture").save_file
    w = np.zeros((8, 3, 3, 3), "float32")
    save_file({"model.diffusion_model.input_blocks.0.0.weight": w}, str(tmp_path / "unet.safetensors"))
    with pytest.raises(ConversionError, match="no VAE tensors .* UNet or text-encoder checkpoint"):
        convert_single_file(tmp_path / "unet.safetensors")
    save_file({"first_stage_model.encoder.conv_in.weight": w, "vae.encoder.conv_in.weight": w},
              str(tmp_path / "two.safetensors"))
    with pytest.raises(ConversionError, match="holds two VAEs"):
        convert_single_file(tmp_path / "two.safetensors")


def test_tiled_encode_blends_mean_and_log_variance_and_samples_from_them():
    """Tiled, the posterior's mean and log-variance are blended window by window (GroupNorm statistics
    differ per window, as in diffusers' tiling, so no closeness to the whole image is claimed here); one
    window as large as the image gives the whole-image posterior."""
    model = aezoo.build("kl-vae", **TINY)
    x = images(n=1, h=32, w=48)
    whole_mean, whole_log_var = model.encode_distribution(x)
    one_window = model.encode_distribution(x, tile=48, overlap=0)
    np.testing.assert_allclose(one_window[0], whole_mean, atol=1e-6)
    np.testing.assert_allclose(one_window[1], whole_log_var, atol=1e-6)
    mean, log_var = model.encode_distribution(x, tile=16, overlap=8)
    assert mean.shape == log_var.shape == (1, 16, 24, 4)
    np.testing.assert_allclose(model.encode(x, tile=16, overlap=8), mean, atol=1e-6)
    drawn = model.encode(x, tile=16, overlap=8, sample=True, seed=0)
    eps = np.random.default_rng(0).standard_normal(mean.shape)
    np.testing.assert_allclose(drawn, mean + np.exp(0.5 * log_var) * eps, atol=1e-5)
    assert model.reconstruct(x, tile=16, overlap=8).shape == x.shape


# ---------------------------------------------------------------- through aezoo.load, the CLI and the Hub
@needs_reference
def test_load_and_cli_convert_a_diffusers_folder(tmp_path, monkeypatch, capsys):
    from aezoo.cli import main

    monkeypatch.setenv("AEZOO_CACHE", str(tmp_path / "cache"))
    vae = reference_vae("sd-like")
    vae.save_pretrained(tmp_path / "vae")
    loaded = aezoo.load(str(tmp_path / "vae"))
    assert isinstance(loaded, aezoo.KLVAE)
    assert_matches(loaded, vae, images())
    assert main(["convert", str(tmp_path / "vae"), "-o", str(tmp_path / "preset")]) == 0
    converted = aezoo.load(str(tmp_path / "preset"))  # an ordinary preset folder now, checksums verified
    assert_matches(converted, vae, images())
    assert converted.preset_metadata["source"]["files"]["diffusion_pytorch_model.safetensors"]["sha256"]


@needs_reference
@pytest.mark.skipif(fake_hub is None, reason="huggingface_hub is not installed")
def test_a_pipeline_vae_converts_through_the_loopback_hub(loopback_only, fake_hub, tmp_path, monkeypatch):  # noqa: F811
    """hf://org/pipe/vae@commit: a 16-channel AutoencoderKL in a pipeline's vae/ folder, converted once."""
    hub = fake_hub
    monkeypatch.setenv("AEZOO_CACHE", str(tmp_path / "aezoo-cache"))
    vae = reference_vae("flux-like")
    vae.save_pretrained(tmp_path / "vae")
    files = {f"vae/{p.name}": p.read_bytes() for p in (tmp_path / "vae").iterdir()}
    files["README.md"] = b"---\nlicense: apache-2.0\n---\n# a pipeline\n"
    commit = hub.commit_files("org/pipe", files)
    model = aezoo.load(f"hf://org/pipe/vae@{commit}")
    assert isinstance(model, aezoo.KLVAE) and model.latent_channels == 16
    assert model.preset_metadata["converted_from"] == f"hf://org/pipe/vae@{commit}"
    assert model.preset_metadata["license"] == "apache-2.0"
    assert_matches(model, vae, images())
    assert model.shift_factor == pytest.approx(0.1159) and model.scaling_factor == pytest.approx(0.3611)
