"""Rate-distortion result files (schema ``vid1d.rd/1``) and BD tables over them.

One RD file holds one codec configuration on one source: a list of points, each
with the real coded size and the quality of the decoded video. Classic anchors
(:mod:`vid1d.baselines`) and learned codecs write the same schema, documented in
``docs/rd_json.md``; :func:`load_rd` checks a file against it, :func:`write_rd`
writes one atomically, :func:`bd_table` / :func:`format_bd_table` compare files.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from vid1d.errors import InputError
from vid1d.metrics import bd_quality, bd_rate
from vid1d.utils.fs import atomic_write_text

SCHEMA = "vid1d.rd/1"
QUALITY_KEYS: tuple[str, ...] = (
    "psnr_rgb",
    "psnr_y",
    "psnr_u",
    "psnr_v",
    "psnr_yuv",
    "ssim",
    "ms_ssim",
    "vmaf",
    "stlpips",
)
"""Per-point quality values; each is a number or null (not measured). Higher is better,
except for the distances in :data:`LOWER_IS_BETTER`."""
LOWER_IS_BETTER: frozenset[str] = frozenset({"stlpips"})
"""Distances: BD tables negate them, so that a positive BD-quality is better for every metric."""
CONFIGS = ("low-delay", "random-access", "all-intra", "other")

_TOP = {
    "schema": str,
    "source": dict,
    "codec": dict,
    "points": list,
    "metric_versions": dict,
    "machine": dict,
    "date": str,
    "vid1d_version": str,
}
_SOURCE = {
    "path": str,
    "sha256": str,
    "width": int,
    "height": int,
    "frames": int,
    "fps": (int, float),
}
_CODEC = {"name": str, "config": str, "intra_period": int}
_POINT = {"quality": dict, "bytes": int, "bpp": (int, float)}
_OPTIONAL_POINT_NUMBERS = ("kbps", "encode_seconds", "decode_seconds")


# ------------------------------------------------------------------ reading and writing


def _fail(where: str, msg: str) -> InputError:
    return InputError(f"{where}: not a valid {SCHEMA} RD file: {msg}")


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _check_fields(obj: dict, spec: dict, where: str, what: str) -> None:
    for key, typ in spec.items():
        if key not in obj:
            raise _fail(where, f"{what} lacks {key!r}")
        v = obj[key]
        ok = isinstance(v, typ) and not isinstance(v, bool)
        if ok and typ in ((int, float), int):
            ok = math.isfinite(v)
        if not ok:
            raise _fail(where, f"{what}.{key} has the wrong type ({type(v).__name__})")


def validate_rd(rd: dict, where: str = "<rd>") -> dict:
    """Check ``rd`` against the ``vid1d.rd/1`` schema; return it, or raise InputError."""
    if not isinstance(rd, dict):
        raise _fail(where, "top level is not a JSON object")
    _check_fields(rd, _TOP, where, "file")
    if rd["schema"] != SCHEMA:
        raise _fail(where, f"schema is {rd['schema']!r}, expected {SCHEMA!r}")
    src, codec = rd["source"], rd["codec"]
    _check_fields(src, _SOURCE, where, "source")
    if min(src["width"], src["height"], src["frames"]) < 1 or src["fps"] <= 0:
        raise _fail(where, "source width, height, frames and fps must be positive")
    _check_fields(codec, _CODEC, where, "codec")
    if codec["config"] not in CONFIGS:
        raise _fail(where, f"codec.config {codec['config']!r} is not one of {', '.join(CONFIGS)}")
    if not rd["points"]:
        raise _fail(where, "no points")
    pixels = src["width"] * src["height"] * src["frames"]
    for i, p in enumerate(rd["points"]):
        what = f"points[{i}]"
        if not isinstance(p, dict):
            raise _fail(where, f"{what} is not an object")
        _check_fields(p, _POINT, where, what)
        q = p["quality"]
        if not isinstance(q.get("param"), str) or not _is_number(q.get("value")):
            raise _fail(where, f"{what}.quality must be {{'param': str, 'value': number}}")
        if p["bytes"] < 0:
            raise _fail(where, f"{what}.bytes is negative")
        if not math.isclose(p["bpp"], p["bytes"] * 8 / pixels, rel_tol=1e-6, abs_tol=1e-12):
            raise _fail(
                where,
                f"{what}.bpp {p['bpp']} != bytes*8/(width*height*frames) "
                f"= {p['bytes'] * 8 / pixels}",
            )
        for key in (*QUALITY_KEYS, *_OPTIONAL_POINT_NUMBERS):
            if key in p and p[key] is not None and not _is_number(p[key]):
                raise _fail(where, f"{what}.{key} must be a number or null")
        per_frame = p.get("per_frame", {})
        if not isinstance(per_frame, dict) or not all(
            isinstance(v, list) and all(x is None or _is_number(x) for x in v)
            for v in per_frame.values()
        ):
            raise _fail(where, f"{what}.per_frame must map metric names to lists of numbers")
    return rd


def load_rd(path: str | os.PathLike) -> dict:
    """Read and validate an RD file; InputError with the reason if it is not one."""
    path = Path(path)
    if path.exists() and not path.is_file():  # a FIFO would block the read forever
        raise InputError(f"{path}: not a regular file")
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read RD file ({e})") from None
    try:
        rd = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not JSON ({e.msg} at line {e.lineno})") from None
    except RecursionError:
        raise InputError(f"{path}: not a valid {SCHEMA} RD file: JSON nested too deeply") from None
    return validate_rd(rd, str(path))


def _finite_or_none(obj):
    """JSON has no inf/NaN: non-finite floats become null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_none(v) for v in obj]
    return obj


