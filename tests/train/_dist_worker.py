"""One rank of the 2-process gloo test (run by test_distributed.py with torchrun's env vars).

Trains the tiny model with DDP, then with FSDP2, on the same process group, and
writes each rank's final parameters (FSDP shards gathered) to OUT/<mode>_rank<r>.safetensors;
then repeats each run interrupted after step 2 and resumed (OUT/<mode>-cut).
"""

from __future__ import annotations

import sys
from pathlib import Path

import _tiny
import torch
import torch.distributed as dist
from safetensors.torch import save_file

from vid1d.train import fit, resolve_run_config
from vid1d.train.ema import full

COMMON = ["train.steps=3", "train.batch_size=4", "train.log_every=1", "train.val_every=3",
          "train.val_samples=4", "train.sample_every=3", "train.ckpt_every=0",
          "train.device=cpu", "data.workers=0"]


def config(mode: str):
    extra = ["train.fsdp=true"] if mode == "fsdp" else []
    return resolve_run_config("train-test-ae", preset="recipe", overrides=COMMON + extra)


def train(mode: str, run: Path, **kw):
    cfg = config(mode)
    torch.manual_seed(cfg.train.seed)
    model = _tiny.TinyAE(cfg.model)
    fit(cfg, run, model=model, train_set=_tiny.TinyClips(32), val_set=_tiny.TinyClips(8, seed=1),
        **kw)
    return model


def main(out: Path) -> None:
    dist.init_process_group("gloo")  # from RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT
    rank = dist.get_rank()
    for mode in ("ddp", "fsdp"):
        model = train(mode, out / mode)
        params = {k: full(v).contiguous() for k, v in model.state_dict().items()}
        save_file(params, str(out / f"{mode}_rank{rank}.safetensors"))
        # interrupted after step 2, then resumed: must end exactly where the run above did
        train(mode, out / f"{mode}-cut", until=2)
        train(mode, out / f"{mode}-cut", resume=True)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
