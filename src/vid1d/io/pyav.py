"""Containers read and written through PyAV (FFmpeg's libraries): mp4, mkv, avi, mpg, mov, ...

Reading: ``container.streams.video[0]`` decoded with ``thread_type="AUTO"``; RGB is
``frame.to_ndarray(format="rgb24")`` (``rgb48le`` for sources above 8 bits), i.e.
libswscale does the Y'CbCr -> RGB conversion, as ffmpeg would. libswscale honours
the stream's colour tags: an untagged stream is treated as **BT.601 limited range**
(libswscale's default), a stream tagged BT.709 as BT.709. Passing ``matrix=`` /
``full_range=`` to :func:`vid1d.io.open_video` overrides the tags. Chroma up-sampling
is libswscale's: nearest for 8-bit yuv420p -> rgb24 (like vid1d's own conversion), an
interpolating filter for sources above 8 bits (then RGB differs from vid1d's
nearest conversion of the same planes by a few code values at chroma edges).

``yuv_chunks`` gives the decoded samples themselves when the stream is planar Y'CbCr
at 8, 10 or 12 bits: as they are for yuv420p/yuv444p (and their 10/12-bit forms,
and yuvj420p), chroma repeated up to 4:4:4 (nearest) for other subsamplings
(yuv422p, yuv440p, ...). Other layouts (NV12, P010, gray, ...) are converted by
PyAV to ``yuv420p`` (``yuv420p10le`` above 8 bits; 4:4:4 for odd sizes). For
RGB-coded streams (lossless libx264rgb, ffv1 RGB) the planes come from vid1d's own
conversion (reader matrix/range, default BT.709 limited).

Writing: Y'CbCr outputs are converted by vid1d (:func:`vid1d.io.color.rgb_to_planes`,
so an mp4 holds the same samples a y4m would) and the stream is tagged with the
matrix, primaries, transfer, range and (4:2:0) centre chroma siting, so players and
PyAV convert back correctly.
"""

from __future__ import annotations

import fractions
import os
import re
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from vid1d.errors import ExternalToolError, InputError
from vid1d.io.color import matrix_name
from vid1d.io.info import (
    CONTAINER_FORMATS,
    DEFAULT_FPS,
    PLANAR_FORMATS,
    PlanarFormat,
    VideoInfo,
    check_frame_size,
    planar_format,
    to_fraction,
)
from vid1d.io.reader import Planes, VideoReader
from vid1d.io.writer import VideoWriter

# vid1d matrix name -> swscale colourspace (PyAV's reformat), and the stream tags
# (AVColorSpace, AVColorPrimaries, AVColorTransferCharacteristic) a writer sets.
_SWS_MATRIX = {"bt709": "ITU709", "bt601": "ITU601", "bt2020": "BT2020"}
_TAGS = {"bt709": (1, 1, 1), "bt601": (6, 6, 6), "bt2020": (9, 9, 14)}
_AVCOL_RANGE = {False: 1, True: 2}  # MPEG (limited), JPEG (full)


def _matrix_from_tag(colorspace: int) -> str:
    """The matrix libswscale applies for an AVColorSpace tag (untagged: BT.601)."""
    return {1: "bt709", 9: "bt2020", 10: "bt2020"}.get(colorspace, "bt601")


