"""Why does an undertrained One-DVA score below a flat frame? Three measurements.

    python benchmarks/onedva_diagnose.py --model onedva-small[,MODEL...] --videos ../shared/data/videos

1. On the crops it trains on: the model is scored on samples of the small recipe's
   own train and val splits (``data.kind=mixed``, 30% synthetic), next to each
   clip's flat mean colour. Its error is split into the part a correct mean colour
   would remove, and into low (8×8 box) and high spatial frequencies. Two decodes
   of the same latents with different noise seeds show whether the decoder's input
   noise leaks into the picture.
2. Capacity: a fresh model with the same config is trained in stage 1 (t ≡ 1) on
   one clip only (the bundled carphone sample, 17×64×64). If it cannot fit one clip,
   the architecture or the loss is broken; if it can, the gap is data and steps.
3. Sampling spread (``--spread-steps N --spread-k K``): on the same crops, K decodes
   with N Euler steps from different seeds. A flow decoder trained with an L2 loss
   predicts the conditional mean at one step and draws samples with many steps; if
   the draws scatter around the one-step mean, one draw's squared error is the
   mean's plus the spread (up to 2×, −3 dB, when the model's spread matches its
   error) and the average of K draws moves back toward the one-step PSNR. A broken
   velocity field would not do that.
4. Decoder attention (``--attention``): where the noisy-position queries of each
   decoder layer attend, as shares of the attention mass on noisy / structural /
   1D keys (next to the uniform shares), and, within the latent keys, how many a
   query reads (exp of the entropy) and how much its distribution differs from the
   mean over all queries (total variation: 0 = every output patch reads the same
   blend of latents, 1 = disjoint latents per patch).

Writes ``--out`` .md and .json (default docs/results/onedva_diagnose).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from vid1d.data import build_dataset
from vid1d.eval.provenance import machine_info, utc_now
from vid1d.io import open_video
from vid1d.metrics import clip_to_frames, psnr
from vid1d.models.onedva import RECIPES
from vid1d.models.registry import get_model_type, load_model
from vid1d.train.testing import fit_batch

SAMPLE = Path(__file__).resolve().parents[1] / "src/vid1d/assets/carphone_pristine.mp4"


def clip_psnr(rec: torch.Tensor, ref: torch.Tensor) -> float:
    """Mean per-frame PSNR of (3, T, H, W) clips in [0, 1]."""
    return float(psnr(clip_to_frames(rec.clamp(0, 1)), clip_to_frames(ref)).mean())


def lowpass(x: torch.Tensor, k: int = 8) -> torch.Tensor:
    """Per-frame k×k box average, held over its block: (3, T, H, W) -> same shape."""
    f = x.transpose(0, 1)  # (T, 3, H, W)
    low = F.interpolate(F.avg_pool2d(f, k, ceil_mode=True), scale_factor=k, mode="nearest")
    return low[..., : x.shape[-2], : x.shape[-1]].transpose(0, 1)


def sampling_spread(model, lat, x: torch.Tensor, one_step: torch.Tensor, steps: int, k: int) -> dict:
    """K decodes of ``lat`` with ``steps`` Euler steps (seeds 100..100+K−1) against the
    ``one_step`` decode: PSNR of one draw, of the draws' average, of the average vs
    ``one_step``, and the spread (mean squared distance of a draw from the average)."""
    draws = torch.stack([model.decode(lat, steps=steps, seed=100 + i)[0] for i in range(k)])
    avg = draws.mean(dim=0)
    return {"spread_draw": sum(clip_psnr(d, x) for d in draws) / k,
            "spread_draw_average": clip_psnr(avg, x),
            "spread_average_vs_one_step": clip_psnr(avg, one_step),
            "_spread": float((draws - avg).pow(2).mean()) * k / (k - 1)}  # unbiased


def on_training_crops(model, data_cfg, n: int, spread_steps: int = 0, spread_k: int = 0) -> dict:
    out = {}
    for split in ("train", "val"):
        ds = build_dataset(data_cfg, split)
        rows = []
        for i in range(n):
            x = ds[(i * 7) % len(ds)]["video"]  # (3, T, H, W)
            lat = model.encode(x[None], 1.0)
            y = model.decode(lat, steps=1, seed=0)[0]
            y1 = model.decode(lat, steps=1, seed=1)[0]
            mean_x, mean_y = x.mean(dim=(1, 2, 3), keepdim=True), y.mean(dim=(1, 2, 3), keepdim=True)
            err = y - x
            low = lowpass(err)
            row = {
                "model": clip_psnr(y, x),
                "flat_mean_colour": clip_psnr(mean_x.expand_as(x), x),
                "model_with_true_mean_colour": clip_psnr(y - mean_y + mean_x, x),
                "seed0_vs_seed1": clip_psnr(y1, y),
                "_err": float(err.pow(2).mean()), "_err_low": float(low.pow(2).mean()),
                "_detail_out": float((y - lowpass(y)).pow(2).mean()),
                "_detail_in": float((x - lowpass(x)).pow(2).mean()),
            }
            if spread_steps:
                row.update(sampling_spread(model, lat, x, y, spread_steps, spread_k))
            rows.append(row)
        avg = {k: sum(r[k] for r in rows) / len(rows) for k in rows[0]}
        # energy shares from sums over the clips (a per-clip ratio blows up on flat clips)
        out[split] = {k: v for k, v in avg.items() if not k.startswith("_")}
        out[split]["err_low_share"] = avg["_err_low"] / max(avg["_err"], 1e-12)
        out[split]["detail_energy_ratio"] = avg["_detail_out"] / max(avg["_detail_in"], 1e-12)
        out[split]["samples"] = len(rows)
        if "_spread" in avg:
            # the spread as a share of the one-step error energy (1 = a draw has 2x its MSE)
            out[split]["spread_over_error"] = avg["_spread"] / max(avg["_err"], 1e-12)
        print(f"{split}: " + ", ".join(f"{k} {v:.3f}" for k, v in out[split].items()), flush=True)
    return out


def attention_shares(weights: torch.Tensor, n_noisy: int, n_struct: int) -> dict:
    """One layer's attention (B, heads, N, N) over [noisy ⊕ structural ⊕ 1D] -> the
    noisy queries' mass on each key group, the number of latent keys they read and the
    position specificity of that reading, averaged over batch, heads and queries."""
    q = weights[:, :, :n_noisy].double()  # (B, h, n, N)
    groups = (q[..., :n_noisy], q[..., n_noisy:n_noisy + n_struct], q[..., n_noisy + n_struct:])
    mass = [float(g.sum(-1).mean()) for g in groups]
    lat = q[..., n_noisy:]
    p = lat / lat.sum(-1, keepdim=True).clamp_min(1e-30)
    keys = (-(p * p.clamp_min(1e-30).log()).sum(-1)).exp()  # (B, h, n)
    tv = 0.5 * (p - p.mean(dim=2, keepdim=True)).abs().sum(-1)  # (B, h, n)
    n_keys = weights.shape[-1]
    return {"noisy": mass[0], "struct": mass[1], "oned": mass[2],
            "uniform": [n_noisy / n_keys, n_struct / n_keys, 1 - (n_noisy + n_struct) / n_keys],
            "latent_keys_read": float(keys.mean()), "latent_keys": n_keys - n_noisy,
            "position_tv": float(tv.mean())}


def decoder_attention(model, data_cfg, n: int) -> list[dict]:
    """Part 4: attention_shares per decoder layer on ``n`` train crops (1 Euler step at t = 1)."""
    ds = build_dataset(data_cfg, "train")
    per_layer: list[list[dict]] = [[] for _ in model.decoder.blocks]
    captured: list[torch.Tensor] = []
    hooks = []
    for blk in model.decoder.blocks:
        hooks.append(blk.attn.register_forward_pre_hook(
            lambda mod, args, kwargs: (args, {**kwargs, "return_weights": True}), with_kwargs=True))
        hooks.append(blk.attn.register_forward_hook(lambda mod, inp, out: captured.append(mod.last_weights)))
    try:
        for i in range(n):
            x = ds[(i * 7) % len(ds)]["video"][None]
            lat = model.encode(x, 1.0)
            captured.clear()
            model.decode(lat, steps=1, seed=0)
            n_struct, n_oned = lat.struct.shape[1], lat.oned.shape[1]
            for k, w in enumerate(captured):
                per_layer[k].append(attention_shares(w, w.shape[-1] - n_struct - n_oned, n_struct))
    finally:
        for h in hooks:
            h.remove()
    out = []
    for rows in per_layer:
        avg = {k: sum(r[k] for r in rows) / len(rows) for k in rows[0] if k != "uniform"}
        avg["uniform"] = [sum(r["uniform"][j] for r in rows) / len(rows) for j in range(3)]
        out.append(avg)
    for k, r in enumerate(out):
        print(f"attention layer {k}: noisy/struct/1D {r['noisy']:.2f}/{r['struct']:.2f}/{r['oned']:.2f}, "
              f"reads {r['latent_keys_read']:.1f} of {r['latent_keys']:.0f} latents, TV {r['position_tv']:.2f}",
              flush=True)
    return out


def overfit_one_clip(cfg, steps: int, lr: float, every: int) -> dict:
    with open_video(SAMPLE) as src:
        x = next(src.chunks(17))  # (3, 17, 144, 176)
    x = F.interpolate(x.transpose(0, 1), size=(64, 64), mode="area").transpose(0, 1).clamp(0, 1)
    torch.manual_seed(0)
    model = get_model_type("onedva").build(dataclasses.replace(cfg, stage=1)).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    curve, t0 = {}, time.perf_counter()

    def score(step: int) -> None:
        if step % every == 0 or step == steps:
            model.eval()
            curve[step] = clip_psnr(model.decode(model.encode(x[None], 1.0), steps=1)[0], x)
            model.train()
            print(f"overfit step {step}/{steps}: {curve[step]:.2f} dB ({time.perf_counter() - t0:.0f} s)",
                  flush=True)

    fit_batch(model.training_losses, {"video": x[None]}, opt, steps, on_step=score)
    flat = clip_psnr(x.mean(dim=(1, 2, 3), keepdim=True).expand_as(x), x)
    return {"clip": f"{SAMPLE.name} frames 0-16, area-scaled to 64x64", "lr": lr,
            "flat_mean_colour": flat, "psnr_by_step": curve, "seconds": time.perf_counter() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="onedva-small",
                    help="comma-separated model ids or files; part 2 uses the first one's config")
    ap.add_argument("--videos", default="../shared/data/videos")
    ap.add_argument("--samples", type=int, default=16, help="clips per split in part 1")
    ap.add_argument("--overfit-steps", type=int, default=600)
    ap.add_argument("--overfit-lr", type=float, default=3e-4)
    ap.add_argument("--spread-steps", type=int, default=0,
                    help="part 3: Euler steps of each draw (0: part 3 off)")
    ap.add_argument("--spread-k", type=int, default=4, help="part 3: draws per clip")
    ap.add_argument("--attention", action="store_true", help="part 4: where the decoder attends")
    ap.add_argument("--out", default="docs/results/onedva_diagnose")
    args = ap.parse_args()
    if args.samples < 1 or args.overfit_steps < 0 or args.spread_steps < 0 or args.spread_k < 2:
        ap.error("--samples must be >= 1, --overfit-steps and --spread-steps >= 0, --spread-k >= 2")
    names = [m for m in args.model.split(",") if m]
    if not names:
        ap.error("--model names no model")
    data_cfg = dataclasses.replace(RECIPES["small"].data, kind="mixed", root=args.videos,
                                   synthetic_fraction=0.3, workers=0)
    res = {"date": utc_now(), "machine": machine_info(), "models": {},
           "torch_threads": torch.get_num_threads()}
    first_cfg = None
    for name in names:
        torch.manual_seed(0)
        model, ckpt = load_model(name)
        model.eval()
        first_cfg = first_cfg or model.cfg
        card = ckpt.meta.get("card", {})
        print(f"{name}:", flush=True)
        with torch.no_grad():
            res["models"][name] = {"stage": model.cfg.stage, "model_card": card,
                                   "training_crops": on_training_crops(
                                       model, data_cfg, args.samples, args.spread_steps, args.spread_k)}
            if args.attention:
                res["models"][name]["attention"] = decoder_attention(model, data_cfg, args.samples)
    if args.overfit_steps:
        res["overfit"] = overfit_one_clip(first_cfg, args.overfit_steps, args.overfit_lr,
                                          every=max(1, args.overfit_steps // 6))
    cmd = (f"python benchmarks/onedva_diagnose.py --model {args.model} --videos {args.videos} "
           f"--samples {args.samples} --overfit-steps {args.overfit_steps}")
    if args.spread_steps:
        cmd += f" --spread-steps {args.spread_steps} --spread-k {args.spread_k}"
    if args.attention:
        cmd += " --attention"
    res["spread"] = {"steps": args.spread_steps, "k": args.spread_k} if args.spread_steps else None
    if args.overfit_lr != ap.get_default("overfit_lr"):
        cmd += f" --overfit-lr {args.overfit_lr}"
    if args.out != ap.get_default("out"):
        cmd += f" --out {args.out}"
    res["command"] = cmd
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=2))
    out.with_suffix(".md").write_text(_markdown(res))
    print(f"wrote {out.with_suffix('.md')} and .json")


def _markdown(res: dict) -> str:
    m = res["machine"]
    lines = [f"# One-DVA diagnosis ({res['date'][:10]})", "",
             f"Command: `{res['command']}`  ",
             f"Machine: {m.get('cpu', '?')}, torch {m.get('torch', '?')}, "
             f"{res['torch_threads']} torch thread(s).", "",
             "Part 1: the model on samples of the small recipe's own train/val crops "
             "(100% 1D latents, 1 Euler step; PSNR in dB, mean per clip).", "",
             "| model (stage, steps) | split | clips | model | flat mean colour "
             "| model with the true mean colour | error in the 8×8 low-pass "
             "| output detail / input detail | seed 0 vs seed 1 |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, m in res["models"].items():
        steps = m["model_card"].get("total_steps", m["model_card"].get("step", "?"))
        for split, r in m["training_crops"].items():
            lines.append(
                f"| {name} ({m['stage']}, {steps}) | {split} | {r['samples']} | {r['model']:.2f} | "
                f"{r['flat_mean_colour']:.2f} | "
                f"{r['model_with_true_mean_colour']:.2f} | {100 * r['err_low_share']:.0f}% | "
                f"{r['detail_energy_ratio']:.3f} | {r['seed0_vs_seed1']:.1f} |")
    if res.get("spread"):
        sp = res["spread"]
        lines += ["", f"Part 3: sampling spread, {sp['k']} draws of {sp['steps']} Euler steps per clip "
                  "(seeds 100…), against the one-step decode (the model column above).", "",
                  "| model | split | one step | one draw | average of the draws "
                  "| average vs one step | spread / one-step error |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for name, m in res["models"].items():
            for split, r in m["training_crops"].items():
                lines.append(f"| {name} | {split} | {r['model']:.2f} | {r['spread_draw']:.2f} | "
                             f"{r['spread_draw_average']:.2f} | {r['spread_average_vs_one_step']:.2f} | "
                             f"{r['spread_over_error']:.2f} |")
    if any("attention" in m for m in res["models"].values()):
        lines += ["", "Part 4: decoder attention of the noisy-position queries on the same train crops "
                  "(1 step at t = 1): share of the attention mass on noisy / structural / 1D keys "
                  "(uniform in brackets), latent keys read (exp entropy, of all latent keys) and "
                  "position specificity (TV from the mean over queries; 0 = one blend for every patch), "
                  "averaged over heads.", "",
                  "| model | layer | noisy / struct / 1D mass | latent keys read | TV |",
                  "|---|---:|---|---:|---:|"]
        for name, m in res["models"].items():
            for k, r in enumerate(m.get("attention", [])):
                u = r["uniform"]
                lines.append(f"| {name} | {k} | {r['noisy']:.2f} / {r['struct']:.2f} / {r['oned']:.2f} "
                             f"({u[0]:.2f} / {u[1]:.2f} / {u[2]:.2f}) | "
                             f"{r['latent_keys_read']:.1f} of {r['latent_keys']:.0f} | {r['position_tv']:.2f} |")
    if "overfit" in res:
        o = res["overfit"]
        steps = list(o["psnr_by_step"])
        lines += ["", f"Part 2: a fresh model of the first model's config, stage 1, trained on one clip "
                  f"({o['clip']}), AdamW lr {o['lr']}, batch 1, {o['seconds']:.0f} s. "
                  f"Flat mean colour: {o['flat_mean_colour']:.2f} dB.", "",
                  "| step | " + " | ".join(str(s) for s in steps) + " |",
                  "|---|" + "---:|" * len(steps),
                  "| PSNR (dB) | " + " | ".join(f"{o['psnr_by_step'][s]:.2f}" for s in steps) + " |"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
