"""encode / decode / info / explain / eval through the CLI on a random tiny GVC1D."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from vid1d.cli.main import main
from vid1d.models.checkpoint import save_checkpoint
from vid1d.models.gvc1d import GVC1D, PRESETS
from vid1d.utils.config import config_to_dict


@pytest.fixture()
def model_id(tmp_path, monkeypatch):
    monkeypatch.setenv("VID1D_MODELS", str(tmp_path / "models"))
    torch.manual_seed(0)
    model = GVC1D(PRESETS["tiny"])
    save_checkpoint(tmp_path / "models" / "gvc1d-cli-test", model.state_dict(), model_type="gvc1d",
                    config=config_to_dict(PRESETS["tiny"]), extra={"id": "gvc1d-cli-test"})
    return "gvc1d-cli-test"


def test_encode_decode_info(tmp_path, sample_video, model_id, capsys):
    stream = tmp_path / "a.v1d"
    assert main(["encode", str(sample_video), "-o", str(stream), "--model", model_id,
                 "--frames", "2", "--quality", "5"]) == 0
    assert "bpp" in capsys.readouterr().out
    assert main(["decode", str(stream), "-o", str(tmp_path / "rec.y4m")]) == 0
    assert main(["info", str(tmp_path / "rec.y4m")]) == 0
    assert "176x144" in capsys.readouterr().out and (tmp_path / "rec.y4m").stat().st_size > 0
    assert main(["info", str(stream)]) == 0
    out = capsys.readouterr().out
    assert "gvc1d-cli-test" in out and "frame_count: 2" in out
    # --frames: one row per frame whose bytes add up to the stream minus its container
    assert main(["info", str(stream), "--frames"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines[lines.index(next(x for x in lines if "substream" in x)) + 1:]]
    assert [r[:2] for r in rows] == [["0", "intra"], ["1", "inter"]]
    assert all(int(r[2]) > sum(map(int, r[4:])) > 0 for r in rows)
    overhead = int(next(x for x in lines if "overhead" in x).split()[1])
    assert sum(int(r[2]) for r in rows) == stream.stat().st_size - overhead
    assert main(["info", str(sample_video), "--frames"]) == 2
    assert "--frames lists the frames" in capsys.readouterr().err
    assert main(["info", str(tmp_path), "--frames"]) == 2  # a folder (of PNG frames)
    assert "--frames lists the frames" in capsys.readouterr().err


def test_cli_errors_are_one_line(tmp_path, sample_video, model_id, capsys):
    stream = tmp_path / "a.v1d"
    cases = [
        ["encode", str(tmp_path / "missing.mp4"), "-o", str(stream), "--model", model_id],
        ["encode", str(sample_video), "-o", str(stream), "--model", "no-such-model"],
        ["encode", str(sample_video), "-o", str(sample_video), "--model", model_id],
        ["encode", str(sample_video), "-o", str(stream), "--model", model_id, "--quality", "99"],
        ["decode", str(sample_video), "-o", str(tmp_path / "x.y4m")],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "error" in err, err
    assert not stream.exists()


def test_truncated_stream_decode_fails_cleanly(tmp_path, sample_video, model_id, capsys):
    stream = tmp_path / "a.v1d"
    main(["encode", str(sample_video), "-o", str(stream), "--model", model_id, "--frames", "2"])
    data = stream.read_bytes()
    stream.write_bytes(data[: len(data) - 7])
    out = tmp_path / "rec.y4m"
    assert main(["decode", str(stream), "-o", str(out)]) == 2
    assert "truncated" in capsys.readouterr().err
    assert not out.exists()


def test_explain_writes_png(tmp_path, sample_video, model_id):
    png = tmp_path / "outflow.png"
    assert main(["explain", str(sample_video), "-o", str(png), "--model", model_id,
                 "--frames", "2", "--crop", "48", "--tokens", "0,1"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    for bad in (",", "", "a", "99"):
        assert main(["explain", str(sample_video), "-o", str(tmp_path / "x.png"), "--model", model_id,
                     "--frames", "2", "--crop", "48", "--tokens", bad]) == 2, bad
    assert not (tmp_path / "x.png").exists()


def test_eval_learned_and_classic(tmp_path, sample_video, model_id):
    out = tmp_path / "eval"
    assert main(["eval", str(sample_video), "--codecs", f"{model_id},x264", "--frames", "2",
                 "--qualities", "0,2,5,7", "--no-vmaf", "-o", str(out), "--anchor", "x264"]) == 0
    rd = json.loads((out / f"carphone_pristine__{model_id}.json").read_text())
    assert rd["codec"]["kind"] == "learned" and len(rd["points"]) == 4
    for p in rd["points"]:
        assert p["bpp"] == pytest.approx(8 * p["bytes"] / (176 * 144 * 2))
        # the metrics of the decoded file equal what the encoder reconstructed (8-bit rounding)
        assert abs(p["psnr_rgb"] - p["encoder_psnr_rgb"]) < 0.05
        assert len(p["frame_coded_bytes"]) == 2 and 0 < sum(p["frame_coded_bytes"]) < p["bytes"]
    assert (out / "carphone_pristine__rd_psnr_rgb.png").exists()
    assert "Complexity" in (out / "report.md").read_text()


@pytest.fixture()
def tokenizer_id(tmp_path, model_id):
    """A random tiny One-DVA beside the codec: a registered model that is not a codec."""
    from vid1d.models.onedva import PRESETS as ONEDVA_PRESETS
    from vid1d.models.onedva import OneDVA

    cfg = dataclasses.replace(ONEDVA_PRESETS["tiny"], max_queries=128, perceptual="", repa="")
    model = OneDVA(cfg)
    save_checkpoint(tmp_path / "models" / "onedva-cli-test", model.state_dict(), model_type="onedva",
                    config=config_to_dict(cfg), extra={"id": "onedva-cli-test"})
    return "onedva-cli-test"


def _one_line_error(capsys, *words: str) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "error" in err, err
    assert all(w in err for w in words), err
    return err


def test_explain_refuses_to_overwrite_its_input(tmp_path, sample_video, model_id, capsys):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(sample_video.read_bytes())
    assert main(["explain", str(clip), "-o", str(clip), "--model", model_id,
                 "--frames", "2", "--crop", "48"]) == 2
    _one_line_error(capsys, "also an input")
    assert clip.read_bytes() == sample_video.read_bytes()


def test_tokenizer_is_not_a_codec(tmp_path, sample_video, tokenizer_id, capsys):
    cases = [
        ["encode", str(sample_video), "-o", str(tmp_path / "a.v1d"), "--model", tokenizer_id,
         "--frames", "2"],
        ["eval", str(sample_video), "--codecs", tokenizer_id, "-o", str(tmp_path / "ev"),
         "--frames", "2", "--no-vmaf"],
        ["demo", "--out", str(tmp_path / "dm"), "--input", str(sample_video), "--frames", "2",
         "--model", tokenizer_id],
        ["decode", str(tmp_path / "a.v1d"), "-o", str(tmp_path / "rec.y4m"), "--model",
         tokenizer_id],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        _one_line_error(capsys, f"{tokenizer_id} is a One-DVA tokenizer, not a codec")
    assert not list(tmp_path.glob("a.v1d")) and not (tmp_path / "ev").exists()
    assert not (tmp_path / "dm").exists()  # refused before the classic codecs ran


def test_quality_is_checked_the_same_everywhere(tmp_path, sample_video, model_id, capsys):
    png, out = tmp_path / "x.png", tmp_path / "ev"
    for q in ("nan", "99", "-1", "inf"):
        for argv in (
            ["encode", str(sample_video), "-o", str(tmp_path / "a.v1d"), "--frames", "2"],
            ["explain", str(sample_video), "-o", str(png), "--frames", "2", "--crop", "48"],
        ):
            assert main([*argv, "--model", model_id, "--quality", q]) == 2, (argv, q)
            _one_line_error(capsys, "--quality must be in [0, 7]")
    assert main(["eval", str(sample_video), "--codecs", f"{model_id},x264", "--frames", "2",
                 "--qualities", "99,-5,3,7", "--no-vmaf", "-o", str(out),
                 "--anchor", "x264"]) == 2
    _one_line_error(capsys, f"{model_id}: quality must be in [0, 7], got 99")
    assert not png.exists() and not out.exists()


def test_unavailable_or_invalid_device(tmp_path, sample_video, model_id, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    stream = tmp_path / "a.v1d"
    for device, words in (("cuda", "CUDA is not available"), ("cuda:1", "CUDA is not available"),
                          ("foo", "invalid device 'foo'")):
        assert main(["encode", str(sample_video), "-o", str(stream), "--model", model_id,
                     "--frames", "2", "--device", device]) == 2
        _one_line_error(capsys, words)
    assert not stream.exists()
    assert main(["eval", str(sample_video), "--codecs", "x264", "--anchor", "x264",
                 "--frames", "2", "--no-vmaf", "-o", str(tmp_path / "ev"), "--device", "cuda"]) == 2
    _one_line_error(capsys, "CUDA is not available")
    assert main(["metrics", str(sample_video), str(sample_video), "--frames", "2", "--no-vmaf",
                 "--device", "cuda"]) == 2
    _one_line_error(capsys, "CUDA is not available")


def test_eval_checks_options_before_any_work(tmp_path, sample_video, model_id, capsys):
    out = tmp_path / "ev"
    cases = [
        (["--anchor", "nosuch"], "anchor 'nosuch' matches none of the codecs to run"),
        (["--codecs", f"{model_id},x264,x264:slow", "--anchor", "x264"], "ambiguous"),
        (["--codecs", f"{model_id},nosuch", "--anchor", model_id], "unknown codec 'nosuch'"),
        (["--anchor", "x264", "--intra-period", "0"], "intra period"),
        (["--anchor", "x264", "--frames", "0"], "--frames"),
    ]
    for extra, words in cases:
        argv = ["eval", str(sample_video), "--codecs", f"{model_id},x264", "--frames", "2",
                "--qualities", "0,7", "--no-vmaf", "-o", str(out)]
        assert main([*argv, *extra]) == 2, extra
        _one_line_error(capsys, words)
        assert not out.exists(), extra


def test_frames_too_large_for_memory_are_refused_before_coding(tmp_path, sample_video, model_id,
                                                                monkeypatch, capsys):
    """A header may declare up to 16384x16384 (about 160 GiB to decode on a CPU): the
    codec refuses a frame that cannot fit in free memory instead of being OOM-killed."""
    import vid1d.codec as codec

    stream = tmp_path / "a.v1d"
    assert main(["encode", str(sample_video), "-o", str(stream), "--model", model_id, "--frames", "1"]) == 0
    free = 176 * 144 * codec.CODING_BYTES_PER_PIXEL - 1  # just short of one 176x144 frame
    monkeypatch.setattr(codec, "_memory_available", lambda: free)
    out = tmp_path / "rec.y4m"
    for argv in (["decode", str(stream), "-o", str(out)],
                 ["encode", str(sample_video), "-o", str(tmp_path / "b.v1d"), "--model", model_id]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert "176x144 frame needs about" in err and err.count("\n") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.v1d", "models"]
    with pytest.raises(codec.InputError, match="16384x16384"):
        codec.check_frame_memory(16384, 16384, "cpu", "decoding")
    codec.check_frame_memory(16384, 16384, "cuda", "decoding")  # left to CUDA's own errors
    # float64 coding needs more per pixel (measured): a frame that fits in float32 may not
    monkeypatch.setattr(codec, "_memory_available", lambda: 176 * 144 * codec.CODING_BYTES_PER_PIXEL)
    codec.check_frame_memory(176, 144, "cpu", "encoding", codec.PRECISIONS["float32"])
    with pytest.raises(codec.InputError, match="176x144 frame needs about"):
        codec.check_frame_memory(176, 144, "cpu", "encoding", codec.PRECISIONS["float64"])
    # integer coding (int64 tensors) sits between the two
    monkeypatch.setattr(codec, "_memory_available",
                        lambda: 176 * 144 * codec.CODING_BYTES_PER_PIXEL_INT)
    codec.check_frame_memory(176, 144, "cpu", "decoding", codec._memory_dtype("int"))
    with pytest.raises(codec.InputError, match="176x144 frame needs about"):
        codec.check_frame_memory(176, 144, "cpu", "decoding", codec._memory_dtype("float64"))


def test_streams_a_learned_codec_never_writes_are_refused(tmp_path, sample_video, model_id, capsys):
    """A consistent header (valid CRC) that declares 16-bit frames or no frames is not
    something encode_video writes: decode refuses it instead of writing 8-bit or empty video."""
    from dataclasses import replace

    from vid1d.bitstream.container import BitstreamReader, ChunkType, encode_stream

    stream = tmp_path / "a.v1d"
    assert main(["encode", str(sample_video), "-o", str(stream), "--model", model_id, "--frames", "1"]) == 0
    with BitstreamReader(stream) as r:
        header, chunks = r.header, [c for c in r.read_all() if c.type == ChunkType.FRAME]
    cases = {"deep.v1d": encode_stream(replace(header, bit_depth=16), [(c.type, c.payload) for c in chunks]),
             "empty.v1d": encode_stream(header, [])}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert main(["decode", str(tmp_path / name), "-o", str(tmp_path / "rec.y4m")]) == 2, name
        assert "8-bit frames and at least one" in capsys.readouterr().err
    assert not (tmp_path / "rec.y4m").exists()


def test_eval_refuses_inputs_whose_results_would_collide(tmp_path, sample_video, model_id, capsys):
    (tmp_path / "b").mkdir()
    other = tmp_path / "b" / sample_video.name
    other.write_bytes(sample_video.read_bytes())
    assert main(["eval", str(sample_video), str(other), "--codecs", model_id, "--anchor", model_id,
                 "-o", str(tmp_path / "ev"),
                 "--frames", "1", "--no-vmaf"]) == 2
    assert "share the name" in capsys.readouterr().err
    assert not (tmp_path / "ev").exists()


def test_cli_precision_names_are_the_codecs():
    """The CLI names the precisions without importing torch; they must stay the codec's."""
    from vid1d.cli.args import PRECISION_CHOICES
    from vid1d.codec import DEFAULT_PRECISION, PRECISIONS

    assert set(PRECISION_CHOICES) == set(PRECISIONS) and PRECISION_CHOICES[0] == DEFAULT_PRECISION
