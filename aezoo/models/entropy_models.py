"""Entropy models of learned image codecs as Keras 3 layers (``keras.ops`` only).

A codec's rate is -log2 of the probability its entropy model gives the quantised
latents. Two models, as in CompressAI and TensorFlow Compression:

- ``EntropyBottleneck``: a factorized prior (Ballé et al., 2017, appendix 6.1): per
  channel, a learned non-parametric density whose cumulative is a small monotone
  network (softplus-positive matrices, tanh-gated nonlinearities). The likelihood of a
  value is the density's mass over the quantisation bin, ``c(y + 1/2) - c(y - 1/2)``.
- ``GaussianConditional``: a zero-mean Gaussian per element whose scale another network
  predicts (the scale hyperprior, Ballé et al., 2018), convolved with the unit bin.

Both add uniform noise U(-1/2, 1/2) in training (a differentiable stand-in for rounding
whose density is the bin mass the likelihood computes) and round at inference: the
factorized prior around each channel's median, the Gaussian around its mean (zero
here). Likelihoods are bounded below by ``likelihood_bound`` so that one improbable
value costs at most -log2(bound) bits and its gradient stays finite.

The factorized prior's tails and median (``quantiles``) are learned through
``aux_loss``, added to the model's losses in training only; its gradient reaches the
quantiles alone, so it never moves the density it measures. The quantiles fix each
channel's symbol range when integer CDF tables are built for a bitstream.

Coding tables: ``update_tables()`` computes both layers' integer CDF tables
(``aezoo.models.coding_tables``) once, into non-trainable int32 variables
``cdf``, ``cdf_length`` and ``offset`` that save and load with the weights, so that every
backend that loads the model codes with the same integers. Until then they are zero and
``has_tables`` is False. Weights saved before the tables existed still load (tables unset).
"""

import math

import keras
import numpy as np
from keras import ops

from aezoo.models import coding_tables
from aezoo.models.bounds import lower_bound


def default_scale_table(minimum=0.11, maximum=256.0, levels=64):
    """Log-spaced Gaussian scales for coding (Ballé et al. 2018's table; CompressAI's default)."""
    return [float(s) for s in np.exp(np.linspace(math.log(minimum), math.log(maximum), levels))]


def _uniform_noise(shape, dtype, seed_generator):
    return keras.random.uniform(shape, minval=-0.5, maxval=0.5, dtype=dtype, seed=seed_generator)


class _CodingTables:
    """The integer tables of a layer (``cdf``, ``cdf_length``, ``offset``): non-trainable int32
    variables, zero until ``update_tables``; weights saved without them still load."""

    TABLE_NAMES = ("cdf", "cdf_length", "offset")

    def _add_tables(self, rows, width):
        for name, shape in (("cdf", (rows, width + 1)), ("cdf_length", (rows,)), ("offset", (rows,))):
            setattr(self, name, self.add_weight(shape=shape, name=name, dtype="int32", trainable=False,
                                                initializer="zeros"))

    @property
    def has_tables(self):
        """True once ``update_tables`` has filled the tables (every row has symbols)."""
        return bool(np.all(ops.convert_to_numpy(self.cdf_length) > 0))

    def tables(self):
        """``(cdf, cdf_length, offset)`` as int32 numpy arrays."""
        return tuple(np.asarray(ops.convert_to_numpy(getattr(self, n)), np.int32) for n in self.TABLE_NAMES)

    def _assign_tables(self, cdf, lengths, offsets):
        self.cdf.assign(cdf.astype("int32"))
        self.cdf_length.assign(lengths.astype("int32"))
        self.offset.assign(offsets.astype("int32"))

    def load_own_variables(self, store):
        """Keras's loading, also of weights saved before the tables existed (their store holds
        the learned variables only): the tables then stay unset (zero)."""
        learned = [v for v in self._trainable_variables + self._non_trainable_variables
                   if all(v is not getattr(self, n) for n in self.TABLE_NAMES)]
        stored = len(store.keys()) if store is not None else 0
        if stored == len(learned) and stored != len(self.weights):
            for i, variable in enumerate(learned):
                variable.assign(store[f"{i}"])
            return
        super().load_own_variables(store)


