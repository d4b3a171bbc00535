"""The one ffmpeg binary vid1d uses: the one the PyPI package imageio-ffmpeg ships.

It carries x264, x265, VVenC, SVT-AV1, libaom and libvmaf (Debian's ffmpeg lacks
VVenC and libvmaf). Every call goes through :func:`run_ffmpeg`, so a failure is
an :class:`ExternalToolError` with ffmpeg's own last error line.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Sequence

from vid1d.errors import ExternalToolError


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError as e:  # pragma: no cover - a core dependency
        raise ExternalToolError("imageio-ffmpeg is not installed (pip install imageio-ffmpeg)") from e
    return imageio_ffmpeg.get_ffmpeg_exe()


@functools.lru_cache(maxsize=1)
def ffmpeg_version() -> str:
    """E.g. 'n9.0.2-17-g2a571b6068-20260930' (recorded in every result file)."""
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True)
    first = out.stdout.splitlines()[0] if out.stdout else ""
    parts = first.split()
    return parts[2] if len(parts) > 2 else first


def run_ffmpeg(args: Sequence[str], *, input: bytes | None = None, desc: str = "ffmpeg",
               timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``ffmpeg -hide_banner -nostdin -y <args>``; raise on failure with the last error line."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *map(str, args)]
    try:
        proc = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise ExternalToolError(f"{desc}: ffmpeg timed out after {timeout}s") from e
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()]
        last = lines[-1] if lines else f"exit code {proc.returncode}"
        raise ExternalToolError(f"{desc}: ffmpeg failed: {last}")
    return proc
