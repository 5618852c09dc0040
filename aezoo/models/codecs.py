"""Learned image codecs: ``factorized-codec`` (Ballé, Laparra & Simoncelli, 2017) and
``hyperprior-codec`` (Ballé, Minnen, Singh, Hwang & Johnston, 2018), as aezoo models.

The analysis transform (four 5x5 stride-2 convolutions, GDN between them) maps an image
to a latent grid y of ``latent_dim`` channels at 1/16 of its height and width; the
synthesis transform (transposed convolutions, IGDN) maps the quantised grid back. The
factorized codec models y with one learned density per channel (``EntropyBottleneck``);
the hyperprior codec sends side information z = h_a(|y|) (two more stride-2 stages,
itself under a factorized prior) from which h_s predicts a Gaussian scale for every
element of y (``GaussianConditional``): the prior adapts to each image.

``fit(x)`` minimises R + lambda * 255^2 * D (``aezoo.models.rate_distortion``) with uniform
noise standing in for rounding, plus the factorized priors' quantile loss, and ends by
solving the quantiles exactly (bisection); it logs ``bpp`` (the rate, from the
likelihoods), ``psnr`` and ``rate_distortion`` (the objective alone) of each batch. ``evaluate`` reports
the objective with real rounding. The channel layouts are CompressAI's ``FactorizedPrior``
and ``ScaleHyperprior`` (N = ``filters``, M = ``latent_dim``).

Sizes: the transforms are fully convolutional (built on ``(None, None, 3)`` inputs), so
``encode``, ``decode``, ``reconstruct`` and ``bits_per_pixel`` take any height and width
divisible by ``size_multiple`` (16 factorized, 64 hyperprior); ``input_shape`` is the
size ``fit``/``predict`` train on, fixed (e.g. ``(64, 64, 3)``) or ``(None, None, 3)``.
Padding other sizes belongs to the bitstream, which records the original size.

Bitstream: ``update()`` (which ``fit`` ends with) solves the factorized prior's quantiles and
computes the entropy models' integer CDF tables, stored with the weights; then
``compress(x)`` gives one file (bytes) per image of any size, ``decompress(data)`` the image
back, on any backend (format: ``aezoo.uses.bitstream``; coder: ``aezoo.uses.entropy_coder``).
"""



import numpy as np
import keras
from keras import ops

