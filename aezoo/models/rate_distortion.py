"""The rate-distortion objective of the learned codecs, as a layer that adds it as a loss.

    loss = R + lambda * 255^2 * D

R is the rate in bits per pixel, -sum(log2 likelihoods) over every latent of an image
divided by its height times width; D is the mean squared error of the reconstruction
on [0, 1] pixels. The factor 255^2 puts D on the 8-bit scale, as CompressAI's
``RateDistortionLoss`` and its published lambdas (0.0018 ... 0.18 for qualities 1 ... 8)
do, so those lambdas carry over. Both terms are per-image values averaged over the batch.
"""

import math

import keras
from keras import ops

#: D is measured on the 8-bit scale (CompressAI's convention), so lambdas transfer
DISTORTION_SCALE = 255.0 ** 2

#: CompressAI's MSE lambda for each quality index of its pretrained zoo (1 = lowest rate):
#: a codec preset tagged ``-q3`` trains with the lambda CompressAI's quality 3 used
QUALITY_LAMBDAS = {1: 0.0018, 2: 0.0035, 3: 0.0067, 4: 0.0130, 5: 0.0250, 6: 0.0483, 7: 0.0932, 8: 0.1800}


def bits_per_image(likelihoods):
    """-sum log2(likelihood) over all but the batch axis: one number per image."""
    bits = -ops.log(likelihoods) / math.log(2.0)
    return ops.sum(bits, axis=tuple(range(1, len(bits.shape))))


@keras.saving.register_keras_serializable(package="aezoo")
class RateDistortionLoss(keras.layers.Layer):
    """``x_hat = layer([x, x_hat, *likelihoods])``: adds R + lambda * 255^2 * D, passes x_hat on.

    The batch's rate (bpp) and distortion (mse) are kept in non-trainable state, which the
    model reads back to log them (every trainer returns a layer's updated state). The
    logged ``loss`` also holds the entropy models' quantile loss in training; the metric
    ``rate_distortion`` is the objective alone.
    """

    def __init__(self, lmbda, **kwargs):
        super().__init__(**kwargs)
        if not lmbda > 0:
            raise ValueError(f"lmbda must be > 0 (the weight of distortion against rate), got {lmbda}")
        self.lmbda = float(lmbda)
        self.last_bpp = self.add_weight(shape=(), initializer="zeros", trainable=False, name="last_bpp",
                                        aggregation="mean")
        self.last_mse = self.add_weight(shape=(), initializer="zeros", trainable=False, name="last_mse",
                                        aggregation="mean")

    def call(self, inputs):
        x, x_hat, *likelihoods = inputs
        shape = ops.shape(x)
        pixels = ops.cast(shape[1] * shape[2], "float32")
        bits = sum(bits_per_image(likelihood) for likelihood in likelihoods)
        bpp = ops.mean(bits / pixels)
        mse = ops.mean(ops.square(x - x_hat))
        self.add_loss(bpp + self.lmbda * DISTORTION_SCALE * mse)
        self.last_bpp.assign(bpp)
        self.last_mse.assign(mse)
        return x_hat

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        return {**super().get_config(), "lmbda": self.lmbda}
