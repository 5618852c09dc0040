"""diffusers' ``AutoencoderKL`` (and single-file Stable Diffusion VAEs) -> an aezoo ``kl-vae``.

Three source layouts, one filler:

- a diffusers folder: ``config.json`` + ``diffusion_pytorch_model.safetensors`` (or ``.bin``);
- diffusers' legacy attention names (``query``/``key``/``value``/``proj_attn``), still
  found in older Hub repos;
- a single-file LDM checkpoint (``first_stage_model.encoder.down.0.block.0.norm1.weight``,
  attention as 1x1 convs), whole-pipeline or VAE-only.

The legacy and LDM names are mapped to diffusers names first, so exactly one name map
(``fill_kl_vae``) meets the Keras graph, and the ``Ledger`` proves it complete.
"""

import json
import re
from pathlib import Path

from aezoo.convert.ledger import ConversionError, Ledger
from aezoo.convert.tensors import read_tensors
from aezoo.models.kl_blocks import keras_name

#: config.json keys that change the network or its latents, as KLVAE takes them
CONFIG_KEYS = ("in_channels", "out_channels", "block_out_channels", "layers_per_block", "latent_channels",
               "norm_num_groups", "use_quant_conv", "use_post_quant_conv", "mid_block_add_attention",
               "scaling_factor", "shift_factor", "latents_mean", "latents_std", "sample_size")
WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
#: where whole-pipeline single files keep the VAE's tensors (SD 1.x/2.x/XL/3: the first;
#: some all-in-one files: the second)
LDM_PREFIXES = ("first_stage_model.", "vae.")


# ------------------------------------------------------------------------ config
def kl_vae_from_diffusers_config(config, source="config.json"):
    """An untrained ``KLVAE`` with the architecture a diffusers ``AutoencoderKL`` ``config.json`` describes."""
    from aezoo.models.kl_vae import KLVAE

    arguments = kl_vae_arguments(config, source)
    try:
        return KLVAE(**arguments)
    except ValueError as e:  # the constructor's one-line refusal, said of the file
        raise ConversionError(f"{source}: {e}") from None


def kl_vae_arguments(config, source="config.json"):
    """``KLVAE``'s arguments from a diffusers config dict; a one-line ConversionError for another model class
    or block type (cheap: builds nothing)."""
    if not isinstance(config, dict):
        raise ConversionError(f"{source}: expected a JSON object (a diffusers config), got {type(config).__name__}")
    class_name = config.get("_class_name", "AutoencoderKL")
    if class_name != "AutoencoderKL":
        raise ConversionError(f"{source}: is a diffusers {class_name}, expected an AutoencoderKL "
                              "(for a pipeline, point at its vae/ subfolder)")
    levels = len(config.get("block_out_channels", (64,)))
    for key, expected in (("down_block_types", "DownEncoderBlock2D"), ("up_block_types", "UpDecoderBlock2D")):
        kinds = tuple(config.get(key, (expected,) * levels))
        if kinds != (expected,) * levels:
            raise ConversionError(f"{source}: {key} {list(kinds)} is not supported, expected {levels} x {expected}")
    if config.get("act_fn", "silu") != "silu":
        raise ConversionError(f"{source}: act_fn {config['act_fn']!r} is not supported, expected 'silu'")
    kwargs = {key: config[key] for key in CONFIG_KEYS if key in config}
    if isinstance(kwargs.get("sample_size"), (list, tuple)):
        kwargs["sample_size"] = int(kwargs["sample_size"][0])
    return kwargs


def read_config(path):
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ConversionError(f"{path}: no such file (a diffusers folder holds config.json)") from None
    except json.JSONDecodeError as e:
        raise ConversionError(f"{path}: not valid JSON ({e})") from None


