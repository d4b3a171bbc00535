"""Step-wise coding in one stream, for autoregressive models.

An autoregressive decoder only learns the distribution indexes of step k+1
after it has decoded step k, so it cannot hand :func:`~vid1d.entropy.coder.decode`
all indexes up front. Here the encoder collects the steps (each a batch of
symbols with their table indexes, in the order the decoder will meet them) and
writes ONE stream in which every step has exactly the layout of
:func:`~vid1d.entropy.coder.encode`; the decoder pulls one step at a time with
the indexes it has just computed. One stream means one coder flush per frame
instead of one per step, which keeps real bytes within a few words of the
estimate even on small frames.
"""

from __future__ import annotations

import numpy as np

from vid1d.entropy.cdf import CdfTable
from vid1d.entropy.coder import (
    CoderName,
    _prepare,
    _Reader,
    _write,
    check_coder,
    estimate_bits,
    read_table_symbols,
    table_segments,
)


class StepEncoder:
    """Collect steps with :meth:`push`; :meth:`finish` returns the stream's bytes."""

    def __init__(self, table: CdfTable, coder: CoderName = "ans"):
        self.table = table
        self.coder = check_coder(coder)
        self._segments: list[tuple] = []
        self.estimated_bits = 0.0  # ideal length under the integer tables

    def push(self, symbols: np.ndarray, indexes: np.ndarray) -> None:
        sym, idx = _prepare(symbols, indexes, self.table)
        self._segments += table_segments(sym, idx, self.table)
        self.estimated_bits += estimate_bits(symbols, indexes, self.table)

    def finish(self) -> bytes:
        return _write(self._segments, self.coder)


class StepDecoder:
    """Pull the steps of a :class:`StepEncoder` stream in order; then :meth:`finish`."""

    def __init__(self, data: bytes, table: CdfTable, coder: CoderName = "ans"):
        self.table = table
        self._reader = _Reader(data, check_coder(coder))

    def pull(self, indexes: np.ndarray) -> np.ndarray:
        """int32 symbols shaped like ``indexes`` (BitstreamError on corrupt data)."""
        _, idx = _prepare(None, indexes, self.table)
        return read_table_symbols(self._reader, idx, self.table).reshape(np.shape(indexes))

    def finish(self) -> None:
        """Raise BitstreamError unless the stream was consumed exactly (rANS)."""
        self._reader.finish()
