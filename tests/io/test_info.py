"""Frame-rate parsing, sample-format table, size checks."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest

from vid1d.errors import InputError
from vid1d.io import PLANAR_FORMATS, VideoInfo
from vid1d.io.info import check_frame_size, to_fraction


@pytest.mark.parametrize("fps,expected", [
    (25, Fraction(25)), (29.97, Fraction(30000, 1001)), (23.976, Fraction(24000, 1001)),
    (59.94, Fraction(60000, 1001)), ("30000/1001", Fraction(30000, 1001)), (12.5, Fraction(25, 2)),
    (Fraction(50, 1), Fraction(50)), ("24", Fraction(24)),
])
def test_to_fraction(fps, expected):
    assert to_fraction(fps) == expected


@pytest.mark.parametrize("fps", [0, -5, 1e9, float("nan"), float("inf"), "x", "1/0", None])
def test_to_fraction_rejects(fps):
    with pytest.raises(InputError):
        to_fraction(fps)


def test_planar_formats():
    f = PLANAR_FORMATS["yuv420p10le"]
    assert (f.chroma, f.bit_depth, f.max_value, f.dtype) == ("420", 10, 1023, np.dtype("<u2"))
    assert f.plane_shapes(176, 144) == [(144, 176), (72, 88), (72, 88)]
    assert f.frame_bytes(176, 144) == 176 * 144 * 3
    assert PLANAR_FORMATS["yuv444p"].frame_bytes(4, 2) == 24
    y, u, v = PLANAR_FORMATS["yuv420p"].unpack(bytes(range(24)), 4, 4)
    assert y.shape == (4, 4) and u.tolist() == [[16, 17], [18, 19]] and v[1, 1] == 23


def test_video_info_is_frozen():
    info = VideoInfo(8, 8, Fraction(25), None, "yuv420p", 8, "a.y4m", "y4m")
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.width = 16


@pytest.mark.parametrize("w,h,chroma", [(0, 8, None), (8, -1, None), (16385, 8, None),
                                        (9, 8, "420"), (8, 9, "420"), (2.0, 8, None)])
def test_check_frame_size_rejects(w, h, chroma):
    with pytest.raises(InputError):
        check_frame_size(w, h, chroma=chroma)
    check_frame_size(9, 9, chroma="444")
