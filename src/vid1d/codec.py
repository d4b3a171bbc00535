"""Encode and decode videos with a learned frame codec, through the .v1d container.

Any model with this frame-level interface can be run here (GVC1D is one)::

    model.compress_frame(x (1,3,H,W), state | None, quality)
        -> (FrameCode(data, symbols, estimated_bits), x_hat (1,3,H,W), next_state)
    model.decompress_frame(data, state | None, quality, height, width, device)
        -> (x_hat, symbols, next_state)
    model.lmbda_for_quality(quality) -> float   (recorded in the header)
    model.quality_for_lmbda(lmbda) -> float     (its inverse, clamped to the range)
    model.cfg.num_lmbdas -> int                 (quality lies in [0, num_lmbdas - 1])

``state=None`` means an intra frame (empty context). Frames are read, coded and
written one at a time, so memory stays bounded for any video length. The header
names the model id and the hash of its weights; the decoder refuses a stream
made by other weights, and checks each frame's symbol CRC, so a mismatch is an
error, never wrong video.

Coding precision. The entropy model's parameters are rounded to integer table indices;
if two machines computed them with other float rounding, a value near a boundary could
land on another index and the CRC would stop the decode. On an H200, float32 streams at
480p and 720p failed to decode across CPU and CUDA within 1 to 5 frames
(docs/results/cross_device.md). Three precisions, stored in the header's extension
(``{"precision": ...}``, JSON), which the decoder follows:

* ``int`` (default): the networks the probabilities depend on run in fixed-point
  integers (models/gvc1d/fixed.py, nn/fixed.py), so encoder and decoder compute the
  same indices on any machine by construction (DESIGN.md "Contracts"). The rate and
  PSNR are those of float64 coding to 0.25% and 0.05 dB (docs/results/integer_coding*.md,
  gvc1d_eval_int/);
  on a CPU it costs 1.3-1.6x float64's encode time and 2.2-2.5x its decode time at 480p
  and 720p (docs/results/codec_speed_int.md against codec_speed_float64_rerun.md).
* ``float64``: unit roundoff 2^-53 (and no TF32 on a GPU): a crossing is very
  unlikely, not impossible; a model without an integer path codes in it.
* ``float32``: ~3x faster than float64 on a CPU; portable only between devices of the
  same kind.

A stream without an extension (written before the field) is float32.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from safetensors.torch import save as safetensors_bytes

from vid1d.bitstream import (
    BitstreamReader,
    BitstreamWriter,
    ChunkType,
    ColorFormat,
    FramePayload,
    FrameType,
    StreamHeader,
    iter_frames,
    symbols_crc32,
)
from vid1d.errors import BitstreamError, InputError
from vid1d.utils.device import check_device
from vid1d.utils.fs import check_not_input
from vid1d.utils.progress import progress

if TYPE_CHECKING:
    from vid1d.models.checkpoint import Checkpoint


@dataclass
class FrameCode:
    """One coded frame: the entropy-coded bytes and what the container needs."""

    data: bytes
    symbols: np.ndarray  # int32, the coded symbols in coding order (for the symbol CRC)
    estimated_bits: float  # ideal code length under the model's integer tables


CODEC_METHODS = ("compress_frame", "decompress_frame", "lmbda_for_quality", "quality_for_lmbda")


def load_codec(model: str | os.PathLike,
               device: str | torch.device = "cpu") -> tuple[torch.nn.Module, Checkpoint]:
    """:func:`~vid1d.models.registry.load_model` for a model with the frame-codec
    interface above; a tokenizer or autoencoder id is an InputError, not a crash later."""
    from vid1d.models.registry import load_model

    module, ckpt = load_model(model, device=device)
    if not all(callable(getattr(module, name, None)) for name in CODEC_METHODS):
        kind = ckpt.meta["type"]
        hint = ("a One-DVA tokenizer, not a codec; use vid1d tokenize" if kind == "onedva"
                else f"a {kind} model, not a codec (it has no frame coding)")
        raise InputError(f"{model} is {hint}")
    return module, ckpt


def check_quality(model: torch.nn.Module, quality: float, name: str = "quality") -> float:
    """``quality`` as a float in the codec's range [0, levels - 1], or InputError
    (NaN and infinities fail the range test too)."""
    top = model.cfg.num_lmbdas - 1
    try:
        q = float(quality)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {quality!r}") from None
    if not 0 <= q <= top:
        raise InputError(f"{name} must be in [0, {top}], got {quality}")
    return q


# Peak resident memory of learned coding grows with the frame area: 435-660 bytes per
# extra pixel for gvc1d-small decoding on a CPU in float32, 620-665 per pixel in all at
# 1920x1088; in float64 2966 per extra pixel from 640x360 to 1280x720, 3570 per pixel in
# all at 1280x720 (docs/results/decode_memory.md, with the command). The check uses 650
# and 3600.
CODING_BYTES_PER_PIXEL = 650  # float32
CODING_BYTES_PER_PIXEL_FLOAT64 = 3600
# Integer coding (precision "int"): 1069 per extra pixel from 640x360 to 1280x720, 1647 per
# pixel in all at 1280x720 (same file). The check uses 1700.
CODING_BYTES_PER_PIXEL_INT = 1700

# precision -> the float type of the model's float parts ("int": the encoder's analysis
# and the pixel head; everything the probabilities depend on runs in integers).
PRECISIONS = {"float32": torch.float32, "float64": torch.float64, "int": torch.float32}
DEFAULT_PRECISION = "int"  # for models with an integer coding path; float64 for the others


def resolve_precision(model: torch.nn.Module, precision: str | None) -> str:
    """``precision``, checked; None (the default) is int for a model with an integer
    coding path (``model.fixed_point``) and float64 for any other."""
    if precision is None:
        return DEFAULT_PRECISION if callable(getattr(model, "fixed_point", None)) else "float64"
    check_precision(precision)
    return precision


def check_precision(precision: str) -> torch.dtype:
    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return PRECISIONS[precision]


def header_extension(precision: str, device: str | torch.device) -> bytes:
    """What a learned-codec stream records beyond the container's fields (JSON):
    the coding precision the decoder must use, and the kind of device that encoded it
    (for the error message when a decode on another kind of device fails)."""
    return json.dumps({"precision": precision, "device": torch.device(device).type},
                      sort_keys=True, separators=(",", ":")).encode()


def parse_extension(extension: bytes) -> dict:
    """The header extension of a learned-codec stream: ``{"precision", "device"}``;
    an empty one (streams written before the field) is float32 from an unknown device."""
    if not extension:
        return {"precision": "float32", "device": None}
    try:
        ext = json.loads(extension.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BitstreamError("invalid header extension (not JSON)") from None
    if not isinstance(ext, dict) or ext.get("precision") not in PRECISIONS:
        raise BitstreamError(f"invalid header extension: unknown coding precision "
                             f"{ext.get('precision') if isinstance(ext, dict) else ext!r}")
    device = ext.get("device")
    return {"precision": ext["precision"], "device": device if isinstance(device, str) else None}


def _memory_available() -> int | None:
    """MemAvailable from /proc/meminfo in bytes (None where there is no such file)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_frame_memory(width: int, height: int, device: str | torch.device, what: str,
                       dtype: torch.dtype = torch.float32) -> None:
    """InputError when coding one ``width``×``height`` frame on the CPU would need more
    memory than the machine has free. A stream header can declare up to 16384x16384
    (about 160 GiB to decode here): refusing up front is a one-line error, where
    allocating would end in the kernel's OOM killer, leaving a temporary output behind."""
    if torch.device(device).type != "cpu":
        return  # CUDA reports its own out-of-memory errors
    per_pixel = {torch.float64: CODING_BYTES_PER_PIXEL_FLOAT64,
                 torch.int64: CODING_BYTES_PER_PIXEL_INT}.get(dtype, CODING_BYTES_PER_PIXEL)
    need = width * height * per_pixel
    free = _memory_available()
    if free is not None and need > free:
        raise InputError(f"{what} a {width}x{height} frame needs about {need / 2**30:.1f} GiB of "
                         f"memory; {free / 2**30:.1f} GiB is free")


