"""Finding clip sources under a folder and indexing their frames for random access.

A :class:`Source` is plain picklable data (paths, sizes, frame positions): datasets
hold lists of them and DataLoader workers receive copies, never an open file. The
index is built once when the dataset is created:

* video containers (PyAV): the presentation timestamps of every frame, from demuxing
  the packets without decoding (cheap), so a clip can start at any frame by seeking
  to the keyframe before it (see :mod:`vid1d.data.clips`);
* ``.y4m``: the byte offset of every frame (scanned by :class:`vid1d.io.y4m.Y4MReader`);
* ``.yuv``: offsets are ``i * frame_bytes`` (size and format from the file name);
* frame folders: the image files :func:`vid1d.io.png.list_frames` picks (PNG, else
  JPEG; natural order: ``im2`` < ``im10``).

Labels: a source's class is its parent folder relative to the root
(``root/dogs/x.mp4`` -> ``dogs``, Vimeo ``sequences/00001/0001`` -> ``00001``); sources
directly under the root are each their own class, named by the file stem or folder.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vid1d.errors import InputError

VIDEO_EXTS = frozenset({".mp4", ".mkv", ".avi", ".mpg", ".mpeg", ".mov", ".webm", ".m4v",
                        ".ts", ".m2ts", ".flv", ".wmv", ".3gp", ".ogv", ".y4m"})
YUV_EXTS = frozenset({".yuv"})
IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg"})  # what vid1d.io.png decodes


@dataclass(frozen=True)
class Positions:
    """An increasing integer sequence stored as (first, step, n) when arithmetic.

    Frame timestamps of constant-rate video and frame offsets of raw video are
    arithmetic, so a corpus index stays small when pickled to every worker.
    """

    first: int
    step: int
    n: int
    values: np.ndarray | None = None  # set only when the sequence is not arithmetic

    @classmethod
    def of(cls, values) -> Positions:
        v = np.asarray(values, dtype=np.int64)
        if v.ndim != 1:
            raise ValueError("positions must be one-dimensional")
        if len(v) >= 2 and np.all(np.diff(v) == v[1] - v[0]):
            return cls(int(v[0]), int(v[1] - v[0]), len(v))
        if len(v) == 1:
            return cls(int(v[0]), 0, 1)
        return cls(int(v[0]) if len(v) else 0, 0, len(v), v)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        if not 0 <= i < self.n:
            raise IndexError(i)
        return int(self.values[i]) if self.values is not None else self.first + i * self.step

    def index_of(self, value: int) -> int:
        """Index of the last position <= ``value`` (0 when ``value`` precedes them all)."""
        if self.values is not None:
            return max(int(np.searchsorted(self.values, value, side="right")) - 1, 0)
        if self.step == 0 or value <= self.first:
            return 0
        return min((value - self.first) // self.step, self.n - 1)


@dataclass(frozen=True)
class Source:
    """One video (file or frame folder) and how to reach any of its frames."""

    path: str  # absolute path of the file or frame folder
    key: str  # path relative to the dataset root, '/'-separated: the split and label key
    kind: str  # "av" | "y4m" | "yuv" | "frames"
    width: int
    height: int
    num_frames: int
    positions: Positions | None = None  # av: sorted pts (None: no timestamps); y4m/yuv: byte offsets
    files: tuple[str, ...] = ()  # frames: image file names inside ``path``
    pix_fmt: str = ""  # y4m/yuv sample format (vid1d.io.info.PLANAR_FORMATS)
    matrix: str = "bt709"  # y4m/yuv colour matrix
    full_range: bool = False

    @property
    def class_name(self) -> str:
        parts = self.key.split("/")
        if len(parts) > 1:
            return "/".join(parts[:-1])
        return Path(parts[0]).stem if self.kind != "frames" else parts[0]


def _walk(root: Path):
    """(dirpath, sorted file names) for every non-hidden folder, in sorted order."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        yield Path(dirpath), sorted(f for f in filenames if not f.startswith("."))


def _check_root(root: str | os.PathLike) -> Path:
    r = Path(root)
    if not r.exists():
        raise InputError(f"data root {r} does not exist")
    if not r.is_dir():
        raise InputError(f"data root {r} is not a folder")
    return r


