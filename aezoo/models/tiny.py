"""The TAESD family of tiny autoencoders: ``tiny-ae``.

TAESD (Ollin Boer Bohan, github.com/madebyollin/taesd, MIT) distils a latent-diffusion
VAE into 3x3 conv + ReLU residual blocks, stride-2 convolutions down and nearest 2x
upsampling up, with a soft clamp ``tanh(z / 3) * 3`` on the decoder's input. One layout
serves the whole family, set by three arguments:

| weights | latents | ``latent_channels`` | ``downscale`` | ``midblock_norm`` |
|---|---|---|---|---|
| taesd, taesdxl (SD 1.x/2.x, SDXL) | 4 | 4 | 8 | False |
| taesd3, taef1 (SD3, FLUX.1) | 16 | 16 | 8 | False |
| taef2 (FLUX.2) | 32 | 32 | 8 | True |
| taesana (Sana's DC-AE) | 32 | 32 | 32 | False |

The layout is declared once (``tiny_layout``) as the original's sequence of modules; the
Keras graph is built from it and the converter (``aezoo.convert.taesd``) reads the
original's tensor names from the same list, so the two cannot drift apart.
"""

import keras
from keras import ops

from aezoo.models.registry import register_architecture
from aezoo.models.spatial import SpatialAutoencoder

DOWNSCALES = (8, 32)
CLAMP = 3.0  # the decoder input's soft limit, tanh(z / 3) * 3


def tiny_layout(part, latent_channels, downscale=8, midblock_norm=False):
    """The original's ``nn.Sequential`` for ``part`` ("encoder" or "decoder"), one entry per module.

    Entries: ``("conv", in, out, stride, bias)``, ``("block", channels, midblock_norm)``,
    ``("relu",)``, ``("up",)``, ``("clamp",)``. An entry's position is its index in the original.
    """
    c = int(latent_channels)

    def conv(n_in, n_out, stride=1, bias=True):
        return ("conv", n_in, n_out, stride, bias)

    def blocks(n, count, norm=False):
        return [("block", n, norm)] * count

    if part == "encoder" and downscale == 8:
        layout = [conv(3, 64), *blocks(64, 1)]
        for stage in range(3):  # the lowest resolution's blocks carry the optional norm pooling
            layout += [conv(64, 64, 2, False), *blocks(64, 3, midblock_norm and stage == 2)]
        return layout + [conv(64, c)]
    if part == "encoder" and downscale == 32:
        layout = [conv(3, 32, 2), ("relu",), conv(32, 64, 2), ("relu",), *blocks(64, 1)]
        for _ in range(3):
            layout += [conv(64, 64, 2, False), *blocks(64, 3)]
        return layout + [conv(64, c)]
    if part == "decoder" and downscale == 8:
        layout = [("clamp",), conv(c, 64), ("relu",), *blocks(64, 3, midblock_norm)]
        layout += [("up",), conv(64, 64, 1, False), *blocks(64, 3)]
        layout += [("up",), conv(64, 64, 1, False), *blocks(64, 3)]
        return layout + [("up",), conv(64, 64, 1, False), *blocks(64, 1), conv(64, 3)]
    if part == "decoder" and downscale == 32:
        widths = (256, 128, 64, 64, 64, 64)
        layout = [("clamp",), conv(c, 256), ("relu",)]
        for n_in, n_out in zip(widths[:-1], widths[1:]):
            layout += [*blocks(n_in, 3), ("up",), conv(n_in, n_out, 1, False)]
        return layout + [*blocks(64, 1), conv(64, 3)]
    raise ValueError(f"tiny_layout: part must be 'encoder' or 'decoder' and downscale one of {DOWNSCALES}, "
                     f"got {part!r}, {downscale!r}")


@keras.saving.register_keras_serializable(package="aezoo")
class SoftClamp(keras.layers.Layer):
    """``tanh(x / limit) * limit``: bounds the decoder's input smoothly (TAESD's Clamp)."""

    def __init__(self, limit=CLAMP, **kwargs):
        super().__init__(**kwargs)
        self.limit = float(limit)

    def call(self, x):
        return ops.tanh(x / self.limit) * self.limit

    def get_config(self):
        return {**super().get_config(), "limit": self.limit}


def _conv(n_out, kernel, stride, bias, name):
    return keras.layers.Conv2D(n_out, kernel, strides=stride, padding="same" if stride == 1 else "valid",
                               use_bias=bias, name=name)


