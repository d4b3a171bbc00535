"""The .v1d container: constants, enum codes and limits (see docs/bitstream.md).

Enum codes are append-only: a code, once released, keeps its meaning forever.
New codes get new numbers; readers reject codes they do not know.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

MAGIC = b"\x8bV1D"  # high bit set: not mistaken for text; "V1D" for humans
FORMAT_VERSION = 1  # version of the writer that produced the file
MIN_READER_VERSION = 1  # oldest reader that can decode files written by this version
READER_VERSION = 1  # the newest format version this reader understands

# Preamble: magic(4) format_version(u16) min_reader_version(u16) header_len(u32) = 12 bytes
PREAMBLE_SIZE = 12
CHUNK_HEADER_SIZE = 8  # type(u16) flags(u16) length(u32); a u32 CRC follows the payload
CRC_SIZE = 4


class ColorFormat(enum.IntEnum):
    """Colour format of the coded pictures (append-only codes)."""

    RGB = 0
    YUV420 = 1
    YUV444 = 2


class ColorMatrix(enum.IntEnum):
    """RGB<->YCbCr matrix used by the source and reconstruction (append-only codes)."""

    BT709 = 0
    BT601 = 1


class ChunkType(enum.IntEnum):
    """Typed chunks (append-only codes).

    FRAME carries one coded frame; CONFIG a model-specific JSON blob; END is
    mandatory and last, so a stream cut at a chunk boundary is detected.
    """

    FRAME = 1
    CONFIG = 2
    END = 0xFFFF


class FrameType(enum.IntEnum):
    """How a frame was coded (append-only codes)."""

    INTRA = 0  # coded with empty context (first frame, intra-period refresh)
    INTER = 1  # coded with the context of earlier frames


@dataclass(frozen=True)
class Limits:
    """Every size and count read from a stream is checked against these before use."""

    max_width: int = 16384
    max_height: int = 16384
    max_frames: int = 10_000_000
    max_chunk_bytes: int = 1 << 28  # 256 MiB
    max_model_id_bytes: int = 128
    max_header_bytes: int = 1 << 16
    max_extension_bytes: int = 1 << 15
    max_substreams: int = 256
    max_chunks: int = 100_000_000


DEFAULT_LIMITS = Limits()
