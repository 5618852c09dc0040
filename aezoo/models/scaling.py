"""Per-channel standardisation stored inside a model, so a preset takes raw series.

A sequence model built with ``standardize=True`` starts its encoder with a
``Standardize`` layer, ``(x - mean) / std``, and ends its decoder with the inverse
(``invert=True``); both read the same per-channel statistics, kept as non-trainable
weights in the model's weights file. ``fit_scaling`` computes them from training data
(over real steps only: padding is left out), ``Model.adapt_scaling`` writes them, and
``fit`` on an unscaled model calls it on its first array. A preset is then used on the
series as recorded: ``reconstruct(raw)`` returns raw values, and the code does not
depend on the units.
"""

import numpy as np
import keras
from keras import ops

#: smallest standard deviation used: a constant channel is centred, not blown up
MIN_STD = 1e-6


def fit_scaling(x, mask=None):
    """Per-channel ``(mean, std, count)`` of ``x`` (``(n, T, C)`` or ``(T, C)``) over the
    steps where ``mask`` is True (``(n, T)``/``(T,)``; None: all steps)."""
    x = np.asarray(x, np.float64)
    if x.ndim not in (2, 3):
        raise ValueError(f"fit_scaling: expected series of shape (n, timesteps, channels) or (timesteps, "
                         f"channels), got {x.shape}")
    flat = x.reshape(-1, x.shape[-1])
    if mask is not None:
        mask = np.asarray(mask, bool).reshape(-1)
        if mask.shape[0] != flat.shape[0]:
            raise ValueError(f"fit_scaling: mask has {mask.shape[0]} steps, the series {flat.shape[0]}")
        flat = flat[mask]
    if not len(flat):
        raise ValueError("fit_scaling: no steps to fit the scaling on")
    if not np.all(np.isfinite(flat)):
        raise ValueError("fit_scaling: the series contain NaN or infinite values")
    mean, std = flat.mean(axis=0), np.maximum(flat.std(axis=0), MIN_STD)
    return mean.astype("float32"), std.astype("float32"), int(len(flat))


@keras.saving.register_keras_serializable(package="aezoo")
class Standardize(keras.layers.Layer):
    """``(x - mean) / std`` per channel (``invert=True``: ``x * std + mean``).

    ``mean``, ``std`` and ``count`` (the steps they were fitted on; 0 = not fitted yet)
    are non-trainable weights, so they travel in ``model.weights.h5``. The encoder's layer
    and the decoder's inverse each hold a copy; ``adapt_scaling`` sets both. Masks pass
    through.
    """

    def __init__(self, channels, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.invert = int(channels), bool(invert)
        self.supports_masking = True
        self.mean = self.add_weight(shape=(self.channels,), initializer="zeros", trainable=False, name="mean")
        self.std = self.add_weight(shape=(self.channels,), initializer="ones", trainable=False, name="std")
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count")

    def call(self, x):
        mean, std = ops.cast(self.mean, x.dtype), ops.cast(self.std, x.dtype)
        return x * std + mean if self.invert else (x - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    @property
    def fitted(self):
        return float(keras.ops.convert_to_numpy(self.count)) > 0

    def set_statistics(self, mean, std, count):
        mean, std = np.asarray(mean, "float32"), np.asarray(std, "float32")
        if mean.shape != (self.channels,) or std.shape != (self.channels,):
            raise ValueError(f"{self.name}: scaling for {self.channels} channels expected, got mean "
                             f"{mean.shape} and std {std.shape}")
        if np.any(std <= 0) or not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
            raise ValueError(f"{self.name}: std must be positive and finite, got {std}")
        self.mean.assign(mean)
        self.std.assign(std)
        self.count.assign(float(count))

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "invert": self.invert}
