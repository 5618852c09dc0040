"""What both learned codecs share: the transforms, the rate-distortion training, the
bitstream methods (``update``, ``compress``, ``decompress``) and the input checks.

The architectures themselves are in ``aezoo.models.codecs``; read its docstring first.
"""

import weakref

import numpy as np
import keras
from keras import ops

from aezoo.models import inference
from aezoo.models.base import Autoencoder, interpolate_codes
from aezoo.models.gdn import GDN
from aezoo.models.rate_distortion import DISTORTION_SCALE, bits_per_image

# helper graphs (x -> bits per image), built on first use and kept outside the model so
# they never become tracked sub-layers
_CHAINS = weakref.WeakKeyDictionary()


def conv(filters, name, kernel=5, strides=2):
    return keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", name=name)


def deconv(filters, name, kernel=5, strides=2):
    return keras.layers.Conv2DTranspose(filters, kernel, strides=strides, padding="same", name=name)


def analysis_transform(channels, filters, latent_dim, name):
    """g_a: 3 x (5x5 stride-2 conv, GDN), then a 5x5 stride-2 conv to ``latent_dim`` channels."""
    x_in = keras.Input((None, None, channels), name="x")
    h = x_in
    for i in range(3):
        h = GDN(name=f"{name}_gdn_{i}")(conv(filters, f"{name}_conv_{i}")(h))
    return keras.Model(x_in, conv(latent_dim, f"{name}_conv_3")(h), name=name)


def synthesis_transform(latent_dim, filters, channels, name):
    """g_s: 3 x (5x5 stride-2 transposed conv, IGDN), then one to ``channels`` (no activation)."""
    y_in = keras.Input((None, None, latent_dim), name="y")
    h = y_in
    for i in range(3):
        h = GDN(inverse=True, name=f"{name}_igdn_{i}")(deconv(filters, f"{name}_deconv_{i}")(h))
    return keras.Model(y_in, deconv(channels, f"{name}_deconv_3")(h), name=name)


