"""Reading and writing .v1d streams: preamble, header, typed chunks with CRCs, END.

::

    stream  = preamble header chunk* END
    preamble= MAGIC(4) format_version(u16) min_reader_version(u16) header_len(u32)
    header  = fields (see header.py) header_crc32(u32, over preamble + fields)
    chunk   = type(u16) flags(u16) length(u32) payload(length) crc32(u32, over type..payload)
    END     = a chunk of type 0xFFFF whose payload is n_chunks(u32) n_frames(u32)

Every length is checked against :class:`Limits` and against the bytes that are
really left before anything is allocated; every CRC is checked before a payload
is handed out. A stream cut anywhere, or with any single bit flipped, raises
:class:`BitstreamError` (CRC-32 detects every single-bit error).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from vid1d.bitstream.format import (
    CHUNK_HEADER_SIZE,
    CRC_SIZE,
    DEFAULT_LIMITS,
    FORMAT_VERSION,
    MAGIC,
    MIN_READER_VERSION,
    PREAMBLE_SIZE,
    READER_VERSION,
    ChunkType,
    Limits,
)
from vid1d.bitstream.header import StreamHeader
from vid1d.errors import BitstreamError
from vid1d.utils.fs import atomic_path

_PREAMBLE = struct.Struct("<4sHHI")
_CHUNK = struct.Struct("<HHI")
_U32 = struct.Struct("<I")
_END = struct.Struct("<II")


@dataclass(frozen=True)
class Chunk:
    type: ChunkType
    flags: int
    payload: bytes


def _header_bytes(header: StreamHeader) -> bytes:
    fields = header.pack()
    pre = _PREAMBLE.pack(MAGIC, FORMAT_VERSION, MIN_READER_VERSION, len(fields) + CRC_SIZE)
    return pre + fields + _U32.pack(zlib.crc32(pre + fields))


def _chunk_bytes(ctype: int, payload: bytes, flags: int = 0) -> bytes:
    head = _CHUNK.pack(int(ctype), flags, len(payload))
    return head + payload + _U32.pack(zlib.crc32(payload, zlib.crc32(head)))


class BitstreamWriter:
    """Write a .v1d stream to ``path`` atomically (temp file, renamed on :meth:`close`).

    The header's ``frame_count`` is rewritten on close with the number of FRAME
    chunks written, so frames can be coded as they are read (streaming).
    """

    def __init__(self, path: str | os.PathLike, header: StreamHeader):
        self.header = header
        self.path = Path(path)
        self._ctx = atomic_path(path)
        self._tmp = self._ctx.__enter__()
        self._f = open(self._tmp, "wb")  # noqa: SIM115 - closed in close()/abort()
        self._f.write(_header_bytes(header))
        self.n_chunks = 0
        self.n_frames = 0
        self.bytes_written = 0
        self._closed = False

    def write_chunk(self, ctype: ChunkType, payload: bytes, flags: int = 0) -> int:
        if ctype == ChunkType.END:
            raise ValueError("END is written by close()")
        if len(payload) > DEFAULT_LIMITS.max_chunk_bytes:
            raise BitstreamError(f"chunk of {len(payload)} bytes exceeds the format limit")
        data = _chunk_bytes(ctype, payload, flags)
        self._f.write(data)
        self.n_chunks += 1
        self.n_frames += ctype == ChunkType.FRAME
        return len(data)

    def close(self) -> Path:
        """Write END, patch the frame count into the header, commit the file."""
        if self._closed:
            raise RuntimeError("writer already closed")
        self._f.write(_chunk_bytes(ChunkType.END, _END.pack(self.n_chunks, self.n_frames)))
        self.header = replace(self.header, frame_count=self.n_frames)
        self._f.seek(0)
        self._f.write(_header_bytes(self.header))
        self._f.seek(0, io.SEEK_END)
        self.bytes_written = self._f.tell()
        self._f.close()
        self._closed = True
        self._ctx.__exit__(None, None, None)
        return self.path

    def abort(self) -> None:
        """Discard the partial output (called on errors)."""
        if not self._closed:
            self._f.close()
            self._closed = True
            err = BitstreamError("aborted")
            self._ctx.__exit__(type(err), err, None)  # removes the temporary file

    def __enter__(self) -> BitstreamWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def encode_stream(header: StreamHeader, chunks: list[tuple[ChunkType, bytes]]) -> bytes:
    """The whole stream in memory (tests, small streams)."""
    n_frames = sum(t == ChunkType.FRAME for t, _ in chunks)
    out = [_header_bytes(replace(header, frame_count=n_frames))]
    out += [_chunk_bytes(t, p) for t, p in chunks]
    out.append(_chunk_bytes(ChunkType.END, _END.pack(len(chunks), n_frames)))
    return b"".join(out)


class BitstreamReader:
    """Parse a .v1d stream from a path, bytes or a binary file object.

    ``header`` is read and checked on construction; iterating yields the
    chunks before END, each CRC-checked; reaching the end verifies END's counts
    against what was read and that nothing follows it.
    """

    def __init__(self, source: str | os.PathLike | bytes | BinaryIO,
                 limits: Limits = DEFAULT_LIMITS):
        self.limits = limits
        self._own = False
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._f: BinaryIO = io.BytesIO(bytes(source))
        elif isinstance(source, (str, os.PathLike)):
            if os.path.exists(source) and not os.path.isfile(source):
                # a folder fails to open anyway; a FIFO would block until a writer came
                raise BitstreamError(f"cannot open {source}: not a regular file")
            try:
                self._f = open(source, "rb")  # noqa: SIM115
            except OSError as e:
                raise BitstreamError(f"cannot open {source}: {e.strerror}") from None
            self._own = True
        else:
            self._f = source
        try:
            self._f.seek(0, io.SEEK_END)
            self._size = self._f.tell()
            self._f.seek(0)
        except (OSError, AttributeError):
            self._size = None
        self.header = self._read_header()

    # -- low level -------------------------------------------------------
    def _remaining(self) -> int | None:
        return None if self._size is None else self._size - self._f.tell()

    def _read_exact(self, n: int, what: str) -> bytes:
        rem = self._remaining()
        if rem is not None and n > rem:
            raise BitstreamError(f"truncated stream: {what} needs {n} bytes, {rem} left")
        data = self._f.read(n)
        if len(data) != n:
            raise BitstreamError(f"truncated stream while reading {what}")
        return data

    def _read_header(self) -> StreamHeader:
        pre = self._read_exact(PREAMBLE_SIZE, "preamble")
        magic, version, min_reader, hlen = _PREAMBLE.unpack(pre)
        if magic != MAGIC:
            raise BitstreamError("not a vid1d bitstream (bad magic bytes)")
        if min_reader > READER_VERSION:
            raise BitstreamError(
                f"stream needs reader version >= {min_reader}; this vid1d reads version "
                f"{READER_VERSION} (upgrade vid1d)"
            )
        if version < min_reader:
            raise BitstreamError(f"inconsistent versions: format {version} < min reader {min_reader}")
        if not CRC_SIZE < hlen <= self.limits.max_header_bytes:
            raise BitstreamError(f"invalid header length {hlen}")
        body = self._read_exact(hlen, "header")
        fields, crc = body[:-CRC_SIZE], _U32.unpack(body[-CRC_SIZE:])[0]
        if zlib.crc32(pre + fields) != crc:
            raise BitstreamError("header CRC mismatch (corrupt stream)")
        return StreamHeader.unpack(fields, self.limits)

    def __iter__(self) -> Iterator[Chunk]:
        n_chunks = n_frames = 0
        while True:
            head = self._read_exact(CHUNK_HEADER_SIZE, f"chunk {n_chunks} header")
            ctype, flags, length = _CHUNK.unpack(head)
            if length > self.limits.max_chunk_bytes:
                raise BitstreamError(f"chunk {n_chunks}: length {length} exceeds limit")
            payload = self._read_exact(length, f"chunk {n_chunks} payload")
            (crc,) = _U32.unpack(self._read_exact(CRC_SIZE, f"chunk {n_chunks} CRC"))
            if zlib.crc32(payload, zlib.crc32(head)) != crc:
                raise BitstreamError(f"chunk {n_chunks}: CRC mismatch (corrupt stream)")
            try:
                ctype = ChunkType(ctype)
            except ValueError:
                raise BitstreamError(f"chunk {n_chunks}: unknown chunk type {ctype}") from None
            if ctype == ChunkType.END:
                self._check_end(payload, n_chunks, n_frames)
                return
            n_chunks += 1
            n_frames += ctype == ChunkType.FRAME
            if n_chunks > self.limits.max_chunks or n_frames > self.header.frame_count:
                raise BitstreamError("stream holds more frames than its header declares")
            yield Chunk(ctype, flags, payload)

    def _check_end(self, payload: bytes, n_chunks: int, n_frames: int) -> None:
        if len(payload) != _END.size:
            raise BitstreamError("invalid END chunk")
        want_chunks, want_frames = _END.unpack(payload)
        if (want_chunks, want_frames) != (n_chunks, n_frames) or n_frames != self.header.frame_count:
            raise BitstreamError(
                f"stream inconsistent: END says {want_chunks} chunks/{want_frames} frames, "
                f"read {n_chunks}/{n_frames}, header says {self.header.frame_count} frames"
            )
        if self._f.read(1):
            raise BitstreamError("trailing bytes after END chunk")

    def read_all(self) -> list[Chunk]:
        return list(self)

    def close(self) -> None:
        if self._own:
            self._f.close()

    def __enter__(self) -> BitstreamReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
