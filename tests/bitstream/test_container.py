"""The container rejects every truncation and every single-bit flip, and fuzzing."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vid1d.bitstream import (
    BitstreamReader,
    BitstreamWriter,
    ChunkType,
    ColorFormat,
    FramePayload,
    FrameType,
    StreamHeader,
    encode_stream,
    iter_frames,
    symbols_crc32,
)
from vid1d.errors import BitstreamError


def make_header(**kw) -> StreamHeader:
    base = dict(model_id="test-model", width=176, height=144, fps_num=30000, fps_den=1001,
                weights_sha256=bytes(range(32)), color_format=ColorFormat.RGB,
                intra_period=-1, quality=3.5, lmbda=0.25, extension=b'{"k": 1}')
    base.update(kw)
    return StreamHeader(**base)


def make_frames(n: int, rng: np.random.Generator) -> list[tuple[FramePayload, np.ndarray]]:
    out = []
    for i in range(n):
        symbols = rng.integers(-20, 20, size=rng.integers(1, 40)).astype(np.int32)
        streams = tuple(rng.bytes(int(rng.integers(0, 12))) for _ in range(int(rng.integers(1, 3))))
        ftype = FrameType.INTRA if i == 0 else FrameType.INTER
        out.append((FramePayload(i, ftype, symbols_crc32(symbols), streams), symbols))
    return out


def decode_all(data: bytes) -> tuple[StreamHeader, list[FramePayload]]:
    reader = BitstreamReader(data)
    return reader.header, list(iter_frames(reader))


def small_stream(n_frames: int = 2, seed: int = 0) -> tuple[bytes, list]:
    frames = make_frames(n_frames, np.random.default_rng(seed))
    data = encode_stream(make_header(), [(ChunkType.FRAME, f.pack()) for f, _ in frames])
    return data, frames


def test_round_trip_header_and_frames():
    data, frames = small_stream(3)
    header, decoded = decode_all(data)
    assert header == make_header(frame_count=3)
    assert header.fps == pytest.approx(29.97, abs=1e-2)
    for (want, symbols), got in zip(frames, decoded, strict=True):
        assert got == want
        got.check_symbols(symbols)  # raises on mismatch


def test_symbol_crc_mismatch_is_an_error():
    data, frames = small_stream(1)
    _, (frame,) = decode_all(data)
    wrong = frames[0][1].copy()
    wrong[0] += 1
    with pytest.raises(BitstreamError, match="CRC"):
        frame.check_symbols(wrong)


@pytest.mark.parametrize("n_frames", [0, 1, 2])
def test_every_truncated_prefix_is_an_error(n_frames):
    data, _ = small_stream(n_frames)
    decode_all(data)
    for cut in range(len(data)):
        with pytest.raises(BitstreamError):
            decode_all(data[:cut])


@pytest.mark.parametrize("n_frames", [0, 2])
def test_every_single_bit_flip_is_an_error(n_frames):
    data, _ = small_stream(n_frames)
    for bit in range(len(data) * 8):
        corrupt = bytearray(data)
        corrupt[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(BitstreamError):
            decode_all(bytes(corrupt))


def test_trailing_garbage_and_appended_frames_are_errors():
    data, _ = small_stream(1)
    with pytest.raises(BitstreamError, match="trailing"):
        decode_all(data + b"\x00")
    with pytest.raises(BitstreamError):
        decode_all(data + data)


def test_out_of_order_frames_are_an_error():
    frames = make_frames(2, np.random.default_rng(1))
    swapped = [(ChunkType.FRAME, frames[1][0].pack()), (ChunkType.FRAME, frames[0][0].pack())]
    with pytest.raises(BitstreamError, match="due"):
        decode_all(encode_stream(make_header(), swapped))


def test_newer_min_reader_version_is_refused():
    data, _ = small_stream(1)
    bumped = data[:6] + struct.pack("<H", 99) + data[8:]
    with pytest.raises(BitstreamError, match="reader version"):
        decode_all(bumped)


def test_huge_declared_sizes_fail_before_allocating():
    data, _ = small_stream(1)
    reader = BitstreamReader(data)
    hdr_end = reader._f.tell()
    # a chunk claiming 4 GiB - 1: refused by the limit, not by trying to read it
    bad = data[:hdr_end] + struct.pack("<HHI", 1, 0, 0xFFFFFFFF) + data[hdr_end + 8 :]
    with pytest.raises(BitstreamError, match="exceeds limit"):
        decode_all(bad)
    with pytest.raises(BitstreamError):
        make_header(width=100_000).pack()


def test_not_a_bitstream():
    with pytest.raises(BitstreamError, match="magic"):
        decode_all(b"\x00" * 64)
    with pytest.raises(BitstreamError):
        decode_all(b"")


def test_writer_streams_frames_and_patches_count(tmp_path):
    frames = make_frames(4, np.random.default_rng(2))
    out = tmp_path / "a.v1d"
    with BitstreamWriter(out, make_header(frame_count=0)) as w:
        for f, _ in frames:
            w.write_chunk(ChunkType.FRAME, f.pack())
        assert not out.exists()  # atomic: appears only on close
    header, decoded = decode_all(out.read_bytes())
    assert header.frame_count == 4
    assert [d.frame_index for d in decoded] == [0, 1, 2, 3]
    assert out.read_bytes() == encode_stream(make_header(), [(ChunkType.FRAME, f.pack()) for f, _ in frames])


def test_writer_leaves_nothing_on_error(tmp_path):
    out = tmp_path / "b.v1d"
    with pytest.raises(RuntimeError):
        with BitstreamWriter(out, make_header()) as w:
            w.write_chunk(ChunkType.FRAME, b"x")
            raise RuntimeError("encoder failed")
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_fuzz_random_bytes_never_crash(data):
    """Random bytes: a BitstreamError, or (astronomically unlikely) a consistent stream."""
    try:
        header, frames = decode_all(data)
    except BitstreamError:
        return
    assert header.frame_count == len(frames)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 3),
       edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4))
def test_fuzz_mutated_valid_streams(seed, n, edits):
    """Random byte edits of valid streams: either identical decode or BitstreamError."""
    data, frames = small_stream(n, seed)
    corrupt = bytearray(data)
    for pos, val in edits:
        corrupt[pos % len(corrupt)] = val
    try:
        header, decoded = decode_all(bytes(corrupt))
    except BitstreamError:
        return
    assert bytes(corrupt) == data  # only an edit that changed nothing may decode
    assert decoded == [f for f, _ in frames]
