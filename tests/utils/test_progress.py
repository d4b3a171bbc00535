"""Progress bars: a failing command clears its open bars before printing the error."""

from __future__ import annotations

import argparse

from vid1d.cli import main as cli_main
from vid1d.errors import InputError
from vid1d.utils.progress import progress


def test_an_error_closes_the_open_bars_first(monkeypatch, capsys):
    monkeypatch.setenv("VID1D_PROGRESS", "1")
    bars = []

    def failing(args):
        bars.append(progress(total=10, desc="work"))
        bars[0].update(3)
        raise InputError("bad input")

    parser = argparse.ArgumentParser()
    parser.set_defaults(func=failing, command="work")
    monkeypatch.setattr(cli_main, "build_parser", lambda: parser)
    assert cli_main.main([]) == 2
    assert bars[0].disable  # tqdm sets this on close; leave=False has cleared the line
    err = capsys.readouterr().err
    assert err.rstrip("\n").rsplit("\r", 1)[-1] == "vid1d work: error: bad input"
