"""The latent-diffusion KL autoencoder (diffusers' ``AutoencoderKL``): ``kl-vae``.

The VAE of Stable Diffusion 1.x/2.x and SDXL (4 latent channels), SD3 and FLUX.1 (16),
configured by the keys of the checkpoint's own ``config.json`` so a converted model is
built from the same numbers as its original (``aezoo.convert.diffusers_kl``).
"""

import numpy as np
import keras

from aezoo.models import inference
from aezoo.models.kl_blocks import kl_decoder, kl_encoder
from aezoo.models.registry import register_architecture
from aezoo.models.spatial import SpatialAutoencoder
from aezoo.models.tiling import tiled


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("kl-vae")
class KLVAE(SpatialAutoencoder):
    """ResNet-block encoder to a diagonal Gaussian over a latent grid, and a mirrored decoder.

    Images ``(n, H, W, in_channels)`` in [0, 1] with ``H`` and ``W`` divisible by
    ``2**(len(block_out_channels) - 1)``; ``encode`` gives the posterior mean, before
    ``scaling_factor``/``shift_factor`` (see ``to_diffusion_latents``).

    Training (``fit``) fine-tunes the decoder only, with the encoder frozen, as
    ``sd-vae-ft-mse`` was made: the latents a diffusion model was trained on stay valid.
    The training graph decodes the posterior mean with a pixel MSE on [0, 1] images
    (no KL term: with a frozen encoder it is a constant).

    Args (diffusers' ``AutoencoderKL`` names and meanings):
        in_channels, out_channels: image channels (equal: it is an autoencoder).
        block_out_channels: channels of each resolution level; each level but the last halves H and W.
        layers_per_block: resnet blocks per encoder level (the decoder has one more).
        latent_channels: channels of the latent grid.
        norm_num_groups: groups of every GroupNorm.
        use_quant_conv, use_post_quant_conv: the 1x1 convs around the latents (SD3 and FLUX.1 have none).
        mid_block_add_attention: the self-attention in both mid blocks.
        scaling_factor, shift_factor: diffusion latents are ``(z - shift_factor) * scaling_factor``.
        latents_mean, latents_std: per-channel statistics some checkpoints (Playground v2.5) give instead of
            a shift: diffusion latents are then ``(z - mean) * scaling_factor / std``, as diffusers' SDXL
            pipeline computes them.
        sample_size: the image size the checkpoint was trained at (informational, as in diffusers).
        freeze_encoder: train only the decoder in ``fit`` (default True, as for ``tiny-ae``).

    Example:
        >>> model = aezoo.build("kl-vae", block_out_channels=(32, 64), norm_num_groups=8)
    """

    config_keys = ("in_channels", "out_channels", "block_out_channels", "layers_per_block", "latent_channels",
                   "norm_num_groups", "use_quant_conv", "use_post_quant_conv", "mid_block_add_attention",
                   "scaling_factor", "shift_factor", "latents_mean", "latents_std", "sample_size", "freeze_encoder",
                   "reconstruction_loss")

    def __init__(self, in_channels=3, out_channels=3, block_out_channels=(64,), layers_per_block=1,
                 latent_channels=4, norm_num_groups=32, use_quant_conv=True, use_post_quant_conv=True,
                 mid_block_add_attention=True, scaling_factor=0.18215, shift_factor=None, latents_mean=None,
                 latents_std=None, sample_size=32, freeze_encoder=True, **kwargs):
        name = kwargs.pop("name", "kl_vae")
        block_out_channels = _check_config(in_channels, out_channels, block_out_channels, layers_per_block,
                                           latent_channels, norm_num_groups)
        layers_per_block, latent_channels = int(layers_per_block), int(latent_channels)
        latents_mean, latents_std = _check_latent_stats(latents_mean, latents_std, latent_channels)
        norm_num_groups, in_channels = int(norm_num_groups), int(in_channels)

        # === Layers ===
        encoder = kl_encoder(in_channels, block_out_channels, layers_per_block, latent_channels, norm_num_groups,
                             bool(use_quant_conv), bool(mid_block_add_attention))
        decoder = kl_decoder(int(out_channels), block_out_channels, layers_per_block, latent_channels,
                             norm_num_groups, bool(use_post_quant_conv), bool(mid_block_add_attention))
        encoder.trainable = not freeze_encoder  # by default the latent space stays the checkpoint's

        # === Functional model ===
        inputs = keras.Input((None, None, in_channels), name="inputs")
        mean, _ = encoder(inputs)
        super().__init__(inputs=inputs, outputs=decoder(mean), name=name, **kwargs)

        # === Config ===
        self.encoder, self.decoder = encoder, decoder
        self.in_channels, self.out_channels = in_channels, int(out_channels)
        self.block_out_channels, self.layers_per_block = block_out_channels, layers_per_block
        self.latent_channels, self.norm_num_groups = latent_channels, norm_num_groups
        self.use_quant_conv, self.use_post_quant_conv = bool(use_quant_conv), bool(use_post_quant_conv)
        self.mid_block_add_attention = bool(mid_block_add_attention)
        self.scaling_factor = float(scaling_factor)
        self.shift_factor = 0.0 if shift_factor is None else float(shift_factor)
        self.latents_mean, self.latents_std = latents_mean, latents_std
        self.sample_size, self.freeze_encoder = int(sample_size), bool(freeze_encoder)
        self.data_shape = (None, None, in_channels)
        self.downsampling_factor = 2 ** (len(block_out_channels) - 1)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("block_out_channels"), list):
            config["block_out_channels"] = tuple(config["block_out_channels"])
        return cls(**config)

    def encode(self, x, batch_size=None, tile=None, overlap=None, sample=False, seed=None):
        """Posterior means ``(n, H/f, W/f, C)`` of images ``x`` in [0, 1], or with ``sample=True`` one draw
        ``mean + std * eps`` per image (``seed`` makes it repeatable); ``tile``/``overlap`` as in
        ``SpatialAutoencoder.encode``."""
        if not sample:
            return super().encode(x, batch_size, tile, overlap)
        mean, log_var = self.encode_distribution(x, batch_size, tile, overlap)
        eps = np.random.default_rng(seed).standard_normal(mean.shape)
        return (mean + np.exp(0.5 * log_var) * eps).astype("float32")

    def encode_distribution(self, x, batch_size=None, tile=None, overlap=None):
        """``(mean, log_var)`` of the posterior (log-variance clamped to [-30, 20] as in diffusers), numpy;
        tiled windows are blended on both."""
        x = self._as_batch(x)
        run = lambda part: np.concatenate(inference.run(self.encoder, part, batch_size), axis=-1)  # noqa: E731
        f = self.downsampling_factor
        moments = run(x) if tile is None else tiled(run, x, tile, overlap, f, out_scale=1 / f)
        return tuple(np.split(moments, 2, axis=-1))

    def _code(self, encoder_outputs):
        return encoder_outputs[0]

    def to_diffusion_latents(self, z):
        """Raw latents -> a diffusion model's: ``(z - shift) * scale``, or per channel ``(z - mean) * scale / std``."""
        if self.latents_mean is None:
            return super().to_diffusion_latents(z)
        mean, std = np.float32(self.latents_mean), np.float32(self.latents_std)
        return (np.asarray(z, "float32") - mean) * np.float32(self.scaling_factor) / std

    def from_diffusion_latents(self, latents):
        """A diffusion model's latents -> raw latents for ``decode`` (the inverse of ``to_diffusion_latents``)."""
        if self.latents_mean is None:
            return super().from_diffusion_latents(latents)
        mean, std = np.float32(self.latents_mean), np.float32(self.latents_std)
        return np.asarray(latents, "float32") * std / np.float32(self.scaling_factor) + mean


