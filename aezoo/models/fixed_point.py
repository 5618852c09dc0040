"""The hyper-decoder in integer arithmetic: scale indexes every machine computes alike.

The hyperprior codes each latent under the Gaussian table its predicted scale selects;
the decoder must select the same table as the encoder did. In floating point it may not:
backends (and CPUs) sum convolutions in different orders, and a scale within rounding of
a table boundary lands on the other side. Here every activation is an int64 in fixed
point (``FRACTION_BITS`` fractional bits), every weight and bias too, convolutions are
int64 matrix products (exact: a bound check refuses inputs whose sums could overflow),
and each layer's output is floored back to ``FRACTION_BITS``: a function of the stored
weights and the decoded integers alone. Only the scale indexes come from it; they differ
from the float hyper-decoder's only for scales within ~2**-16 of a boundary, so the rate
is unchanged. Layers: ``Conv2D``/``Conv2DTranspose`` with ``padding="same"`` (odd
kernels) and ReLU, as ``HyperpriorCodec``'s h_s uses them.
"""

import keras
import numpy as np
from keras import ops

FRACTION_BITS = 16
_LIMIT = 1 << 62


def _fixed(values, bits):
    return np.round(np.asarray(ops.convert_to_numpy(values), np.float64) * float(1 << bits)).astype(np.int64)


def _check_range(x, kernel, what):
    """Refuse a product that int64 might not hold (bound: max |x| * the largest column sum of |kernel|)."""
    bound = int(np.abs(x).max(initial=0)) * int(np.abs(kernel).reshape(-1, kernel.shape[-1]).sum(0).max(initial=0))
    if bound >= _LIMIT:
        raise ValueError(f"{what}: latent values too large for the exact scale computation "
                         f"(bound {bound:.3g} >= 2**62)")


def _conv(x, layer):
    """``Conv2D`` (stride 1, same padding) on an int64 (H, W, C) map; output at 2**(2F) scale, biased."""
    kernel, bias = (_fixed(w, FRACTION_BITS) for w in layer.weights)
    k = kernel.shape[0]
    _check_range(x, kernel, layer.name)
    pad = (k - 1) // 2
    padded = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(0, 1))  # (H, W, C, k, k)
    columns = windows.transpose(0, 1, 3, 4, 2).reshape(x.shape[0] * x.shape[1], -1)
    out = columns @ kernel.reshape(-1, kernel.shape[-1])
    return out.reshape(x.shape[0], x.shape[1], -1) + (bias << FRACTION_BITS)


def _conv_transpose(x, layer):
    """``Conv2DTranspose`` (same padding) on an int64 map: each input pixel adds its kernel,
    stride apart, into the full output, which is then cropped as Keras's "same" does."""
    kernel, bias = (_fixed(w, FRACTION_BITS) for w in layer.weights)  # (k, k, out, in)
    k, stride = kernel.shape[0], layer.strides[0]
    _check_range(x, kernel.transpose(0, 1, 3, 2), layer.name)
    height, width = x.shape[:2]
    full = np.zeros(((height - 1) * stride + k, (width - 1) * stride + k, kernel.shape[2]), np.int64)
    for i in range(k):
        for j in range(k):
            full[i:i + (height - 1) * stride + 1:stride, j:j + (width - 1) * stride + 1:stride] += x @ kernel[i, j].T
    start = (k - stride) // 2
    return full[start:start + height * stride, start:start + width * stride] + (bias << FRACTION_BITS)


def _activation(layer, x):
    name = getattr(layer, "activation", None)
    name = getattr(name, "__name__", None) if name is not None else None
    if isinstance(layer, keras.layers.ReLU) or name == "relu":
        return np.maximum(x, 0)
    if name in (None, "linear"):
        return x
    raise ValueError(f"{layer.name}: no fixed-point version of activation {name!r}")


def run(model, x):
    """``model`` (a functional chain of Conv2D, Conv2DTranspose and ReLU layers) on one map
    ``x`` (H, W, C floats); returns its output as int64 at ``2**-FRACTION_BITS``."""
    values = _fixed(x, FRACTION_BITS)
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.layers.Conv2DTranspose):
            values = _conv_transpose(values, layer) >> FRACTION_BITS
        elif isinstance(layer, keras.layers.Conv2D):
            if layer.strides != (1, 1) or layer.padding != "same" or layer.kernel_size[0] % 2 == 0:
                raise ValueError(f"{layer.name}: fixed point takes stride-1 same-padded odd-kernel convolutions")
            values = _conv(values, layer) >> FRACTION_BITS
        elif not isinstance(layer, keras.layers.ReLU):
            raise ValueError(f"{layer.name}: no fixed-point version of {type(layer).__name__}")
        values = _activation(layer, values)
    return values


def table_indexes(scales_fixed, scale_table, scale_bound):
    """Index of the first table scale at or above each (bounded) fixed-point scale, capped at
    the last: ``GaussianConditional.scale_indexes`` in exact comparisons."""
    scales = np.maximum(scales_fixed.astype(np.float64) / float(1 << FRACTION_BITS),
                        float(np.float32(scale_bound)))  # exact: |scales_fixed| < 2**53
    table = np.asarray(scale_table[:-1], np.float32).astype(np.float64)
    return np.searchsorted(table, scales, side="left").astype(np.int64)