def _key(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _collect(root: Path, exts: frozenset[str], probe) -> tuple[list[Source], list[str]]:
    sources, failures = [], []
    for d, files in _walk(root):
        for f in files:
            p = d / f
            if p.suffix.lower() in exts:
                try:
                    sources.append(probe(p, _key(p, root)))
                except InputError as e:
                    failures.append(str(e))
    return sources, failures


def _finish(sources: list[Source], failures: list[str], root: Path, what: str) -> list[Source]:
    """Warn about skipped files; InputError when nothing readable was found."""
    if failures:
        warnings.warn(f"skipped {len(failures)} unreadable {what} under {root}, e.g. {failures[0]}",
                      stacklevel=3)
    if not sources:
        detail = f" ({len(failures)} unreadable, e.g. {failures[0]})" if failures else ""
        raise InputError(f"no readable {what} in {root}{detail}")
    return sources


def scan_videos(root: str | os.PathLike) -> list[Source]:
    """Every video file under ``root`` (PyAV containers and .y4m), sorted by path."""
    r = _check_root(root)
    return _finish(*_collect(r, VIDEO_EXTS, probe_video), r, "video files")


def scan_yuv(root: str | os.PathLike) -> list[Source]:
    """Every ``Name_WxH[_fps].yuv`` under ``root``, sorted by path."""
    r = _check_root(root)
    return _finish(*_collect(r, YUV_EXTS, probe_yuv), r, "raw .yuv files")


def probe_video(path: Path, key: str) -> Source:
    if path.suffix.lower() == ".y4m":
        return probe_y4m(path, key)
    import av  # deferred: importing PyAV costs ~0.1 s and workers never need it for raw files

    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise InputError(f"{path}: no video stream")
            s = c.streams.video[0]
            width, height = s.codec_context.width, s.codec_context.height
            # Demuxing reads packets without decoding them: one timestamp per frame.
            # Packets the demuxer marks as discardable (edit lists) produce no frame.
            pts = [p.pts for p in c.demux(s) if p.size and not p.is_discard]
    except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read as video ({e})") from None
    if not pts or width <= 0 or height <= 0:
        raise InputError(f"{path}: no decodable video frames")
    positions = None if any(p is None for p in pts) else Positions.of(sorted(pts))
    return Source(str(path), key, "av", width, height, len(pts), positions)


def probe_y4m(path: Path, key: str) -> Source:
    from vid1d.io.y4m import Y4MReader

    r = Y4MReader(path)
    i = r.info
    # Y4MReader indexes every frame's payload offset at open; it holds no file handle.
    return Source(str(path), key, "y4m", i.width, i.height, i.num_frames,
                  Positions.of(list(r._offsets)), pix_fmt=i.pix_fmt, matrix=r.matrix,
                  full_range=r.full_range)


def probe_yuv(path: Path, key: str) -> Source:
    from vid1d.io.yuv import YUVReader

    r = YUVReader(path)  # parses the name and checks the file holds whole frames
    i = r.info
    fb = r.yuv_format.frame_bytes(i.width, i.height)
    if not i.num_frames:
        raise InputError(f"{path}: empty file")
    return Source(str(path), key, "yuv", i.width, i.height, i.num_frames,
                  Positions(0, fb, i.num_frames), pix_fmt=i.pix_fmt, matrix=r.matrix,
                  full_range=r.full_range)


def scan_frame_folders(root: str | os.PathLike) -> list[Source]:
    """Every folder under ``root`` that holds image files, one sequence each."""
    r = _check_root(root)
    return _finish(*_frame_folders(r), r, "folders of frame images")


def _frame_folders(root: Path) -> tuple[list[Source], list[str]]:
    from vid1d.io.png import list_frames

    sources, failures = [], []
    for d, files in _walk(root):
        if not any(Path(f).suffix.lower() in IMAGE_EXTS for f in files):
            continue
        # The same frames, in the same order, that vid1d.io.open_video(folder) reads.
        images = tuple(p.name for p in list_frames(d))
        try:
            w, h = _image_size(d / images[0])
        except InputError as e:
            failures.append(str(e))
            continue
        key = _key(d, root) if d != root else (root.resolve().name or "frames")
        sources.append(Source(str(d), key, "frames", w, h, len(images), files=images))
    return sources, failures


def _image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image from its header (Pillow), else by decoding it."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        from vid1d.io.png import decode_image

        frame = decode_image(path)
        return frame.width, frame.height
    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, UnidentifiedImageError) as e:
        raise InputError(f"{path}: cannot read image ({e})") from None


def scan_any(root: str | os.PathLike) -> list[Source]:
    """Every real source under ``root``: video files, .yuv files and frame folders."""
    r = _check_root(root)
    found, failures = [], []
    for src, fail in (_collect(r, VIDEO_EXTS, probe_video), _collect(r, YUV_EXTS, probe_yuv),
                      _frame_folders(r)):
        found += src
        failures += fail
    return sorted(_finish(found, failures, r, "videos, .yuv files or frame folders"),
                  key=lambda s: s.key)


def class_names_of(sources: list[Source]) -> tuple[str, ...]:
    """Sorted distinct class names of ``sources`` (index = label)."""
    return tuple(sorted({s.class_name for s in sources}))