def write_rd(rd: dict, path: str | os.PathLike) -> Path:
    """Validate ``rd`` and write it as JSON, atomically."""
    rd = validate_rd(_finite_or_none(rd), str(path))
    atomic_write_text(path, json.dumps(rd, indent=1, allow_nan=False) + "\n")
    return Path(path)


def rd_label(rd: dict) -> str:
    """Short curve name: ``codec.label`` if set, else ``"name preset"`` (``"x265 medium"``)."""
    codec = rd["codec"]
    if codec.get("label"):
        return str(codec["label"])
    preset = codec.get("preset")
    return f"{codec['name']} {preset}" if preset not in (None, "") else str(codec["name"])


def source_key(rd: dict) -> tuple:
    """What makes two RD files comparable: the same input file, size and frames."""
    s = rd["source"]
    return (s["sha256"], s["width"], s["height"], s["frames"])


def source_name(rd: dict) -> str:
    s = rd["source"]
    return str(s.get("name") or Path(s["path"]).name)


def curve(rd: dict, metric: str) -> tuple[list[float], list[float]]:
    """(bpp, metric) of every point; InputError if the metric is missing on some point."""
    rates, values = [], []
    for p in rd["points"]:
        v = p.get(metric)
        if not _is_number(v):
            raise InputError(f"{rd_label(rd)}: no {metric} value on every point")
        rates.append(float(p["bpp"]))
        values.append(float(v))
    return rates, values


# ------------------------------------------------------------------------- BD tables


def _as_rd(item) -> dict:
    return load_rd(item) if isinstance(item, str | os.PathLike) else validate_rd(item)


def _anchor_matches(rds: list[dict], anchor: str) -> list[dict]:
    """The curves ``anchor`` names: by exact label, else by codec name."""
    exact = [rd for rd in rds if rd_label(rd) == anchor]
    return exact or [rd for rd in rds if rd["codec"]["name"] == anchor]


def _pick_anchor(rds: list[dict], anchor: str, source: str) -> dict:
    found = _anchor_matches(rds, anchor)
    if not found:
        raise InputError(
            f"no RD file for anchor {anchor!r} on {source} "
            f"(have: {', '.join(rd_label(rd) for rd in rds)})"
        )
    if len(found) > 1:
        raise InputError(
            f"anchor {anchor!r} is ambiguous on {source}: "
            f"{', '.join(rd_label(rd) for rd in found)} (name one exactly)"
        )
    return found[0]


