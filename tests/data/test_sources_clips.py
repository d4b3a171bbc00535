"""Scanning folders and random access into sources: every clip equals vid1d.io's full read."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
import torch

from vid1d.data.clips import read_clip
from vid1d.data.sources import (
    Positions,
    class_names_of,
    scan_any,
    scan_frame_folders,
    scan_videos,
    scan_yuv,
)
from vid1d.errors import InputError
from vid1d.io import open_video


def full(path) -> torch.Tensor:
    with open_video(path) as r:
        return r.read()


def test_positions_compress_arithmetic_and_find_index():
    p = Positions.of([0, 512, 1024, 1536])
    assert p.values is None and len(p) == 4 and p[3] == 1536
    assert [p.index_of(v) for v in (-5, 0, 511, 512, 10_000)] == [0, 0, 0, 1, 3]
    q = Positions.of([0, 11, 17, 24])
    assert q.values is not None and q[2] == 17
    assert [q.index_of(v) for v in (0, 16, 17, 99)] == [0, 1, 2, 3]
    with pytest.raises(IndexError):
        p[4]


def test_scan_videos_index_every_frame(videos_root, sample_video):
    with pytest.warns(UserWarning, match="unreadable"):
        (videos_root / "broken.mp4").write_bytes(b"\0" * 100)
        srcs = scan_videos(videos_root)
    assert [s.key for s in srcs] == ["moving.avi", "moving.mp4", "real/carphone_pristine.mp4"]
    assert [s.num_frames for s in srcs] == [40, 40, 120]
    assert (srcs[2].width, srcs[2].height) == (176, 144)
    assert class_names_of(srcs) == ("moving", "real")


@pytest.mark.parametrize("name", ["moving.mp4", "moving.avi"])
def test_av_clip_at_every_start_equals_full_decode(videos_root, name):
    (src,) = [s for s in scan_videos(videos_root) if s.key == name]
    ref = full(src.path)
    assert ref.shape[1] == src.num_frames
    for start in range(src.num_frames - 3):  # keyframes every 8 frames: seeks land everywhere
        assert torch.equal(read_clip(src, range(start, start + 4)), ref[:, start:start + 4]), start
    # strided, cropped (odd offsets), and decoded from the start without an index
    idx = [5, 8, 11, 14, 17]
    win = (3, 7, 21, 33)
    want = ref[:, idx, 3:24, 7:40]
    assert torch.equal(read_clip(src, idx, win), want)
    assert torch.equal(read_clip(dataclasses.replace(src, positions=None), idx, win), want)


def test_av_clip_of_bundled_sample(sample_video):
    (src,) = scan_videos(sample_video.parent)
    ref = full(sample_video)
    for start in (0, 57, 112):
        assert torch.equal(read_clip(src, range(start, start + 8)), ref[:, start:start + 8])


def test_yuv_and_y4m_windows_equal_io_reads(yuv_root, y4m_file):
    srcs = {s.key: s for s in scan_yuv(yuv_root)}
    assert set(srcs) == {"Foo_64x48_30.yuv", "Bar_32x24_25.yuv"}
    foo = srcs["Foo_64x48_30.yuv"]
    assert (foo.width, foo.height, foo.num_frames, foo.class_name) == (64, 48, 6, "Foo_64x48_30")
    ref = full(foo.path)
    for win in [(0, 0, 48, 64), (1, 3, 17, 29), (2, 5, 46, 59), (47, 63, 1, 1)]:
        t, l_, h, w = win
        assert torch.equal(read_clip(foo, [1, 3, 4], win), ref[:, [1, 3, 4], t:t + h, l_:l_ + w]), win
    (y4m,) = scan_videos(y4m_file.parent)
    assert (y4m.kind, y4m.width, y4m.height, y4m.num_frames) == ("y4m", 30, 22, 5)
    ref = full(y4m_file)
    assert torch.equal(read_clip(y4m, [0, 2, 4], (3, 1, 11, 27)), ref[:, [0, 2, 4], 3:14, 1:28])


def test_frame_folders_vimeo_layout(frames_root):
    srcs = scan_frame_folders(frames_root)
    assert len(srcs) == 9 and srcs[0].key == "00001/0001"
    assert srcs[0].files[:3] == ("im1.png", "im2.png", "im3.png")
    assert class_names_of(srcs) == ("00001", "00002", "00003")
    ref = full(srcs[4].path)
    assert torch.equal(read_clip(srcs[4], [1, 2, 6], (5, 2, 30, 50)), ref[:, [1, 2, 6], 5:35, 2:52])


def test_frame_folder_at_root_and_mixed_scan(tmp_path, frames_root, yuv_root):
    (src,) = scan_frame_folders(frames_root / "00002" / "0003")
    assert src.key == "0003" and src.class_name == "0003"
    srcs = scan_any(tmp_path)
    assert {s.kind for s in srcs} == {"frames", "yuv"} and len(srcs) == 11


def test_read_clip_rejects_bad_requests(yuv_root):
    src = scan_yuv(yuv_root)[0]
    with pytest.raises(InputError, match="outside"):
        read_clip(src, [0, src.num_frames])
    with pytest.raises(InputError, match="increase"):
        read_clip(src, [2, 1])
    with pytest.raises(InputError, match="crop"):
        read_clip(src, [0], (0, 0, src.height + 1, 4))


def test_scans_fail_with_one_line_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for scan in (scan_videos, scan_yuv, scan_frame_folders, scan_any):
        with pytest.raises(InputError, match="no ") as e:
            scan(empty)
        assert "\n" not in str(e.value)
    with pytest.raises(InputError, match="does not exist"):
        scan_videos(tmp_path / "missing")
    (tmp_path / "f.mp4").write_bytes(b"")
    with pytest.raises(InputError, match="not a folder"):
        scan_videos(tmp_path / "f.mp4")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Odd_10x10.yuv").write_bytes(b"\0" * 7)  # not whole frames
    with pytest.raises(InputError, match="no readable raw .yuv files.*whole number"), \
            pytest.warns(UserWarning):
        scan_yuv(bad)


def test_source_removed_after_indexing_is_an_input_error(tmp_path, videos_root):
    src = [s for s in scan_videos(videos_root) if s.key == "moving.mp4"][0]
    (videos_root / "moving.mp4").unlink()
    with pytest.raises(InputError, match="moving.mp4"):
        read_clip(src, [3, 4])


def test_y4m_folder_dataset_needs_no_pyav(tmp_path):
    # A GPU machine without PyAV trains from a folder of .y4m files: the scan of every
    # source kind ("mixed") and the clip reads import PyAV only for containers/images.
    code = f"""
import sys
sys.modules["av"] = None  # any `import av` now raises ImportError
import torch
from vid1d.data.build import build_dataset
from vid1d.data.config import DataConfig
from vid1d.io import open_writer
root = {str(tmp_path)!r}
for name in ("a", "b", "c"):
    with open_writer(f"{{root}}/{{name}}.y4m", width=48, height=32, fps=25) as w:
        w.write(torch.rand(3, 4, 32, 48))
cfg = DataConfig(kind="mixed", root=root, frames=2, size=(16, 16), synthetic_fraction=0.5,
                 epoch_size=8, val_size=4, workers=0)
for split in ("train", "val"):
    ds = build_dataset(cfg, split)
    clips = [ds[i] for i in range(len(ds))]
    assert all(c["video"].shape == (3, 2, 16, 16) for c in clips), [c["video"].shape for c in clips]
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
