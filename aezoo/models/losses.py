"""Reconstruction losses, per example, written with ``keras.ops``.

Deterministic autoencoders use the per-pixel mean (MSE or binary cross-entropy),
so a penalty weight means the same thing at every image size. VAEs use the sum over
pixels of a proper negative log-likelihood in nats, so the ELBO is comparable with
published numbers.
"""

import math

import keras
from keras import ops

LIKELIHOODS = ("bernoulli", "gaussian")


def _flatten(x):
    return ops.reshape(x, (ops.shape(x)[0], -1))


def bernoulli_nll(x, logits):
    """-log p(x | logits), summed over features; x may be continuous in [0, 1]."""
    x, logits = _flatten(x), _flatten(logits)
    # stable form of -[x log s(l) + (1-x) log(1-s(l))]
    per_feature = ops.maximum(logits, 0.0) - logits * x + ops.log1p(ops.exp(-ops.abs(logits)))
    return ops.sum(per_feature, axis=-1)


def gaussian_nll(x, mean, sigma):
    """-log N(x | mean, sigma^2 I), summed over features."""
    x, mean = _flatten(x), _flatten(mean)
    per_feature = 0.5 * ops.square((x - mean) / sigma) + math.log(sigma) + 0.5 * math.log(2 * math.pi)
    return ops.sum(per_feature, axis=-1)


@keras.saving.register_keras_serializable(package="aezoo")
class ReconstructionLoss(keras.losses.Loss):
    """Per-example reconstruction loss.

    Args:
        kind: ``"mse"`` (mean squared error per feature), ``"bce"`` (mean binary
            cross-entropy per feature, on probabilities), ``"bernoulli"`` (summed NLL
            on logits) or ``"gaussian"`` (summed NLL with fixed ``sigma``).
        sigma: observation noise of the Gaussian likelihood.
    """

    KINDS = ("mse", "bce", "bernoulli", "gaussian")

    def __init__(self, kind="mse", sigma=1.0, name="reconstruction_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if kind not in self.KINDS:
            raise ValueError(f"reconstruction loss kind must be one of {self.KINDS}, got {kind!r}")
        self.kind, self.sigma = kind, float(sigma)

    def call(self, y_true, y_pred):
        # float32 whatever the compute dtype (mixed precision): sums and logs stay finite
        y_true, y_pred = ops.cast(y_true, "float32"), ops.cast(y_pred, "float32")
        if self.kind == "mse":
            return ops.mean(ops.square(_flatten(y_true) - _flatten(y_pred)), axis=-1)
        if self.kind == "bce":
            p = ops.clip(_flatten(y_pred), 1e-7, 1.0 - 1e-7)
            t = _flatten(y_true)
            return -ops.mean(t * ops.log(p) + (1.0 - t) * ops.log(1.0 - p), axis=-1)
        if self.kind == "bernoulli":
            return bernoulli_nll(y_true, y_pred)
        return gaussian_nll(y_true, y_pred, self.sigma)

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "sigma": self.sigma}
