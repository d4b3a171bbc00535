"""The stream header: a list of named, fixed-width fields (Cool-chic style).

Layout (little-endian), after the 12-byte preamble; ``header_len`` counts
everything from ``model_id_len`` to and including ``header_crc32``:

    field               type     notes
    model_id_len        u8       1..128
    model_id            bytes    UTF-8, e.g. "gvc1d-small" or "x265"
    weights_sha256      32 B     sha256 of the model's safetensors (zeros: none)
    width, height       u32 ×2   1..16384, the *displayed* (cropped) size
    frame_count         u32      number of FRAME chunks; must match END
    fps_num, fps_den    u32 ×2   frame rate as a rational, both > 0
    color_format        u8       ColorFormat
    color_matrix        u8       ColorMatrix
    full_range          u8       0 | 1
    bit_depth           u8       8..16
    intra_period        i32      -1: only the first frame is intra; N > 0: every N
    gop_size            u16      0: none / low delay; otherwise GOP length
    quality             f32      the quality knob (continuous index) used
    lmbda               f32      the rate-distortion λ the quality maps to
    extension_len       u16      ≤ 32768
    extension           bytes    model-specific, opaque to the container
    header_crc32        u32      CRC-32 of the preamble and all fields above
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field, fields

from vid1d.bitstream.format import (
    DEFAULT_LIMITS,
    ColorFormat,
    ColorMatrix,
    Limits,
)
from vid1d.errors import BitstreamError

_FIXED = struct.Struct("<32sIIIIIBBBBiHffH")


@dataclass(frozen=True)
class StreamHeader:
    model_id: str
    width: int
    height: int
    fps_num: int = 30
    fps_den: int = 1
    frame_count: int = 0
    weights_sha256: bytes = b"\x00" * 32
    color_format: ColorFormat = ColorFormat.RGB
    color_matrix: ColorMatrix = ColorMatrix.BT709
    full_range: bool = True
    bit_depth: int = 8
    intra_period: int = -1
    gop_size: int = 0
    quality: float = 0.0
    lmbda: float = 0.0
    extension: bytes = field(default=b"", repr=False)

    def validate(self, limits: Limits = DEFAULT_LIMITS) -> None:
        """Raise BitstreamError if any field is outside its documented range."""
        mid = self.model_id.encode("utf-8")
        checks = [
            (1 <= len(mid) <= limits.max_model_id_bytes, f"model id length {len(mid)}"),
            (len(self.weights_sha256) == 32, "weights hash must be 32 bytes"),
            (1 <= self.width <= limits.max_width, f"width {self.width}"),
            (1 <= self.height <= limits.max_height, f"height {self.height}"),
            (0 <= self.frame_count <= limits.max_frames, f"frame count {self.frame_count}"),
            (self.fps_num > 0 and self.fps_den > 0, f"frame rate {self.fps_num}/{self.fps_den}"),
            (8 <= self.bit_depth <= 16, f"bit depth {self.bit_depth}"),
            (self.intra_period == -1 or 1 <= self.intra_period <= limits.max_frames,
             f"intra period {self.intra_period}"),
            (0 <= self.gop_size <= 0xFFFF, f"GOP size {self.gop_size}"),
            (math.isfinite(self.quality) and math.isfinite(self.lmbda), "quality/lambda not finite"),
            (len(self.extension) <= limits.max_extension_bytes,
             f"header extension of {len(self.extension)} bytes"),
        ]
        for ok, what in checks:
            if not ok:
                raise BitstreamError(f"invalid header: {what}")
        try:
            ColorFormat(self.color_format)
            ColorMatrix(self.color_matrix)
        except ValueError as e:
            raise BitstreamError(f"invalid header: {e}") from None

    @property
    def fps(self) -> float:
        return self.fps_num / self.fps_den

    def pack(self) -> bytes:
        """Header fields (without preamble and CRC)."""
        self.validate()
        mid = self.model_id.encode("utf-8")
        return (
            struct.pack("<B", len(mid)) + mid
            + _FIXED.pack(
                self.weights_sha256, self.width, self.height, self.frame_count,
                self.fps_num, self.fps_den, int(self.color_format), int(self.color_matrix),
                int(bool(self.full_range)), self.bit_depth, self.intra_period, self.gop_size,
                self.quality, self.lmbda, len(self.extension),
            )
            + self.extension
        )

    @classmethod
    def unpack(cls, data: bytes, limits: Limits = DEFAULT_LIMITS) -> StreamHeader:
        """Parse header fields; every length is checked against ``data`` before slicing."""
        if len(data) < 1:
            raise BitstreamError("truncated header")
        n = data[0]
        end = 1 + n + _FIXED.size
        if n == 0 or n > limits.max_model_id_bytes or len(data) < end:
            raise BitstreamError("truncated or invalid header (model id)")
        try:
            model_id = data[1 : 1 + n].decode("utf-8")
        except UnicodeDecodeError:
            raise BitstreamError("invalid header: model id is not UTF-8") from None
        (sha, w, h, nf, fnum, fden, cf, cm, fr, bd, ip, gop, q, lm, ext_len) = _FIXED.unpack(
            data[1 + n : end]
        )
        if ext_len > limits.max_extension_bytes or len(data) != end + ext_len:
            raise BitstreamError("invalid header: extension length does not match header length")
        if fr not in (0, 1):
            raise BitstreamError(f"invalid header: full_range flag {fr}")
        try:
            cf, cm = ColorFormat(cf), ColorMatrix(cm)
        except ValueError as e:
            raise BitstreamError(f"invalid header: {e}") from None
        hdr = cls(model_id=model_id, width=w, height=h, fps_num=fnum, fps_den=fden,
                  frame_count=nf, weights_sha256=sha, color_format=cf, color_matrix=cm,
                  full_range=bool(fr), bit_depth=bd, intra_period=ip, gop_size=gop,
                  quality=q, lmbda=lm, extension=data[end:])
        hdr.validate(limits)
        return hdr

    def pretty_string(self) -> str:
        lines = []
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "weights_sha256":
                v = v.hex()
            elif f.name == "extension":  # shown when it is short printable text (JSON)
                text = v.decode("utf-8", "replace")
                v = f"{len(v)} bytes" + (f" {text}" if v and len(v) <= 200 and text.isprintable()
                                         else "")
            elif hasattr(v, "name"):
                v = v.name
            lines.append(f"{f.name:>16}: {v}")
        return "\n".join(lines)
