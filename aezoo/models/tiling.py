"""Tiled inference for fully convolutional models: bounded memory for images of any size.

An image (or a latent grid) is cut into square windows that overlap; each window goes
through the model alone, and the outputs are blended with weights that ramp linearly
across each overlap, so seams fade instead of showing (diffusers' tiled VAE does the same).
Memory then depends on the window, not on the image.
"""

import numpy as np


def _starts(size, tile, stride, step):
    """Window starts covering ``[0, size)``: every ``stride``, the last flush with the end."""
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile + 1, stride))
    if starts[-1] + tile < size:
        starts.append(size - tile)
    return [s - s % step for s in starts]


def _ramp(length, overlap):
    """Blend weights along one axis of a window: rising over the first ``overlap``, falling
    over the last; positive everywhere, so the borders of the image keep their values."""
    if overlap <= 0:
        return np.ones(length, "float32")
    i = np.arange(length, dtype="float32") + 0.5
    return np.minimum(1.0, np.minimum(i, length - i) / overlap).astype("float32")


def tiled(run, x, tile, overlap, step, out_scale):
    """``run`` applied window by window to ``x`` ``(n, H, W, C)``, the outputs blended.

    Args:
        run: numpy ``(n, h, w, c) -> (n, h * out_scale, w * out_scale, c')``.
        tile: window side in ``x``'s pixels; ``overlap``: shared pixels (default ``tile // 4``).
        step: window starts are multiples of this (the model's factor when downscaling).
        out_scale: output pixels per input pixel (``1/f`` for an encoder, ``f`` for a decoder).
    """
    tile, overlap = int(tile), int(tile // 4 if overlap is None else overlap)
    if tile <= 0 or not 0 <= overlap < tile:
        raise ValueError(f"tile must be positive and overlap in [0, tile), got tile={tile}, overlap={overlap}")
    n, height, width = x.shape[:3]
    stride = max(step, (tile - overlap) // step * step)
    rows, cols = _starts(height, tile, stride, step), _starts(width, tile, stride, step)
    out = weight = None
    for top in rows:
        for left in cols:
            window = x[:, top:top + tile, left:left + tile]
            y = run(window)
            if out is None:
                shape = (n, round(height * out_scale), round(width * out_scale), y.shape[-1])
                out, weight = np.zeros(shape, "float32"), np.zeros(shape[1:3], "float32")
            oh, ow = y.shape[1:3]
            o_overlap = round(overlap * out_scale)
            w = np.outer(_ramp(oh, o_overlap), _ramp(ow, o_overlap))
            t, l = round(top * out_scale), round(left * out_scale)
            out[:, t:t + oh, l:l + ow] += y * w[None, :, :, None]
            weight[t:t + oh, l:l + ow] += w
    return out / weight[None, :, :, None]
