"""BD-rate / BD-quality against the bjontegaard package (oracle), exact cases and errors."""

from __future__ import annotations

import warnings

import bjontegaard
import numpy as np
import pytest

from vid1d.errors import InputError
from vid1d.metrics import bd_quality, bd_rate

# (rate_anchor, dist_anchor, rate_test, dist_test): typical HEVC-vs-AVC-like sets, a
# curve with a kink (where PCHIP and cubic differ), VMAF-like saturation, partial
# overlap, bpp units, and curves of 5 and 6 points
RD_SETS = [
    ([100, 200, 400, 800], [30.0, 33.0, 36.0, 39.0], [90, 170, 350, 700], [30.2, 33.5, 36.1, 39.4]),
    ([9487.76, 4593.60, 2216.93, 1079.18], [40.28, 37.18, 34.24, 31.42],
     [6736.57, 3311.21, 1621.84, 809.06], [40.36, 37.44, 34.48, 31.62]),
    ([1000, 1500, 4000, 9000], [31.0, 35.5, 37.0, 38.0], [800, 2000, 3500, 7000],
     [30.5, 35.9, 37.3, 38.4]),
    ([0.02, 0.05, 0.11, 0.25], [60.0, 78.0, 89.0, 94.5], [0.015, 0.04, 0.09, 0.2],
     [62.0, 80.5, 90.0, 95.0]),
    ([100, 200, 400, 800], [30.0, 33.0, 36.0, 39.0], [300, 600, 1200, 2400],
     [34.0, 37.0, 40.0, 43.0]),
    ([100, 180, 350, 700, 1400], [29.0, 32.0, 35.0, 38.0, 41.0], [80, 150, 300, 610, 1250],
     [29.1, 32.3, 35.2, 38.1, 41.2]),
    ([50, 90, 160, 300, 560, 1000], [27.0, 29.5, 32.2, 34.0, 37.9, 40.1],
     [45, 85, 150, 280, 500, 950], [27.1, 30.0, 32.0, 34.5, 38.0, 40.5]),
]


@pytest.mark.parametrize("method", ["pchip", "cubic"])
@pytest.mark.parametrize("rd", RD_SETS)
def test_matches_bjontegaard_package(rd, method):
    ra, da, rt, dt = rd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the oracle warns on small overlap
        ref_rate = bjontegaard.bd_rate(ra, da, rt, dt, method=method, min_overlap=0)
        ref_q = bjontegaard.bd_psnr(ra, da, rt, dt, method=method, min_overlap=0)
    assert bd_rate(ra, da, rt, dt, method=method) == pytest.approx(ref_rate, abs=1e-3)
    assert bd_quality(ra, da, rt, dt, method=method) == pytest.approx(ref_q, abs=1e-3)


def test_default_method_is_pchip():
    ra, da, rt, dt = RD_SETS[2]
    assert bd_rate(ra, da, rt, dt) == bd_rate(ra, da, rt, dt, method="pchip")
    assert bd_rate(ra, da, rt, dt) != pytest.approx(bd_rate(ra, da, rt, dt, method="cubic"))


@pytest.mark.parametrize("method", ["pchip", "cubic"])
def test_exact_shifts(method):
    ra, da = [100, 230, 410, 900], [30.0, 33.7, 35.2, 39.0]
    # the same curve with 20% fewer bits everywhere is exactly -20 %
    assert bd_rate(ra, da, [0.8 * r for r in ra], da, method) == pytest.approx(-20.0, abs=1e-9)
    # the same curve 0.5 dB higher is exactly +0.5 dB
    assert bd_quality(ra, da, ra, [d + 0.5 for d in da], method) == pytest.approx(0.5, abs=1e-9)
    assert bd_rate(ra, da, ra, da, method) == pytest.approx(0.0, abs=1e-12)
    # antisymmetry in log-rate: swapping anchor and test inverts the rate ratio
    rt, dt = RD_SETS[0][2], RD_SETS[0][3]
    r1 = bd_rate(RD_SETS[0][0], RD_SETS[0][1], rt, dt, method) / 100 + 1
    r2 = bd_rate(rt, dt, RD_SETS[0][0], RD_SETS[0][1], method) / 100 + 1
    assert r1 * r2 == pytest.approx(1.0, abs=1e-12)


