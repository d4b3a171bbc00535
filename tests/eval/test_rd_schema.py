"""vid1d.rd/1 files: validation catches malformed files; write/load round-trips."""

from __future__ import annotations

import json
import math

import pytest

from vid1d.errors import InputError
from vid1d.eval.rd import load_rd, rd_label, validate_rd, write_rd

SIZES = [1000, 2000, 4000, 8000]  # bytes
PSNR = [30.0, 33.0, 36.0, 39.0]


def test_valid_file_round_trips(make_rd, tmp_path):
    rd = make_rd("x265", SIZES, PSNR, preset="medium")
    path = write_rd(rd, tmp_path / "a.json")
    assert load_rd(path) == rd
    assert rd_label(rd) == "x265 medium"
    rd["codec"]["label"] = "GVC1D (ours)"
    assert rd_label(rd) == "GVC1D (ours)"
    assert not list(tmp_path.glob(".*tmp*"))  # atomic write leaves no temporary


def test_non_finite_values_become_null(make_rd, tmp_path):
    rd = make_rd("x265", SIZES, PSNR)
    rd["points"][0]["psnr_rgb"] = math.inf
    rd["points"][0]["per_frame"]["psnr_rgb"][0] = math.nan
    back = load_rd(write_rd(rd, tmp_path / "a.json"))
    assert (
        back["points"][0]["psnr_rgb"] is None
        and back["points"][0]["per_frame"]["psnr_rgb"][0] is None
    )


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda rd: rd.pop("schema"), "lacks 'schema'"),
        (lambda rd: rd.update(schema="vid1d.rd/0"), "expected 'vid1d.rd/1'"),
        (lambda rd: rd["source"].pop("sha256"), "source lacks 'sha256'"),
        (lambda rd: rd["source"].update(width="176"), "source.width has the wrong type"),
        (lambda rd: rd["source"].update(frames=0), "must be positive"),
        (lambda rd: rd["codec"].update(config="fast"), "codec.config"),
        (lambda rd: rd.update(points=[]), "no points"),
        (lambda rd: rd["points"][1].pop("bytes"), "points\\[1\\] lacks 'bytes'"),
        (lambda rd: rd["points"][2].update(bpp=0.3), "bpp .* != bytes"),
        (lambda rd: rd["points"][0].update(quality={"qp": 22}), "quality must be"),
        (lambda rd: rd["points"][0].update(vmaf="high"), "vmaf must be a number or null"),
        (lambda rd: rd["points"][0].update(per_frame={"psnr_rgb": 3.0}), "per_frame"),
        (lambda rd: rd["points"][0].update(bytes=True), "bytes has the wrong type"),
    ],
)
def test_malformed_files_are_rejected(make_rd, tmp_path, breakage, message):
    rd = make_rd("x265", SIZES, PSNR)
    breakage(rd)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(rd))
    with pytest.raises(InputError, match=message):
        load_rd(path)


def test_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_rd(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(InputError, match="not JSON"):
        load_rd(tmp_path / "x.json")
    with pytest.raises(InputError, match="not a JSON object"):
        validate_rd([1, 2])


def test_deeply_nested_json_is_an_input_error(tmp_path, capsys):
    from vid1d.cli.main import main

    deep = tmp_path / "deep.json"
    deep.write_text('{"schema": "vid1d.rd/1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(InputError, match="deep.json: .*nested too deeply"):
        load_rd(deep)
    for argv in (["bdrate", str(deep), "--anchor", "x265"],
                 ["plot", str(deep), "-o", str(tmp_path / "rd.png")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "deep.json" in err and "nested too deeply" in err, err
    assert not (tmp_path / "rd.png").exists()
