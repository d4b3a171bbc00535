"""Two gloo CPU processes (torchrun's environment) against one process on the same batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from vid1d.train import fit

HERE = Path(__file__).resolve().parent
TOL = 1e-5  # DDP averages per-rank mean gradients: same value, other summation order


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(world: int, out: Path) -> None:
    port = free_port()
    procs = []
    for rank in range(world):
        env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world),
               "LOCAL_WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1",
               "MASTER_PORT": str(port), "VID1D_PROGRESS": "0", "OMP_NUM_THREADS": "1"}
        procs.append(subprocess.Popen([sys.executable, str(HERE / "_dist_worker.py"), str(out)],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True))
    logs = [p.communicate(timeout=180)[0] for p in procs]
    for rank, (p, log) in enumerate(zip(procs, logs, strict=True)):
        assert p.returncode == 0, f"rank {rank} failed:\n{log[-3000:]}"


def close(a: dict, b: dict, what: str) -> None:
    assert a.keys() == b.keys()
    for k in a:
        diff = (a[k].double() - b[k].double()).abs().max().item()
        assert diff <= TOL, f"{what}: {k} differs by {diff:.3g} > {TOL}"


def test_ddp_and_fsdp_on_two_processes_match_one_process(tiny, tmp_path):
    sys.path.insert(0, str(HERE))
    try:
        import _dist_worker as worker
    finally:
        sys.path.remove(str(HERE))
    launch(2, tmp_path)

    ref_model = worker.train("ddp", tmp_path / "single" / "ddp")  # one process, same batch
    ref = {k: v.detach() for k, v in ref_model.state_dict().items()}
    ref_ckpt = load_file(tmp_path / "single" / "ddp" / "checkpoints" / "step_000003.safetensors")

    for mode in ("ddp", "fsdp"):
        r0 = load_file(tmp_path / f"{mode}_rank0.safetensors")
        r1 = load_file(tmp_path / f"{mode}_rank1.safetensors")
        for k in r0:  # (a) the ranks agree exactly
            assert torch.equal(r0[k], r1[k]), f"{mode}: ranks disagree on {k}"
        close(r0, ref, f"{mode} x2 vs one process")  # (b) and match one process
        ckpt = load_file(tmp_path / mode / "checkpoints" / "step_000003.safetensors")
        close(ckpt, ref_ckpt, f"{mode} checkpoint (model + EMA)")
        assert (tmp_path / mode / "samples" / "step_000003.png").exists()
        resumed = load_file(tmp_path / f"{mode}-cut" / "checkpoints" / "step_000003.safetensors")
        for k in ckpt:  # (c) a multi-process run resumes exactly
            assert torch.equal(ckpt[k], resumed[k]), f"{mode}: resumed run differs on {k}"

        def records(run: Path):
            return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]

        got, want = records(tmp_path / mode), records(tmp_path / "single" / "ddp")
        assert [r["step"] for r in got] == [r["step"] for r in want] == [1, 2, 3, 3]
        for g, w in zip(got, want, strict=True):
            key = "mse"  # training loss terms and validation (averaged over both ranks)
            assert abs(g[key] - w[key]) <= TOL, (mode, g, w)

    # FSDP2 on one process (a one-rank group) is the same optimization too.
    fsdp_single = fit(worker.config("fsdp"), tmp_path / "single-fsdp",
                      train_set=tiny.TinyClips(32), val_set=tiny.TinyClips(8, seed=1))
    close(load_file(fsdp_single.checkpoint), ref_ckpt, "fsdp x1 vs one process")
