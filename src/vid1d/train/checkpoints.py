"""Training checkpoints in a run folder::

    RUN/checkpoints/step_000100.safetensors  model weights ("model.<name>") and EMA
                                             weights ("ema.<name>", fp32), full tensors
    RUN/checkpoints/step_000100.json         sidecar: model type and config, run config,
                                             step, metrics, hardware, sha256 of the weights
    RUN/checkpoints/step_000100.state.pt     optimizer, step, RNG states of every rank,
                                             data position, elapsed time
    RUN/checkpoints/latest                   "step_000100": the newest complete checkpoint

Every file is written atomically and ``latest`` is replaced last, so a crash at
any point leaves the previous checkpoint as ``latest``. The ``.state.pt`` file
holds only tensors, numbers, strings, lists and dicts, and is read with
``torch.load(weights_only=True)``: vid1d never unpickles arbitrary objects, even
from its own runs. The learning-rate schedule is a function of the step, so it
has no state to save.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from vid1d.errors import InputError
from vid1d.models.checkpoint import load_checkpoint, save_checkpoint
from vid1d.utils.fs import atomic_path, atomic_write_text

CHECKPOINT_DIR = "checkpoints"
STATE_FORMAT = 1
_STEM = re.compile(r"^step_(\d+)$")


def step_stem(step: int) -> str:
    return f"step_{step:06d}"


@dataclass(frozen=True)
class TrainCheckpoint:
    step: int
    model: dict[str, torch.Tensor]
    ema: dict[str, torch.Tensor]  # empty when the run keeps no EMA
    meta: dict  # the JSON sidecar
    weights_path: Path

    def load_state(self, map_location: str | torch.device = "cpu") -> dict:
        """The optimizer/RNG/data state (``torch.load(weights_only=True)``)."""
        path = self.weights_path.with_name(f"{step_stem(self.step)}.state.pt")
        try:
            return torch.load(path, map_location=map_location, weights_only=True)
        except FileNotFoundError:
            raise InputError(f"{path}: training state not found (cannot resume)") from None
        except Exception as e:  # noqa: BLE001 - unpickling errors come in many types
            raise InputError(f"{path}: unreadable training state "
                             f"({type(e).__name__}: {e})") from None


def save_train_checkpoint(run_dir: str | Path, step: int, *, model: dict[str, torch.Tensor],
                          ema: dict[str, torch.Tensor], state: dict, model_type: str,
                          model_config: dict, meta: dict, keep: int) -> Path:
    """Write the three files, then move ``latest``; prune to the newest ``keep``."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    stem = folder / step_stem(step)
    with atomic_path(stem.with_name(stem.name + ".state.pt")) as tmp:
        torch.save({"format": STATE_FORMAT, **state}, tmp)
    tensors = {f"model.{k}": v for k, v in model.items()}
    tensors.update({f"ema.{k}": v for k, v in ema.items()})
    weights = save_checkpoint(stem, tensors, model_type=model_type, config=model_config,
                              extra={"step": step, "ema": bool(ema), **meta})
    atomic_write_text(folder / "latest", stem.name + "\n")
    for old in list_steps(run_dir)[:-keep]:
        for suffix in (".safetensors", ".json", ".state.pt"):
            (folder / f"{step_stem(old)}{suffix}").unlink(missing_ok=True)
    return weights


def list_steps(run_dir: str | Path) -> list[int]:
    """Steps with a weights file, oldest first."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    steps = []
    for p in folder.glob("step_*.safetensors"):
        m = _STEM.match(p.name.removesuffix(".safetensors"))
        if m:
            steps.append(int(m.group(1)))
    return sorted(steps)


def latest_step(run_dir: str | Path) -> int | None:
    pointer = Path(run_dir) / CHECKPOINT_DIR / "latest"
    if not pointer.exists():
        return None
    if not pointer.is_file():  # a FIFO would block the read
        raise InputError(f"{pointer}: not a regular file (it should name a checkpoint)")
    try:
        text = pointer.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{pointer}: unreadable ({getattr(e, 'strerror', None) or e})") from None
    m = _STEM.match(text.strip())
    if not m:
        raise InputError(f"{pointer}: does not name a checkpoint")
    return int(m.group(1))


def load_train_checkpoint(run_dir: str | Path, step: int | None = None) -> TrainCheckpoint:
    """The checkpoint at ``step`` (default: ``latest``), sha256-verified."""
    if not Path(run_dir).is_dir():
        raise InputError(f"{run_dir}: " + ("not a folder" if Path(run_dir).exists() else
                                           "no such folder") + " (give a vid1d train run folder)")
    if step is None:
        step = latest_step(run_dir)
        if step is None:
            raise InputError(f"{run_dir}: no checkpoint yet ({CHECKPOINT_DIR}/latest missing)")
    stem = Path(run_dir) / CHECKPOINT_DIR / step_stem(step)
    if not stem.with_suffix(".safetensors").exists():
        have = ", ".join(map(str, list_steps(run_dir))) or "none"
        raise InputError(f"{run_dir}: no checkpoint at step {step} (have: {have})")
    ckpt = load_checkpoint(stem)
    model = {k[6:]: v for k, v in ckpt.state_dict.items() if k.startswith("model.")}
    ema = {k[4:]: v for k, v in ckpt.state_dict.items() if k.startswith("ema.")}
    return TrainCheckpoint(step, model, ema, ckpt.meta, ckpt.weights_path)
