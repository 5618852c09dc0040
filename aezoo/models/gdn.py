"""Generalized divisive normalization, the codecs' nonlinearity (Ballé, Laparra &
Simoncelli, 2016): ``y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2)``, and its
approximate inverse IGDN, ``x_i * sqrt(...)``, in the synthesis transform.

It normalises each channel by the local energy of all channels, which Gaussianises
image statistics far better than a pointwise ReLU: Ballé et al. (2017) measured it to
need fewer channels for the same rate-distortion. beta and gamma are kept non-negative
by the reparameterisation of ``aezoo.models.bounds`` (beta >= ``beta_min``, so the
denominator never reaches zero). Channels last.
"""

import keras
import numpy as np
from keras import ops

from aezoo.models.bounds import nonnegative, nonnegative_init


@keras.saving.register_keras_serializable(package="aezoo")
class GDN(keras.layers.Layer):
    """GDN (``inverse=False``) or IGDN (``inverse=True``) over the last axis.

    Args:
        inverse: multiply by the norm instead of dividing (the synthesis side).
        beta_min: lower bound of beta.
        gamma_init: initial diagonal of gamma (off-diagonal terms start at 0).
    """

    def __init__(self, inverse=False, beta_min=1e-6, gamma_init=0.1, **kwargs):
        super().__init__(**kwargs)
        self.inverse, self.beta_min, self.gamma_init = bool(inverse), float(beta_min), float(gamma_init)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"{self.name}: GDN needs a known channel count, got input shape {input_shape}")
        beta = ops.convert_to_numpy(nonnegative_init(np.ones(channels, "float32")))
        gamma = ops.convert_to_numpy(nonnegative_init(self.gamma_init * np.eye(channels, dtype="float32")))
        # stored reparameterised: nonnegative(beta_raw) == 1, nonnegative(gamma_raw) == gamma_init * I
        self.beta = self.add_weight(shape=(channels,), initializer=keras.initializers.Constant(beta), name="beta")
        self.gamma = self.add_weight(shape=(channels, channels), initializer=keras.initializers.Constant(gamma),
                                     name="gamma")

    def call(self, x):
        beta = nonnegative(self.beta, self.beta_min)
        gamma = nonnegative(self.gamma)  # gamma[i, j]: weight of channel j in the norm of channel i
        norm = ops.matmul(ops.square(x), ops.transpose(gamma)) + beta
        return x * ops.sqrt(norm) if self.inverse else x * ops.rsqrt(norm)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "inverse": self.inverse, "beta_min": self.beta_min,
                "gamma_init": self.gamma_init}
