"""Scoring long series with a window model: per-step reconstruction and anomaly score.

A window model (``conv1d-ae-kdd135``: 128 steps) sees a long series as its sliding
windows; ``step_scores`` puts the windows' reconstructions and squared errors back on
the series' own time axis (each step: the mean over the windows that contain it), which
is what a plot of "series, reconstruction, score beneath" shows and what a detector
thresholds per step.

Example:
    >>> model = aezoo.load("conv1d-ae-kdd135")
    >>> recon, score = step_scores(model, series)        # series (L,) or (L, 1), raw values
    >>> where = int(np.argmax(score))                    # the most anomalous step
"""

import numpy as np

from aezoo.data.series import conform_series


def window_errors(model, series, stride=1, batch_size=None):
    """``(windows, errors)``: the ``(n, T, C)`` windows of ``series`` and each one's
    reconstruction MSE in the model's standardised units (``anomaly_score``)."""
    x = conform_series(series, model.data_shape, stride=stride)
    return x, model.reconstruction_error(x, batch_size)


def step_scores(model, series, stride=1, batch_size=None):
    """``(reconstruction (L, C), score (L,))`` of one long series: at each step the mean of
    the windows' reconstructions and squared errors (standardised units) covering it."""
    series = np.asarray(series, np.float32)
    long = series[:, None] if series.ndim == 1 else series
    if long.ndim != 2:
        raise ValueError(f"step_scores takes one long series (L,) or (L, channels), got shape {series.shape}")
    steps = model.data_shape[0]
    x = conform_series(long, model.data_shape, stride=stride)
    recon = model.reconstruct(x, batch_size)
    errors = np.square(recon - x)
    if getattr(model, "standardize", False):
        errors = errors / np.square(np.asarray(model.scaling["std"], np.float32))
    total = np.zeros(long.shape, np.float64)
    err = np.zeros(len(long), np.float64)
    count = np.zeros(len(long), np.float64)
    for i in range(len(x)):
        start = i * stride
        total[start:start + steps] += recon[i]
        err[start:start + steps] += errors[i].mean(axis=-1)
        count[start:start + steps] += 1
    covered = count > 0
    reconstruction = np.full(long.shape, np.nan, np.float32)
    reconstruction[covered] = (total[covered] / count[covered, None]).astype(np.float32)
    score = np.full(len(long), np.nan, np.float32)
    score[covered] = (err[covered] / count[covered]).astype(np.float32)
    return reconstruction, score