# ------------------------------------------------------------------------ filler
def fill_kl_vae(model, tensors, source="checkpoint"):
    """Assign diffusers-named ``tensors`` to ``model``'s weights; a ConversionError (nothing assigned) names
    any tensor missing, extra or mis-shaped."""
    ledger = Ledger(tensors, source)
    enc, dec = model.encoder, model.decoder
    levels = len(model.block_out_channels)
    ledger.conv(_layer(enc, "encoder.conv_in"), "encoder.conv_in")
    for i in range(levels):
        for j in range(model.layers_per_block):
            _resnet(ledger, enc, f"encoder.down_blocks.{i}.resnets.{j}")
        if i < levels - 1:
            path = f"encoder.down_blocks.{i}.downsamplers.0.conv"
            ledger.conv(_layer(enc, path), path)
    _mid_block(ledger, enc, "encoder.mid_block", model.mid_block_add_attention)
    ledger.norm(_layer(enc, "encoder.conv_norm_out"), "encoder.conv_norm_out")
    ledger.conv(_layer(enc, "encoder.conv_out"), "encoder.conv_out")
    if model.use_quant_conv:
        ledger.conv(_layer(enc, "quant_conv"), "quant_conv")

    if model.use_post_quant_conv:
        ledger.conv(_layer(dec, "post_quant_conv"), "post_quant_conv")
    ledger.conv(_layer(dec, "decoder.conv_in"), "decoder.conv_in")
    _mid_block(ledger, dec, "decoder.mid_block", model.mid_block_add_attention)
    for i in range(levels):
        for j in range(model.layers_per_block + 1):
            _resnet(ledger, dec, f"decoder.up_blocks.{i}.resnets.{j}")
        if i < levels - 1:
            path = f"decoder.up_blocks.{i}.upsamplers.0.conv"
            ledger.conv(_layer(dec, path), path)
    ledger.norm(_layer(dec, "decoder.conv_norm_out"), "decoder.conv_norm_out")
    ledger.conv(_layer(dec, "decoder.conv_out"), "decoder.conv_out")
    return ledger.commit(model)


def _layer(submodel, path):
    return submodel.get_layer(keras_name(path))


def _resnet(ledger, submodel, path):
    for norm in ("norm1", "norm2"):
        ledger.norm(_layer(submodel, f"{path}.{norm}"), f"{path}.{norm}")
    for conv in ("conv1", "conv2"):
        ledger.conv(_layer(submodel, f"{path}.{conv}"), f"{path}.{conv}")
    shortcut = keras_name(f"{path}.conv_shortcut")
    if any(layer.name == shortcut for layer in submodel.layers):  # only where the block changes width
        ledger.conv(submodel.get_layer(shortcut), f"{path}.conv_shortcut")


def _mid_block(ledger, submodel, path, attention):
    _resnet(ledger, submodel, f"{path}.resnets.0")
    if attention:
        attn = _layer(submodel, f"{path}.attentions.0")
        ledger.norm(attn.group_norm, f"{path}.attentions.0.group_norm")
        for dense, name in ((attn.to_q, "to_q"), (attn.to_k, "to_k"), (attn.to_v, "to_v"),
                            (attn.to_out, "to_out.0")):
            ledger.dense(dense, f"{path}.attentions.0.{name}")
    _resnet(ledger, submodel, f"{path}.resnets.1")