from aezoo.models import fixed_point, inference
from aezoo.models.entropy_models import EntropyBottleneck, GaussianConditional
from aezoo.models.rate_distortion import RateDistortionLoss
from aezoo.models.registry import register_architecture
from aezoo.models.codec_base import (LearnedCodec, analysis_transform, check_codec_shape, check_positive, deconv,
                                     synthesis_transform)


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("factorized-codec")
class FactorizedCodec(LearnedCodec):
    """Learned codec with a factorized prior (Ballé et al. 2017; CompressAI's ``FactorizedPrior``).

    Args:
        input_shape: ``(height, width, 3)``, height and width multiples of 16 or None.
        filters: N, channels of the hidden layers of both transforms.
        latent_dim: M, channels of the latent grid y.
        lmbda: weight of the distortion, R + lmbda * 255^2 * MSE (CompressAI's lambdas:
            0.0018, 0.0035, 0.0067, 0.0130, ... for its qualities 1, 2, 3, 4, ...).
        seed: seed of the entropy model's initialisation and training noise.

    Example:
        >>> codec = aezoo.build("factorized-codec", input_shape=(64, 64, 3), filters=128, latent_dim=192,
        ...                     lmbda=0.0067)
        >>> codec.fit(x_train, epochs=10)          # logs loss, bpp, psnr
        >>> y_hat = codec.encode(x_test[:8])        # (8, 4, 4, 192), rounded around the medians
        >>> codec.bits_per_pixel(x_test[:8]), codec.decode(y_hat).shape
    """

    config_keys = ("input_shape", "filters", "latent_dim", "lmbda", "seed")

    def __init__(self, input_shape=(None, None, 3), filters=128, latent_dim=192, lmbda=0.0067, seed=None, **kwargs):
        name = kwargs.pop("name", "factorized_codec")
        arch = self.architecture
        check_positive(arch, filters=filters, latent_dim=latent_dim)
        input_shape = check_codec_shape(arch, input_shape, self.size_multiple)

        # === Layers ===
        encoder = analysis_transform(input_shape[-1], filters, latent_dim, "encoder")
        decoder = synthesis_transform(latent_dim, filters, input_shape[-1], "decoder")
        entropy_bottleneck = EntropyBottleneck(seed=seed, name="entropy_bottleneck")
        rd_loss = RateDistortionLoss(lmbda, name="rate_distortion")

        # === Functional model ===
        inputs = keras.Input(input_shape, name="inputs")
        y_hat, likelihoods = entropy_bottleneck(encoder(inputs))
        outputs = rd_loss([inputs, decoder(y_hat), likelihoods])
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.encoder, self.decoder, self.entropy_bottleneck = encoder, decoder, entropy_bottleneck
        self._finish(input_shape, filters, latent_dim, lmbda, seed, rd_loss)

    def _forward(self, inputs):
        """(x_hat, [likelihoods]) at inference, for helper graphs."""
        y_hat, likelihoods = self.entropy_bottleneck(self.encoder(inputs), training=False)
        return self.decoder(y_hat), [likelihoods]

    def _round(self, y):
        medians = ops.convert_to_numpy(self.entropy_bottleneck.medians)
        return (np.round(y - medians) + medians).astype("float32")

    bitstream_kind = 1

    def _entropy_models(self):
        return (self.entropy_bottleneck,)

    def _encode_streams(self, padded):
        """(payload, None) per image: y's symbols, channel c under table c."""
        from aezoo.uses.entropy_coder import Encoder

        tables = self.entropy_bottleneck.tables()
        for y in inference.run(self.encoder, padded):
            encoder = Encoder()
            symbols = self._symbols(self.entropy_bottleneck, y)
            encoder.encode(symbols, np.broadcast_to(np.arange(y.shape[-1]), y.shape), tables)
            yield encoder.to_bytes(), None

    def _decode_stream(self, payload, size, index_checksum):
        from aezoo.uses.entropy_coder import Decoder

        grid = (size[0] // 16, size[1] // 16, self.latent_dim)
        channels = np.broadcast_to(np.arange(self.latent_dim), grid)
        symbols = Decoder(payload).decode(channels, self.entropy_bottleneck.tables()).reshape(grid)
        return symbols.astype("float32") + self._medians(self.entropy_bottleneck)


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("hyperprior-codec")
class HyperpriorCodec(LearnedCodec):
    """Learned codec with a scale hyperprior (Ballé et al. 2018; CompressAI's ``ScaleHyperprior``).

    y is coded under zero-mean Gaussians whose scales h_s predicts from side information
    z = h_a(|y|) (3x3 conv, then two 5x5 stride-2 convs, ReLU between; ``filters``
    channels), which is coded under a factorized prior. ``encode`` returns y rounded to
    integers; ``hyper_encoder``/``hyper_decoder`` are h_a and h_s.

    Args:
        input_shape: ``(height, width, 3)``, height and width multiples of 64 or None.
        filters: N, channels of the hidden layers and of z.
        latent_dim: M, channels of y.
        lmbda, seed: as ``factorized-codec``.

    Example:
        >>> codec = aezoo.build("hyperprior-codec", input_shape=(64, 64, 3), filters=128, latent_dim=192,
        ...                     lmbda=0.0067)
    """

    config_keys = ("input_shape", "filters", "latent_dim", "lmbda", "seed")
    size_multiple = 64

    def __init__(self, input_shape=(None, None, 3), filters=128, latent_dim=192, lmbda=0.0067, seed=None, **kwargs):
        name = kwargs.pop("name", "hyperprior_codec")
        arch = self.architecture
        check_positive(arch, filters=filters, latent_dim=latent_dim)
        input_shape = check_codec_shape(arch, input_shape, self.size_multiple)

        # === Layers ===
        encoder = analysis_transform(input_shape[-1], filters, latent_dim, "encoder")
        decoder = synthesis_transform(latent_dim, filters, input_shape[-1], "decoder")
        hyper_encoder = _hyper_analysis(latent_dim, filters)
        hyper_decoder = _hyper_synthesis(filters, latent_dim)
        entropy_bottleneck = EntropyBottleneck(seed=seed, name="entropy_bottleneck")
        gaussian_conditional = GaussianConditional(seed=None if seed is None else seed + 1,
                                                   name="gaussian_conditional")
        rd_loss = RateDistortionLoss(lmbda, name="rate_distortion")

        # === Functional model ===
        inputs = keras.Input(input_shape, name="inputs")
        outputs, _ = _hyperprior_graph(inputs, encoder, decoder, hyper_encoder, hyper_decoder, entropy_bottleneck,
                                       gaussian_conditional, rd_loss)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.encoder, self.decoder = encoder, decoder
        self.hyper_encoder, self.hyper_decoder = hyper_encoder, hyper_decoder
        self.entropy_bottleneck, self.gaussian_conditional = entropy_bottleneck, gaussian_conditional
        self._finish(input_shape, filters, latent_dim, lmbda, seed, rd_loss)

    def _forward(self, inputs):
        return _hyperprior_graph(inputs, self.encoder, self.decoder, self.hyper_encoder, self.hyper_decoder,
                                 self.entropy_bottleneck, self.gaussian_conditional, None)

    def _round(self, y):
        return np.round(y).astype("float32")

    bitstream_kind = 2

    def _entropy_models(self):
        return (self.entropy_bottleneck, self.gaussian_conditional)

    def scale_indexes(self, z_hat, exact=True):
        """Scale-table index of every element of y, from one image's quantised z (numpy): the
        first table scale at or above each predicted scale, as ``GaussianConditional.scale_indexes``.

        ``exact=True`` (what the bitstream codes with) runs the hyper-decoder in int64 fixed
        point (``aezoo.models.fixed_point``): the same integers on every backend and machine.
        ``exact=False`` uses the backend's float hyper-decoder, whose indexes can differ across
        backends for scales within rounding of a table boundary.
        """
        layer = self.gaussian_conditional
        z_hat = np.asarray(z_hat, "float32")
        if exact:
            return fixed_point.table_indexes(fixed_point.run(self.hyper_decoder, z_hat), layer.scale_table,
                                             layer.scale_bound)
        scales = inference.run(self.hyper_decoder, z_hat[None], 1)[0]
        scales = np.maximum(scales, np.float32(layer.scale_bound))
        return np.searchsorted(np.asarray(layer.scale_table[:-1], "float32"), scales, side="left").astype(np.int64)

    def _encode_streams(self, padded):
        """(payload, CRC-32 of the scale indexes) per image: z under the factorized prior, then y
        under the Gaussian table its scale index names."""
        from aezoo.uses import bitstream
        from aezoo.uses.entropy_coder import Encoder

        bottleneck, conditional = self.entropy_bottleneck, self.gaussian_conditional
        z_tables, y_tables = bottleneck.tables(), conditional.tables()
        ys = inference.run(self.encoder, padded)
        for y, z in zip(ys, inference.run(self.hyper_encoder, ys)):
            encoder = Encoder()
            z_symbols = self._symbols(bottleneck, z)
            encoder.encode(z_symbols, np.broadcast_to(np.arange(z.shape[-1]), z.shape), z_tables)
            indexes = self.scale_indexes(z_symbols.astype("float32") + self._medians(bottleneck))
            encoder.encode(np.round(y).astype(np.int64), indexes, y_tables)
            yield encoder.to_bytes(), bitstream.index_checksum(indexes)

    def _side_information(self, payload, size):
        """(the stream's decoder, positioned after z; z_hat; the scale indexes)."""
        from aezoo.uses.entropy_coder import Decoder

        bottleneck = self.entropy_bottleneck
        decoder = Decoder(payload)
        z_grid = (size[0] // 64, size[1] // 64, self.filters)
        z_symbols = decoder.decode(np.broadcast_to(np.arange(self.filters), z_grid), bottleneck.tables())
        z_hat = z_symbols.reshape(z_grid).astype("float32") + self._medians(bottleneck)
        return decoder, z_hat, self.scale_indexes(z_hat)

    def _decode_stream(self, payload, size, index_checksum):
        from aezoo.uses import bitstream

        decoder, _, indexes = self._side_information(payload, size)
        if bitstream.index_checksum(indexes) != index_checksum:  # exact indexes: corruption or another aezoo
            raise bitstream.BitstreamError(
                f"{self.name} predicts other scale indexes for this file than its encoder did: decoding it would "
                "give garbage (a file from another version of aezoo's fixed-point hyper-decoder, or corrupted)")
        return decoder.decode(indexes, self.gaussian_conditional.tables()).reshape(indexes.shape).astype("float32")


@keras.saving.register_keras_serializable(package="aezoo")
class Magnitude(keras.layers.Layer):
    """|x|: the hyper-analysis sees the magnitudes of y, since it predicts scales (a Lambda
    layer would not load in Keras's safe mode)."""

    def call(self, x):
        return ops.abs(x)

    def compute_output_shape(self, input_shape):
        return input_shape


def _hyper_analysis(latent_dim, filters):
    """h_a: |y| -> 3x3 conv, ReLU, 5x5 stride-2 conv, ReLU, 5x5 stride-2 conv -> z."""
    y_in = keras.Input((None, None, latent_dim), name="y")
    h = Magnitude(name="hyper_encoder_magnitude")(y_in)
    h = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name="hyper_encoder_conv_0")(h)
    h = keras.layers.Conv2D(filters, 5, strides=2, padding="same", activation="relu", name="hyper_encoder_conv_1")(h)
    z = keras.layers.Conv2D(filters, 5, strides=2, padding="same", name="hyper_encoder_conv_2")(h)
    return keras.Model(y_in, z, name="hyper_encoder")


def _hyper_synthesis(filters, latent_dim):
    """h_s: z_hat -> two 5x5 stride-2 transposed convs (ReLU), 3x3 conv, ReLU -> scales."""
    z_in = keras.Input((None, None, filters), name="z")
    h = deconv(filters, "hyper_decoder_deconv_0")(z_in)
    h = deconv(filters, "hyper_decoder_deconv_1")(keras.layers.ReLU(name="hyper_decoder_relu_0")(h))
    h = keras.layers.ReLU(name="hyper_decoder_relu_1")(h)
    scales = keras.layers.Conv2D(latent_dim, 3, padding="same", activation="relu", name="hyper_decoder_conv_2")(h)
    return keras.Model(z_in, scales, name="hyper_decoder")


def _hyperprior_graph(inputs, encoder, decoder, hyper_encoder, hyper_decoder, entropy_bottleneck,
                      gaussian_conditional, rd_loss):
    """x -> (x_hat, [likelihoods of y, of z]); with ``rd_loss`` the training graph (its
    layers take the ambient training flag), else the inference one."""
    training = None if rd_loss is not None else False
    y = encoder(inputs)
    z_hat, z_likelihoods = entropy_bottleneck(hyper_encoder(y), training=training)
    y_hat, y_likelihoods = gaussian_conditional(y, hyper_decoder(z_hat), training=training)
    x_hat = decoder(y_hat)
    if rd_loss is not None:
        x_hat = rd_loss([inputs, x_hat, y_likelihoods, z_likelihoods])
    return x_hat, [y_likelihoods, z_likelihoods]
