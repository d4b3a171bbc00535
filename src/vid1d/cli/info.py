"""`vid1d info FILE`: what a .v1d bitstream or a video file contains."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from vid1d.bitstream import BitstreamReader, ChunkType, FramePayload
from vid1d.bitstream.format import MAGIC
from vid1d.cli.args import parse_size
from vid1d.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="describe a .v1d bitstream or a video file",
                       description="Print the header and chunk sizes of a .v1d bitstream, or "
                       "the size, frame rate, frame count and pixel format of a video.")
    p.add_argument("file", help=".v1d bitstream, or any video vid1d reads")
    p.add_argument("--size", help="WxH for raw .yuv input")
    p.add_argument("--pix-fmt", help="pixel format for raw .yuv (yuv420p | yuv420p10le)")
    p.add_argument("--frames", action="store_true",
                   help="for a .v1d stream, also list each frame: type, bytes, bpp, substreams")
    p.set_defaults(func=run)


def describe_bitstream(path: Path, frames: bool = False) -> str:
    """Header, chunk counts, bpp and container overhead; with ``frames``, a row per frame.

    A frame's bytes are its FRAME chunk's payload (frame header, substream lengths
    and the entropy-coded substreams); its bpp divides them by one frame's pixels.
    """
    rows = []
    with BitstreamReader(path) as reader:
        header = reader.header
        frame_pixels = header.width * header.height
        kinds: Counter = Counter()
        payload_bytes = 0
        for chunk in reader:
            kinds[chunk.type.name] += 1
            payload_bytes += len(chunk.payload)
            if chunk.type == ChunkType.FRAME:
                frame = FramePayload.unpack(chunk.payload)
                kinds[frame.frame_type.name.lower()] += 1
                n = len(chunk.payload)
                rows.append(f"{frame.frame_index:>7}  {frame.frame_type.name.lower():<6}"
                            f"{n:>8}  {8 * n / frame_pixels:>8.4f}  "
                            f"{' '.join(str(len(s)) for s in frame.streams)}")
    size = path.stat().st_size
    pixels = frame_pixels * max(header.frame_count, 1)
    lines = [f"{path}: vid1d bitstream, {size} bytes", header.pretty_string(),
             f"          chunks: {dict(kinds)}",
             f"             bpp: {8 * size / pixels:.5f}",
             f"        overhead: {size - payload_bytes} bytes of container"]
    if frames:
        lines += ["", "  frame  type     bytes       bpp  substream bytes", *rows]
    return "\n".join(lines)


def describe_video(path: Path, args: argparse.Namespace) -> str:
    from vid1d.io import count_frames, open_video

    size = parse_size(args.size)
    with open_video(path, size=size, pix_fmt=args.pix_fmt) as reader:
        info = reader.info
    n = info.num_frames
    if n is None:
        n = count_frames(path, size=size, pix_fmt=args.pix_fmt)
    return (f"{path}: {info.container}, {info.width}x{info.height}, {float(info.fps):.3f} fps "
            f"({info.fps}), {n} frames, {info.pix_fmt}, {info.bit_depth}-bit")


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if path.is_dir():  # a folder of PNG frames; open_video says what else is wrong
        stream = False
    elif not path.exists():
        raise InputError(f"{path}: no such file or directory")
    elif not path.is_file():
        raise InputError(f"{path}: not a regular file (nor a folder of PNG frames)")
    else:
        with open(path, "rb") as f:
            stream = f.read(len(MAGIC)) == MAGIC
    if not stream and path.is_file() and path.suffix.lower() == ".v1d":
        raise InputError(f"{path}: not a .v1d bitstream (it does not start with the vid1d magic bytes)")
    if args.frames and not stream:
        raise InputError(f"{path}: --frames lists the frames of a .v1d bitstream, not of a video")
    print(describe_bitstream(path, frames=args.frames) if stream else describe_video(path, args))
    return 0
