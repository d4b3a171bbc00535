"""Progress bars for long work (encode, decode, train, eval).

One place decides how progress is shown: tqdm on stderr, silenced with
``VID1D_PROGRESS=0`` (tests set it) or ``disable=True``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from tqdm.auto import tqdm


def progress_enabled() -> bool:
    return os.environ.get("VID1D_PROGRESS", "1") != "0"


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "",
             unit: str = "it", disable: bool = False, **kwargs) -> tqdm:
    return tqdm(iterable, total=total, desc=desc, unit=unit, dynamic_ncols=True,
                disable=disable or not progress_enabled(), leave=False, **kwargs)


def close_all() -> None:
    """Close (and so clear, ``leave=False``) every open bar: an error message printed
    after this starts on a clean line instead of after a half-drawn bar."""
    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()
