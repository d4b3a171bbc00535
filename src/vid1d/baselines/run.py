"""Rate-distortion curves of classic codecs: encode, decode, measure, write ``vid1d.rd/1``.

For each codec and quality value::

    input --vid1d.io--> source.y4m (yuv420p, first N frames; shared by all codecs)
      source.y4m --ffmpeg encoder--> bitstream (.264/.265/.266/.obu)   rate = file size
      bitstream --ffmpeg decoder--> decoded.y4m (yuv420p)
      compare_videos(source.y4m, decoded.y4m)  -> PSNR RGB/YUV, MS-SSIM, VMAF

Rate is the bitstream file size in bits over ``width * height * frames`` (bpp)
and over the duration (kbps). Decoded 10-bit VVC output becomes 8 bits by
rounding (no dithering) to compare against the 8-bit source, as the JVET tools do.
Encode and decode times are wall-clock times of the ffmpeg processes (including
reading the Y4M and ffmpeg's start-up, a few tens of milliseconds).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vid1d.baselines.codecs import Codec, GopConfig, encoder_version, get_codec
from vid1d.baselines.source import PreparedSource, prepare_source
from vid1d.errors import ExternalToolError, InputError
from vid1d.eval.compare import DEFAULT_METRICS, KEYS, check_metrics, compare_videos
from vid1d.eval.provenance import machine_info, utc_now
from vid1d.eval.rd import SCHEMA, validate_rd
from vid1d.io import count_frames
from vid1d.utils.ffmpeg import run_ffmpeg
from vid1d.utils.fs import atomic_path, check_not_input, make_folder
from vid1d.utils.progress import progress

# Placeholders in the recorded command lines (the real paths are temporary files).
_SOURCE, _DECODED = "SOURCE.y4m", "DECODED.y4m"


@dataclass(frozen=True)
class BaselineSpec:
    """One RD curve to produce: a codec, its preset, and the quality values.

    ``BaselineSpec.parse("x265:veryslow")`` reads the ``codec[:preset]`` form of
    the command line.
    """

    codec: str
    preset: str | None = None
    quality_param: str | None = None
    qualities: tuple[int, ...] | None = None

    @classmethod
    def parse(cls, text: str) -> BaselineSpec:
        name, _, preset = text.strip().partition(":")
        if not name:
            raise InputError(f"empty codec name in {text!r}")
        return cls(name, preset or None)


@dataclass(frozen=True)
class _Plan:
    codec: Codec
    preset: str
    param: str
    values: list[int]


def _plan(spec: BaselineSpec | str, gop: GopConfig) -> _Plan:
    spec = BaselineSpec.parse(spec) if isinstance(spec, str) else spec
    codec = get_codec(spec.codec)
    preset = codec.check_preset(spec.preset)
    param, values = codec.check_quality(spec.quality_param, spec.qualities)
    codec.check_gop(gop)
    return _Plan(codec, preset, param, values)


def _command(args: list[str]) -> str:
    return shlex.join(["ffmpeg", "-hide_banner", "-nostdin", "-y", *args])


def _substitute(args: list[str], paths: dict[str, Path]) -> list[str]:
    return [str(paths[a]) if a in paths else a for a in args]


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text)


def _encode_decode(
    plan: _Plan, value: int, gop: GopConfig, src: PreparedSource, work: Path
) -> dict:
    """One RD point: encode, decode, time both; returns sizes, times, commands, paths."""
    codec = plan.codec
    bitstream = work / f"bitstream{codec.suffix}"
    decoded = work / "decoded.y4m"
    bs_name = f"BITSTREAM{codec.suffix}"
    paths = {_SOURCE: src.y4m, bs_name: bitstream, _DECODED: decoded}
    enc = ["-loglevel", "error", "-i", _SOURCE, "-map", "0:v:0", "-frames:v", str(src.frames)]
    enc += codec.encode_args(
        preset=plan.preset, param=plan.param, value=value, gop=gop, frames=src.frames
    )
    enc += ["-f", codec.muxer, bs_name]
    # Round (no dither) when a 10-bit decoder output becomes 8 bits; no-op for 8-bit.
    dec = ["-loglevel", "error", "-i", bs_name, "-map", "0:v:0", "-fps_mode", "passthrough"]
    dec += ["-vf", "scale=sws_dither=none,format=yuv420p", "-f", "yuv4mpegpipe", _DECODED]
    label = f"{codec.name} {plan.param}={value}"
    t0 = time.perf_counter()
    run_ffmpeg(_substitute(enc, paths), desc=f"{label} encode")
    t1 = time.perf_counter()
    run_ffmpeg(_substitute(dec, paths), desc=f"{label} decode")
    t2 = time.perf_counter()
    n = count_frames(decoded)
    if n != src.frames:
        raise ExternalToolError(f"{label}: decoder returned {n} frames, expected {src.frames}")
    return {
        "bitstream": bitstream,
        "decoded": decoded,
        "bytes": bitstream.stat().st_size,
        "encode_seconds": t1 - t0,
        "decode_seconds": t2 - t1,
        "command": {"encode": _command(enc), "decode": _command(dec)},
    }


def run_baselines(
    input: str | os.PathLike,
    specs: Sequence[BaselineSpec | str],
    *,
    frames: int | None = None,
    config: str = "low-delay",
    intra_period: int | None = None,
    size: tuple[int, int] | None = None,
    pix_fmt: str | None = None,
    fps: float | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    keep_dir: str | os.PathLike | None = None,
    device: str = "cpu",
) -> list[dict]:
    """RD curves (``vid1d.rd/1`` dicts, one per spec) of classic codecs on one input.

    Args:
        input: any video :func:`vid1d.io.open_video` reads (``size``/``pix_fmt``/``fps``
            describe raw ``.yuv``).
        specs: codecs to run, as :class:`BaselineSpec` or ``"codec[:preset]"`` strings.
        frames: code the first ``frames`` frames (all if None).
        config: ``"low-delay"`` or ``"random-access"`` (see :mod:`vid1d.baselines.codecs`).
        intra_period: frames between intra pictures; default -1 (low-delay) or 32.
        metrics: what :func:`vid1d.eval.compare.compare_videos` measures.
        keep_dir: if given, every bitstream is kept there (named after source, codec,
            preset, configuration and quality) and its path recorded in the point.
        device: where the frame metrics run.

    Raises:
        InputError: bad input or options (checked before anything is encoded).
        ExternalToolError: an encoder is missing from ffmpeg, or ffmpeg failed.
    """
    gop = GopConfig.make(config, intra_period)
    if not specs:
        raise InputError("no codecs given")
    plans = [_plan(s, gop) for s in specs]
    seen = set()
    for plan in plans:
        if (plan.codec.name, plan.preset) in seen:  # same curve, same output file
            raise InputError(f"{plan.codec.name} {plan.preset} is given twice")
        seen.add((plan.codec.name, plan.preset))
    metrics = check_metrics(metrics)
    keep = make_folder(keep_dir, "bitstream folder") if keep_dir is not None else None

    with tempfile.TemporaryDirectory(prefix="vid1d-baseline-") as tmp:
        work = Path(tmp)
        src = prepare_source(
            input, work / "source.y4m", frames=frames, size=size, pix_fmt=pix_fmt, fps=fps
        )
        machine = machine_info()
        results: list[dict] = []
        bar = progress(total=sum(len(p.values) for p in plans), desc="baselines", unit="point")
        try:
            for plan in plans:
                points = []
                for value in plan.values:
                    bar.set_description(f"{plan.codec.name} {plan.preset} {plan.param}={value}")
                    points.append(_point(plan, value, gop, src, work, metrics, keep, device))
                    bar.update(1)
                versions = points[-1].pop("_metric_versions")
                for p in points:
                    p.pop("_metric_versions", None)
                results.append(_rd_file(plan, gop, src.record, points, versions, machine))
        finally:
            bar.close()
    return results


def _point(
    plan: _Plan,
    value: int,
    gop: GopConfig,
    src: PreparedSource,
    work: Path,
    metrics: tuple[str, ...],
    keep: Path | None,
    device: str,
) -> dict:
    """Encode, decode and measure one RD point (plus ``_metric_versions``, popped by the caller)."""
    record = src.record
    pixels = record["width"] * record["height"] * record["frames"]
    coded = _encode_decode(plan, value, gop, src, work)
    cmp = compare_videos(
        src.y4m,
        coded["decoded"],
        metrics=metrics,
        matrix=src.matrix,
        full_range=src.full_range,
        device=device,
    )
    bitstream = None
    if keep is not None:
        name = (
            _safe(
                f"{Path(record['name']).stem}_{plan.codec.name}_{plan.preset}_"
                f"{gop.config}_{plan.param}{value}"
            )
            + plan.codec.suffix
        )
        bitstream = keep / name
        check_not_input(bitstream, [record["path"]])
        with atomic_path(bitstream) as tmp:
            shutil.copyfile(coded["bitstream"], tmp)
    # every standard metric key is present; null when it was not measured
    keys = [k for m in dict.fromkeys((*DEFAULT_METRICS, *metrics)) for k in KEYS[m]]
    return {
        "quality": {"param": plan.param, "value": value},
        "bytes": coded["bytes"],
        "bpp": coded["bytes"] * 8 / pixels,
        "kbps": coded["bytes"] * 8 / (record["frames"] / record["fps"]) / 1000,
        "frames": cmp["frames"],
        **{k: cmp["mean"].get(k) for k in keys},
        "per_frame": cmp["per_frame"],
        "encode_seconds": round(coded["encode_seconds"], 4),
        "decode_seconds": round(coded["decode_seconds"], 4),
        "command": coded["command"],
        "bitstream": None if bitstream is None else str(bitstream),
        "_metric_versions": cmp["metric_versions"],
    }


def _rd_file(
    plan: _Plan, gop: GopConfig, source: dict, points: list[dict], versions: dict, machine: dict
) -> dict:
    from vid1d import __version__

    codec = plan.codec
    rd = {
        "schema": SCHEMA,
        "source": source,
        "codec": {
            "name": codec.name,
            "label": f"{codec.name} {plan.preset}",
            "kind": "classic",
            "standard": codec.standard,
            "implementation": codec.implementation,
            "version": encoder_version(codec),
            "preset": plan.preset,
            "config": gop.config,
            "intra_period": gop.intra_period,
            "gop": gop.gop,
            "quality_param": plan.param,
            "container": codec.container,
        },
        "points": points,
        "metric_versions": versions,
        "machine": machine,
        "date": utc_now(),
        "vid1d_version": __version__,
    }
    return validate_rd(rd, f"{codec.name} result")


def run_baseline(
    input: str | os.PathLike,
    codec: str = "x265",
    *,
    preset: str | None = None,
    quality_param: str | None = None,
    qualities: Sequence[int] | None = None,
    **kwargs,
) -> dict:
    """One codec's RD curve; keyword arguments as :func:`run_baselines`."""
    spec = BaselineSpec(
        codec, preset, quality_param, tuple(qualities) if qualities is not None else None
    )
    return run_baselines(input, [spec], **kwargs)[0]
