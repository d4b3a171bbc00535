"""Turn a training run into a registry model (``vid1d export``).

Writes ``<models dir>/<NAME>.safetensors`` + ``<NAME>.json`` (model type, config,
id, sha256 and a model card: data, steps, hardware, training time, final
metrics), which :func:`vid1d.models.registry.load_model` then loads by name.
The EMA weights are exported by default: they are the ones that were validated.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import torch

from vid1d.errors import InputError
from vid1d.models.checkpoint import checkpoint_paths, read_sidecar, save_checkpoint
from vid1d.models.registry import (
    BUNDLED_DIR,
    build_model,
    list_models,
    resolve,
    user_models_dir,
)
from vid1d.train.checkpoints import (
    CHECKPOINT_DIR,
    latest_step,
    load_train_checkpoint,
    step_stem,
)

MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def _round_to(state: dict[str, torch.Tensor], dtype: torch.dtype, where: str) -> dict:
    """The fp32 state with every float tensor rounded to ``dtype`` (and back to fp32)."""
    out = {}
    for k, v in state.items():
        if v.is_floating_point():
            r = v.to(dtype).to(v.dtype)
            if not torch.isfinite(r).all() and torch.isfinite(v).all():
                raise InputError(f"{where}: {k} overflows {dtype}; export with --dtype bf16 "
                                 "or fp32")
            v = r
        out[k] = v
    return out


def _init_chain(meta: dict, depth: int = 0) -> list[dict]:
    """Where a run's ``train.init`` weights came from, back to a run that started from
    scratch: ``[{"init", "step", "train_seconds"}, ...]``, from the sidecar ``meta`` of
    one of its checkpoints. A model id is taken as the run recorded it when it loaded
    the weights (``init_source``: the id may have been re-exported since); runs from
    before that record, and run folders (read as they are now, relative to the current
    directory), are looked up. An entry without ``step`` means the chain could not be
    followed from here."""
    spec = str((meta.get("run_config", {}).get("train") or {}).get("init") or "")
    if not spec:
        return []
    source = meta.get("init_source")
    if isinstance(source, dict) and source.get("init") == spec:
        return [dict(source)]
    if depth >= 32:
        return [{"init": spec}]
    try:
        if Path(spec).is_dir():  # a run: its latest checkpoint's sidecar (no weights read)
            step = latest_step(spec)
            if step is None:
                return [{"init": spec}]
            init_meta = read_sidecar(Path(spec) / CHECKPOINT_DIR / step_stem(step))
            return [{"init": spec, "step": init_meta.get("step"),
                     "train_seconds": init_meta.get("train_seconds")}] + _init_chain(
                         init_meta, depth + 1)
        card = read_sidecar(resolve(spec)[0]).get("card", {})
    except InputError:
        return [{"init": spec}]
    return [card_provenance(spec, card)]


def card_provenance(spec: str, card: dict) -> dict:
    """A model id's entry in an init chain, from its card: the card's totals where it
    has them (a fine-tuned model counts every run before it), else its own run's."""
    return {"init": spec, "step": card.get("total_steps", card.get("step")),
            "train_seconds": card.get("total_train_seconds", card.get("train_seconds"))}


def _store_as(state: dict[str, torch.Tensor], dtype: torch.dtype) -> dict:
    """Float tensors that ``dtype`` holds exactly are stored in it; the rest stay as they
    are (integer tables, and float buffers computed after the rounding)."""
    out = {}
    for k, v in state.items():
        if v.is_floating_point() and v.dtype != dtype:
            low = v.to(dtype)
            if torch.equal(low.to(v.dtype), v):
                v = low
        out[k] = v
    return out


