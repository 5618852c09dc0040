"""``iwae``: the importance-weighted autoencoder (Burda, Grosse & Salakhutdinov, 2016).

Same encoder and decoder as ``dense-vae``; the training objective is the k-sample
importance-weighted bound instead of the ELBO::

    L_k(x) = E[ log (1/k) sum_i p(x, z_i) / q(z_i | x) ],   z_1..z_k ~ q(z | x)

L_1 is the ELBO, and L_k rises towards log p(x) as k grows, so the encoder no longer
pays for every sample that explains x badly and the model can use more of its latent
space. ``model.losses`` holds -L_k averaged over the batch (nats per example).
"""

import math

import keras
from keras import ops

from aezoo.models.registry import register_architecture
from aezoo.models.variational import DenseVAE

_LOG_2PI = math.log(2.0 * math.pi)


def importance_log_weights(decoder, likelihood, x, z_mean, z_log_var, k, seed, eps=None):
    """``(k, batch)`` log p(x, z_i) - log q(z_i | x) for k reparameterised samples, and the
    decoder outputs of the samples (sample-major: rows ``i * batch .. (i + 1) * batch``).
    ``eps`` (``(k, batch, latent)`` standard normal draws) replaces the seeded draws."""
    z_mean, z_log_var = ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)
    batch, latent = ops.shape(z_mean)[0], ops.shape(z_mean)[1]
    if eps is None:
        eps = keras.random.normal((k, batch, latent), seed=seed, dtype=z_mean.dtype)
    eps = ops.cast(eps, z_mean.dtype)
    z = z_mean[None] + ops.exp(0.5 * z_log_var)[None] * eps
    params = decoder(ops.reshape(z, (k * batch, latent)))
    x_rep = ops.reshape(ops.repeat(ops.cast(x, params.dtype)[None], k, axis=0), ops.shape(params))
    log_px = -ops.reshape(likelihood.negative_log_likelihood(x_rep, params), (k, batch))
    log_pz = -0.5 * ops.sum(ops.square(z) + _LOG_2PI, axis=-1)
    log_qz = -0.5 * ops.sum(ops.square(eps) + z_log_var[None] + _LOG_2PI, axis=-1)
    return log_px + log_pz - log_qz, params


@keras.saving.register_keras_serializable(package="aezoo")
class ImportanceWeightedBound(keras.layers.Layer):
    """Adds -L_k as a loss and returns the data-space decoding of the first sample.

    Inputs ``[x, z_mean, z_log_var]``; ``decoder`` and ``likelihood`` (a
    ``LikelihoodLoss``) are the model's own, called on all k samples at once.
    """

    def __init__(self, decoder, likelihood, k=5, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.decoder, self.likelihood, self.k = decoder, likelihood, int(k)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.built = True  # the decoder and likelihood are built by the model that owns them

    def log_weights(self, x, z_mean, z_log_var):
        return importance_log_weights(self.decoder, self.likelihood, x, z_mean, z_log_var, self.k,
                                      self.seed_generator)

    def call(self, inputs):
        x, z_mean, z_log_var = inputs
        log_w, params = self.log_weights(x, z_mean, z_log_var)
        bound = ops.logsumexp(log_w, axis=0) - math.log(self.k)
        self.add_loss(-ops.mean(bound))
        return self.likelihood.to_data_space(params[: ops.shape(x)[0]])

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "k": self.k}


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("iwae")
class IWAE(DenseVAE):
    """A dense VAE trained on the k-sample importance-weighted bound.

    Args:
        k: importance samples per example in the training objective (k=1: the ELBO).
        Other arguments as ``dense-vae`` (``beta`` must stay 1: the bound has no KL weight).

    Example:
        >>> iwae = aezoo.build("iwae", input_shape=(28, 28, 1), latent_dim=50,
        ...                    hidden_units=(500, 500), k=50)
    """

    config_keys = DenseVAE.config_keys + ("k",)

    def __init__(self, input_shape, latent_dim=50, hidden_units=(500, 500), activation="relu",
                 likelihood="bernoulli", observation_sigma=0.1, learn_sigma=False, beta=1.0, seed=None, k=5,
                 **kwargs):
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"iwae: k (importance samples) must be a positive integer, got {k!r}")
        if beta != 1.0:
            raise ValueError(f"iwae: the importance-weighted bound has no KL weight; beta must be 1, got {beta}")
        self.k = k
        super().__init__(input_shape, latent_dim, hidden_units, activation, likelihood, observation_sigma,
                         learn_sigma, beta, seed, **kwargs)

    def bound(self, x, k=None, seed=None, batch_size=256):
        """Per-example L_k in nats (numpy), with ``k`` samples (default: the training k)."""
        import numpy as np

        x = self._as_batch(x)
        k = self.k if k is None else int(k)
        seed_generator = keras.random.SeedGenerator(seed)
        out = []
        for start in range(0, len(x), batch_size):
            xb = ops.convert_to_tensor(x[start:start + batch_size])
            z_mean, z_log_var = self.encoder(xb, training=False)
            log_w, _ = importance_log_weights(self.decoder, self.likelihood_loss, xb, z_mean, z_log_var, k,
                                              seed_generator)
            out.append(ops.convert_to_numpy(ops.logsumexp(log_w, axis=0)) - math.log(k))
        return np.concatenate(out)

    def _objective_graph(self, inputs, encoder, decoder, likelihood_loss, beta, seed):
        bound = ImportanceWeightedBound(decoder, likelihood_loss, self.k, seed, name="importance_weighted_bound")
        z_mean, z_log_var = encoder(inputs)
        return bound([inputs, z_mean, z_log_var]), {"importance_bound": bound}
