"""`vid1d train MODEL --preset P --data DIR --out RUN [KEY=VALUE ...]`: train any model.

The same command runs under ``torchrun --nproc_per_node N -m vid1d train ...``
(DDP, or FSDP2 with ``train.fsdp=true``); only rank 0 prints and writes.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from vid1d.errors import InputError

EXAMPLES = """\
examples:
  vid1d train gvc1d --preset tiny --data synthetic --out runs/t --steps 200
  vid1d train gvc1d --preset small --data ~/videos --out runs/s train.optim.lr=2e-4 data.frames=4
  vid1d train gvc1d --preset small --config my.yaml --out runs/s
  vid1d train --resume runs/s --steps 20000        # continue (and extend) a run
  torchrun --nproc_per_node 8 -m vid1d train gvc1d --preset paper --data DIR --out runs/p

config precedence: defaults < --preset < --config YAML < --data/--steps < KEY=VALUE overrides
"""


class _IntermixedParser(argparse.ArgumentParser):
    """Lets KEY=VALUE overrides follow options (``MODEL --preset P a=1 b=2``).

    Plain argparse assigns all positionals at the first positional it meets and
    then rejects later ones; ``parse_known_intermixed_args`` does not.
    """

    _inner = False

    def parse_known_args(self, args=None, namespace=None):
        if self._inner:
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train a model (one process, or many under torchrun)",
        description="Train a registered model type with the shared loop (AdamW, warmup +\n"
        "cosine, EMA, gradient clipping/accumulation, validation, PNG samples).\n"
        "Writes RUN/config.yaml, RUN/metrics.jsonl, RUN/checkpoints/ and RUN/samples/.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.__class__ = _IntermixedParser
    p.add_argument("model", nargs="?", metavar="MODEL",
                   help="model type (e.g. gvc1d); may be omitted with --resume RUN")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="config overrides, values in YAML (model.dim=64 train.optim.lr=3e-4 "
                   "data.frames=4 data.size=[128,128])")
    p.add_argument("--preset", help="preset of the model type (tiny, small, paper, ...)")
    p.add_argument("--data", metavar="DIR|KIND",
                   help="training videos: a folder (sets data.root), 'synthetic' "
                   "(camera motion over stills) or a data.kind such as synthetic-shapes")
    p.add_argument("--out", "-o", metavar="RUN", help="run folder to create")
    p.add_argument("--config", action="append", default=[], metavar="FILE.yaml",
                   help="YAML with model/data/train sections (repeatable; later wins)")
    p.add_argument("--steps", type=int, help="total optimizer steps (train.steps)")
    p.add_argument("--resume", nargs="?", const=True, default=False, metavar="RUN",
                   help="continue RUN (or --out) from its latest checkpoint")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved config as YAML and exit")
    p.set_defaults(func=run)


def data_override(value: str, current_kind: str) -> dict:
    """``--data`` as a config update: a kind name, 'synthetic', or a folder."""
    from vid1d.data.config import KINDS, REAL_KINDS

    if value == "synthetic":
        return {"data": {"kind": "synthetic-motion"}}
    if value in KINDS:
        return {"data": {"kind": value}}
    root = Path(value).expanduser()
    if not root.is_dir():
        raise InputError(f"--data {value}: not a folder, nor 'synthetic' or one of "
                         f"{', '.join(KINDS)}")
    # A folder of unknown layout: 'mixed' reads every kind of real source in it.
    kind = current_kind if current_kind in REAL_KINDS else "mixed"
    return {"data": {"root": str(root), "kind": kind}}


def resolve(args: argparse.Namespace):
    from vid1d.train.run_config import load_run_config, resolve_run_config

    overrides = list(args.overrides)
    if args.model and "=" in args.model:  # `--resume RUN key=value`: no model type given
        overrides.insert(0, args.model)
        args.model = None
    run_dir = args.out
    base = None
    if args.resume:
        if isinstance(args.resume, str):
            if args.out and Path(args.out) != Path(args.resume):
                raise InputError("--resume RUN and --out name different folders")
            run_dir = args.resume
        if not run_dir:
            raise InputError("--resume needs the run folder (--resume RUN or --out RUN)")
        base = load_run_config(run_dir)
        if args.preset not in (None, base.preset):
            raise InputError(f"{run_dir} was trained with --preset {base.preset}, "
                             f"not {args.preset}")
    elif not run_dir:
        raise InputError("--out RUN is required (the run folder to create)")
    cli: list = [f"train.steps={args.steps}"] if args.steps is not None else []
    if args.data:
        first = resolve_run_config(args.model, preset=args.preset, files=args.config, base=base)
        cli.append(data_override(args.data, first.data.kind))
    cfg = resolve_run_config(args.model, preset=args.preset, files=args.config,
                             overrides=cli + overrides, base=base)
    return cfg, Path(run_dir)


def run(args: argparse.Namespace) -> int:
    import yaml

    from vid1d.train import fit

    cfg, run_dir = resolve(args)
    if args.print_config:
        print(yaml.safe_dump(cfg.to_dict(), sort_keys=False), end="")
        return 0
    result = fit(cfg, run_dir, resume=bool(args.resume))
    if int(os.environ.get("RANK", "0")) == 0:
        loss = result.metrics.get("loss")
        val = {k: v for k, v in result.val.items() if k not in ("step", "split")}
        print(f"{run_dir}: step {result.step}/{cfg.train.steps}"
              + (f", loss {loss:.5g}" if loss is not None else "")
              + "".join(f", val {k} {v:.5g}" for k, v in val.items())
              + (f" -> {result.checkpoint}" if result.checkpoint else ""))
    return 0