def _apply(entry, h, name):
    """One layout entry applied to tensor ``h``; layer names carry the original's index."""
    kind = entry[0]
    if kind == "conv":
        _, _, n_out, stride, bias = entry
        if stride != 1:  # PyTorch pads 1 on every side; Keras "same" would pad only after
            h = keras.layers.ZeroPadding2D(1, name=f"{name}_pad")(h)
        return _conv(n_out, 3, stride, bias, name)(h)
    if kind == "relu":
        return keras.layers.ReLU(name=name)(h)
    if kind == "up":
        return keras.layers.UpSampling2D(2, interpolation="nearest", name=name)(h)
    if kind == "clamp":
        return SoftClamp(name=name)(h)
    _, n, norm = entry  # a residual block
    if norm:  # FLUX.2's pooling: 1x1 conv to 4n, GroupNorm(4), ReLU, 1x1 conv back, added to the input
        p = _conv(4 * n, 1, 1, False, f"{name}_pool0")(h)
        p = keras.layers.GroupNormalization(4, epsilon=1e-5, name=f"{name}_pool1")(p)
        p = keras.layers.ReLU(name=f"{name}_pool2")(p)
        h = keras.layers.Add(name=f"{name}_pooled")([h, _conv(n, 1, 1, False, f"{name}_pool3")(p)])
    r = _conv(n, 3, 1, True, f"{name}_conv0")(h)
    r = _conv(n, 3, 1, True, f"{name}_conv2")(keras.layers.ReLU(name=f"{name}_conv1")(r))
    r = _conv(n, 3, 1, True, f"{name}_conv4")(keras.layers.ReLU(name=f"{name}_conv3")(r))
    return keras.layers.ReLU(name=f"{name}_fuse")(keras.layers.Add(name=f"{name}_add")([r, h]))


def build_tiny_part(part, latent_channels, downscale, midblock_norm):
    """The encoder or decoder as a functional ``keras.Model`` over any height and width."""
    layout = tiny_layout(part, latent_channels, downscale, midblock_norm)
    channels = 3 if part == "encoder" else latent_channels
    inputs = keras.Input((None, None, channels), name="x" if part == "encoder" else "z")
    h = inputs
    for index, entry in enumerate(layout):
        h = _apply(entry, h, f"{part}_{index}")
    return keras.Model(inputs, h, name=part)


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("tiny-ae")
class TinyAutoencoder(SpatialAutoencoder):
    """TAESD: a tiny autoencoder sharing a latent-diffusion model's latent space.

    Images of any height and width divisible by ``downscale``, RGB in [0, 1]. Latents are
    what the TAESD weights were distilled to give, i.e. already the diffusion model's
    (``scaling_factor`` 1, ``shift_factor`` 0).

    Args:
        latent_channels: 4 (SD 1.x/2.x, SDXL), 16 (SD3, FLUX.1) or 32 (FLUX.2, Sana).
        downscale: 8, or 32 for Sana's variant.
        midblock_norm: FLUX.2's group-norm pooling in the three lowest-resolution blocks.
        freeze_encoder: train only the decoder in ``fit`` (how latent-space-preserving
            decoders are fine-tuned: the latents a diffusion model makes stay valid).
        scaling_factor, shift_factor: the map to a diffusion model's latents.

    Example:
        >>> model = aezoo.build("tiny-ae", latent_channels=4)
        >>> z = model.encode(images)          # (n, H/8, W/8, 4)
        >>> x = model.decode(z)               # (n, H, W, 3) in [0, 1]
    """

    config_keys = ("latent_channels", "downscale", "midblock_norm", "freeze_encoder", "scaling_factor",
                   "shift_factor")

    def __init__(self, latent_channels=4, downscale=8, midblock_norm=False, freeze_encoder=False,
                 scaling_factor=1.0, shift_factor=0.0, **kwargs):
        name = kwargs.pop("name", "tiny_ae")
        kwargs.pop("input_shape", None)  # always (None, None, 3)
        if int(latent_channels) <= 0:
            raise ValueError(f"tiny-ae: latent_channels must be a positive integer, got {latent_channels!r}")
        if downscale not in DOWNSCALES:
            raise ValueError(f"tiny-ae: downscale must be one of {DOWNSCALES}, got {downscale!r}")
        if midblock_norm and downscale != 8:
            raise ValueError("tiny-ae: midblock_norm exists only in the 8x layout (FLUX.2's taef2)")

        # === Layers ===
        encoder = build_tiny_part("encoder", int(latent_channels), downscale, bool(midblock_norm))
        decoder = build_tiny_part("decoder", int(latent_channels), downscale, bool(midblock_norm))
        encoder.trainable = not freeze_encoder

        # === Functional model ===
        inputs = keras.Input((None, None, 3), name="inputs")
        outputs = decoder(encoder(inputs))
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.encoder, self.decoder = encoder, decoder
        self.data_shape, self.latent_channels = (None, None, 3), int(latent_channels)
        self.downscale, self.downsampling_factor = int(downscale), int(downscale)
        self.midblock_norm, self.freeze_encoder = bool(midblock_norm), bool(freeze_encoder)
        self.scaling_factor, self.shift_factor = float(scaling_factor), float(shift_factor)
