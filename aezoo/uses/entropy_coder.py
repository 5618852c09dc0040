"""Entropy coding of integer symbols under stored integer tables, with ``constriction``'s range coder.

``encode(symbols, table_index, tables)`` appends to one range-coded stream: symbol i is
coded under the table ``table_index[i]`` (a row of ``aezoo.models.coding_tables``), table
by table in increasing index and, within a table, in the symbols' order; then every
escaped value (outside its table's range) in full. ``decode`` reverses it given the same
``table_index`` (which the decoder must be able to compute before decoding).

Each table's integer frequencies are handed to ``constriction.stream.model.Categorical``
as exact binary fractions (``perfect=False``): the same integers give the same coder model
on every machine, since constriction's fixed-point rounding of them is integer-exact
float arithmetic with no transcendental functions.

An escaped value ``v`` (beyond the table's range on either side by ``d``) is written as its
zigzag code ``u`` (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...): the bit length of ``u`` under a
uniform model over 0..32, then the bits below its leading one, 16 at a time, uniform.
"""

import numpy as np

#: bits of one uniform chunk of an escaped value
_CHUNK = 16


def _constriction():
    try:
        import constriction
    except ImportError:
        raise ImportError("entropy coding needs constriction: pip install 'aezoo[codec]' "
                          "(or pip install constriction)") from None
    return constriction


def _wide(tables):
    return tuple(np.asarray(t, np.int64) for t in tables)


def _categorical(constriction, cdf_row, length):
    """constriction's model of one table row: its frequencies as exact binary fractions."""
    frequencies = np.diff(cdf_row[:length + 1].astype(np.int64))
    return constriction.stream.model.Categorical(frequencies / float(cdf_row[length]), perfect=False)


class Encoder:
    """One range-coded stream: ``encode`` as often as needed, then ``to_bytes``."""

    def __init__(self):
        self._c = _constriction()
        self._coder = self._c.stream.queue.RangeEncoder()

    def encode(self, symbols, table_index, tables):
        cdf, lengths, offsets = _wide(tables)
        symbols = np.asarray(symbols, np.int64).ravel()
        table_index = np.asarray(table_index, np.int64).ravel()
        if symbols.shape != table_index.shape:
            raise ValueError(f"symbols {symbols.shape} and table indexes {table_index.shape} differ in size")
        position = symbols - offsets[table_index]
        escape = lengths[table_index] - 1
        escaped = (position < 0) | (position >= escape)
        coded = np.where(escaped, escape, position)
        for t in np.unique(table_index):
            chosen = table_index == t
            self._coder.encode(coded[chosen].astype(np.int32), _categorical(self._c, cdf[t], lengths[t]))
        # beyond the range: by how much, below (negative) or above (positive)
        overflow = np.where(position < 0, position, position - escape)
        for t in np.unique(table_index):
            for value in overflow[(table_index == t) & escaped]:
                self._escape(int(value))

    def _escape(self, value):
        uniform = self._c.stream.model.Uniform
        u = 2 * value if value >= 0 else -2 * value - 1
        bits = u.bit_length()
        if bits > 32:
            raise ValueError(f"a latent value {value} beyond its table is too large to code (> 2**31)")
        self._coder.encode(np.int32(bits), uniform(33))
        rest, remaining = u - (1 << (bits - 1)) if bits else 0, max(bits - 1, 0)
        while remaining:
            take = min(_CHUNK, remaining)
            remaining -= take
            self._coder.encode(np.int32((rest >> remaining) & ((1 << take) - 1)), uniform(1 << take))

    def to_bytes(self):
        """The stream as big-endian bytes, trailing zero bytes of its last word dropped
        (``decode`` puts them back): up to three bytes fewer per file."""
        words = np.asarray(self._coder.get_compressed(), ">u4").tobytes()
        keep = len(words)
        while keep > max(len(words) - 3, 0) and words[keep - 1] == 0:
            keep -= 1
        return words[:keep]


class Decoder:
    """Reads what ``Encoder`` wrote, in the same order of ``decode`` calls."""

    def __init__(self, data):
        self._c = _constriction()
        data = bytes(data) + b"\0" * (-len(data) % 4)
        self._coder = self._c.stream.queue.RangeDecoder(np.frombuffer(data, ">u4").astype(np.uint32))

    def decode(self, table_index, tables):
        cdf, lengths, offsets = _wide(tables)
        table_index = np.asarray(table_index, np.int64).ravel()
        coded = np.zeros(table_index.shape, np.int64)
        for t in np.unique(table_index):
            chosen = table_index == t
            coded[chosen] = self._coder.decode(_categorical(self._c, cdf[t], lengths[t]), int(chosen.sum()))
        escape = lengths[table_index] - 1
        escaped = coded == escape
        position = coded.copy()
        for t in np.unique(table_index):
            where = np.flatnonzero((table_index == t) & escaped)
            for i in where:
                value = self._escape()
                position[i] = value if value < 0 else value + escape[i]
        return position + offsets[table_index]

    def _escape(self):
        uniform = self._c.stream.model.Uniform
        bits = int(self._coder.decode(uniform(33)))
        if not bits:
            return 0
        u, remaining = 1, bits - 1
        while remaining:
            take = min(_CHUNK, remaining)
            remaining -= take
            u = (u << take) | int(self._coder.decode(uniform(1 << take)))
        return u // 2 if u % 2 == 0 else -(u + 1) // 2
