"""TAESD checkpoints -> ``tiny-ae``: the original ``.pth`` pairs and diffusers' ``AutoencoderTiny``.

Both sources name tensors by the index of their module in an ``nn.Sequential``, which
``aezoo.models.tiny.tiny_layout`` reproduces; the only difference is that diffusers'
decoder applies the clamp in ``forward`` instead of as module 0, so its indices are one
lower. The original's file names say the variant (``taef2_encoder.pth`` is FLUX.2's);
diffusers' ``config.json`` says it in ``latent_channels``.
"""

from pathlib import Path

from aezoo.convert.ledger import ConversionError, Ledger
from aezoo.convert.tensors import read_tensors
from aezoo.models.tiny import TinyAutoencoder, tiny_layout

#: variant of each published weight set, from the original repository's file names
#: (taesd.py's guess_latent_channels_and_arch): latent_channels, downscale, midblock_norm
VARIANTS = {
    "taesd": (4, 8, False),
    "taesdxl": (4, 8, False),
    "taesd3": (16, 8, False),
    "taef1": (16, 8, False),
    "taef2": (32, 8, True),
    "taesana": (32, 32, False),
}

#: diffusers' AutoencoderTiny settings that TAESD's layout fixes; other values are another model
DIFFUSERS_FIXED = {
    "in_channels": 3, "out_channels": 3, "encoder_block_out_channels": [64, 64, 64, 64],
    "decoder_block_out_channels": [64, 64, 64, 64], "act_fn": "relu", "upsample_fn": "nearest",
    "upsampling_scaling_factor": 2, "num_encoder_blocks": [1, 3, 3, 3], "num_decoder_blocks": [3, 3, 3, 1],
}


def variant_of(filename):
    """``(latent_channels, downscale, midblock_norm)`` from an original file name, e.g. ``taef2_encoder.pth``."""
    stem = Path(filename).name.split("_encoder")[0].split("_decoder")[0].split(".")[0]
    if stem not in VARIANTS:
        raise ConversionError(f"{filename}: cannot tell the TAESD variant from the name; expected one of "
                              f"{', '.join(f'{v}_encoder.pth' for v in VARIANTS)}")
    return VARIANTS[stem]


def fill_tiny(model, tensors, style="taesd", source="checkpoint"):
    """Fill a ``TinyAutoencoder`` from ``tensors``; return it.

    ``style="taesd"``: the original pair merged as ``encoder.<i>...`` and ``decoder.<i>...``;
    ``style="diffusers"``: ``encoder.layers.<i>...`` and ``decoder.layers.<i-1>...``.
    Raises ConversionError (nothing assigned) on any missing, extra or mis-shaped tensor.
    """
    ledger = Ledger(tensors, source)
    for part in ("encoder", "decoder"):
        submodel = getattr(model, part)
        layout = tiny_layout(part, model.latent_channels, model.downscale, model.midblock_norm)
        for index, entry in enumerate(layout):
            if entry[0] not in ("conv", "block"):
                continue  # parameter-free modules
            if style == "taesd":
                prefix = f"{part}.{index}"
            else:
                prefix = f"{part}.layers.{index - 1 if part == 'decoder' else index}"
            layer = f"{part}_{index}"
            if entry[0] == "conv":
                ledger.conv(submodel.get_layer(layer), prefix)
                continue
            if entry[2]:  # FLUX.2's norm pooling
                ledger.conv(submodel.get_layer(f"{layer}_pool0"), f"{prefix}.pool.0")
                ledger.norm(submodel.get_layer(f"{layer}_pool1"), f"{prefix}.pool.1")
                ledger.conv(submodel.get_layer(f"{layer}_pool3"), f"{prefix}.pool.3")
            for k in (0, 2, 4):
                ledger.conv(submodel.get_layer(f"{layer}_conv{k}"), f"{prefix}.conv.{k}")
    return ledger.commit(model)


def from_taesd_files(encoder_path, decoder_path=None):
    """A ``tiny-ae`` holding an original TAESD pair (``<variant>_encoder.pth`` + ``_decoder.pth``).

    ``decoder_path`` defaults to the encoder's sibling. The variant comes from the file name.
    """
    encoder_path = Path(encoder_path)
    decoder_path = Path(decoder_path) if decoder_path else encoder_path.with_name(
        encoder_path.name.replace("_encoder", "_decoder"))
    latent_channels, downscale, midblock_norm = variant_of(encoder_path.name)
    tensors = {f"encoder.{k}": v for k, v in read_tensors(encoder_path).items()}
    tensors.update({f"decoder.{k}": v for k, v in read_tensors(decoder_path).items()})
    model = TinyAutoencoder(latent_channels=latent_channels, downscale=downscale, midblock_norm=midblock_norm,
                            freeze_encoder=True)
    return fill_tiny(model, tensors, "taesd", f"{encoder_path.name} + {decoder_path.name}")


def tiny_from_diffusers(config, tensors, source="AutoencoderTiny"):
    """A ``tiny-ae`` from a diffusers ``AutoencoderTiny`` config.json dict and its tensors."""
    different = {k: config[k] for k, v in DIFFUSERS_FIXED.items()
                 if k in config and (list(config[k]) if isinstance(config[k], (list, tuple)) else config[k]) != v}
    if different:
        raise ConversionError(f"{source}: an AutoencoderTiny with {different} is not TAESD's layout, "
                              "which tiny-ae implements")
    model = TinyAutoencoder(latent_channels=int(config.get("latent_channels", 4)), freeze_encoder=True,
                            scaling_factor=float(config.get("scaling_factor", 1.0)),
                            shift_factor=float(config.get("shift_factor") or 0.0))
    return fill_tiny(model, tensors, "diffusers", source)