def _check_latent_stats(mean, std, channels):
    """Both per-channel lists (of ``channels`` floats) or neither, as diffusers uses them."""
    if mean is None and std is None:
        return None, None
    if mean is None or std is None:
        raise ValueError("kl-vae: latents_mean and latents_std go together; got only one of them")
    mean, std = [float(v) for v in mean], [float(v) for v in std]
    if len(mean) != channels or len(std) != channels:
        raise ValueError(f"kl-vae: latents_mean and latents_std need {channels} values each (one per latent "
                         f"channel), got {len(mean)} and {len(std)}")
    if min(std) <= 0:
        raise ValueError(f"kl-vae: latents_std must be positive, got {min(std)}")
    return mean, std


def _check_config(in_channels, out_channels, block_out_channels, layers_per_block, latent_channels,
                  norm_num_groups):
    """The constructor's numbers, refused in one line each when no AutoencoderKL has them; returns the channels."""
    try:
        channels = tuple(int(c) for c in block_out_channels)
    except (TypeError, ValueError):
        raise ValueError(f"kl-vae: block_out_channels must be a tuple of positive ints, "
                         f"got {block_out_channels!r}") from None
    if not channels or min(channels) <= 0:
        raise ValueError(f"kl-vae: block_out_channels must be a non-empty tuple of positive ints, got {channels}")
    for key, value in (("in_channels", in_channels), ("out_channels", out_channels),
                       ("layers_per_block", layers_per_block), ("latent_channels", latent_channels),
                       ("norm_num_groups", norm_num_groups)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"kl-vae: {key} must be a positive int, got {value!r}")
    if in_channels != out_channels:
        raise ValueError(f"kl-vae: out_channels ({out_channels}) must equal in_channels ({in_channels}) "
                         "for an autoencoder")
    uneven = [c for c in channels if c % norm_num_groups]
    if uneven:
        raise ValueError(f"kl-vae: every block_out_channels entry must divide by norm_num_groups={norm_num_groups}, "
                         f"got {uneven[0]}")
    return channels
