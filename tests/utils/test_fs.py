"""Atomic outputs: what an output path may replace, and cleanup on SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from vid1d.cli import main as cli_main
from vid1d.errors import InputError
from vid1d.io import write_video
from vid1d.models.checkpoint import save_checkpoint
from vid1d.utils.fs import atomic_path, atomic_write_bytes


def _clip(frames=2):
    return torch.rand(3, frames, 8, 8, generator=torch.Generator().manual_seed(0))


def test_a_folder_holding_other_files_is_never_replaced(tmp_path):
    """A PNG-folder output replaces an old one, but not a folder with the user's files
    (the input among them): replacing a folder deletes it."""
    out = tmp_path / "frames"
    write_video(out, [_clip(3)], fps=30)
    write_video(out, [_clip(2)], fps=30)  # only frame_*.png inside: replaced
    assert sorted(p.name for p in out.iterdir()) == ["frame_000000.png", "frame_000001.png"]
    (out / "in.v1d").write_bytes(b"user data")
    with pytest.raises(InputError, match="did not write"):
        write_video(out, [_clip(2)], fps=30)
    assert (out / "in.v1d").read_bytes() == b"user data"
    assert len(list(out.iterdir())) == 3 and len(list(tmp_path.iterdir())) == 1  # no temporaries
    with pytest.raises(InputError, match="current folder"):
        with atomic_path(".", is_dir=True, replaceable="*"):
            pass


def test_folders_devices_and_fifos_are_not_replaced_by_files(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        atomic_write_bytes(tmp_path / "d", b"x")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        atomic_write_bytes(fifo, b"x")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(InputError, match="not a folder"):
        atomic_write_bytes(tmp_path / "f" / "out.bin", b"x")
    with pytest.raises(InputError, match="not a folder"):
        write_video(tmp_path / "f", [_clip()], fps=30, format="png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "f", "fifo"]


def test_outputs_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"x")
        out = write_video(tmp_path / "frames", [_clip()], fps=30)
        # safetensors recreates the file it writes as 0600
        weights = save_checkpoint(tmp_path / "m", {"w": torch.zeros(2)}, model_type="t", config={})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o644  # mkstemp alone gives 0600
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert stat.S_IMODE(weights.stat().st_mode) == 0o644


def test_sigterm_exits_143_and_leaves_no_temporary(tmp_path, monkeypatch, capsys):
    def slow_command(args):
        with atomic_path(tmp_path / "out.bin") as tmp:
            tmp.write_bytes(b"partial")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)  # interrupted by the handler
        return 0

    parser = argparse.ArgumentParser()
    parser.set_defaults(func=slow_command, command="slow")
    monkeypatch.setattr(cli_main, "build_parser", lambda: parser)
    before = signal.getsignal(signal.SIGTERM)
    assert cli_main.main([]) == 143
    assert list(tmp_path.iterdir()) == []
    assert "terminated" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) == before  # restored for the caller


def test_fifo_inputs_are_refused_instead_of_blocking(tmp_path, capsys):
    """Opening a FIFO for reading waits for a writer: every reader refuses one first."""
    fifo = tmp_path / "in.v1d"
    os.mkfifo(fifo)
    for argv in (["info", str(fifo)], ["decode", str(fifo), "-o", str(tmp_path / "x.y4m")],
                 ["plot", str(fifo), "-o", str(tmp_path / "x.png")]):
        assert cli_main.main(argv) == 2, argv
        assert "not a regular file" in capsys.readouterr().err


def test_a_closed_stdout_pipe_exits_141_without_a_traceback():
    """`vid1d info X | head -0`: the reader is gone before vid1d writes."""
    sample = Path(__file__).parents[2] / "src" / "vid1d" / "assets" / "carphone_pristine.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "vid1d", "info", str(sample)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # long before the interpreter has imported anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "Exception ignored" not in err, err