@keras.saving.register_keras_serializable(package="aezoo")
class EntropyBottleneck(_CodingTables, keras.layers.Layer):
    """Factorized prior over the last axis (channels): ``(y_hat, likelihoods) = layer(y)``.

    Args:
        filters: hidden widths of each channel's cumulative-density network.
        init_scale: the density starts roughly uniform over [-init_scale, init_scale],
            and the quantiles start at those ends.
        tail_mass: probability mass left outside the learned quantiles (both tails).
        likelihood_bound: lower bound of every likelihood.
        seed: seed of the bias initialiser and the training noise.
        max_symbols: the most symbols a channel's coding table holds (values beyond its
            quantiles, or beyond this many, are escaped and written out in full).
    """

    def __init__(self, filters=(3, 3, 3, 3), init_scale=10.0, tail_mass=1e-9, likelihood_bound=1e-9, seed=None,
                 max_symbols=512, **kwargs):
        super().__init__(**kwargs)
        self.filters = tuple(int(f) for f in filters)
        if any(f <= 0 for f in self.filters):
            raise ValueError(f"EntropyBottleneck filters must be positive integers, got {tuple(filters)}")
        if init_scale <= 0 or not 0 < tail_mass < 1 or likelihood_bound < 0:
            raise ValueError(f"EntropyBottleneck needs init_scale > 0, 0 < tail_mass < 1, likelihood_bound >= 0; got "
                             f"{init_scale}, {tail_mass}, {likelihood_bound}")
        self.init_scale, self.tail_mass = float(init_scale), float(tail_mass)
        self.likelihood_bound, self.seed = float(likelihood_bound), seed
        if not isinstance(max_symbols, (int, np.integer)) or not 1 <= max_symbols < (1 << coding_tables.PRECISION):
            raise ValueError(f"EntropyBottleneck max_symbols must be an integer in [1, "
                             f"{(1 << coding_tables.PRECISION) - 1}], got {max_symbols!r}")
        self.max_symbols = int(max_symbols)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"{self.name}: the channel axis (last) must be known, got input shape {input_shape}")
        self.channels = int(channels)
        widths = (1, *self.filters, 1)
        # each of the len(widths) - 1 layers scales by 1/scale: the composed density spans ~init_scale
        scale = self.init_scale ** (1.0 / (len(widths) - 1))
        self.matrices, self.biases, self.factors = [], [], []
        for i in range(len(widths) - 1):
            start = math.log(math.expm1(1.0 / scale / widths[i + 1]))  # softplus(start) = 1 / scale / width
            self.matrices.append(self.add_weight(shape=(channels, widths[i + 1], widths[i]), name=f"matrix_{i}",
                                                 initializer=keras.initializers.Constant(start)))
            self.biases.append(self.add_weight(shape=(channels, widths[i + 1]), name=f"bias_{i}",
                                               initializer=keras.initializers.RandomUniform(-0.5, 0.5, seed=self.seed)))
            if i < len(widths) - 2:
                self.factors.append(self.add_weight(shape=(channels, widths[i + 1]), name=f"factor_{i}",
                                                    initializer="zeros"))
        quantiles = np.tile(np.array([-self.init_scale, 0.0, self.init_scale], "float32"), (channels, 1))
        self.quantiles = self.add_weight(shape=(channels, 3), name="quantiles",
                                         initializer=keras.initializers.Constant(quantiles))
        self._add_tables(channels, self.max_symbols + 1)  # + the escape

    # ------------------------------------------------------------ the density
    def logits_cumulative(self, values, stop_gradient=False):
        """Logit of each channel's cumulative distribution at ``values`` (..., channels)."""
        logits = ops.expand_dims(values, -1)  # (..., C, 1)
        for i, (matrix, bias) in enumerate(zip(self.matrices, self.biases)):
            matrix, bias = ops.convert_to_tensor(matrix), ops.convert_to_tensor(bias)
            if stop_gradient:
                matrix, bias = ops.stop_gradient(matrix), ops.stop_gradient(bias)
            logits = ops.einsum("...ci,coi->...co", logits, ops.softplus(matrix)) + bias
            if i < len(self.factors):
                factor = ops.convert_to_tensor(self.factors[i])
                if stop_gradient:
                    factor = ops.stop_gradient(factor)
                logits = logits + ops.tanh(factor) * ops.tanh(logits)
        return ops.squeeze(logits, -1)

    def likelihood(self, values):
        """Probability mass of the unit bin around each value, bounded below."""
        lower = self.logits_cumulative(values - 0.5)
        upper = self.logits_cumulative(values + 0.5)
        # difference of sigmoids on the side where both are small: no cancellation in the upper tail
        sign = ops.stop_gradient(-ops.sign(lower + upper))
        likelihood = ops.abs(ops.sigmoid(sign * upper) - ops.sigmoid(sign * lower))
        return lower_bound(likelihood, self.likelihood_bound) if self.likelihood_bound > 0 else likelihood

    @property
    def medians(self):
        """Each channel's median (a tensor, ``(channels,)``): the centre of its rounding grid."""
        return ops.convert_to_tensor(self.quantiles)[:, 1]

    def aux_loss(self):
        """Sum over channels of |logit c(q) - target| at the three quantiles: moves them to the
        tail_mass/2 quantile, the median and the 1 - tail_mass/2 quantile."""
        target = math.log(2.0 / self.tail_mass - 1.0)
        logits = self.logits_cumulative(ops.transpose(self.quantiles), stop_gradient=True)  # (3, C)
        targets = ops.convert_to_tensor(np.array([[-target], [0.0], [target]], "float32"))
        return ops.sum(ops.abs(logits - targets))

    def update_quantiles(self, search_radius=1e5, iterations=64):
        """Set the quantiles to their targets exactly, by bisection on the monotone cumulative.

        The aux loss moves them by at most about the learning rate per step, which a short
        training run may not give them room for; this solves them from the density as it
        is (CompressAI's ``update(update_quantiles=True)`` does the same). Returns them, numpy.
        """
        target = math.log(2.0 / self.tail_mass - 1.0)
        targets = np.array([[-target], [0.0], [target]], "float64") * np.ones((1, self.channels))
        low, high = np.full(targets.shape, -search_radius), np.full(targets.shape, search_radius)
        for _ in range(iterations):
            middle = (low + high) / 2
            logits = ops.convert_to_numpy(self.logits_cumulative(ops.convert_to_tensor(middle.astype("float32"))))
            above = logits > targets
            high, low = np.where(above, middle, high), np.where(above, low, middle)
        quantiles = ((low + high) / 2).T.astype("float32")
        self.quantiles.assign(quantiles)
        return quantiles

    def update_tables(self):
        """Compute each channel's integer CDF table from its density, once (store them by saving).

        A channel codes ``round(y - median)`` over ``[-ceil(median - lower), ceil(upper - median)]``
        (its quantiles; narrowed in proportion to fit ``max_symbols``) plus an escape holding the
        mass of both tails. The bin masses come from the float density in float64.
        """
        quantiles = np.asarray(ops.convert_to_numpy(self.quantiles), np.float64)
        medians = quantiles[:, 1]
        below = np.maximum(np.ceil(medians - quantiles[:, 0]), 0).astype(np.int64)
        above = np.maximum(np.ceil(quantiles[:, 2] - medians), 0).astype(np.int64)
        wide = below + above + 1 > self.max_symbols
        below = np.where(wide, (below * (self.max_symbols - 1)) // np.maximum(below + above, 1), below)
        above = np.where(wide, self.max_symbols - 1 - below, above)
        reach = int(max(below.max(), above.max()))
        steps = np.arange(-reach, reach + 1, dtype=np.float64)[:, None]  # (K, 1) offsets from the medians
        centres = (steps + ops.convert_to_numpy(self.medians)[None, :]).astype("float32")
        lower = np.asarray(ops.convert_to_numpy(self.logits_cumulative(ops.convert_to_tensor(centres - 0.5))),
                           np.float64)
        upper = np.asarray(ops.convert_to_numpy(self.logits_cumulative(ops.convert_to_tensor(centres + 0.5))),
                           np.float64)
        sign = -np.sign(lower + upper)  # difference on the side where both sigmoids are small
        mass = np.abs(_sigmoid(sign * upper) - _sigmoid(sign * lower))
        width = self.max_symbols + 1
        cdf = np.zeros((self.channels, width + 1), np.int32)
        lengths, offsets = np.zeros(self.channels, np.int32), np.zeros(self.channels, np.int32)
        for c in range(self.channels):
            first, last = reach - below[c], reach + above[c]
            tails = _sigmoid(lower[first, c]) + _sigmoid(-upper[last, c])
            pmf = np.append(mass[first:last + 1, c], tails)
            cdf[c] = coding_tables.cdf_row(pmf, width)
            lengths[c], offsets[c] = len(pmf), -below[c]
        self._assign_tables(cdf, lengths, offsets)

    # ------------------------------------------------------------ quantising
    def to_symbols(self, values):
        """Integer symbols: ``round(y - median)`` (int32)."""
        return ops.cast(ops.round(values - self.medians), "int32")

    def from_symbols(self, symbols):
        return ops.cast(symbols, "float32") + self.medians

    def call(self, values, training=None):
        if training:
            noisy = values + _uniform_noise(ops.shape(values), values.dtype, self.seed_generator)
            self.add_loss(self.aux_loss())
        else:
            medians = self.medians
            noisy = ops.round(values - medians) + medians
        return noisy, self.likelihood(noisy)

    def compute_output_shape(self, input_shape):
        return input_shape, input_shape

    def get_config(self):
        return {**super().get_config(), "filters": list(self.filters), "init_scale": self.init_scale,
                "tail_mass": self.tail_mass, "likelihood_bound": self.likelihood_bound, "seed": self.seed,
                "max_symbols": self.max_symbols}


def _sigmoid(x):
    """float64 logistic without overflow warnings."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, np.float64)))


@keras.saving.register_keras_serializable(package="aezoo")
class GaussianConditional(_CodingTables, keras.layers.Layer):
    """Gaussian conditional: ``(y_hat, likelihoods) = layer(y, scales)`` (optionally ``means=``).

    Args:
        scale_table: increasing positive scales; coding picks, per element, the smallest
            table scale at or above its predicted scale (``scale_indexes``). Default:
            ``default_scale_table()``.
        scale_bound: lower bound of the predicted scales (defaults to the table's first).
        tail_mass: probability mass outside the coded range of each table scale.
        likelihood_bound: lower bound of every likelihood.
        seed: seed of the training noise.
    """

    def __init__(self, scale_table=None, scale_bound=0.11, tail_mass=1e-9, likelihood_bound=1e-9, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        table = default_scale_table() if scale_table is None else [float(s) for s in scale_table]
        if not table or any(s <= 0 for s in table) or table != sorted(table):
            raise ValueError(f"GaussianConditional scale_table must be increasing positive scales, got {scale_table}")
        scale_bound = table[0] if scale_bound is None else float(scale_bound)
        if scale_bound <= 0 or not 0 < tail_mass < 1 or likelihood_bound < 0:
            raise ValueError(f"GaussianConditional needs scale_bound > 0, 0 < tail_mass < 1, likelihood_bound >= 0; "
                             f"got {scale_bound}, {tail_mass}, {likelihood_bound}")
        self.scale_table, self.scale_bound = table, scale_bound
        self.tail_mass, self.likelihood_bound, self.seed = float(tail_mass), float(likelihood_bound), seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        # one row per table scale; the shape follows from the config alone
        self._add_tables(len(table), coding_tables.gaussian_table_width(table, self.tail_mass))

    def update_tables(self):
        """Compute the integer CDF table of every scale in ``scale_table`` (float64), once."""
        self._assign_tables(*coding_tables.gaussian_tables(self.scale_table, self.tail_mass))

    @staticmethod
    def standardized_cumulative(values):
        """Phi(x) = erfc(-x / sqrt 2) / 2: erfc keeps the lower tail exact where 1 + erf would round to 0."""
        return 0.5 * ops.erfc(values * -(2.0 ** -0.5))

    def likelihood(self, values, scales, means=None):
        values = values if means is None else values - means
        scales = lower_bound(scales, self.scale_bound)
        values = ops.abs(values)  # symmetric: evaluate both ends in the lower tail, where Phi is exact
        upper = self.standardized_cumulative((0.5 - values) / scales)
        lower = self.standardized_cumulative((-0.5 - values) / scales)
        likelihood = upper - lower
        return lower_bound(likelihood, self.likelihood_bound) if self.likelihood_bound > 0 else likelihood

    def scale_indexes(self, scales):
        """Index into ``scale_table`` of each (bounded) scale: the first entry >= it, capped at the last."""
        scales = ops.maximum(scales, self.scale_bound)
        table = ops.convert_to_tensor(np.array(self.scale_table[:-1], "float32"))
        below = ops.cast(ops.expand_dims(scales, -1) > table, "int32")  # table entries smaller than the scale
        return ops.sum(below, axis=-1)

    def call(self, values, scales, means=None, training=None):
        if training:
            outputs = values + _uniform_noise(ops.shape(values), values.dtype, self.seed_generator)
        elif means is None:
            outputs = ops.round(values)
        else:
            outputs = ops.round(values - means) + means
        return outputs, self.likelihood(outputs, scales, means)

    def compute_output_shape(self, values_shape, scales_shape=None, means_shape=None):
        return values_shape, values_shape

    def get_config(self):
        return {**super().get_config(), "scale_table": list(self.scale_table), "scale_bound": self.scale_bound,
                "tail_mass": self.tail_mass, "likelihood_bound": self.likelihood_bound, "seed": self.seed}