def _check_card(card: dict) -> None:
    """Card entries must be plain JSON (the sidecar is JSON): no dates, no NaN or infinity."""
    if not isinstance(card, dict):
        raise InputError(f"card must be a mapping, got {type(card).__name__}")
    for key, value in card.items():
        try:
            json.dumps({key: value}, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise InputError(f"card entry {key!r}: not storable as JSON ({e}); quote it "
                             "as a string") from None


def export_run(run_dir: str | os.PathLike, name: str, *, step: int | None = None,
               weights: str = "ema", card: dict | None = None,
               models_dir: str | os.PathLike | None = None, force: bool = False,
               dtype: str = "fp32") -> Path:
    """Export ``run_dir``'s checkpoint at ``step`` (default: latest) as model id ``name``.

    Returns the weights path. ``weights`` is ``"ema"`` or ``"model"`` (the raw
    optimizer weights); ``card`` entries are added to (and override) the card.
    ``dtype`` ``"fp16"``/``"bf16"`` halves the file: the weights are rounded to it
    *before* a codec builds its coding tables, so the exported model is exactly the
    one stored (it loads back into fp32 parameters bit for bit, and encoder and
    decoder agree as for any model).
    """
    if not MODEL_ID.match(name) or name.endswith((".json", ".safetensors")):
        raise InputError(f"model id {name!r}: use letters, digits, '.', '_' and '-' "
                         "(e.g. gvc1d-small-mydata), without an extension")
    if weights not in ("ema", "model"):
        raise InputError(f"weights must be 'ema' or 'model', got {weights!r}")
    if dtype not in DTYPES:
        raise InputError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    _check_card(card or {})
    ckpt = load_train_checkpoint(run_dir, step)
    state = ckpt.ema if weights == "ema" else ckpt.model
    if not state:
        raise InputError(f"{ckpt.weights_path.name}: the run kept no EMA (train.ema_decay=0); "
                         "export the raw weights with --weights model")
    folder = Path(models_dir) if models_dir is not None else user_models_dir()
    entry = list_models().get(name)
    # A bundled id is replaced only in the bundled folder itself (re-bundling, followed
    # by re-pinning its sha256 in registry.json); a user model may not shadow it.
    rebundle = folder.resolve() == BUNDLED_DIR.resolve()
    if entry is not None and entry.bundled and not rebundle:
        raise InputError(f"{name!r} is a bundled model id; choose another name")
    target = folder / name
    if checkpoint_paths(target)[0].exists() and not force:
        raise InputError(f"{checkpoint_paths(target)[0]} exists (pass --force to replace it)")

    if dtype != "fp32":
        state = _round_to(state, DTYPES[dtype], str(ckpt.weights_path))
    # Through the module: strict key/shape check now, not at load time, and the
    # fp32 EMA is cast to the parameters' own dtypes.
    module = build_model(ckpt.meta["type"], ckpt.meta["config"])
    try:
        module.load_state_dict(state)
    except RuntimeError as e:
        raise InputError(f"{ckpt.weights_path}: weights do not fit the configured model "
                         f"({str(e).splitlines()[0]})") from None

    # Codec models build their integer coding tables now, on this machine, and ship
    # them in the weights: decoders elsewhere then use these exact integers.
    if callable(getattr(module, "update", None)):
        module.update()

    run_cfg = ckpt.meta.get("run_config", {})
    full_card = {
        "run": str(Path(run_dir).resolve()),
        "step": ckpt.step,
        "weights": weights,
        "dtype": dtype,
        "preset": run_cfg.get("preset"),
        "data": run_cfg.get("data"),
        "train": run_cfg.get("train"),
        "hardware": ckpt.meta.get("hardware"),
        "train_seconds": ckpt.meta.get("train_seconds"),
        "metrics": ckpt.meta.get("metrics"),
        "val": ckpt.meta.get("val"),
        "source_sha256": ckpt.meta.get("sha256"),
    }
    chain = _init_chain(ckpt.meta)
    if chain:
        # Fine-tuned (a later One-DVA stage, a continued run): the totals count every run.
        full_card["init_chain"] = chain
        parts = [(ckpt.step, ckpt.meta.get("train_seconds"))] + [
            (c.get("step"), c.get("train_seconds")) for c in chain]
        if all(isinstance(n, int) and isinstance(t, (int, float)) for n, t in parts):
            full_card["total_steps"] = sum(n for n, _ in parts)
            full_card["total_train_seconds"] = sum(t for _, t in parts)
    full_card.update(card or {})
    out = module.state_dict()
    if dtype != "fp32":
        out = _store_as(out, DTYPES[dtype])
    return save_checkpoint(target, out, model_type=ckpt.meta["type"],
                           config=ckpt.meta["config"], extra={"id": name, "card": full_card})
