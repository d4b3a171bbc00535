"""VMAF through libvmaf: input order, alignment, raw input, and refused inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from vid1d.errors import InputError
from vid1d.metrics import VmafResult, metric_versions, vmaf
from vid1d.utils.ffmpeg import ffmpeg_version, run_ffmpeg

N = 10


@pytest.fixture(scope="module")
def clips(sample_video: Path, tmp_path_factory) -> dict[str, Path]:
    """Test inputs made from the first 10 frames of the sample clip."""
    d = tmp_path_factory.mktemp("vmaf")
    out = {"ref": sample_video}
    out["low"] = d / "low.mp4"  # heavily compressed
    run_ffmpeg(["-i", sample_video, "-frames:v", N, "-c:v", "libx264", "-crf", "45", out["low"]])
    out["frozen"] = d / "frozen.mp4"  # frame 0 repeated, losslessly coded: no motion
    run_ffmpeg(["-i", sample_video, "-vf", f"trim=end_frame=1,loop=loop={N - 1}:size=1",
                "-c:v", "libx264", "-qp", "0", out["frozen"]])
    out["low_yuv"] = d / "low.yuv"  # the decoded low-quality clip as raw yuv420p
    run_ffmpeg(["-i", out["low"], "-f", "rawvideo", "-pix_fmt", "yuv420p", out["low_yuv"]])
    out["small"] = d / "small.mp4"
    run_ffmpeg(["-i", sample_video, "-frames:v", N, "-vf", "scale=88:72", "-c:v", "libx264",
                "-qp", "0", out["small"]])
    return out


def test_identical_beats_compressed(clips):
    same = vmaf(clips["ref"], clips["ref"], max_frames=N)
    low = vmaf(clips["ref"], clips["low"], max_frames=N)
    assert isinstance(same, VmafResult)
    assert len(same.per_frame) == len(low.per_frame) == N
    assert same.mean > 95
    assert low.mean < same.mean - 30
    assert low.mean == pytest.approx(sum(low.per_frame) / N)
    assert low.model == "vmaf_v0.6.1"
    assert low.ffmpeg_version == ffmpeg_version()
    assert low.libvmaf_version
    assert low.version_string in metric_versions(vmaf=low)["vmaf"]


def test_reference_is_wired_as_libvmaf_reference(clips):
    """libvmaf computes its motion feature on the reference stream only.

    With the moving clip as reference and a frozen copy as distorted, motion must be
    non-zero after the first frame; with the arguments swapped it must be zero. This
    fails if vmaf() passes the inputs to libvmaf in the wrong order.
    """
    right = vmaf(clips["ref"], clips["frozen"], max_frames=N)
    swapped = vmaf(clips["frozen"], clips["ref"], max_frames=N)
    assert all(m > 0.5 for m in right.features["integer_motion2"][1:])
    assert all(m == 0 for m in swapped.features["integer_motion2"])
    assert right.per_frame != swapped.per_frame


def test_raw_yuv_input_gives_the_same_scores(clips):
    from_container = vmaf(clips["low"], clips["low"])
    from_raw = vmaf(clips["low_yuv"], clips["low"], size=(176, 144), pix_fmt="yuv420p", fps=30)
    assert from_raw.per_frame == from_container.per_frame


def test_refused_inputs(clips, tmp_path):
    with pytest.raises(InputError, match="frame counts differ: reference 120, distorted 10"):
        vmaf(clips["ref"], clips["low"])
    with pytest.raises(InputError, match="frame sizes differ"):
        vmaf(clips["ref"], clips["small"], max_frames=N)
    with pytest.raises(InputError, match="needs its frame size"):
        vmaf(clips["low_yuv"], clips["low"])
    with pytest.raises(InputError, match="whole number"):
        vmaf(clips["low_yuv"], clips["low"], size=(176, 140))
    with pytest.raises(InputError, match="no such file"):
        vmaf(tmp_path / "missing.mp4", clips["low"])
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video" * 100)
    with pytest.raises(InputError, match="cannot read video"):
        vmaf(garbage, clips["low"])
    with pytest.raises(InputError, match="max_frames"):
        vmaf(clips["ref"], clips["low"], max_frames=0)
