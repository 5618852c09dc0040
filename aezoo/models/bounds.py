"""A lower bound whose gradient can still lift its input, and the non-negative
reparameterisation built on it (Ballé et al., 2017; the codecs' GDN and entropy models).

``ops.maximum(x, bound)`` has zero gradient below the bound, so a scale or a GDN weight
that once falls under it can never come back. ``lower_bound`` passes the gradient
through wherever it would move ``x`` up (towards the valid region) or ``x`` is above
the bound, and blocks it only where it would push ``x`` further down. Written with
``keras.ops.custom_gradient``, so it runs on TensorFlow, JAX and PyTorch.
"""

from keras import ops


def lower_bound(x, bound):
    """``max(x, bound)`` elementwise, with the gradient let through where it raises ``x``."""
    bound = float(bound)

    @ops.custom_gradient
    def _bounded(value):
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            # descent moves x by -upstream: upstream < 0 raises x, which is always allowed
            passes = ops.logical_or(value >= bound, upstream < 0)
            return ops.where(passes, upstream, ops.zeros_like(upstream))

        return ops.maximum(value, bound), grad

    # "+ 0.0" hands a tensor, not a variable, to the custom gradient (TensorFlow's would
    # otherwise insist on a gradient for the variable as well)
    return _bounded(ops.convert_to_tensor(x) + 0.0)


#: offset of the non-negative reparameterisation: values are stored as sqrt(v + pedestal)
REPARAM_OFFSET = 2.0 ** -18
PEDESTAL = REPARAM_OFFSET ** 2


def nonnegative_init(value):
    """The stored parameter whose ``nonnegative`` is ``value`` (numpy or tensor in, same out)."""
    return ops.sqrt(ops.maximum(ops.convert_to_tensor(value) + PEDESTAL, PEDESTAL))


def nonnegative(parameter, minimum=0.0):
    """``lower_bound(p, sqrt(minimum + pedestal))**2 - pedestal``: >= ``minimum``, and with a
    gradient that stays well scaled near zero (the square root spreads small values)."""
    bounded = lower_bound(parameter, (float(minimum) + PEDESTAL) ** 0.5)
    return ops.square(bounded) - PEDESTAL
