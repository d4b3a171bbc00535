"""Where a result came from: input hash, machine, date (recorded in every result file)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
from pathlib import Path

from vid1d.errors import InputError

HASH_WHOLE_FILE_MAX = 256 * 2**20
"""Files up to this size are hashed whole; larger ones by their first MiB (stated in the result)."""
HASH_PREFIX = 2**20


def source_hash(path: str | os.PathLike) -> tuple[str, int]:
    """``(sha256 hex, bytes hashed)`` of a file: all of it up to 256 MiB, else its first MiB.

    Identifies the input of an RD curve cheaply even for multi-GB raw YUV; the byte
    count says which of the two was done. A folder (PNG frames) hashes its sorted
    file names and sizes.
    """
    p = Path(path)
    h = hashlib.sha256()
    if p.is_dir():
        for f in sorted(p.iterdir()):
            if f.is_file():
                h.update(f"{f.name}\0{f.stat().st_size}\n".encode())
        return h.hexdigest(), 0
    try:
        size = p.stat().st_size
        limit = size if size <= HASH_WHOLE_FILE_MAX else HASH_PREFIX
        done = 0
        with open(p, "rb") as f:
            while done < limit:
                block = f.read(min(2**20, limit - done))
                if not block:
                    break
                h.update(block)
                done += len(block)
    except OSError as e:
        raise InputError(f"{p}: cannot read ({e.strerror})") from None
    return h.hexdigest(), done


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    """CPU, core count, OS and Python/torch versions (no host or user names)."""
    import torch

    info = {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def utc_now() -> str:
    """ISO 8601 UTC timestamp, seconds precision (``2026-11-22T10:31:02Z``)."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_result(prefix: str | os.PathLike, meta: dict, lines: list[str]) -> None:
    """A benchmark's result: ``prefix.json`` (``meta``) and ``prefix.md`` (``lines``),
    parent folder created; the markdown is printed too."""
    prefix = str(prefix)
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    Path(prefix + ".json").write_text(json.dumps(meta, indent=1) + "\n")
    Path(prefix + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
