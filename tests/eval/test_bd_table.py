"""bd_table on synthetic curves with known BD-rate / BD-quality, and the table formatter."""

from __future__ import annotations

import math

import pytest

from vid1d.errors import InputError
from vid1d.eval.rd import bd_table, check_anchor, format_bd_table, write_rd

SIZES = [1000, 2000, 4000, 8000]  # bytes
PSNR = [30.0, 33.0, 36.0, 39.0]


def _row(rows, codec, metric, source=None):
    (row,) = [
        r
        for r in rows
        if r["codec"] == codec
        and r["metric"] == metric
        and (source is None or r["source"] == source)
    ]
    return row


def test_known_deltas_from_files(make_rd, tmp_path):
    # test curve: same quality at 80% of the rate -> BD-rate exactly -20% (a constant
    # shift in log-rate); other curve: +0.5 dB at the same rates -> BD-PSNR exactly +0.5
    anchor = write_rd(make_rd("x265", SIZES, PSNR, preset="medium"), tmp_path / "a.json")
    cheaper = write_rd(make_rd("ours", [round(b * 0.8) for b in SIZES], PSNR), tmp_path / "b.json")
    better = write_rd(make_rd("other", SIZES, [p + 0.5 for p in PSNR]), tmp_path / "c.json")
    for method in ("pchip", "cubic"):
        rows = bd_table(
            [anchor, cheaper, better], anchor="x265", metrics=("psnr_rgb",), method=method
        )
        assert len(rows) == 2
        r = _row(rows, "ours", "psnr_rgb")
        assert r["bd_rate"] == pytest.approx(-20.0, abs=1e-6) and r["anchor"] == "x265 medium"
        assert r["method"] == method
        assert _row(rows, "other", "psnr_rgb")["bd_quality"] == pytest.approx(0.5, abs=1e-6)


def test_undefined_bd_is_none_with_a_reason(make_rd):
    anchor = make_rd("x265", SIZES, PSNR)
    flat = make_rd("flat", SIZES, [30.0, 33.0, 33.0, 34.0])  # not strictly monotonic
    rows = bd_table([anchor, flat], anchor="x265", metrics=("psnr_rgb", "vmaf"))
    r = _row(rows, "flat", "psnr_rgb")
    assert r["bd_rate"] is None and r["note"].startswith("BD-rate n/a:")
    assert "monotonic" in r["note"] and "BD-psnr_rgb" not in r["note"]
    # quality at equal rate is still defined: the curve is the anchor's, one point 3 dB low
    assert r["bd_quality"] < 0
    vmaf = _row(rows, "flat", "vmaf")
    assert vmaf["bd_rate"] is None and vmaf["bd_quality"] is None
    assert vmaf["note"] == "x265: no vmaf value on every point"  # one reason, said once
    text = format_bd_table(rows)
    assert "n/a" in text and "monotonic" in text


def test_bd_quality_without_bd_rate_and_its_average(make_rd):
    # on source aa the test codec is 10 dB below x265 at the same sizes (qualities never
    # meet, so no BD-rate); on bb it matches x265 at 80% of the bytes
    rds = [
        make_rd("x265", SIZES, PSNR, sha="aa" * 32),
        make_rd("ours", SIZES, [p - 10 for p in PSNR], sha="aa" * 32),
        make_rd("x265", SIZES, PSNR, sha="bb" * 32),
        make_rd("ours", [round(b * 0.8) for b in SIZES], PSNR, sha="bb" * 32),
    ]
    rows = bd_table(rds, anchor="x265", metrics=("psnr_rgb",))
    low = _row(rows, "ours", "psnr_rgb", "aaaa.y4m")
    assert low["bd_rate"] is None and low["bd_quality"] == pytest.approx(-10.0)
    assert low["note"].startswith("BD-rate n/a: the RD curves do not overlap in quality")
    avg = _row(rows, "ours", "psnr_rgb", "average")
    assert avg["bd_rate"] is None and avg["note"] == "BD-rate defined on 1 of 2 sources"
    # bb: 20% fewer bits on a 3 dB-per-doubling curve is 3·log2(1.25) dB better at equal rate
    assert avg["bd_quality"] == pytest.approx((-10 + 3 * math.log2(1.25)) / 2, abs=1e-6)