def prepare_for_coding(model: torch.nn.Module) -> torch.nn.Module:
    """eval mode + integer coding tables built (``model.update()``), before any hashing."""
    model.eval()
    if callable(getattr(model, "update", None)):
        model.update()
    return model


def weights_sha256(model: torch.nn.Module) -> bytes:
    """Content hash of a model's weights (its state dict serialised as safetensors),
    taken after :func:`prepare_for_coding`, so tables saved in the state dict count."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return hashlib.sha256(safetensors_bytes(state)).digest()


@dataclass
class CodingReport:
    """What an encode (or decode) measured; per-frame lists in coding order."""

    frames: int = 0
    width: int = 0
    height: int = 0
    file_bytes: int = 0
    frame_bytes: list[int] = field(default_factory=list)
    estimated_bits: list[float] = field(default_factory=list)
    psnr: list[float] = field(default_factory=list)  # of the reconstruction vs the source
    seconds: float = 0.0

    @property
    def bpp(self) -> float:
        return 8 * self.file_bytes / max(1, self.frames * self.width * self.height)

    @property
    def estimated_bpp(self) -> float:
        return sum(self.estimated_bits) / max(1, self.frames * self.width * self.height)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float((a.float() - b.float()).pow(2).mean())
    return 100.0 if mse == 0 else -10.0 * float(np.log10(mse))


def _is_intra(index: int, intra_period: int) -> bool:
    return index == 0 or (intra_period > 0 and index % intra_period == 0)


@contextlib.contextmanager
def coding_dtype(model: torch.nn.Module, dtype: torch.dtype):
    """Cast the model's float parameters and buffers to ``dtype`` for the block, then each
    back to its own type (exact for float32 weights in float64). The parameter objects
    stay the same, so a caller's references to them stay valid."""
    cast = []  # (module, "p" | "b", name, original dtype)
    for m in model.modules():
        for name, t in m._parameters.items():
            if t is not None and t.is_floating_point() and t.dtype != dtype:
                cast.append((m, "p", name, t.dtype))
                t.data = t.data.to(dtype)
        for name, t in m._buffers.items():
            if t is not None and t.is_floating_point() and t.dtype != dtype:
                cast.append((m, "b", name, t.dtype))
                m._buffers[name] = t.to(dtype)
    try:
        yield model
    finally:
        for m, kind, name, orig in cast:
            if kind == "p":
                m._parameters[name].data = m._parameters[name].data.to(orig)
            else:
                m._buffers[name] = m._buffers[name].to(orig)