def check_codec_shape(name, input_shape, multiple):
    """``(H, W, C)`` with H and W each None or a positive multiple of ``multiple``."""
    try:
        shape = tuple(None if d is None else int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: input_shape must be (height, width, channels), got {input_shape!r}") from None
    if len(shape) != 3 or shape[2] is None or any(d is not None and d <= 0 for d in shape):
        raise ValueError(f"{name}: input_shape must be (height, width, channels) with height and width positive "
                         f"or None and a known channel count, got {input_shape!r}")
    for axis, size in zip(("height", "width"), shape[:2]):
        if size is not None and size % multiple:
            raise ValueError(f"{name}: {axis} {size} is not a multiple of {multiple}; use "
                             f"{_nearest(size, multiple)}, or (None, None, {shape[2]}) for any size")
    return shape


def _nearest(size, multiple):
    lower, upper = (size // multiple) * multiple, (size // multiple + 1) * multiple
    return f"{lower} or {upper}" if lower else f"{upper}"


class LearnedCodec(Autoencoder):
    """Shared API of the learned codecs; subclasses build the graph (see module docstring)."""

    default_loss = None  # the rate-distortion objective lives in the graph
    is_codec = True
    #: H and W of every image must divide by this (the total stride)
    size_multiple = 16

    def _finish(self, input_shape, filters, latent_dim, lmbda, seed, rd_loss):
        self.data_shape, self.filters, self.latent_dim = input_shape, int(filters), int(latent_dim)
        self.lmbda, self.seed, self.rd_loss = float(lmbda), seed, rd_loss
        grid = tuple(None if d is None else d // 16 for d in input_shape[:2])
        self.latent_shape = (*grid, self.latent_dim)
        self.bpp_tracker = keras.metrics.Mean(name="bpp")
        self.psnr_tracker = keras.metrics.Mean(name="psnr")
        self.objective_tracker = keras.metrics.Mean(name="rate_distortion")

    def code_shape(self, data_shape):
        """``y``'s grid for one image: 1/16 of its height and width, ``latent_dim`` channels."""
        return (int(data_shape[0]) // 16, int(data_shape[1]) // 16, self.latent_dim)

    latent_kind = "grid"

    # ------------------------------------------------------------ training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The graph's losses; also logs the batch's rate, PSNR and R + lambda D alone (in
        training ``loss`` adds the quantile loss, which only moves the quantiles)."""
        loss = super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        mse = ops.convert_to_tensor(self.rd_loss.last_mse)
        bpp = ops.convert_to_tensor(self.rd_loss.last_bpp)
        self.bpp_tracker.update_state(bpp)
        self.psnr_tracker.update_state(-10.0 * ops.log(ops.maximum(mse, 1e-10)) / np.log(10.0))
        self.objective_tracker.update_state(bpp + self.lmbda * DISTORTION_SCALE * mse)
        return loss

    def fit(self, x=None, y=None, *args, **kwargs):
        """Keras ``fit``, then ``update()``: the factorized prior's quantiles solved exactly from
        the trained density (medians set the rounding grid) and the coding tables computed."""
        history = super().fit(x, y, *args, **kwargs)
        self.update()
        return history

    def update_quantiles(self):
        """Solve the factorized prior's median and tail quantiles from its density (numpy)."""
        return self.entropy_bottleneck.update_quantiles()

    def update(self):
        """Quantiles, then the integer CDF tables every entropy model codes with (CompressAI's
        ``update()``). They are weights: save the model after, and every backend that loads
        it codes with the same integers."""
        self.update_quantiles()
        for layer in self._entropy_models():
            layer.update_tables()

    def count_params(self):
        """Learned numbers only: the coding tables (int32 weights that ``update`` derives from
        them) are left out, so a preset's parameter count is its model's."""
        tables = sum(int(np.prod(getattr(layer, name).shape)) for layer in self._entropy_models()
                     for name in layer.TABLE_NAMES)
        return super().count_params() - tables

    @property
    def has_coding_tables(self):
        return all(layer.has_tables for layer in self._entropy_models())

    # ------------------------------------------------------------ bitstream
    def compress(self, x):
        """One file (``bytes``) per image of ``x`` (``(H, W, C)`` or ``(n, H, W, C)``, floats in
        [0, 1], any H and W up to 65535): padded by replicating edges to ``size_multiple``,
        entropy-coded under the stored tables (format: ``aezoo.uses.bitstream``). Raises
        ValueError for a hyperprior image whose side information is too large for the exact
        (fixed-point) scale computation."""
        from aezoo.uses import bitstream

        if not self.has_coding_tables:
            raise ValueError(f"{self.name} has no coding tables yet: call model.update() (fit does), then save it "
                             "so that its decoders load the same tables")
        x = np.asarray(x)
        if x.ndim == 3:
            x = x[None]
        channels = self.data_shape[-1]
        if x.ndim != 4 or x.shape[-1] != channels or not x.shape[1] or not x.shape[2]:
            raise ValueError(f"{self.name}: compress takes images (height, width, {channels}) or a batch of them, "
                             f"got shape {x.shape}")
        if x.dtype.kind != "f" or not np.isfinite(x).all():
            raise ValueError(f"{self.name}: compress takes finite float images in [0, 1], got dtype {x.dtype}")
        height, width = x.shape[1:3]
        if max(height, width) > bitstream.MAX_SIDE:
            raise ValueError(f"{self.name}: images up to {bitstream.MAX_SIDE} pixels a side, got {height}x{width}")
        preset, digest = bitstream.model_identity(self)
        padded = bitstream.pad(x.astype("float32"), self.size_multiple)
        files = []
        for payload, checksum in self._encode_streams(padded):
            files.append(bitstream.pack(self.bitstream_kind, preset, digest, height, width, payload, checksum))
        return files

    def decompress(self, data):
        """The image (``(H, W, C)`` float32 in [0, 1]) in one file of ``compress``; a list of
        files gives a list of images. Raises ``BitstreamError`` (a ValueError) on a file it
        cannot decode exactly: see ``aezoo.uses.bitstream``."""
        from aezoo.uses import bitstream

        if isinstance(data, (list, tuple)):
            return [self.decompress(d) for d in data]
        header = bitstream.read_header(data)
        bitstream.check_model(header, self)
        image = self.decode(self._latents(header, data)[None])[0]
        return image[:header.height, :header.width]

    def decompress_latents(self, data):
        """The quantised latent grid y_hat that a file codes (``(h, w, latent_dim)``, for the
        padded size): exactly what ``encode`` gave on the encoder's side, on any backend."""
        from aezoo.uses import bitstream

        header = bitstream.read_header(data)
        bitstream.check_model(header, self)
        return self._latents(header, data)

    def _latents(self, header, data):
        from aezoo.uses import bitstream

        if not self.has_coding_tables:
            raise ValueError(f"{self.name} has no coding tables: it cannot be the model that wrote this file")
        size = bitstream.padded_size(header.height, header.width, self.size_multiple)
        return self._decode_stream(bitstream.payload(data, header), size, header.index_checksum)

    def _symbols(self, layer, values):
        """A factorized prior's integer symbols of float latents (numpy): round(v - median)."""
        return np.round(values - self._medians(layer)).astype(np.int64)

    @staticmethod
    def _medians(layer):
        return ops.convert_to_numpy(layer.medians).astype("float32")

    # ------------------------------------------------------------ input checks
    def _check_data(self, x, what):
        if isinstance(x, (np.ndarray, list)):
            self._images(x, what, self.data_shape)

    def _images(self, x, what="x", expected=None):
        """A float32 batch of images whose size the transforms take (``expected``: a fixed size)."""
        x = np.asarray(x)
        channels = self.data_shape[-1]
        if x.ndim == 3 and x.shape[-1] == channels:
            x = x[None]
        if x.ndim != 4 or x.shape[-1] != channels:
            raise ValueError(f"{self.name}: {what} must be images of shape (batch, height, width, {channels}), "
                             f"got {x.shape}")
        expected = tuple(expected or (None, None, channels))
        size = tuple(e if e is not None else s for e, s in zip(expected, x.shape[1:]))
        if tuple(x.shape[1:]) != size:
            raise ValueError(f"{self.name}: {what} must have shape (batch, {', '.join(map(str, size))}), "
                             f"got {x.shape}")
        for axis, n in zip(("height", "width"), x.shape[1:3]):
            if n % self.size_multiple:
                raise ValueError(f"{self.name}: {what} {axis} {n} is not a multiple of {self.size_multiple}; "
                                 f"pad or resize to {_nearest(n, self.size_multiple)}")
        if x.dtype.kind == "f":
            x = x.astype("float32", copy=False)
        return self._as_batch(x, what, x.shape[1:])

    # ------------------------------------------------------------ API
    def encode(self, x, batch_size=None):
        """The quantised latent grid ``y_hat`` of images ``x``: ``(n, H/16, W/16, latent_dim)``."""
        return self._round(inference.run(self.encoder, self._images(x), batch_size))

    def decode(self, y, batch_size=None):
        """Images in [0, 1] from latent grids ``(n, h, w, latent_dim)`` (decoded as given)."""
        y = np.asarray(y)
        if y.ndim == 3:
            y = y[None]
        if y.ndim != 4 or y.shape[-1] != self.latent_dim:
            raise ValueError(f"{self.name}: y must be latent grids of shape (batch, h, w, {self.latent_dim}), "
                             f"got {y.shape}")
        y = self._as_batch(y, "z", y.shape[1:])
        return np.clip(inference.run(self.decoder, y, batch_size), 0.0, 1.0)

    def reconstruct(self, x, batch_size=None):
        """Encode, quantise and decode ``x``: what the codec's receiver sees, in [0, 1]."""
        return self.decode(self.encode(x, batch_size), batch_size)

    def bits_per_pixel(self, x, batch_size=None):
        """Rate of each image under the entropy model, -sum log2 P(latents) / (H W) (numpy, ``(n,)``).

        It is the ideal code length; an entropy coder's file adds a few bytes of overhead.
        """
        x = self._images(x)
        chain = _CHAINS.get(self)
        if chain is None:
            inputs = keras.Input((None, None, self.data_shape[-1]))
            _, likelihoods = self._forward(inputs)
            bits = bits_per_image(likelihoods[0])
            for likelihood in likelihoods[1:]:
                bits = bits + bits_per_image(likelihood)
            chain = _CHAINS[self] = keras.Model(inputs, bits)
        return inference.run(chain, x, batch_size) / float(x.shape[1] * x.shape[2])

    def interpolate(self, x_a, x_b, steps=8, method="linear"):
        """Decode ``steps`` latent grids on the path between the quantised grids of ``x_a`` and ``x_b``."""
        single = np.asarray(x_a).ndim == 3
        y_a, y_b = self.encode(x_a), self.encode(x_b)
        if y_a.shape != y_b.shape:
            raise ValueError(f"x_a and x_b must have the same shape, got {np.asarray(x_a).shape} and "
                             f"{np.asarray(x_b).shape}")
        n, grid = len(y_a), y_a.shape[1:]
        path = interpolate_codes(y_a.reshape(n, -1), y_b.reshape(n, -1), steps, method)
        out = self.decode(path.reshape((-1, *grid)))
        out = out.reshape(n, steps, *out.shape[1:])
        return out[0] if single else out


def check_positive(name, **values):
    for key, value in values.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name}: {key} must be a positive integer, got {value!r}")
