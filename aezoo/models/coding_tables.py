"""Integer coding tables of the entropy models: what an entropy coder reads instead of floats.

A table is one discrete distribution in fixed point: the frequencies of its symbols
(integers >= 1 that sum to exactly ``2**PRECISION``), stored as a cumulative ``cdf`` row
``[0, f0, f0 + f1, ..., 2**PRECISION]`` padded on the right with ``2**PRECISION``. The
row's last real symbol is the *escape*: it stands for every value outside the table's
range, which the coder then writes out in full (``aezoo.uses.entropy_coder``). With
``offset`` the first symbol's value and ``cdf_length`` the number of symbols
(escape included), value ``v`` is table symbol ``v - offset``.

The tables are computed once (in float64 numpy, from a layer's float density) and stored
as integers with the model: encoder and decoder then read identical integers on every
backend and machine, whatever their floating point does.
"""

import math

import numpy as np

#: bits of every table's fixed point (CompressAI's choice): frequencies sum to 2**16
PRECISION = 16


def quantize_pmf(pmf, precision=PRECISION):
    """Integer frequencies >= 1 summing to ``2**precision``, proportional to ``pmf`` where
    they can be.

    Symbols whose share would fall below one unit get exactly one; the rest of the total
    is shared among the others in proportion (repeated until none of them falls below
    one), by largest remainders (ties to the lower index): deterministic for a given pmf.
    """
    pmf = np.asarray(pmf, np.float64)
    total = 1 << precision
    if pmf.ndim != 1 or not 0 < len(pmf) <= total or not np.isfinite(pmf).all() or (pmf < 0).any() or pmf.sum() <= 0:
        raise ValueError(f"quantize_pmf needs 1 to {total} finite non-negative masses with a positive sum, "
                         f"got shape {pmf.shape}")
    floor_one = np.zeros(len(pmf), bool)
    while True:
        rest = ~floor_one
        budget = total - int(floor_one.sum())
        share = np.where(rest, pmf, 0.0) / pmf[rest].sum() * budget
        below = rest & (share < 1.0)
        if not below.any():
            break
        floor_one |= below
    freq = np.where(floor_one, 1, np.floor(share)).astype(np.int64)
    remainder = total - int(freq.sum())
    fraction = np.where(floor_one, -1.0, share - np.floor(share))
    order = np.argsort(-fraction, kind="stable")[:remainder]
    freq[order] += 1
    return freq


def cdf_row(pmf, width, precision=PRECISION):
    """The cumulative table row (``width + 1`` int32) of a pmf whose last entry is the escape."""
    freq = quantize_pmf(pmf, precision)
    if len(freq) > width:
        raise ValueError(f"a table of {len(freq)} symbols does not fit in rows of {width}")
    row = np.full(width + 1, 1 << precision, np.int64)
    row[0] = 0
    row[1:len(freq) + 1] = np.cumsum(freq)
    return row.astype(np.int32)


def gaussian_table_width(scale_table, tail_mass):
    """Symbols (escape included) of the widest Gaussian table: ``2 * ceil(s * m) + 2`` for the
    largest scale s, with m the standard normal's ``1 - tail_mass / 2`` quantile."""
    return 2 * _gaussian_half_width(max(scale_table), tail_mass) + 2


def _gaussian_half_width(scale, tail_mass):
    from statistics import NormalDist

    multiplier = -NormalDist().inv_cdf(tail_mass / 2)
    return int(math.ceil(scale * multiplier - 1e-9))  # a product a hair above an integer stays on it


def gaussian_tables(scale_table, tail_mass, precision=PRECISION):
    """``(cdf, cdf_length, offset)`` int32 tables of zero-mean Gaussians convolved with the unit
    bin, one per scale: symbols ``-c ... c`` (c = ceil(scale * quantile)) and an escape that
    carries both tails."""
    width = gaussian_table_width(scale_table, tail_mass)
    cdf = np.zeros((len(scale_table), width + 1), np.int32)
    lengths, offsets = np.zeros(len(scale_table), np.int32), np.zeros(len(scale_table), np.int32)
    for i, scale in enumerate(scale_table):
        half = _gaussian_half_width(scale, tail_mass)
        values = np.arange(-half, half + 1, dtype=np.float64)
        # mass of [v - 1/2, v + 1/2], both ends in the lower tail where erfc is exact
        upper = np.array([0.5 * math.erfc(-(0.5 - abs(v)) / scale / math.sqrt(2.0)) for v in values])
        lower = np.array([0.5 * math.erfc(-(-0.5 - abs(v)) / scale / math.sqrt(2.0)) for v in values])
        tails = math.erfc((half + 0.5) / scale / math.sqrt(2.0))  # both tails beyond the range
        pmf = np.append(upper - lower, tails)
        cdf[i] = cdf_row(pmf, width, precision)
        lengths[i], offsets[i] = len(pmf), -half
    return cdf, lengths, offsets