def plane_array(plane, dtype: np.dtype) -> np.ndarray:
    """A PyAV plane as a (height, width) array, dropping the line padding."""
    a = np.frombuffer(plane, dtype=dtype).reshape(plane.height, plane.line_size // dtype.itemsize)
    return a[:, : plane.width]


def _open_input(path: str):
    try:
        return av.open(path, mode="r")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read as video ({e})") from None


# Planar Y'CbCr layouts whose decoded planes vid1d reads itself (yuv422p, yuvj420p,
# yuv440p10le, ...): group 1 the subsampling, group 2 the bit depth above 8.
_PLANAR_YUV = re.compile(r"yuvj?(\d{3})p(?:(10|12)le)?")


def _yuv_layout(pix_fmt: str, bits: int, width: int, height: int) -> tuple[PlanarFormat, bool]:
    """(format of the planes ``yuv_chunks`` gives, whether they come from the decoded planes).

    Decoded planes are used whenever they are planar Y'CbCr at 8, 10 or 12 bits: as they
    are for the formats vid1d knows (and yuvj420p), chroma repeated up to 4:4:4 for the
    others, which keeps every decoded sample. libswscale converts the rest (NV12, P010,
    gray, ...) to 4:2:0 (4:4:4 for odd sizes) at 8 or 10 bits; it is avoided where
    possible because its high-bit-depth conversions of odd widths are not repeatable.
    """
    if pix_fmt in PLANAR_FORMATS:
        return PLANAR_FORMATS[pix_fmt], True
    depth = "" if bits == 8 else f"{bits}le"
    m = _PLANAR_YUV.fullmatch(pix_fmt)
    if m and bits == int(m[2] or 8):
        return PLANAR_FORMATS[f"yuv{'420' if m[1] == '420' else '444'}p{depth}"], True
    chroma = "444" if width % 2 or height % 2 else "420"
    return PLANAR_FORMATS[f"yuv{chroma}p" + ("10le" if bits > 8 else "")], False


def _upsample_nearest(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    """A subsampled chroma plane repeated up to (height, width)."""
    ry, rx = -(-height // plane.shape[0]), -(-width // plane.shape[1])
    return np.repeat(np.repeat(plane, ry, axis=0), rx, axis=1)[:height, :width]


class PyAVReader(VideoReader):
    """Decodes the first video stream of any container FFmpeg reads.

    :attr:`matrix` and :attr:`full_range` report the Y'CbCr -> RGB conversion in use:
    the stream's tags (untagged: BT.601 limited) or the user's override. For
    RGB-coded streams they are the conversion ``yuv_chunks`` applies (default BT.709
    limited).
    """

    _rgb_native = True

    def __init__(self, path: str | os.PathLike, *, fps=None, matrix: str | None = None,
                 full_range: bool | None = None) -> None:
        super().__init__()
        self.path = str(path)
        self._matrix_override = matrix
        self._range_override = full_range
        if matrix is not None:
            self.matrix = matrix_name(matrix)
        self.full_range = bool(full_range)
        container = _open_input(self.path)
        try:
            if not container.streams.video:
                raise InputError(f"{self.path}: no video stream")
            stream = container.streams.video[0]
            cc = stream.codec_context
            width, height, fmt = cc.width, cc.height, cc.format
            if not width or not height or fmt is None:
                first = self._first_frame(container, stream)
                width, height, fmt = first.width, first.height, first.format
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            info_fps = to_fraction(fps) if fps is not None else (
                to_fraction(fractions.Fraction(rate)) if rate and 0 < rate <= 1000 else DEFAULT_FPS)
            num_frames = int(stream.frames) if stream.frames and stream.frames > 0 else None
            container_name = container.format.name
            tags = (int(cc.colorspace), int(cc.color_range))
        finally:
            container.close()
        check_frame_size(width, height, what=self.path)
        bits = max(c.bits for c in fmt.components)
        self._src_rgb = fmt.is_rgb
        if not self._src_rgb:
            # Report the conversion libswscale will apply (the tags, unless overridden).
            if matrix is None:
                self.matrix = _matrix_from_tag(tags[0])
            if full_range is None:
                self.full_range = tags[1] == 2 or fmt.name.startswith("yuvj")
        self.yuv_format, self._decoded_planes = _yuv_layout(fmt.name, bits, width, height)
        self._rgb_fmt, self._rgb_max = ("rgb48le", 65535) if bits > 8 else ("rgb24", 255)
        self.info = VideoInfo(width=width, height=height, fps=info_fps, num_frames=num_frames,
                              pix_fmt=fmt.name, bit_depth=bits, path=self.path,
                              container=container_name)

    def _first_frame(self, container, stream):
        try:
            for frame in container.decode(stream):
                return frame
        except av.error.FFmpegError as e:
            raise InputError(f"{self.path}: cannot decode video ({e})") from None
        raise InputError(f"{self.path}: video stream has no frames")

    def _frames(self) -> Iterator[av.VideoFrame]:
        container = _open_input(self.path)
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            index = 0
            decoded = container.decode(stream)
            while True:
                try:
                    frame = next(decoded)
                except StopIteration:
                    return
                except av.error.FFmpegError as e:
                    raise InputError(f"{self.path}: decoding failed at frame {index} ({e})") from None
                if (frame.width, frame.height) != (self.info.width, self.info.height):
                    raise InputError(
                        f"{self.path}: frame {index} is {frame.width}x{frame.height}, not "
                        f"{self.info.width}x{self.info.height}; size changes mid-stream are unsupported"
                    )
                yield frame
                index += 1
        finally:
            container.close()

    def _convert_kwargs(self) -> dict:
        """Override the stream's colour tags only when the user asked to."""
        kw = {}
        if self._matrix_override is not None:
            kw["src_colorspace"] = _SWS_MATRIX[self.matrix]
        if self._range_override is not None:
            kw["src_color_range"] = "JPEG" if self.full_range else "MPEG"
        return kw

    def _rgb_frames(self) -> Iterator[np.ndarray]:
        kw = {} if self._src_rgb else self._convert_kwargs()
        for frame in self._frames():
            yield frame.to_ndarray(format=self._rgb_fmt, **kw)

    def _yuv_frames(self) -> Iterator[Planes]:
        fmt = self.yuv_format
        if self._src_rgb:
            yield from self._yuv_from_rgb_frames()
            return
        h, w = self.info.height, self.info.width
        for frame in self._frames():
            if not self._decoded_planes:
                f = frame.reformat(format=fmt.name)
                yield tuple(plane_array(p, fmt.dtype).copy() for p in f.planes[:3])
                continue
            y, u, v = (plane_array(p, fmt.dtype).copy() for p in frame.planes[:3])
            if fmt.chroma == "444":
                u, v = _upsample_nearest(u, h, w), _upsample_nearest(v, h, w)
            yield y, u, v

    def count(self) -> int:
        """Exact frame count by decoding every frame (containers' counts can be wrong)."""
        self._check_open()
        it = self._track(self._frames())
        n = 0
        for _ in it:
            n += 1
        return n


# --- writing ----------------------------------------------------------------------

_LOSSLESS_OPTIONS = {
    "libx264": {"qp": "0"},
    "libx264rgb": {"qp": "0"},
    "libx265": {"x265-params": "lossless=1"},
    "ffv1": {},
    "libaom-av1": {"lossless": "1"},
}
_CRF_CODECS = {"libx264", "libx264rgb", "libx265", "libsvtav1", "libaom-av1", "libvpx-vp9"}
DEFAULT_CRF = 18  # for x264: visually near-transparent; the codec's own default (23) is not
_RGB_ENCODER_FORMATS = ("rgb24", "gbrp", "bgr0", "bgr24")


def _choose_codec(fmt: str, pix_fmt: str | None, codec: str | None, lossless: bool) -> tuple[str, str]:
    """(codec, pix_fmt) with the defaults documented on :func:`vid1d.io.open_writer`."""
    if pix_fmt is None:
        pix_fmt = "rgb24" if lossless else "yuv420p"
    rgb = pix_fmt == "rgb24"
    if not rgb:
        planar_format(pix_fmt)
    if codec is None:
        if fmt == "mkv" and lossless:
            codec = "ffv1"
        else:
            codec = "libx264rgb" if rgb else "libx264"
    if codec not in av.codecs_available:
        raise InputError(f"codec {codec!r} is not available in this PyAV build")
    return codec, pix_fmt


def _encoder_pix_fmt(codec: str, pix_fmt: str) -> str:
    try:
        enc = av.Codec(codec, "w")
    except (av.error.FFmpegError, ValueError):
        enc = None
    if enc is None or enc.type != "video":
        raise InputError(f"{codec!r} is not a video encoder")
    supported = [f.name for f in (enc.video_formats or [])]
    if pix_fmt == "rgb24":
        for f in _RGB_ENCODER_FORMATS:
            if f in supported:
                return f
        raise InputError(f"codec {codec} cannot store RGB; use a yuv pix_fmt or libx264rgb/ffv1")
    if supported and pix_fmt not in supported:
        raise InputError(f"codec {codec} cannot store {pix_fmt} (it supports {', '.join(supported)})")
    return pix_fmt


class PyAVWriter(VideoWriter):
    """Encodes into mp4/mkv/mov/avi with an FFmpeg encoder (default libx264)."""

    def __init__(self, path: str | os.PathLike, *, width: int, height: int, fps, format: str,
                 pix_fmt: str | None = None, codec: str | None = None, crf: int | None = None,
                 lossless: bool = False, matrix: str = "bt709", full_range: bool = False,
                 options: dict[str, str] | None = None) -> None:
        self.codec, pix_fmt = _choose_codec(format, pix_fmt, codec, lossless)
        self._enc_pix_fmt = _encoder_pix_fmt(self.codec, pix_fmt)
        self._container_format = CONTAINER_FORMATS[format]
        opts: dict[str, str] = {}
        if lossless:
            if crf is not None:
                raise InputError("crf and lossless=True exclude each other")
            if self.codec not in _LOSSLESS_OPTIONS:
                raise InputError(f"no lossless mode known for codec {self.codec} "
                                 f"(use one of {', '.join(_LOSSLESS_OPTIONS)})")
            opts.update(_LOSSLESS_OPTIONS[self.codec])
        elif crf is not None or self.codec in ("libx264", "libx264rgb"):
            if self.codec not in _CRF_CODECS:
                raise InputError(f"crf does not apply to codec {self.codec}")
            crf = DEFAULT_CRF if crf is None else crf
            if not (isinstance(crf, int) and 0 <= crf <= 63):
                raise InputError(f"crf must be an integer in 0..63, got {crf!r}")
            opts["crf"] = str(crf)
        if pix_fmt.startswith("yuv420"):
            # Declare our centre-sited (2x2 box) chroma in the stream (H.264/HEVC VUI,
            # Matroska ChromaSiting) so decoders and libswscale interpolate it correctly.
            opts["chroma_sample_location"] = "center"
        opts.update({str(k): str(v) for k, v in (options or {}).items()})
        self._options = opts
        self.lossless = lossless
        planar = None if pix_fmt == "rgb24" else planar_format(pix_fmt)
        super().__init__(path, width=width, height=height, fps=fps, planar=planar,
                         matrix=matrix, full_range=full_range)

    def _open(self, tmp: Path) -> None:
        try:
            self._container = av.open(str(tmp), mode="w", format=self._container_format)
        except av.error.FFmpegError as e:
            raise InputError(f"{self.path}: cannot create output ({e})") from None
        stream = self._container.add_stream(self.codec, rate=self.fps)
        stream.width, stream.height = self.width, self.height
        stream.pix_fmt = self._enc_pix_fmt
        stream.options = self._options
        if self.planar is not None:
            cc = stream.codec_context
            cc.colorspace, cc.color_primaries, cc.color_trc = _TAGS[self.matrix]
            cc.color_range = _AVCOL_RANGE[self.full_range]
        self._stream = stream
        self._pts = 0

    def _encode(self, frame: av.VideoFrame) -> None:
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1) / self.fps
        self._pts += 1
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except av.error.FFmpegError as e:
            raise ExternalToolError(f"{self.path}: encoding with {self.codec} failed ({e})") from None

    def _write_planes(self, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
        fmt = self.planar
        for t in range(y.shape[0]):
            frame = av.VideoFrame(self.width, self.height, fmt.name)
            for plane, data in zip(frame.planes, (y[t], u[t], v[t]), strict=True):
                plane_array(plane, fmt.dtype)[...] = data
            frame.colorspace = _TAGS[self.matrix][0]
            frame.color_range = _AVCOL_RANGE[self.full_range]
            self._encode(frame)

    def _write_rgb(self, rgb: np.ndarray) -> None:
        for t in range(rgb.shape[0]):
            self._encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[t]), format="rgb24"))

    def _finish(self) -> None:
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        except av.error.FFmpegError as e:
            raise ExternalToolError(f"{self.path}: encoding with {self.codec} failed ({e})") from None
        finally:
            self._container.close()

    def _release(self) -> None:
        self._container.close()