def test_groups_by_source_and_averages(make_rd):
    rds = []
    for sha, factor in (("aa" * 32, 0.8), ("bb" * 32, 0.9)):
        rds += [
            make_rd("x265", SIZES, PSNR, sha=sha),
            make_rd("ours", [round(b * factor) for b in SIZES], PSNR, sha=sha),
        ]
    rows = bd_table(rds, anchor="x265", metrics=("psnr_rgb",))
    assert _row(rows, "ours", "psnr_rgb", "aaaa.y4m")["bd_rate"] == pytest.approx(-20.0)
    assert _row(rows, "ours", "psnr_rgb", "bbbb.y4m")["bd_rate"] == pytest.approx(-10.0)
    assert _row(rows, "ours", "psnr_rgb", "average")["bd_rate"] == pytest.approx(-15.0)
    md = format_bd_table(rows, fmt="markdown")
    lines = md.splitlines()
    assert lines[0].startswith("| source | codec | config | BD-rate psnr_rgb (%)")
    assert "| average | ours | low-delay | -15.00 |" in md


def test_anchor_errors(make_rd):
    a = make_rd("x265", SIZES, PSNR, preset="medium")
    b = make_rd("x265", SIZES, [p + 0.2 for p in PSNR], preset="veryslow")
    with pytest.raises(InputError, match="ambiguous"):
        bd_table([a, b], anchor="x265")
    rows = bd_table([a, b], anchor="x265 veryslow", metrics=("psnr_rgb",))
    assert rows[0]["codec"] == "x265 medium" and rows[0]["bd_quality"] == pytest.approx(-0.2)
    with pytest.raises(InputError, match="no RD file for anchor 'vvenc'"):
        bd_table([a, b], anchor="vvenc")
    other_source = make_rd("ours", SIZES, PSNR, sha="cc" * 32)
    with pytest.raises(InputError, match="no RD file for anchor"):
        bd_table([a, other_source], anchor="x265 medium")
    with pytest.raises(InputError, match="unknown metric"):
        bd_table([a], anchor="x265", metrics=("psnr",))
    with pytest.raises(InputError, match="unknown BD method"):
        bd_table([a], anchor="x265", method="akima")


def test_check_anchor_matches_like_bd_table():
    runs = [{"name": "ours", "label": "ours"}, {"name": "x265", "label": "x265 medium"},
            {"name": "x265", "label": "x265 veryslow"}]
    check_anchor("x265 veryslow", runs)
    check_anchor("ours", runs)
    check_anchor("x265", runs[:2])
    with pytest.raises(InputError, match="ambiguous: x265 medium, x265 veryslow"):
        check_anchor("x265", runs)
    with pytest.raises(InputError, match="'vvenc' matches none .*ours, x265 medium"):
        check_anchor("vvenc", runs)


def test_a_distance_is_turned_so_positive_bd_quality_is_better(make_rd):
    # ST-LPIPS falls as the rate rises; the test codec has the anchor's distances at 80%
    # of its rate (BD-rate -20%), or 0.01 lower at the same rates (BD-quality +0.01)
    dist = [0.30, 0.20, 0.12, 0.07]

    def with_stlpips(rd, values):
        for p, v in zip(rd["points"], values, strict=True):
            p["stlpips"] = v
        return rd

    anchor = with_stlpips(make_rd("x265", SIZES, PSNR), dist)
    cheaper = with_stlpips(make_rd("ours", [b * 0.8 for b in SIZES], PSNR), dist)
    better = with_stlpips(make_rd("other", SIZES, PSNR), [d - 0.01 for d in dist])
    rows = bd_table([anchor, cheaper, better], anchor="x265", metrics=("stlpips",))
    assert _row(rows, "ours", "stlpips")["bd_rate"] == pytest.approx(-20.0, abs=1e-6)
    assert _row(rows, "other", "stlpips")["bd_quality"] == pytest.approx(0.01, abs=1e-9)
    assert "BD-stlpips > 0: stlpips lower (better)" in format_bd_table(rows)