@contextlib.contextmanager
def coding_precision(model: torch.nn.Module, precision: str):
    """Run the block in a coding precision: the float ones cast the model
    (:func:`coding_dtype`); "int" also switches it to its integer networks
    (``model.fixed_point()``), built from the weights as they are now."""
    with coding_dtype(model, check_precision(precision)):
        if precision != "int":
            yield model
            return
        if not callable(getattr(model, "fixed_point", None)):
            raise InputError(f"model type {getattr(model, 'model_type', type(model).__name__)!r} "
                             "has no integer coding path (precision 'int')")
        with model.fixed_point():
            yield model


def _memory_dtype(precision: str) -> torch.dtype:
    """What a frame's working memory is made of (for :func:`check_frame_memory`):
    integer coding holds int64 tensors."""
    return torch.int64 if precision == "int" else PRECISIONS[precision]


@torch.no_grad()
def encode_video(model: torch.nn.Module, src: str | os.PathLike, out: str | os.PathLike, *,
                 model_id: str, quality: float, intra_period: int = -1,
                 max_frames: int | None = None, device: str | torch.device = "cpu",
                 precision: str | None = None, on_frame=None, **open_kw) -> CodingReport:
    """Code ``src`` into ``out`` (.v1d, written atomically). ``on_frame(t, x_hat)`` is
    called with each reconstruction (what the decoder will produce). ``precision``:
    the arithmetic of the coding path (module docstring; None: :func:`resolve_precision`)."""
    from vid1d.io import open_video

    check_not_input(out, [src])
    if intra_period != -1 and intra_period < 1:
        raise InputError(f"intra period must be -1 or >= 1, got {intra_period}")
    quality = check_quality(model, quality)
    precision = resolve_precision(model, precision)
    dtype = PRECISIONS[precision]
    model = prepare_for_coding(model.to(device))
    sha = weights_sha256(model)  # of the weights as stored, before the cast
    report = CodingReport()
    start = time.perf_counter()
    with open_video(src, **open_kw) as reader, coding_precision(model, precision):
        info = reader.info
        check_frame_memory(info.width, info.height, device, "encoding", _memory_dtype(precision))
        report.width, report.height = info.width, info.height
        lmbda = model.lmbda_for_quality(quality)
        header = StreamHeader(
            model_id=model_id, width=info.width, height=info.height,
            fps_num=info.fps.numerator, fps_den=info.fps.denominator,
            weights_sha256=sha, color_format=ColorFormat.RGB,
            full_range=True, bit_depth=8, intra_period=intra_period, quality=quality,
            lmbda=lmbda, extension=header_extension(precision, device))
        total = max_frames if info.num_frames is None else min(info.num_frames, max_frames or 1 << 62)
        bar = progress(total=total, desc=f"encode {Path(src).name}", unit="frame")
        with BitstreamWriter(out, header) as writer:
            state, t = None, 0
            for chunk in reader.chunks(8, max_frames):
                for x in chunk.unbind(1):  # (3, H, W)
                    x = x[None].to(device=device, dtype=dtype)
                    intra = _is_intra(t, intra_period)
                    code, x_hat, state = model.compress_frame(x, None if intra else state, quality)
                    payload = FramePayload(t, FrameType.INTRA if intra else FrameType.INTER,
                                           symbols_crc32(code.symbols), (code.data,))
                    writer.write_chunk(ChunkType.FRAME, payload.pack())
                    report.frame_bytes.append(len(code.data))
                    report.estimated_bits.append(code.estimated_bits)
                    report.psnr.append(_psnr(x_hat, x))
                    if on_frame is not None:
                        on_frame(t, x_hat)
                    t += 1
                    bar.update(1)
            if t == 0:
                raise InputError(f"{src}: no frames to encode")
        bar.close()
    report.frames = t
    report.file_bytes = Path(out).stat().st_size
    report.seconds = time.perf_counter() - start
    return report