def test_point_order_does_not_matter():
    ra, da, rt, dt = RD_SETS[1]
    pa, pt = np.array([2, 0, 3, 1]), np.array([3, 1, 0, 2])
    shuffled = (np.array(ra)[pa], np.array(da)[pa], np.array(rt)[pt], np.array(dt)[pt])
    assert bd_rate(*shuffled) == pytest.approx(bd_rate(ra, da, rt, dt), abs=1e-12)
    assert bd_quality(*shuffled) == pytest.approx(bd_quality(ra, da, rt, dt), abs=1e-12)


def test_errors():
    ra, da, rt, dt = RD_SETS[0]
    with pytest.raises(InputError, match="at least 4"):
        bd_rate(ra[:3], da[:3], rt, dt)
    with pytest.raises(InputError, match="do not overlap"):
        bd_rate(ra, da, rt, [d + 20 for d in dt])
    with pytest.raises(InputError, match="do not overlap"):
        bd_quality(ra, da, [r * 100 for r in rt], dt)
    with pytest.raises(InputError, match="not strictly monotonic"):
        bd_rate(ra, [30.0, 33.0, 32.0, 39.0], rt, dt)  # quality drops with more bits
    with pytest.raises(InputError, match="not strictly monotonic"):
        bd_rate(ra, [30.0, 33.0, 33.0, 39.0], rt, dt)  # a flat step
    for fn in (bd_rate, bd_quality):
        with pytest.raises(InputError, match="two points at the same rate"):
            fn([100, 200, 200, 800], da, rt, dt)
    with pytest.raises(InputError, match="positive"):
        bd_rate([0, 200, 400, 800], da, rt, dt)
    with pytest.raises(InputError, match="finite"):
        bd_rate(ra, [30.0, 33.0, float("nan"), 39.0], rt, dt)
    with pytest.raises(InputError, match="4 rates but 3"):
        bd_rate(ra, da[:3], rt, dt)
    with pytest.raises(InputError, match="unknown BD method"):
        bd_rate(ra, da, rt, dt, method="akima")


@pytest.mark.parametrize("method", ["pchip", "cubic"])
def test_bd_quality_of_curves_that_dip(method):
    # quality is a function of rate even where it falls: BD-rate is undefined, BD-quality
    # is not, and it is exactly the shift for a shifted copy of a dipping curve
    ra, da = [100, 200, 400, 800], [30.0, 33.0, 32.5, 34.0]
    with pytest.raises(InputError, match="not strictly monotonic"):
        bd_rate(ra, da, ra, [d + 0.5 for d in da], method)
    assert bd_quality(ra, da, ra, [d + 0.5 for d in da], method) == pytest.approx(0.5, abs=1e-9)
    rt, dt = [90, 170, 350, 700], [30.2, 30.1, 33.0, 32.9]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = bjontegaard.bd_psnr(ra, da, rt, dt, method=method, min_overlap=0)
    assert bd_quality(ra, da, rt, dt, method) == pytest.approx(ref, abs=1e-3)


def test_bd_quality_where_qualities_never_meet():
    # a test codec 10 dB below the anchor at the same rates: no rate reaches equal
    # quality (no BD-rate), but at equal rate it is exactly 10 dB worse
    ra, da = [100, 200, 400, 800], [30.0, 33.0, 36.0, 39.0]
    with pytest.raises(InputError, match="do not overlap in quality"):
        bd_rate(ra, da, ra, [d - 10 for d in da])
    assert bd_quality(ra, da, ra, [d - 10 for d in da]) == pytest.approx(-10.0, abs=1e-9)
