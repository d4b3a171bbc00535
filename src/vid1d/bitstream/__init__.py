"""The .v1d bitstream container (spec: docs/bitstream.md)."""

from vid1d.bitstream.container import (
    BitstreamReader,
    BitstreamWriter,
    Chunk,
    encode_stream,
)
from vid1d.bitstream.format import (
    FORMAT_VERSION,
    MAGIC,
    MIN_READER_VERSION,
    ChunkType,
    ColorFormat,
    ColorMatrix,
    FrameType,
    Limits,
)
from vid1d.bitstream.frame import FramePayload, iter_frames, symbols_crc32
from vid1d.bitstream.header import StreamHeader

__all__ = [
    "FORMAT_VERSION", "MAGIC", "MIN_READER_VERSION", "BitstreamReader", "BitstreamWriter",
    "Chunk", "ChunkType", "ColorFormat", "ColorMatrix", "FramePayload", "FrameType", "Limits",
    "StreamHeader", "encode_stream", "iter_frames", "symbols_crc32",
]
