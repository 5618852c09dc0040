"""Importance-sampled negative log-likelihood of VAEs (Burda et al., 2016), in nats."""

import math

import numpy as np
from keras import ops

from aezoo.progress import Progress

# ---------------------------------------------------------------------------
# Likelihood
# ---------------------------------------------------------------------------
_LOG_2PI = math.log(2.0 * math.pi)


def _log_standard_normal(z):
    """log N(z; 0, I), summed over the last axis."""
    return -0.5 * np.sum(np.square(z) + _LOG_2PI, axis=-1)


def _log_diag_normal(z, mean, log_var):
    """log N(z; mean, diag(exp(log_var))), summed over the last axis."""
    return -0.5 * np.sum(_LOG_2PI + log_var + np.square(z - mean) * np.exp(-log_var), axis=-1)


def importance_sampled_nll(model, x, k=1000, batch_size=4096, seed=0):
    """Per-example importance-sampled estimate of -log p(x), in nats (numpy, float64).

    log p(x) ~= logsumexp_i [log p(x|z_i) + log N(z_i; 0, I) - log q(z_i|x)] - log k
    with z_i ~ q(z|x) (Burda et al., 2016). It is a stochastic upper bound on -log p(x)
    that tightens as ``k`` grows: k = 1 is the (sampled) negative ELBO. Say which k you
    report; ``PROTOCOL["nll_is"]["recommended_k"]`` is 1000.

    Args:
        model: a ``VariationalAutoencoder``.
        x: data, shape ``(n, *model.data_shape)``, already binarised if that is the protocol.
        k: importance samples per example.
        batch_size: the most decoder evaluations (examples x samples) at once; memory
            stays bounded for any ``k`` (a streaming logsumexp over chunks of samples).
        seed: noise seed; example ``j`` draws from ``default_rng([seed, j])``, so the
            result does not depend on ``batch_size``.
    """
    from aezoo.models.variational import VariationalAutoencoder

    if not isinstance(model, VariationalAutoencoder):
        raise ValueError(f"importance_sampled_nll needs a VariationalAutoencoder, got {type(model).__name__}")
    if int(k) < 1:
        raise ValueError(f"k must be a positive integer, got {k}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    k, batch_size = int(k), int(batch_size)
    x = model._as_batch(x)
    samples_per_chunk = min(k, batch_size)
    examples_per_chunk = max(1, batch_size // samples_per_chunk)
    latent = model.latent_dim
    out = np.empty(len(x), dtype=np.float64)

    with Progress(len(x), f"IS-NLL (k={k})") as bar:
        for start in range(0, len(x), examples_per_chunk):
            _nll_chunk(model, x, start, examples_per_chunk, k, samples_per_chunk, latent, seed, out)
            bar.update(min(examples_per_chunk, len(x) - start))
    return out


def _nll_chunk(model, x, start, examples_per_chunk, k, samples_per_chunk, latent, seed, out):
    """The estimate for examples ``start .. start + examples_per_chunk``, written into ``out``."""
    xb = x[start : start + examples_per_chunk]
    b = len(xb)
    mean, log_var = model.encoder(xb)
    mean = ops.convert_to_numpy(mean).astype(np.float64)
    log_var = ops.convert_to_numpy(log_var).astype(np.float64)
    rngs = [np.random.default_rng([seed, start + j]) for j in range(b)]
    running_max = np.full(b, -np.inf)
    running_sum = np.zeros(b)
    for done in range(0, k, samples_per_chunk):
        s = min(samples_per_chunk, k - done)
        eps = np.stack([rng.standard_normal((s, latent)) for rng in rngs], axis=1)  # (s, b, L)
        z = mean + np.exp(0.5 * log_var) * eps
        x_rep = np.broadcast_to(xb[None], (s,) + xb.shape).reshape((s * b,) + xb.shape[1:])
        log_px = ops.convert_to_numpy(
            model.log_px_given_z(x_rep, z.reshape(s * b, latent).astype("float32"))
        ).astype(np.float64).reshape(s, b)
        log_w = log_px + _log_standard_normal(z) - _log_diag_normal(z, mean, log_var)
        # streaming logsumexp over the sample axis
        new_max = np.maximum(running_max, log_w.max(axis=0))
        running_sum = running_sum * np.exp(running_max - new_max) + np.exp(log_w - new_max).sum(axis=0)
        running_max = new_max
    out[start : start + b] = -(running_max + np.log(running_sum) - math.log(k))
