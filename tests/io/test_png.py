"""PNG frame folders: exact round trip, natural ordering, bad folders."""

from __future__ import annotations

import pytest
import torch

from vid1d.errors import InputError
from vid1d.io import count_frames, open_video, quantize, write_video


def _clip(frames=4, h=13, w=21, seed=0):  # odd sizes on purpose
    g = torch.Generator().manual_seed(seed)
    return torch.round(torch.rand(3, frames, h, w, generator=g) * 255) / 255


def test_png_folder_round_trip(tmp_path):
    x = _clip()
    out = write_video(str(tmp_path / "frames") + "/", [x[:, :3], x[:, 3:]], fps=12)
    assert out.is_dir()
    assert sorted(p.name for p in out.iterdir()) == [f"frame_{i:06d}.png" for i in range(4)]
    assert (out / "frame_000000.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open_video(out, fps=12) as r:
        assert (r.info.width, r.info.height, r.info.num_frames, r.info.fps) == (21, 13, 4, 12)
        assert r.info.container == "png" and r.info.pix_fmt == "rgb24"
        assert torch.equal(r.read(), x)
        y, u, v = next(r.yuv_chunks())  # vid1d's BT.709 limited conversion of the RGB
        assert y.shape == (4, 13, 21) and u.shape == (4, 7, 11)
    assert count_frames(out) == 4


def test_path_without_suffix_is_a_folder(tmp_path):
    out = write_video(tmp_path / "noext", [_clip(2)], fps=30)
    assert out.is_dir() and len(list(out.iterdir())) == 2
    assert open_video(out).info.fps == 30  # folders have no rate: the default


def test_natural_order(tmp_path):
    x = _clip(11, 4, 4)
    src = write_video(tmp_path / "src/", [x], fps=30)
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    for i in range(11):
        (src / f"frame_{i:06d}.png").rename(renamed / f"img{i}.png")  # img10 after img9
    assert torch.equal(open_video(renamed).read(), x)


def test_bad_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no .png"):
        open_video(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="cannot decode"):
        open_video(bad)
    mixed = tmp_path / "mixed"
    write_video(mixed, [_clip(1, 8, 8)], fps=30)
    write_video(tmp_path / "other", [_clip(1, 6, 8)], fps=30)
    (tmp_path / "other" / "frame_000000.png").rename(mixed / "frame_000001.png")
    with open_video(mixed) as r, pytest.raises(InputError, match="not 8x8"):
        r.read()


def test_quantization_of_written_frames(tmp_path):
    x = torch.rand(3, 2, 5, 6, generator=torch.Generator().manual_seed(4))
    out = write_video(tmp_path / "q/", [x], fps=30)
    back = open_video(out).read()
    assert torch.equal(torch.from_numpy(quantize(x, 8)).float() / 255, back)