def check_anchor(anchor: str, codecs: Iterable[dict]) -> None:
    """Refuse, before any coding, an anchor that none (or several) of the codecs to be
    run would match; ``codecs`` are the ``codec`` records (``name``, ``label``) they will
    write. The same matching rule as :func:`bd_table`."""
    stubs = [{"codec": c} for c in codecs]
    found = _anchor_matches(stubs, anchor)
    if not found:
        raise InputError(f"anchor {anchor!r} matches none of the codecs to run "
                         f"({', '.join(rd_label(rd) for rd in stubs)})")
    if len(found) > 1:
        raise InputError(f"anchor {anchor!r} is ambiguous: "
                         f"{', '.join(rd_label(rd) for rd in found)} (name one exactly)")


def bd_table(
    rd_files: Iterable[str | os.PathLike | dict],
    anchor: str,
    metrics: Sequence[str] = ("psnr_rgb", "ms_ssim", "vmaf"),
    method: str = "pchip",
) -> list[dict]:
    """BD-rate and BD-quality of every RD curve against the anchor on the same source.

    Files are grouped by source (file hash, size, frames); each group needs exactly
    one file matching ``anchor`` (by label, e.g. ``"x265 veryslow"``, or codec name).
    Rate is bpp. A delta that is undefined for a pair (fewer than 4 points, no overlap,
    metric not measured; for BD-rate also a curve whose quality does not rise with
    rate) gets ``None`` and the reason in ``note``; the other delta is still computed.
    With several sources, rows with ``source == "average"`` hold the mean over sources
    (None unless every source has a value).

    Returns:
        One dict per (source, codec, metric): ``source``, ``codec``, ``config``,
        ``anchor``, ``metric``, ``bd_rate`` (percent, negative = fewer bits),
        ``bd_quality`` (metric units, positive = better), ``method``, ``note``.
    """
    if method not in ("pchip", "cubic"):
        raise InputError(f"unknown BD method {method!r} (use 'pchip' or 'cubic')")
    for m in metrics:
        if m not in QUALITY_KEYS:
            raise InputError(f"unknown metric {m!r} (choose from {', '.join(QUALITY_KEYS)})")
    rds = [_as_rd(f) for f in rd_files]
    if not rds:
        raise InputError("no RD files given")
    groups: dict[tuple, list[dict]] = {}
    for rd in rds:
        groups.setdefault(source_key(rd), []).append(rd)

    rows: list[dict] = []
    for group in groups.values():
        source = source_name(group[0])
        anc = _pick_anchor(group, anchor, source)
        for rd in group:
            if rd is anc:
                continue
            for metric in metrics:
                row = {
                    "source": source,
                    "codec": rd_label(rd),
                    "config": rd["codec"]["config"],
                    "anchor": rd_label(anc),
                    "metric": metric,
                    "bd_rate": None,
                    "bd_quality": None,
                    "method": method,
                    "note": None,
                }
                try:
                    ra, qa = curve(anc, metric)
                    rt, qt = curve(rd, metric)
                    if metric in LOWER_IS_BETTER:
                        qa, qt = [-v for v in qa], [-v for v in qt]
                except InputError as e:
                    row["note"] = str(e)
                else:
                    row.update(_deltas(ra, qa, rt, qt, metric, method))
                rows.append(row)
    if len(groups) > 1:
        rows += _averages(rows, n_sources=len(groups))
    return rows


