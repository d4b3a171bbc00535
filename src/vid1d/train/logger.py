"""What a run reports: progress bar, ``metrics.jsonl``, ``train.log``, TensorBoard.

Only rank 0 logs. ``metrics.jsonl`` holds one JSON object per line: training
records ``{"step", "lr", "loss", <terms>, "grad_norm", "samples_per_s", "time"}``
and validation records ``{"step", "split": "val", <metrics>}``. On resume the
lines after the resumed step (written by the interrupted run after its last
checkpoint) are dropped, so the file reads as one uninterrupted run.
"""

from __future__ import annotations

import datetime
import json
import math
import sys
from pathlib import Path

from vid1d.utils.fs import atomic_write_text
from vid1d.utils.progress import progress


class RunLogger:
    def __init__(self, run_dir: Path, *, enabled: bool, start_step: int, total_steps: int,
                 desc: str, tensorboard: bool = False):
        self.run_dir, self.enabled = run_dir, enabled
        self.metrics_path = run_dir / "metrics.jsonl"
        self.bar = progress(total=total_steps, initial=start_step, desc=desc, unit="step",
                            disable=not enabled)
        self.tb = None
        if enabled:
            run_dir.mkdir(parents=True, exist_ok=True)
            self._truncate_after(start_step)
            if tensorboard:
                self.tb = self._open_tensorboard()

    def _open_tensorboard(self):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            self.note("train.tensorboard=true but the tensorboard package is not installed; "
                      "logging to metrics.jsonl only (pip install tensorboard)")
            return None
        return SummaryWriter(str(self.run_dir / "tb"))

    def _truncate_after(self, step: int) -> None:
        if not self.metrics_path.exists():
            return
        kept = []
        for line in self.metrics_path.read_text().splitlines():
            try:
                if json.loads(line)["step"] <= step:
                    kept.append(line)
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by the interruption
        atomic_write_text(self.metrics_path, "".join(f"{x}\n" for x in kept))

    def note(self, message: str) -> None:
        """A one-line remark for the user (stderr) and for the record (train.log)."""
        if not self.enabled:
            return
        stamp = datetime.datetime.now().isoformat(timespec="seconds")
        with open(self.run_dir / "train.log", "a") as f:
            f.write(f"{stamp} {message}\n")
        self.bar.write(f"vid1d train: {message}", file=sys.stderr)

    def log(self, record: dict) -> None:
        if not self.enabled:
            return
        with open(self.metrics_path, "a") as f:
            f.write(json.dumps(record) + "\n")
        if self.tb is not None:
            prefix = f"{record['split']}/" if "split" in record else "train/"
            for k, v in record.items():
                if isinstance(v, (int, float)) and k not in ("step", "split") and math.isfinite(v):
                    self.tb.add_scalar(prefix + k, v, record["step"])
        if "split" not in record:
            self.bar.set_postfix(loss=f"{record['loss']:.4g}",
                                 samples_s=f"{record['samples_per_s']:.1f}", refresh=False)

    def advance(self, n: int = 1) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()
        if self.tb is not None:
            self.tb.close()