def _mismatch_hint(ext: dict, device: str | torch.device) -> str:
    """Why a symbol CRC may fail other than a corrupt stream: another kind of device
    (and float32 coding) than the encoder's."""
    here = torch.device(device).type
    if ext["device"] and ext["device"] != here and ext["precision"] != "int":
        return (f"; the stream was encoded on {ext['device']} in {ext['precision']} and is "
                f"decoded on {here}: decode it on {ext['device']}"
                + (" (float32 streams decode reliably only on the kind of device that encoded "
                   "them; encode with --precision int for portable streams)"
                   if ext["precision"] == "float32" else ""))
    return ""


@torch.no_grad()
def decode_video(stream: str | os.PathLike, out: str | os.PathLike | None, *,
                 model: torch.nn.Module | None = None, device: str | torch.device = "cpu",
                 on_frame=None, **writer_kw) -> CodingReport:
    """Decode a .v1d stream to a video file (any format vid1d.io writes) or, with
    ``out=None``, only to ``on_frame(t, x_hat)`` callbacks."""
    from vid1d.io import open_writer

    check_device(device)  # here, not in load_codec: its error would blame the stream's model
    if out is not None:
        check_not_input(out, [stream])
    report = CodingReport()
    start = time.perf_counter()
    with BitstreamReader(stream) as reader:
        h = reader.header
        if h.color_format != ColorFormat.RGB:
            raise BitstreamError(f"colour format {h.color_format.name} is not supported by "
                                 "learned-codec decoding")
        if h.bit_depth != 8 or h.frame_count == 0:  # encode_video writes 8 bits, >= 1 frame
            raise BitstreamError(f"a learned-codec stream has 8-bit frames and at least one, "
                                 f"not {h.frame_count} of {h.bit_depth} bits")
        ext = parse_extension(h.extension)
        check_frame_memory(h.width, h.height, device, "decoding", _memory_dtype(ext["precision"]))
        if model is None:
            try:
                model, _ = load_codec(h.model_id, device=device)
            except InputError as e:
                raise InputError(f"stream was made by model {h.model_id!r}: {e}") from None
        model = prepare_for_coding(model.to(device))
        try:
            check_quality(model, h.quality, "the header's quality")
        except InputError as e:
            raise BitstreamError(str(e)) from None
        if weights_sha256(model) != h.weights_sha256:
            raise BitstreamError(f"stream was made by other weights than this {h.model_id!r} "
                                 "model's (weights hash differs)")
        report.width, report.height = h.width, h.height
        writer = (open_writer(out, width=h.width, height=h.height,
                              fps=f"{h.fps_num}/{h.fps_den}", **writer_kw)
                  if out is not None else None)
        bar = progress(total=h.frame_count, desc=f"decode {Path(stream).name}", unit="frame")
        try:
            with coding_precision(model, ext["precision"]):  # the stream's precision
                state = None
                for frame in iter_frames(reader):
                    if len(frame.streams) != 1:
                        raise BitstreamError(f"frame {frame.frame_index}: expected 1 substream")
                    intra = frame.frame_type == FrameType.INTRA
                    if intra != _is_intra(frame.frame_index, h.intra_period):
                        raise BitstreamError(f"frame {frame.frame_index}: frame type contradicts "
                                             "the header's intra period")
                    x_hat, symbols, state = model.decompress_frame(
                        frame.streams[0], None if intra else state, h.quality, h.height, h.width,
                        device)
                    try:
                        frame.check_symbols(symbols)
                    except BitstreamError as e:
                        raise BitstreamError(f"{e}{_mismatch_hint(ext, device)}") from None
                    if writer is not None:
                        writer.write(x_hat[0].cpu()[:, None])  # (3, 1, H, W)
                    if on_frame is not None:
                        on_frame(frame.frame_index, x_hat)
                    report.frame_bytes.append(len(frame.streams[0]))
                    report.frames += 1
                    bar.update(1)
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        finally:
            bar.close()
        if writer is not None:
            writer.close()
    report.file_bytes = Path(stream).stat().st_size
    report.seconds = time.perf_counter() - start
    return report
