"""Atomic output files: write to a temporary sibling, then rename.

A crash or Ctrl-C never leaves a half-written output, and an output is never
written over one of the inputs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from vid1d.errors import InputError


def check_not_input(out: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an output path that is one of the inputs (same file on disk)."""
    out = Path(out)
    for inp in inputs:
        inp = Path(inp)
        if out.resolve() == inp.resolve() or (
            out.exists() and inp.exists() and os.path.samefile(out, inp)
        ):
            raise InputError(f"output {out} is also an input; refusing to overwrite it")


def check_folder_path(path: str | os.PathLike, what: str) -> None:
    """InputError where ``path``, or the first of its parents that exists, is not a
    folder: a file in the way, found before any work rather than by a later mkdir."""
    path = Path(path)
    for up in (path, *path.parents):
        if up.exists():
            if up == path and not up.is_dir():
                raise InputError(f"{what} {path} exists and is not a folder")
            if not up.is_dir():
                raise InputError(f"{what} {path}: {up} is not a folder")
            return


def make_folder(path: str | os.PathLike, what: str = "") -> Path:
    """Create the folder ``path`` (and its parents); a one-line InputError, before any
    work, where it is a file or cannot be created. ``what`` names it in the message."""
    path = Path(path)
    label = f"{what} {path}" if what else str(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{label} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create {label} ({e.strerror})") from None
    return path


def _check_target(path: Path, is_dir: bool, replaceable: str | None) -> Path:
    """Refuse targets a rename would destroy or cannot reach, before any work is done;
    returns the parent folder (created when missing)."""
    parent = path.parent if str(path.parent) else Path(".")
    check_folder_path(parent, "output folder")
    make_folder(parent, "output folder")
    if not (path.exists() or path.is_symlink()):
        return parent
    if not is_dir:
        if path.is_dir():
            raise InputError(f"output {path} is a folder; give a file name")
        if not path.is_file():
            raise InputError(f"output {path} exists and is not a regular file; refusing to replace it")
        return parent
    if not path.is_dir() or path.is_symlink():
        raise InputError(f"output {path} exists and is not a folder; refusing to replace it")
    if path.resolve() == Path.cwd().resolve() or path.resolve() in Path.cwd().resolve().parents:
        raise InputError(f"output {path} is the current folder or holds it; give a new folder")
    foreign = [p.name for p in path.iterdir() if p.is_dir() or not (replaceable and p.match(replaceable))]
    if foreign:
        raise InputError(f"output folder {path} holds files vid1d did not write ({sorted(foreign)[0]}"
                         f"{', ...' if len(foreign) > 1 else ''}); refusing to replace it")
    return parent


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, is_dir: bool = False,
                replaceable: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The target is checked first: an existing file may be replaced, but never a
    folder, a device or a FIFO (``-o /dev/null`` must not become a regular file).
    For folders (``is_dir=True``) an existing target is replaced only after the
    new one is complete, and only if everything in it matches the glob
    ``replaceable`` (the files this writer makes): replacing a folder deletes it, so
    one holding anything else (the input, the user's notes) is refused. The
    output gets the permissions a plain ``open`` would (mkstemp makes 0600), set
    just before the rename: some writers (safetensors) recreate the temporary as 0600.
    On any exception the temporary is removed.
    """
    path = Path(path)
    parent = _check_target(path, is_dir, replaceable)
    umask = os.umask(0)
    os.umask(umask)
    if is_dir:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    else:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=parent)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        tmp.chmod((0o777 if is_dir else 0o666) & ~umask)
        if is_dir:
            if path.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=parent))
                old.rmdir()
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
