"""Fully convolutional autoencoders whose code is a grid: the latent-diffusion family.

A latent-diffusion autoencoder (TAESD, Stable Diffusion's and FLUX's VAEs) maps an
image of any height and width divisible by its factor ``f`` to latents of shape
``(H / f, W / f, C)``. The conventions every such aezoo model follows:

- ``encode(x)``: float32 images ``(n, H, W, 3)`` in [0, 1] -> raw latents
  ``(n, H/f, W/f, C)`` (for a VAE the posterior mean), *before* any scaling.
- ``decode(z)``: latents -> images in [0, 1], clamped.
- ``scaling_factor`` and ``shift_factor``: the affine map a diffusion model expects,
  applied by ``to_diffusion_latents`` and undone by ``from_diffusion_latents``
  (diffusers: ``(z - shift_factor) * scaling_factor``).
"""

import numpy as np

from aezoo.models import inference
from aezoo.models.base import Autoencoder
from aezoo.models.tiling import tiled


def _latent_size(pixels, factor):
    if pixels % factor:
        raise ValueError(f"tile and overlap must be multiples of the model's factor {factor}, got {pixels}")
    return pixels // factor


class SpatialAutoencoder(Autoencoder):
    """Base for fully convolutional autoencoders with spatial latents.

    Subclasses set ``encoder``, ``decoder``, ``data_shape = (None, None, channels)``,
    ``latent_channels``, ``downsampling_factor``, ``scaling_factor`` and ``shift_factor``.
    """

    default_loss = "mse"
    latent_kind = "spatial"
    #: images are taken in [0, 1]; a little slack for resampling overshoot
    range_slack = 0.02

    @property
    def latent_shape(self):
        return (None, None, self.latent_channels)

    @property
    def latent_dim(self):
        """Channels of the latent grid (the code of one position)."""
        return self.latent_channels

    def code_shape(self, data_shape):
        """The latent grid's shape for one input of ``data_shape`` ``(H, W, channels)``."""
        f = self.downsampling_factor
        return (int(data_shape[0]) // f, int(data_shape[1]) // f, self.latent_channels)

    # ------------------------------------------------------------ checks
    def _check_array(self, x, what, expected_shape, data=True):
        super()._check_array(x, what, expected_shape, data=data)
        if not data:
            return
        f, (h, w) = self.downsampling_factor, x.shape[1:3]
        if h % f or w % f:
            fit = (max(f, h // f * f), max(f, w // f * f))
            raise ValueError(f"{self.name}: {what}'s height and width must divide by {f}, got {h}x{w}: "
                             f"crop or resize to {fit[0]}x{fit[1]} (or pad to {-(-h // f) * f}x{-(-w // f) * f})")
        lo, hi = float(x.min()), float(x.max())
        if lo < -self.range_slack or hi > 1 + self.range_slack:
            hint = " (images in [-1, 1], diffusers' convention? pass (x + 1) / 2)" if lo < -0.5 else ""
            raise ValueError(f"{self.name}: {what} must hold images with values in [0, 1], "
                             f"got range [{lo:.3g}, {hi:.3g}]{hint}")

    # ------------------------------------------------------------ public API
    def encode(self, x, batch_size=None, tile=None, overlap=None):
        """Raw latents ``(n, H/f, W/f, C)`` of images ``x`` ``(n, H, W, 3)`` in [0, 1].

        ``tile``: encode ``tile x tile`` pixel windows, overlapping by ``overlap`` (default
        ``tile // 4``) and blended linearly, so memory no longer grows with the image
        (``aezoo.models.tiling``); ``None`` encodes the whole image at once.
        """
        x = self._as_batch(x)
        run = lambda part: self._code(inference.run(self.encoder, part, batch_size))  # noqa: E731
        if tile is None:
            return run(x)
        return tiled(run, x, tile, overlap, self.downsampling_factor, out_scale=1 / self.downsampling_factor)

    def decode(self, z, batch_size=None, tile=None, overlap=None):
        """Images in [0, 1] ``(n, H, W, 3)`` for raw latents ``z`` ``(n, H/f, W/f, C)``.

        ``tile``, ``overlap``: as in ``encode``, in pixels of the decoded image.
        """
        z = self._as_batch(z, "z", self.latent_shape)
        run = lambda part: self._to_data_space(inference.run(self.decoder, part, batch_size))  # noqa: E731
        f = self.downsampling_factor
        if tile is None:
            out = run(z)
        else:
            out = tiled(run, z, _latent_size(tile, f), None if overlap is None else _latent_size(overlap, f), 1,
                        out_scale=f)
        return np.clip(out, 0.0, 1.0)

    def reconstruct(self, x, batch_size=None, tile=None, overlap=None):
        """``decode(encode(x))``, clamped to [0, 1]; ``tile`` tiles both (see ``encode``)."""
        return self.decode(self.encode(x, batch_size, tile, overlap), batch_size, tile, overlap)

    def to_diffusion_latents(self, z):
        """Raw latents -> the latents a diffusion model is trained on: ``(z - shift) * scale``."""
        return (np.asarray(z, "float32") - self.shift_factor) * self.scaling_factor

    def from_diffusion_latents(self, latents):
        """A diffusion model's latents -> raw latents for ``decode``: ``latents / scale + shift``."""
        return np.asarray(latents, "float32") / self.scaling_factor + self.shift_factor