# ------------------------------------------------------------------ name maps
_LEGACY_ATTENTION = {"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}


def rename_legacy_attention(tensors):
    """diffusers < 0.14 attention names (``attentions.0.query.weight``) -> today's (``attentions.0.to_q.weight``)."""
    pattern = re.compile(r"^(.*\.attentions\.\d+)\.(query|key|value|proj_attn)\.(weight|bias)$")

    def rename(name):
        m = pattern.match(name)
        return f"{m[1]}.{_LEGACY_ATTENTION[m[2]]}.{m[3]}" if m else name

    return _renamed(tensors, rename, "legacy diffusers")


_LDM_RESNET = {"nin_shortcut": "conv_shortcut"}
_LDM_SAMPLERS = {"downsample": "downsamplers", "upsample": "upsamplers"}
_LDM_ATTENTION = {"norm": "group_norm", "q": "to_q", "k": "to_k", "v": "to_v", "proj_out": "to_out.0"}


def ldm_to_diffusers(tensors):
    """Original latent-diffusion VAE names -> diffusers names; names it does not know pass through unchanged
    (so the ledger reports them). The decoder's ``up.{i}`` counts from the output, diffusers'
    ``up_blocks.{i}`` from the latents, hence the reversal."""
    up_levels = {int(m[1]) for m in (re.match(r"^decoder\.up\.(\d+)\.", n) for n in tensors) if m}
    last_up = max(up_levels, default=0)

    def rename(name):
        m = re.match(r"^(encoder|decoder)\.(down|up)\.(\d+)\.(block|downsample|upsample)\.(.*)$", name)
        if m:
            part, direction, level, kind, rest = m.groups()
            level = int(level) if direction == "down" else last_up - int(level)
            blocks = f"{part}.{direction}_blocks.{level}"
            if kind == "block":
                if rest.count(".") < 2:
                    return name  # not a resnet tensor: reported unused under its own name
                index, leaf, suffix = rest.split(".", 2)
                return f"{blocks}.resnets.{index}.{_LDM_RESNET.get(leaf, leaf)}.{suffix}"
            return f"{blocks}.{_LDM_SAMPLERS[kind]}.0.{rest}"
        m = re.match(r"^(encoder|decoder)\.mid\.(block_1|block_2|attn_1)\.([a-z_0-9]+)\.(.*)$", name)
        if m:
            part, unit, leaf, suffix = m.groups()
            if unit == "attn_1":
                return f"{part}.mid_block.attentions.0.{_LDM_ATTENTION.get(leaf, leaf)}.{suffix}"
            index = 0 if unit == "block_1" else 1
            return f"{part}.mid_block.resnets.{index}.{_LDM_RESNET.get(leaf, leaf)}.{suffix}"
        m = re.match(r"^(encoder|decoder)\.norm_out\.(.*)$", name)
        if m:
            return f"{m[1]}.conv_norm_out.{m[2]}"
        return name

    return _renamed(tensors, rename, "single-file")


def _renamed(tensors, rename, layout):
    out, origin = {}, {}
    for name, array in tensors.items():
        new = rename(name)
        if new in out:
            raise ConversionError(f"{layout} checkpoint: tensors {origin[new]!r} and {name!r} both map to {new!r}")
        out[new], origin[new] = array, name
    return out


def select_vae_tensors(tensors, source):
    """A single-file checkpoint's VAE tensors with the prefix removed: the ``first_stage_model.`` (or ``vae.``) part
    of a whole Stable Diffusion checkpoint (its UNet and text encoder are not this model's), or a VAE-only file's
    tensors less the ``loss.`` ones (the discriminator and LPIPS weights of training, not part of the autoencoder)."""
    prefixes = [p for p in LDM_PREFIXES if any(name.startswith(p + "encoder.") for name in tensors)]
    if len(prefixes) > 1:
        raise ConversionError(f"{source}: holds two VAEs ({' and '.join(p + '*' for p in prefixes)}); "
                              "extract the one to convert")
    if prefixes:
        p = prefixes[0]
        return {name[len(p):]: t for name, t in tensors.items() if name.startswith(p)}
    vae = {name: t for name, t in tensors.items() if not name.startswith("loss.")}
    if not any(name.startswith("encoder.") for name in vae):
        raise ConversionError(f"{source}: no VAE tensors (expected names starting with "
                              f"{', '.join(repr(p) for p in LDM_PREFIXES)} or 'encoder.'); "
                              "is this a UNet or text-encoder checkpoint?")
    return vae


def config_from_ldm_tensors(tensors, source, norm_num_groups=32, scaling_factor=0.18215, shift_factor=None):
    """The diffusers config of an LDM-named VAE, read off its tensor shapes. Two numbers are not in the tensors:
    ``norm_num_groups`` (32 in every published SD VAE) and ``scaling_factor`` (0.18215 for SD 1.x/2.x, 0.13025 for
    SDXL), so the caller states them."""
    def shape(name):
        if name not in tensors:
            raise ConversionError(f"{source}: tensor {name!r} is missing; not a latent-diffusion VAE checkpoint?")
        return tensors[name].shape

    levels = sorted({int(m[1]) for m in (re.match(r"^encoder\.down\.(\d+)\.", n) for n in tensors) if m})
    if not levels or levels != list(range(len(levels))):
        raise ConversionError(f"{source}: no encoder.down.N blocks found; not a latent-diffusion VAE checkpoint?")
    blocks = {int(m[1]) for m in (re.match(r"^encoder\.down\.0\.block\.(\d+)\.", n) for n in tensors) if m}
    return {
        "_class_name": "AutoencoderKL",
        "in_channels": int(shape("encoder.conv_in.weight")[1]),
        "out_channels": int(shape("decoder.conv_out.weight")[0]),
        "block_out_channels": [int(shape(f"encoder.down.{i}.block.0.conv1.weight")[0]) for i in levels],
        "layers_per_block": len(blocks),
        "latent_channels": int(shape("decoder.conv_in.weight")[1]),
        "norm_num_groups": int(norm_num_groups),
        "use_quant_conv": "quant_conv.weight" in tensors,
        "use_post_quant_conv": "post_quant_conv.weight" in tensors,
        "mid_block_add_attention": any(n.startswith("encoder.mid.attn_1.") for n in tensors),
        "scaling_factor": float(scaling_factor),
        "shift_factor": shift_factor,
    }


# ------------------------------------------------------------------ entry points
def kl_vae_from_diffusers(config, tensors, source="AutoencoderKL"):
    """A ``kl-vae`` from a diffusers ``AutoencoderKL`` config.json dict and its tensors (today's or legacy names)."""
    model = kl_vae_from_diffusers_config(config, source=source)
    renamed = rename_legacy_attention(tensors)
    if set(renamed) != set(tensors):  # errors name tensors as the filler reads them: say so
        source = f"{source} (legacy attention names read as today's)"
    return fill_kl_vae(model, renamed, source=source)


def convert_diffusers_folder(folder):
    """A converted ``KLVAE`` from a diffusers ``AutoencoderKL`` folder (``config.json`` + weights)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConversionError(f"{folder}: no such folder (expected a diffusers folder with config.json)")
    config = read_config(folder / "config.json")
    kl_vae_arguments(config, source=str(folder / "config.json"))  # another model class fails before any reading
    weights = next((folder / name for name in WEIGHT_FILES if (folder / name).is_file()), None)
    if weights is None:
        raise ConversionError(f"{folder}: holds no {' or '.join(WEIGHT_FILES)}")
    return kl_vae_from_diffusers(config, read_tensors(weights), source=str(weights))


def convert_single_file(path, norm_num_groups=32, scaling_factor=0.18215, shift_factor=None):
    """A converted ``KLVAE`` from a single-file Stable Diffusion checkpoint (whole pipeline or VAE only).

    The architecture is read off the tensor shapes; ``scaling_factor`` is not in the file (SD 1.x/2.x:
    0.18215, the default; SDXL: 0.13025).
    """
    tensors = select_vae_tensors(read_tensors(path), str(path))
    config = config_from_ldm_tensors(tensors, str(path), norm_num_groups, scaling_factor, shift_factor)
    model = kl_vae_from_diffusers_config(config, source=str(path))
    # the ledger names tensors as the filler reads them, so say that they are the file's names mapped
    return fill_kl_vae(model, ldm_to_diffusers(tensors), source=f"{path} (LDM names read as diffusers')")
