"""The training loop: one loop for every vid1d model (see :mod:`vid1d.train.api`).

One optimizer step::

    lr <- lr_at(step)                                   warmup + cosine (schedule.py)
    for each of accum_steps micro-batches of this rank:
        losses = model.training_losses(batch, step)     under bf16 autocast on CUDA if asked
        (losses["loss"] / accum_steps).backward()       all-reduce only on the last micro-batch
    clip the global gradient norm; AdamW step; EMA update
    every log_every: metrics.jsonl + progress bar; every val_every: validation;
    every sample_every: PNG samples; every ckpt_every and at the end: checkpoint

Exactness: the data a rank sees at a step is a pure function of (step, rank)
(:mod:`vid1d.train.sampler`); parameters, EMA, optimizer and every RNG stream are
checkpointed; validation and sampling run on forked RNG streams. On CPU a resumed
run is therefore bit-identical to an uninterrupted one, and N data-parallel ranks
match one process on the same global batch up to float summation order.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.distributed.tensor import DTensor
from torch.utils.data import Dataset

from vid1d.errors import InputError, Vid1dError
from vid1d.models.checkpoint import load_checkpoint
from vid1d.models.registry import build_model, resolve
from vid1d.train.checkpoints import (
    TrainCheckpoint,
    latest_step,
    load_train_checkpoint,
    save_train_checkpoint,
    step_stem,
)
from vid1d.train.data import build_dataset, is_unbounded
from vid1d.train.distributed import (
    DistEnv,
    all_gather_objects,
    all_reduce_sum,
    barrier,
    grad_sync,
    init_distributed,
    reshard,
    shutdown,
    wrap,
)
from vid1d.train.ema import EMA, full
from vid1d.train.export import card_provenance
from vid1d.train.images import save_image_grid
from vid1d.train.logger import RunLogger
from vid1d.train.optim import build_optimizer
from vid1d.train.rng import capture_rng, preserved_rng, restore_rng, seed_everything
from vid1d.train.run_config import RunConfig, save_run_config
from vid1d.train.sampler import StepBatchSampler, make_loader
from vid1d.train.schedule import lr_at
from vid1d.utils.config import config_to_dict
from vid1d.utils.fs import check_folder_path


class TrainingDiverged(Vid1dError):
    """The loss became NaN or infinite."""


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    step: int  # optimizer steps completed
    metrics: dict  # the last training record (averaged over the last log interval)
    val: dict  # the last validation record ({} if none ran)
    checkpoint: Path | None  # weights file of the last checkpoint written


def fit(cfg: RunConfig, run_dir: str | os.PathLike, *, resume: bool = False,
        model: nn.Module | None = None, train_set: Dataset | None = None,
        val_set: Dataset | None = None, until: int | None = None) -> TrainResult:
    """Train ``cfg`` into ``run_dir`` (alone or under torchrun).

    ``model``/``train_set``/``val_set`` default to the registry model and the
    ``vid1d.data`` datasets the config describes. ``resume`` continues from the
    run's latest checkpoint (from scratch, with a note, if it has none yet).
    ``until`` stops after that step with a checkpoint, as a preempted job would.
    """
    env = init_distributed(cfg.train.device, need_group=cfg.train.fsdp)
    try:
        result = _Trainer(cfg, Path(run_dir), env, model, train_set, val_set, resume, until).run()
    except BaseException:
        shutdown(env, wait=False)  # peers may be gone or stuck: no barrier
        raise
    shutdown(env)
    return result


def _to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v
            for k, v in batch.items()}


def _hardware(env: DistEnv) -> dict:
    if env.device.type == "cuda":
        name = torch.cuda.get_device_name(env.device)
    else:
        name = f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"
    return {"device": name, "world_size": env.world_size, "torch": torch.__version__}


class _Trainer:
    def __init__(self, cfg: RunConfig, run_dir: Path, env: DistEnv, model: nn.Module | None,
                 train_set: Dataset | None, val_set: Dataset | None, resume: bool,
                 until: int | None):
        self.cfg, self.tc, self.run_dir, self.env = cfg, cfg.train, run_dir, env
        tc = self.tc
        self.micro = tc.micro_batch(env.world_size)
        self.stop = min(tc.steps, until) if until is not None else tc.steps

        # Every rank inspects the folder before rank 0 writes anything into it.
        ckpt = self._find_resume_point(resume)
        barrier()
        self.log = RunLogger(run_dir, enabled=env.is_main, start_step=ckpt.step if ckpt else 0,
                             total_steps=tc.steps, desc=f"train {cfg.model_type}",
                             tensorboard=tc.tensorboard)
        if resume and ckpt is None:
            self.log.note(f"{run_dir}: no checkpoint yet, starting from step 0")

        self.autocast = self._autocast_context()
        seed_everything(tc.seed)  # identical initialization on every rank
        if model is None:
            model = build_model(cfg.model_type, cfg.model)
        if not callable(getattr(model, "training_losses", None)):
            raise InputError(f"{type(model).__name__} is not trainable "
                             "(it has no training_losses(batch, step); see vid1d.train.api)")
        # Where train.init's weights came from, read when they are loaded: a model id
        # can be re-exported under the same name later (re-bundling), so an export
        # must not look the id up again.
        self.init_source: dict | None = None
        self.data_offset = 0  # first step of this run's stretch of the data stream
        if ckpt is None and tc.init:
            self.init_source, init_sha = _load_init_weights(model, tc.init, cfg.model_type)
            self.data_offset = init_data_offset(init_sha)
            self.log.note(f"initialized from {tc.init}; training clips from step "
                          f"{self.data_offset} of the data stream on (chosen by the init "
                          "weights), not the ones the runs behind them saw")
        self.model = model.to(env.device).train()
        if ckpt is not None:
            self.model.load_state_dict(ckpt.model)
        self.module = wrap(self.model, env, fsdp=tc.fsdp, bf16=self.autocast is not None,
                           find_unused=tc.ddp_find_unused)
        self.step_fn = torch.compile(self.module) if tc.compile else self.module
        self.opt = build_optimizer(self.model, tc.optim)
        self.ema = EMA(self.model, tc.ema_decay) if tc.ema_decay > 0 else None
        self.params = [p for p in self.model.parameters() if p.requires_grad]

        self.train_set = train_set if train_set is not None else build_dataset(cfg.data, "train")
        self._val_set = val_set
        self.step, self.elapsed = 0, 0.0
        self.last_train: dict = {}
        self.last_val: dict = {}
        self.checkpoint: Path | None = None
        if ckpt is not None:
            self._restore(ckpt)
        else:
            seed_everything(tc.seed + env.rank)  # distinct noise per rank from here on
        if env.is_main:  # last: a run whose setup failed can be started again as it was
            save_run_config(run_dir, cfg)

    # ----------------------------------------------------------------- setup
    def _find_resume_point(self, resume: bool) -> TrainCheckpoint | None:
        check_folder_path(self.run_dir, "run folder")
        if not resume:
            if (self.run_dir / "config.json").exists():
                raise InputError(f"{self.run_dir} already holds a run; resume it (--resume) "
                                 "or choose another --out")
            return None
        if latest_step(self.run_dir) is None:
            return None
        ckpt = load_train_checkpoint(self.run_dir)
        if ckpt.meta.get("type") != self.cfg.model_type or \
                ckpt.meta.get("config") != config_to_dict(self.cfg.model):
            raise InputError(f"{self.run_dir}: the checkpoint's model ({ckpt.meta.get('type')}) "
                             "differs from the configured one; model.* cannot change on resume")
        return ckpt

    def _autocast_context(self):
        if self.tc.precision != "bf16":
            return None
        if self.env.device.type != "cuda":
            self.log.note("train.precision=bf16 ignored on CPU (autocast is slower than fp32 "
                          "there); training in fp32")
            return None
        return lambda: torch.autocast("cuda", dtype=torch.bfloat16)

    def _restore(self, ckpt: TrainCheckpoint) -> None:
        state = ckpt.load_state()
        if bool(state.get("fsdp")) != self.tc.fsdp:
            raise InputError("resume with the same train.fsdp setting as the interrupted run")
        if self.tc.fsdp:
            from torch.distributed.checkpoint.state_dict import (
                StateDictOptions,
                set_optimizer_state_dict,
            )

            set_optimizer_state_dict(self.model, self.opt, state["optimizer"],
                                     options=StateDictOptions(full_state_dict=True))
        else:
            self.opt.load_state_dict(state["optimizer"])
        if self.ema is not None:
            if ckpt.ema:
                self.ema.load_shadow_state(ckpt.ema)
            else:
                self.log.note("the checkpoint has no EMA; starting the EMA from its weights")
        data = state.get("data", {})
        if data.get("samples_seen") != ckpt.step * self.tc.batch_size:
            self.log.note("train.batch_size changed since the checkpoint: the data order now "
                          "differs from an uninterrupted run")
        rngs = state["rng"]
        if len(rngs) == self.env.world_size:
            restore_rng(rngs[self.env.rank])
        else:
            self.log.note(f"world size changed ({len(rngs)} -> {self.env.world_size}): data "
                          "order is unchanged but random streams are re-seeded")
            seed_everything(self.tc.seed + 7919 * ckpt.step + self.env.rank)
        self.step, self.elapsed = ckpt.step, float(state["time"])
        self.last_train = ckpt.meta.get("metrics", {})
        self.last_val = ckpt.meta.get("val", {})
        self.init_source = ckpt.meta.get("init_source")
        self.data_offset = int(data.get("offset_steps", 0))
        self.checkpoint = ckpt.weights_path
        self.log.note(f"resumed from {ckpt.weights_path.name} (step {ckpt.step})")

    @property
    def val_set(self) -> Dataset:
        if self._val_set is None:
            self._val_set = build_dataset(self.cfg.data, "val")
        return self._val_set

    # ------------------------------------------------------------------ loop
    def run(self) -> TrainResult:
        tc, env = self.tc, self.env
        n_items = None if is_unbounded(self.train_set) else len(self.train_set)
        sampler = StepBatchSampler(n_items, batch_size=tc.batch_size,
                                   world_size=env.world_size, rank=env.rank,
                                   accum_steps=tc.accum_steps, start_step=self.step,
                                   stop_step=self.stop, seed=tc.seed,
                                   offset_steps=self.data_offset)
        batches = iter(make_loader(self.train_set, sampler, workers=self.cfg.data.workers,
                                   seed=tc.seed, pin_memory=env.device.type == "cuda"))
        sums: dict[str, torch.Tensor] = {}
        n_steps, excluded = 0, 0.0
        t_start = t0 = time.perf_counter()
        elapsed0 = self.elapsed
        try:
            while self.step < self.stop:
                lr = lr_at(self.step, tc.optim, tc.steps)
                for k, v in self._train_step(batches, lr).items():
                    sums[k] = sums.get(k, 0.0) + v
                n_steps += 1
                self.step += 1
                self.log.advance()
                self.elapsed = elapsed0 + time.perf_counter() - t_start
                done = self.step == tc.steps  # the real end (not an `until` stop)
                if self.step % max(tc.log_every, 1) == 0 or self.step == self.stop:
                    if env.device.type == "cuda":
                        torch.cuda.synchronize(env.device)
                    self._log_train(sums, n_steps, lr, time.perf_counter() - t0 - excluded)
                    sums, n_steps, excluded = {}, 0, 0.0
                    t0 = time.perf_counter()
                t1 = time.perf_counter()  # evaluation and checkpoints do not count in samples/s
                if tc.val_every and (self.step % tc.val_every == 0 or done):
                    self._validate()
                if tc.sample_every and (self.step % tc.sample_every == 0 or done):
                    self._samples()
                if self.step == self.stop or (tc.ckpt_every and self.step % tc.ckpt_every == 0):
                    self._save()
                excluded += time.perf_counter() - t1
        finally:
            self.log.close()
        return TrainResult(self.run_dir, self.step, self.last_train, self.last_val,
                           self.checkpoint)

    def _train_step(self, batches, lr: float) -> dict[str, torch.Tensor]:
        tc = self.tc
        for group in self.opt.param_groups:
            group["lr"] = lr
        terms: dict[str, torch.Tensor] = {}
        for a in range(tc.accum_steps):
            batch = _to_device(next(batches), self.env.device)
            last = a == tc.accum_steps - 1
            with grad_sync(self.module, last):
                with self.autocast() if self.autocast else contextlib.nullcontext():
                    losses = self.step_fn(batch, self.step)
                if "loss" not in losses:
                    raise TypeError(f"{type(self.model).__name__}.training_losses must return "
                                    "the total under 'loss'")
                (losses["loss"] / tc.accum_steps).backward()
            for k, v in losses.items():
                v = torch.as_tensor(v, device=self.env.device).detach().float()
                terms[k] = terms.get(k, 0.0) + v / tc.accum_steps
        if tc.optim.grad_clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(self.params, tc.optim.grad_clip)
            if isinstance(norm, DTensor):  # FSDP: the norm is already reduced over shards
                norm = norm.full_tensor()
            terms["grad_norm"] = norm.detach().float()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        if self.ema is not None:
            self.ema.update(self.model, self.step)
        return terms

    def _log_train(self, sums: dict, n_steps: int, lr: float, dt: float) -> None:
        keys = sorted(sums)
        vec = torch.stack([torch.as_tensor(sums[k], device=self.env.device) for k in keys])
        vec = all_reduce_sum(vec) / (n_steps * self.env.world_size)
        values = dict(zip(keys, vec.tolist(), strict=True))
        if not math.isfinite(values["loss"]):
            last = self.checkpoint.name if self.checkpoint else "none"
            raise TrainingDiverged(f"loss is {values['loss']} at step {self.step} (last "
                                   f"checkpoint: {last}); lower train.optim.lr or check the data")
        record = {"step": self.step, "lr": lr, "loss": values.pop("loss"), **values,
                  "samples_per_s": n_steps * self.tc.batch_size / max(dt, 1e-9),
                  "time": round(self.elapsed, 3)}
        self.last_train = record
        self.log.log(record)

    # ------------------------------------------------------- evaluation/samples
    def _eval_mode(self):
        stack = contextlib.ExitStack()
        stack.enter_context(preserved_rng(self.tc.seed))  # same noise at every evaluation
        stack.enter_context(torch.no_grad())
        if self.ema is not None and self.tc.val_ema:
            reshard(self.module)
            stack.enter_context(self.ema.swapped_in(self.model))
            stack.callback(reshard, self.module)  # runs before the weights are swapped back
        if self.autocast:
            stack.enter_context(self.autocast())
        self.model.eval()
        stack.callback(self.model.train)
        return stack

    def _eval_batches(self, indices: list[int]):
        """Batches of up to ``micro`` items, split where the clip size changes
        (multi-resolution data cannot be stacked across sizes)."""
        items: list[dict] = []
        for j in indices:
            item = self.val_set[j]
            full_batch = len(items) == self.micro
            if items and (full_batch or item["video"].shape != items[0]["video"].shape):
                yield _to_device(torch.utils.data.default_collate(items), self.env.device)
                items = []
            items.append(item)
        if items:
            yield _to_device(torch.utils.data.default_collate(items), self.env.device)

    def _validate(self) -> None:
        if not callable(getattr(self.model, "validation_metrics", None)):
            return
        n = min(self.tc.val_samples, len(self.val_set))
        if n == 0:
            return
        per_rank = max(1, n // self.env.world_size)  # equal work: collectives stay in step
        first = self.env.rank * per_rank
        indices = [(first + j) % len(self.val_set) for j in range(per_rank)]
        sums: dict[str, float] = {}
        with self._eval_mode():
            for batch in self._eval_batches(indices):
                bsz = len(batch["video"]) if "video" in batch else self.micro
                for k, v in self.module(batch, self.step, "val").items():
                    sums[k] = sums.get(k, 0.0) + float(v) * bsz
        keys = sorted(sums)
        vec = all_reduce_sum(torch.tensor([sums[k] for k in keys], dtype=torch.float64,
                                          device=self.env.device))
        values = (vec / (per_rank * self.env.world_size)).tolist()
        self.last_val = {"step": self.step, "split": "val", **dict(zip(keys, values, strict=True))}
        self.log.log(self.last_val)

    def _samples(self) -> None:
        if not callable(getattr(self.model, "sample_images", None)):
            return
        count = min(self.tc.sample_count, len(self.val_set))
        items = [self.val_set[i] for i in range(count)]
        items = [x for x in items if x["video"].shape == items[0]["video"].shape]
        batch = _to_device(torch.utils.data.default_collate(items), self.env.device)
        with self._eval_mode():  # every rank runs it: FSDP all-gathers inside
            images = self.module(batch, self.step, "samples")
        if self.env.is_main:
            save_image_grid(images, self.run_dir / "samples" / f"{step_stem(self.step)}.png")

    # ------------------------------------------------------------ checkpoint
    def _save(self) -> None:
        reshard(self.module)
        model_sd = {k: full(v) for k, v in self.model.state_dict().items()}  # collective (FSDP)
        ema_sd = self.ema.state_dict(self.model) if self.ema is not None else {}
        if self.tc.fsdp:
            from torch.distributed.checkpoint.state_dict import (
                StateDictOptions,
                get_optimizer_state_dict,
            )

            opt_sd = get_optimizer_state_dict(
                self.model, self.opt, options=StateDictOptions(full_state_dict=True,
                                                               cpu_offload=True))
        else:
            opt_sd = self.opt.state_dict()
        rngs = all_gather_objects(capture_rng())
        if self.env.is_main:
            state = {"step": self.step, "optimizer": opt_sd, "rng": rngs, "fsdp": self.tc.fsdp,
                     "time": self.elapsed,
                     "data": {"samples_seen": self.step * self.tc.batch_size,
                              "batch_size": self.tc.batch_size,
                              "world_size": self.env.world_size,
                              "offset_steps": self.data_offset}}
            meta = {"run_config": self.cfg.to_dict(), "metrics": self.last_train,
                    "val": self.last_val, "train_seconds": round(self.elapsed, 3),
                    "hardware": _hardware(self.env)}
            if self.init_source is not None:
                meta["init_source"] = self.init_source
            self.checkpoint = save_train_checkpoint(
                self.run_dir, self.step, model=model_sd, ema=ema_sd, state=state,
                model_type=self.cfg.model_type, model_config=config_to_dict(self.cfg.model),
                meta=meta, keep=self.tc.keep_checkpoints)
        barrier()


def _load_init_weights(model: nn.Module, spec: str, model_type: str) -> tuple[dict | None, str]:
    """``train.init``: weights of a model id, an exported checkpoint or a run folder.

    For an exported model, returns its provenance as the run's checkpoints record it
    (``init_source``: the id, its weights' sha256 and its card's total steps and
    seconds); a run folder is followed through its own checkpoints at export time.
    Also returns the sha256 of the weights file read."""
    path = Path(spec)
    source = None
    if path.is_dir():
        ckpt = load_train_checkpoint(path)
        meta, state = ckpt.meta, ckpt.ema or ckpt.model
    else:
        sidecar, pinned = resolve(spec)
        exported = load_checkpoint(sidecar, expected_sha256=pinned)
        meta, state = exported.meta, exported.state_dict
        source = {**card_provenance(spec, meta.get("card") or {}), "sha256": meta["sha256"]}
    found, sha = meta.get("type"), meta["sha256"]  # both loads verify it against the weights
    if found != model_type:
        raise InputError(f"train.init={spec}: a {found} model cannot initialize a {model_type} run")
    try:
        model.load_state_dict(state)
    except RuntimeError as e:  # other keys or shapes
        raise InputError(f"train.init={spec}: weights do not fit the configured model "
                         f"({str(e).splitlines()[-1].strip()})") from None
    return source, sha


def init_data_offset(sha256: str) -> int:
    """Where a ``train.init`` run starts reading the data stream, in steps.

    Every run reads sample positions from 0 on, so a continuation would replay, clip
    for clip, the data that the runs behind its weights already trained on. It starts
    instead at a block of 2**16 steps picked by the init weights' sha256: a fresh
    stretch, the same one for every run from the same weights (recipe A/B tests see
    the same clips), recorded in the checkpoints for an exact resume."""
    return (int(sha256[:6], 16) + 1) << 16