def _deltas(ra, qa, rt, qt, metric: str, method: str) -> dict:
    """``bd_rate``, ``bd_quality`` and ``note`` of one pair of curves. Each delta is tried
    on its own: BD-quality is often defined where BD-rate is not (qualities that never
    meet, or a test curve whose quality dips with rate), and the note says which one is
    missing and why."""
    out: dict = {"bd_rate": None, "bd_quality": None, "note": None}
    why: dict[str, str] = {}
    for key, fn, label in (("bd_rate", bd_rate, "BD-rate"), ("bd_quality", bd_quality, f"BD-{metric}")):
        try:
            out[key] = fn(ra, qa, rt, qt, method=method)
        except InputError as e:
            why[label] = str(e)
    if len(set(why.values())) == 1 and len(why) == 2:
        out["note"] = next(iter(why.values()))
    elif why:
        out["note"] = "; ".join(f"{label} n/a: {msg}" for label, msg in why.items())
    return out


def _averages(rows: list[dict], n_sources: int) -> list[dict]:
    by_key: dict[tuple, list[dict]] = {}
    for r in rows:
        by_key.setdefault((r["codec"], r["metric"]), []).append(r)
    out = []
    for (codec, metric), rs in by_key.items():
        avg = {
            "source": "average",
            "codec": codec,
            "config": rs[0]["config"],
            "anchor": rs[0]["anchor"],
            "metric": metric,
            "method": rs[0]["method"],
            "note": None,
        }
        missing = []
        for key, label in (("bd_rate", "BD-rate"), ("bd_quality", f"BD-{metric}")):
            vals = [r[key] for r in rs if r[key] is not None]
            avg[key] = sum(vals) / len(vals) if len(vals) == n_sources else None
            if avg[key] is None:
                missing.append(f"{label} defined on {len(vals)} of {n_sources} sources")
        avg["note"] = "; ".join(missing) or None
        out.append(avg)
    return out


def _cell(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def format_bd_table(rows: list[dict], fmt: str = "markdown") -> str:
    """Rows of :func:`bd_table` as a table: one line per (source, codec), per metric the
    BD-rate in percent and the BD-quality (dB for PSNR). ``fmt`` is ``"markdown"`` or ``"text"``."""
    if fmt not in ("markdown", "text"):
        raise InputError(f"unknown table format {fmt!r} (use 'markdown' or 'text')")
    if not rows:
        return "(no comparisons)\n"
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    header = ["source", "codec", "config"]
    for m in metrics:
        header += [f"BD-rate {m} (%)", f"BD-{m}"]
    lines: dict[tuple, list[str]] = {}
    notes: list[str] = []
    for r in rows:
        key = (r["source"], r["codec"])
        line = lines.setdefault(
            key, [r["source"], r["codec"], r["config"]] + [""] * 2 * len(metrics)
        )
        j = 3 + 2 * metrics.index(r["metric"])
        line[j] = _cell(r["bd_rate"], "+.2f")
        line[j + 1] = _cell(
            r["bd_quality"], "+.4f" if r["metric"] in ("ms_ssim", "ssim", "stlpips") else "+.3f"
        )
        if r["note"]:
            notes.append(f"{r['source']} / {r['codec']} / {r['metric']}: {r['note']}")
    body = list(lines.values())
    anchor = ", ".join(dict.fromkeys(r["anchor"] for r in rows))
    foot = [
        f"anchor: {anchor}; rate: bpp; BD method: {rows[0]['method']}; "
        "negative BD-rate = fewer bits than the anchor at equal quality"
    ]
    foot += [f"BD-{m} > 0: {m} lower (better) than the anchor's at equal rate (notes quote -{m})"
             for m in metrics if m in LOWER_IS_BETTER]
    foot += notes
    if fmt == "markdown":
        out = [
            "| " + " | ".join(header) + " |",
            "|" + "|".join("---" if i < 3 else "---:" for i in range(len(header))) + "|",
        ]
        out += ["| " + " | ".join(row) + " |" for row in body]
        out += [""] + [f"- {f}" for f in foot]
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=True)]

        def fmt_row(row):
            return "  ".join(
                s.ljust(w) if i < 3 else s.rjust(w)
                for i, (s, w) in enumerate(zip(row, widths, strict=True))
            )

        out = [fmt_row(header), "  ".join("-" * w for w in widths)]
        out += [fmt_row(row) for row in body]
        out += [""] + foot
    return "\n".join(out) + "\n"
