"""The ledger of a conversion: every source tensor used once, every Keras weight filled.

A name map that forgets a tensor, uses one twice or gets a shape wrong would still give
a model that runs; the ledger makes each of those a one-line error naming the tensor,
raised before a single weight is assigned.

Example:
    >>> ledger = Ledger(tensors, source="taef2_encoder.pth")
    >>> ledger.conv(layer, "0")            # fills layer.kernel/bias from 0.weight/0.bias
    >>> ledger.commit(model)               # raises ConversionError, or assigns everything
"""

import numpy as np


class ConversionError(ValueError):
    """A source does not fit the target model: a tensor is missing, extra, reused or mis-shaped."""


def _conv_kernel(w):
    """PyTorch Conv2d ``(out, in, kh, kw)`` -> Keras ``(kh, kw, in, out)``."""
    return np.transpose(w, (2, 3, 1, 0))


def _dense_kernel(w):
    """PyTorch Linear ``(out, in)`` (or a 1x1 conv ``(out, in, 1, 1)``) -> Keras Dense ``(in, out)``."""
    return np.transpose(w.reshape(w.shape[0], w.shape[1]))


class Ledger:
    """Source tensors by name, handed out once each, and the assignments they feed.

    Args:
        tensors: ``{name: array}`` as read from the source file(s).
        source: what the tensors came from, for error messages.
    """

    def __init__(self, tensors, source="checkpoint"):
        self.source = source
        self._tensors = {str(k): np.asarray(v) for k, v in tensors.items()}
        self._used = set()
        self._assignments = []  # (variable, array)

    # --------------------------------------------------------------- reading
    def take(self, name):
        """The tensor ``name``, marked used; a second take or a missing name is an error."""
        if name in self._used:
            raise ConversionError(f"{self.source}: tensor {name!r} is used twice by the name map")
        if name not in self._tensors:
            raise ConversionError(f"{self.source}: tensor {name!r} is missing{self._close(name)}")
        self._used.add(name)
        return self._tensors[name]

    def has(self, name):
        return name in self._tensors

    def _close(self, name):
        import difflib

        close = difflib.get_close_matches(name, [n for n in self._tensors if n not in self._used], n=3, cutoff=0.6)
        return f" (unused tensors with close names: {', '.join(close)})" if close else ""

    # ------------------------------------------------------------- assigning
    def assign(self, variable, array, name):
        """Queue ``array`` for ``variable``; a shape mismatch is an error naming both."""
        array = np.asarray(array, dtype="float32")
        if tuple(array.shape) != tuple(variable.shape):
            raise ConversionError(f"{self.source}: tensor {name!r} has shape {tuple(array.shape)} after layout "
                                  f"conversion, but {variable.path} needs {tuple(variable.shape)}")
        self._assignments.append((variable, array))

    def _take_rank(self, name, ranks, layout):
        """``take(name)``, refusing a tensor whose rank cannot be laid out as ``layout`` (a one-line error,
        not numpy's transpose or reshape error)."""
        array = self.take(name)
        if array.ndim not in ranks:
            raise ConversionError(f"{self.source}: tensor {name!r} has shape {tuple(array.shape)}, "
                                  f"expected a {layout} tensor")
        return array

    def conv(self, layer, prefix):
        """A ``keras.layers.Conv2D`` from ``{prefix}.weight`` (OIHW) and ``{prefix}.bias`` if the layer has one."""
        weight = self._take_rank(f"{prefix}.weight", (4,), "4-d (out, in, kh, kw)")
        self.assign(layer.kernel, _conv_kernel(weight), f"{prefix}.weight")
        if layer.use_bias:
            self.assign(layer.bias, self.take(f"{prefix}.bias"), f"{prefix}.bias")

    def dense(self, layer, prefix):
        """A ``keras.layers.Dense`` from a Linear or 1x1-conv ``{prefix}.weight`` and ``{prefix}.bias``."""
        weight = self._take_rank(f"{prefix}.weight", (2, 4), "(out, in) or (out, in, 1, 1)")
        if weight.ndim == 4 and weight.shape[2:] != (1, 1):
            raise ConversionError(f"{self.source}: tensor '{prefix}.weight' has shape {tuple(weight.shape)}, "
                                  "expected (out, in) or a 1x1 conv (out, in, 1, 1)")
        self.assign(layer.kernel, _dense_kernel(weight), f"{prefix}.weight")
        if layer.use_bias:
            self.assign(layer.bias, self.take(f"{prefix}.bias"), f"{prefix}.bias")

    def norm(self, layer, prefix):
        """A GroupNormalization / LayerNormalization from ``{prefix}.weight`` and ``{prefix}.bias``."""
        self.assign(layer.gamma, self.take(f"{prefix}.weight"), f"{prefix}.weight")
        self.assign(layer.beta, self.take(f"{prefix}.bias"), f"{prefix}.bias")

    # ---------------------------------------------------------------- commit
    def commit(self, model):
        """Assign everything, after proving every tensor used and every weight of ``model`` filled.

        Raises ConversionError (nothing assigned) listing unused tensors or unfilled weights.
        """
        unused = sorted(set(self._tensors) - self._used)
        if unused:
            more = f" and {len(unused) - 5} more" if len(unused) > 5 else ""
            raise ConversionError(f"{self.source}: {len(unused)} tensor(s) not used by the {model.name} name map: "
                                  f"{', '.join(unused[:5])}{more} (a checkpoint of another variant?)")
        filled = {id(v) for v, _ in self._assignments}
        if len(filled) != len(self._assignments):
            raise ConversionError(f"{self.source}: a weight of {model.name} is assigned twice by the name map")
        missing = [v.path for v in model.weights if id(v) not in filled]
        if missing:
            raise ConversionError(f"{self.source}: {len(missing)} weight(s) of {model.name} have no source tensor: "
                                  f"{', '.join(missing[:5])}")
        for variable, array in self._assignments:
            variable.assign(array)
        return model
