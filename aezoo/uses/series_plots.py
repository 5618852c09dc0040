"""Figures of series: each input over its reconstruction with the error beneath.

The sequence counterpart of ``plots`` (same headless matplotlib, atomic PNG writes).
"""

import numpy as np

from aezoo.uses.plots import _pyplot, finish_figure

#: at most this many channels are drawn per example (the rest stay in the error row)
MAX_CHANNELS = 3


def series_demo(model, inputs, path, title=None, labels=None):
    """Up to 8 examples, each a panel: the series (solid) and its reconstruction (dashed)
    for the first channels, the per-step squared error (standardised units) beneath, and
    the example's anomaly score in its title. ``labels``: a word per example (e.g.
    ``"normal"``/``"abnormal"``)."""
    plt = _pyplot()
    x = np.asarray(inputs, np.float32)[:8]
    if x.ndim != 3:
        raise ValueError(f"series_demo takes examples of shape (n, timesteps, channels), got {x.shape}")
    recon, errors = model.reconstruct(x), model.step_errors(x)
    score = model.reconstruction_error(x)
    columns = min(4, len(x))
    rows = int(np.ceil(len(x) / columns))
    fig, axes = plt.subplots(2 * rows, columns, figsize=(3.2 * columns, 2.6 * rows), dpi=100, squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1] * rows}, sharex="col")
    real = np.arange(x.shape[1])
    for i in range(rows * columns):
        top, bottom = axes[2 * (i // columns), i % columns], axes[2 * (i // columns) + 1, i % columns]
        if i >= len(x):
            top.axis("off")
            bottom.axis("off")
            continue
        for c in range(min(MAX_CHANNELS, x.shape[2])):
            colour = f"C{c}"
            top.plot(real, x[i, :, c], color=colour, lw=1.0)
            top.plot(real, recon[i, :, c], color=colour, lw=1.0, ls="--")
        word = f"{labels[i]}, " if labels is not None else ""
        top.set_title(f"{word}score {score[i]:.3g}", fontsize=8)
        top.tick_params(labelsize=6)
        bottom.fill_between(real, errors[i], color="0.4", lw=0)
        bottom.tick_params(labelsize=6)
    return finish_figure(fig, path, (title + ": " if title else "")
                         + "series (solid), reconstruction (dashed), squared error beneath", title_size=9)


def series_scores_figure(series, reconstruction, score, path, anomaly=None, title=None, zoom=None):
    """One long series over its reconstruction, the per-step anomaly score beneath, the
    labelled ``anomaly`` steps (boolean mask) shaded; ``zoom=(start, stop)`` adds a close-up."""
    plt = _pyplot()
    series = np.asarray(series, np.float32).reshape(len(series), -1)
    reconstruction = np.asarray(reconstruction, np.float32).reshape(len(series), -1)
    steps = np.arange(len(series))
    spans = [(0, len(series))] + ([tuple(zoom)] if zoom else [])
    fig, axes = plt.subplots(2, len(spans), figsize=(6.5 * len(spans), 4.2), dpi=100, squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1.4], "width_ratios": [2, 1][:len(spans)]})
    for col, (start, stop) in enumerate(spans):
        top, bottom = axes[0, col], axes[1, col]
        part = slice(start, stop)
        top.plot(steps[part], series[part, 0], color="black", lw=0.8, label="series")
        top.plot(steps[part], reconstruction[part, 0], color="C3", lw=0.8, ls="--", label="reconstruction")
        bottom.plot(steps[part], np.asarray(score)[part], color="C0", lw=0.8)
        bottom.set_ylabel("score", fontsize=8)
        if anomaly is not None and np.any(anomaly[part]):
            where = np.flatnonzero(anomaly)
            for ax in (top, bottom):
                ax.axvspan(where.min(), where.max() + 1, color="C1", alpha=0.3, lw=0,
                           label="labelled anomaly" if ax is top else None)
        top.set_title("whole series" if col == 0 else f"steps {start}-{stop}", fontsize=9)
        for ax in (top, bottom):
            ax.tick_params(labelsize=7)
        if col == 0:
            top.legend(fontsize=7, loc="upper right")
    return finish_figure(fig, path, title, title_size=10)
