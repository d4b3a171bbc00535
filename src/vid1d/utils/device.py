"""Device names checked against what this machine has (one place for every command)."""

from __future__ import annotations

import torch

from vid1d.errors import InputError


def check_device(device: str | torch.device) -> torch.device:
    """``device`` as a torch.device this machine has; InputError for a malformed name
    (``"foo"``) or an accelerator that is not available (``"cuda"`` without CUDA)."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"invalid device {str(device)!r} (use cpu, cuda or cuda:N)") from None
    if dev.type == "cpu":
        return dev
    if dev.type != "cuda":
        raise InputError(f"unsupported device {str(device)!r} (use cpu, cuda or cuda:N)")
    if not torch.cuda.is_available():
        raise InputError(f"device {str(device)!r} requested but CUDA is not available "
                         "on this machine")
    if dev.index is not None and dev.index >= torch.cuda.device_count():
        raise InputError(f"device {str(device)!r} requested but this machine has "
                         f"{torch.cuda.device_count()} CUDA device(s)")
    return dev


__all__ = ["check_device"]
