"""FRAME chunk payload: a coded frame as a few length-prefixed substreams.

::

    frame_index   u32   0, 1, 2, ... in coding order (checked by the reader)
    frame_type    u8    FrameType (INTRA / INTER)
    symbols_crc32 u32   CRC-32 of the quantized symbols the encoder coded
    n_streams     u8    number of substreams (e.g. AR tokens, side information)
    n_streams × (length u32, bytes)

The symbol CRC is what turns an encoder/decoder mismatch (a probability
computed differently on the two sides) into an error instead of garbage: the
decoder recomputes it over the symbols it decoded and compares.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from vid1d.bitstream.format import DEFAULT_LIMITS, FrameType, Limits
from vid1d.errors import BitstreamError

_HEAD = struct.Struct("<IBIB")
_U32 = struct.Struct("<I")


def symbols_crc32(*arrays: np.ndarray) -> int:
    """CRC-32 over integer symbol arrays, as little-endian int32, in order."""
    crc = 0
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a), dtype="<i4")
        crc = zlib.crc32(a.tobytes(), crc)
    return crc


@dataclass(frozen=True)
class FramePayload:
    frame_index: int
    frame_type: FrameType
    symbols_crc32: int
    streams: tuple[bytes, ...]

    def pack(self) -> bytes:
        if len(self.streams) > DEFAULT_LIMITS.max_substreams:
            raise BitstreamError(f"{len(self.streams)} substreams exceed the format limit")
        out = [_HEAD.pack(self.frame_index, int(self.frame_type), self.symbols_crc32,
                          len(self.streams))]
        for s in self.streams:
            out += [_U32.pack(len(s)), s]
        return b"".join(out)

    @classmethod
    def unpack(cls, data: bytes, limits: Limits = DEFAULT_LIMITS) -> FramePayload:
        if len(data) < _HEAD.size:
            raise BitstreamError("truncated frame payload")
        index, ftype, crc, n = _HEAD.unpack_from(data)
        try:
            ftype = FrameType(ftype)
        except ValueError:
            raise BitstreamError(f"frame {index}: unknown frame type {ftype}") from None
        if n > limits.max_substreams:
            raise BitstreamError(f"frame {index}: {n} substreams exceed the limit")
        pos, streams = _HEAD.size, []
        for _ in range(n):
            if pos + 4 > len(data):
                raise BitstreamError(f"frame {index}: truncated substream length")
            (length,) = _U32.unpack_from(data, pos)
            pos += 4
            if length > len(data) - pos:
                raise BitstreamError(f"frame {index}: substream overruns the chunk")
            streams.append(data[pos : pos + length])
            pos += length
        if pos != len(data):
            raise BitstreamError(f"frame {index}: {len(data) - pos} stray bytes after substreams")
        return cls(index, ftype, crc, tuple(streams))

    def check_symbols(self, *arrays: np.ndarray) -> None:
        """Raise if the decoded symbols differ from what the encoder coded."""
        got = symbols_crc32(*arrays)
        if got != self.symbols_crc32:
            raise BitstreamError(
                f"frame {self.frame_index}: decoded symbols CRC {got:08x} != stored "
                f"{self.symbols_crc32:08x} (encoder/decoder mismatch or corrupt stream)"
            )


def iter_frames(chunks, limits: Limits = DEFAULT_LIMITS):
    """FRAME payloads of a chunk iterator, checking they come in order 0, 1, 2, ..."""
    from vid1d.bitstream.format import ChunkType

    expected = 0
    for chunk in chunks:
        if chunk.type != ChunkType.FRAME:
            continue
        frame = FramePayload.unpack(chunk.payload, limits)
        if frame.frame_index != expected:
            raise BitstreamError(f"frame {frame.frame_index} found where frame {expected} was due")
        expected += 1
        yield frame
