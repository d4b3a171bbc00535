"""One-DVA reconstruction study (papers/onedva.txt Table 1, Fig. 3, Fig. 5) at our scale.

    python benchmarks/onedva_eval.py --model onedva-small --baseline cnn3d-small \
        --videos ../shared/data/videos --clips-per-video 3

Evaluation clips: from every video in ``--videos``, the first ``--clips-per-video``
non-overlapping 17-frame clips, area-downscaled to cover 64×112 (112×64 for
portrait video) and centre-cropped to it — the shapes the small
models train on; with ``--scale native``, centre crops of that shape at the videos' own
resolution instead, the scale of the training crops. Measured, all in one run:

1. reconstruction PSNR/SSIM (and, with ``--stlpips`` / ``--lpips``, ST-LPIPS alex /
   LPIPS, whose weights come from ``vid1d weights fetch stlpips-alex`` / $VID1D_LPIPS_WEIGHTS) of One-DVA
   (100% 1D latents, 1 Euler step) vs the 3D causal-CNN baseline at the same
   compression (4×16×16, same latent channels);
2. PSNR against the kept 1D latent fraction (0%…100%) for the high- and
   low-motion thirds of the clips (Fig. 5);
3. motion-adaptive length vs a constant length at the same average token count
   (Table 1 rows 7–8);
4. 1 / 4 / 8 / 25 Euler sampling steps (Fig. 3; with the perceptual metrics too);
5. encode and decode time per clip (this machine, batch 1).

Writes docs/results/onedva.{md,json}, onedva_length.png and onedva_frames.png (the middle
frame of the first clip of every source: reference, One-DVA at 1 and 8 Euler steps, baseline).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from vid1d.data.sources import VIDEO_EXTS
from vid1d.eval.provenance import machine_info, utc_now
from vid1d.io import open_video
from vid1d.metrics import LPIPS, STLPIPS, psnr, ssim
from vid1d.models.onedva import alignment_similarities
from vid1d.models.onedva.length import raw_motion_score
from vid1d.models.registry import load_model

FRACTIONS = [0.0, 0.125, 0.25, 0.5, 0.75, 1.0]
STEPS = [1, 4, 8, 25]


def load_clips(folder: Path, per_video: int, frames: int = 17, short: int = 64, long: int = 112,
               scale: str = "cover"):
    """``scale="cover"``: the whole frame area-downscaled to cover 64×112, then centre-cropped;
    ``"native"``: a centre crop at the video's own resolution (scaled up only where a frame
    is smaller than the crop), the scale of the training crops."""
    clips = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_EXTS):
        with open_video(path) as r:
            for k, chunk in enumerate(r.chunks(frames, frames * per_video)):
                if chunk.shape[1] < frames:
                    break
                _, T, H, W = chunk.shape
                th, tw = (short, long) if W >= H else (long, short)
                s = max(th / H, tw / W)  # cover th × tw, then centre-crop
                if scale == "native":
                    s = max(s, 1.0)
                x = F.interpolate(chunk.transpose(0, 1), size=(max(th, round(H * s)),
                                                               max(tw, round(W * s))),
                                  mode="area").transpose(0, 1)  # (3, T, h, w)
                h, w = x.shape[-2:]
                y0, x0 = (h - th) // 2, (w - tw) // 2
                clips.append({"name": f"{path.name}#{k}", "video": x[:, :, y0:y0 + th, x0:x0 + tw].clamp(0, 1)})
    return clips


def frame_metrics(rec: torch.Tensor, ref: torch.Tensor) -> tuple[float, float]:
    """Mean PSNR / SSIM over the frames of (1, 3, T, H, W) clips."""
    a, b = rec[0].transpose(0, 1), ref[0].transpose(0, 1)  # (T, 3, H, W)
    return float(psnr(a, b).mean()), float(ssim(a, b).mean())


def perceptual(nets: dict, rec: torch.Tensor, ref: torch.Tensor) -> dict[str, float]:
    """Mean over the frames of (1, 3, T, H, W) clips of each perceptual distance in ``nets``."""
    a, b = rec[0].transpose(0, 1).clamp(0, 1), ref[0].transpose(0, 1)
    with torch.no_grad():
        return {k: float(net(a, b).mean()) for k, net in nets.items()}


def thumbnail(video: torch.Tensor, factor: int) -> torch.Tensor:
    """(1, 3, T, H, W) frames area-downscaled by ``factor`` and bicubic-upscaled back."""
    frames = video[0].transpose(0, 1)
    small = F.interpolate(frames, scale_factor=1 / factor, mode="area")
    up = F.interpolate(small, size=frames.shape[-2:], mode="bicubic", align_corners=False)
    return up.clamp(0, 1).transpose(0, 1)[None]


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="onedva-small")
    ap.add_argument("--baseline", default="cnn3d-small", help="'' to skip the baseline")
    ap.add_argument("--videos", default="../shared/data/videos")
    ap.add_argument("--clips-per-video", type=int, default=3)
    ap.add_argument("--scale", choices=["cover", "native"], default="cover",
                    help="clips: whole frames downscaled to 64×112 (cover), or centre crops at "
                         "the video's resolution (native, the training crops' scale)")
    ap.add_argument("--stlpips", action="store_true",
                    help="also ST-LPIPS alex (weights: vid1d weights fetch stlpips-alex)")
    ap.add_argument("--lpips", action="store_true", help="also LPIPS ($VID1D_LPIPS_WEIGHTS)")
    ap.add_argument("--out", default="docs/results/onedva")
    args = ap.parse_args()
    nets = {}
    if args.stlpips:
        nets["stlpips"] = STLPIPS.from_file()
    if args.lpips:
        nets["lpips"] = LPIPS.from_file()
    torch.manual_seed(0)
    model, ckpt = load_model(args.model)
    clips = load_clips(Path(args.videos), args.clips_per_video, scale=args.scale)
    print(f"{len(clips)} clips of {tuple(clips[0]['video'].shape)}")
    res = {"date": utc_now(), "machine": machine_info(), "model": args.model,
           "model_card": ckpt.meta.get("card", {}), "clips": [c["name"] for c in clips],
           "scale": args.scale,
           "perceptual": {k: net.version for k, net in nets.items()}}

    # 1 + 5: full-length reconstruction and timing
    rows, enc_t, dec_t, perc = [], [], [], []
    for c in clips:
        v = c["video"][None]
        t0 = time.perf_counter()
        lat = model.encode(v, 1.0)
        t1 = time.perf_counter()
        rec = model.decode(lat, steps=1)
        t2 = time.perf_counter()
        enc_t.append(t1 - t0)
        dec_t.append(t2 - t1)
        c["latents"] = lat  # full length, reused by the steps and latent-use studies
        c["motion"] = float(raw_motion_score(v)[0])
        c["score"] = float(model.motion_score(v)[0])
        rows.append(frame_metrics(rec, v))
        perc.append(perceptual(nets, rec, v))
    # References with no model: each clip's mean colour as a flat video, and mid-gray.
    flat = [frame_metrics(c["video"][None].mean(dim=(2, 3, 4), keepdim=True)
                          .expand_as(c["video"][None]), c["video"][None]) for c in clips]
    gray = [frame_metrics(torch.full_like(c["video"][None], 0.5), c["video"][None]) for c in clips]
    res["reference"] = {"flat_mean_colour_psnr": mean([r[0] for r in flat]),
                        "mid_gray_psnr": mean([r[0] for r in gray]),
                        "flat_psnr_per_clip": [r[0] for r in flat]}
    # and each frame area-downscaled 16x (the 3D CNN's spatial factor), bicubic back up
    thumbs = [thumbnail(c["video"][None], 16) for c in clips]
    tm = [frame_metrics(t, c["video"][None]) for t, c in zip(thumbs, clips, strict=True)]
    res["reference"]["thumbnail16_psnr"] = mean([r[0] for r in tm])
    for k in nets:
        res["reference"][f"flat_mean_colour_{k}"] = mean([
            perceptual(nets, c["video"][None].mean(dim=(2, 3, 4), keepdim=True)
                       .expand_as(c["video"][None]), c["video"][None])[k] for c in clips])
        res["reference"][f"thumbnail16_{k}"] = mean([
            perceptual(nets, t, c["video"][None])[k] for t, c in zip(thumbs, clips, strict=True)])
    res["onedva"] = {"psnr": mean([r[0] for r in rows]), "ssim": mean([r[1] for r in rows]),
                     "encode_s_per_clip": mean(enc_t), "decode_s_per_clip_1step": mean(dec_t),
                     "psnr_per_clip": [r[0] for r in rows],
                     **{k: mean([p[k] for p in perc]) for k in nets}}
    if args.baseline:
        base, bckpt = load_model(args.baseline)
        brows, benc, bdec, bperc = [], [], [], []
        for c in clips:
            v = c["video"][None]
            with torch.no_grad():
                t0 = time.perf_counter()
                z = base.encode(v)
                t1 = time.perf_counter()
                rec = base.decode(z, *v.shape[2:]).clamp(0, 1)
                t2 = time.perf_counter()
            benc.append(t1 - t0)
            bdec.append(t2 - t1)
            brows.append(frame_metrics(rec, v))
            bperc.append(perceptual(nets, rec, v))
        res["baseline"] = {"model": args.baseline, "model_card": bckpt.meta.get("card", {}),
                           "psnr": mean([r[0] for r in brows]), "ssim": mean([r[1] for r in brows]),
                           "encode_s_per_clip": mean(benc), "decode_s_per_clip": mean(bdec),
                           "psnr_per_clip": [r[0] for r in brows],
                           **{k: mean([p[k] for p in bperc]) for k in nets}}

    # the middle frame of each source's first clip, side by side
    firsts = [i for i, c in enumerate(clips) if c["name"].endswith("#0")]
    panels = []
    for i in firsts:
        v = clips[i]["video"][None]
        row = [v, model.decode(clips[i]["latents"], steps=1), model.decode(clips[i]["latents"], steps=8)]
        if args.baseline:
            with torch.no_grad():
                row.append(base.decode(base.encode(v), *v.shape[2:]).clamp(0, 1))
        panels.append([x[0, :, x.shape[2] // 2].clamp(0, 1) for x in row])
    columns = ["reference", f"{args.model} 1 step", f"{args.model} 8 steps"]
    columns += [args.baseline] if args.baseline else []

    # 2: PSNR against the kept 1D fraction, high- vs low-motion thirds
    order = sorted(range(len(clips)), key=lambda i: clips[i]["motion"])
    third = max(1, len(clips) // 3)
    groups = {"low-motion": order[:third], "high-motion": order[-third:]}
    curve = {}
    for g, idx in groups.items():
        curve[g] = {}
        for f in FRACTIONS:
            vals = []
            for i in idx:
                v = clips[i]["video"][None]
                vals.append(frame_metrics(model.decode(model.encode(v, f), steps=1), v)[0])
            curve[g][f] = mean(vals)
    res["psnr_vs_length"] = curve

    # 3: adaptive vs constant length at the same average token count
    ad_psnr, fracs = [], []
    for c in clips:
        v = c["video"][None]
        lat = model.encode(v, "adaptive")
        fracs.append(int(lat.length[0]) / max(lat.oned.shape[1], 1))
        ad_psnr.append(frame_metrics(model.decode(lat, steps=1), v)[0])
    avg = mean(fracs)
    const_psnr = [frame_metrics(model.decode(model.encode(c["video"][None], avg), steps=1),
                                c["video"][None])[0] for c in clips]
    res["adaptive_vs_constant"] = {"average_fraction": avg, "adaptive_psnr": mean(ad_psnr),
                                   "constant_psnr": mean(const_psnr)}

    # 4: sampling steps
    res["steps"] = {}
    for n in STEPS:
        vals, secs, sperc = [], [], []
        for c in clips:
            v = c["video"][None]
            t0 = time.perf_counter()
            rec = model.decode(c["latents"], steps=n)
            secs.append(time.perf_counter() - t0)
            vals.append(frame_metrics(rec, v))
            sperc.append(perceptual(nets, rec, v))
        res["steps"][n] = {"psnr": mean([x[0] for x in vals]), "ssim": mean([x[1] for x in vals]),
                           "decode_s_per_clip": mean(secs),
                           **{k: mean([p[k] for p in sperc]) for k in nets}}

    # 6: are the latents used? Posterior σ (a latent drowned in σ ≥ 1 noise in training
    # carries nothing), and PSNR when each clip is decoded with the next clip's 1D latents.
    # §3.5's alignment of the 1D latents (posterior means): top-1 cosine to the structural
    # latents and cosine to the nearest other 1D latent, what stage 3 raises.
    sig, swap, align = {"struct": [], "oned": []}, [], {"struct": [], "self": []}
    for i, c in enumerate(clips):
        v = c["video"][None]
        with torch.no_grad():
            post = model.encoder(v * 2 - 1)
        sig["struct"].append(float((0.5 * post.struct_logvar).exp().mean()))
        sig["oned"].append(float((0.5 * post.oned_logvar).exp().mean()))
        to_struct, nearest = alignment_similarities(post.oned_mean, post.struct_mean)
        align["struct"].append(float(to_struct.mean()))
        if nearest is not None:
            align["self"].append(float(nearest.mean()))
        lat, other_1d = c["latents"], clips[(i + 1) % len(clips)]["latents"].oned
        if other_1d.shape == lat.oned.shape:
            swapped = dataclasses.replace(lat, oned=other_1d)
            swap.append(frame_metrics(model.decode(swapped, steps=1), v)[0])
    res["latent_use"] = {"posterior_sigma_struct": mean(sig["struct"]),
                         "posterior_sigma_oned": mean(sig["oned"]),
                         "psnr_with_other_clips_1d": mean(swap) if swap else None,
                         "swapped_clips": len(swap),
                         "align_top1_cos_to_struct": mean(align["struct"]),
                         "align_nearest_1d_cos": mean(align["self"]) if align["self"] else None}

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=2))
    png = out.parent / f"{out.name}_length.png"
    _plot(curve, png)
    _frames_png(panels, columns, out.parent / f"{out.name}_frames.png")
    cmd = ["python", "benchmarks/onedva_eval.py", f"--model {args.model}",
           f"--baseline {args.baseline or chr(39) * 2}", f"--videos {args.videos}",
           f"--clips-per-video {args.clips_per_video}"]
    if args.scale != "cover":
        cmd.append(f"--scale {args.scale}")
    cmd += [f"--{k}" for k in nets]
    if args.out != ap.get_default("out"):
        cmd.append(f"--out {args.out}")
    md = _markdown(res, " ".join(cmd), png.name)
    md += (f"\nThe middle frame of each source's first clip, side by side: "
           f"{out.name}_frames.png ({', '.join(columns)}).\n")
    out.with_suffix(".md").write_text(md)
    print(md)


def _plot(curve: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for g, pts in curve.items():
        xs = [100 * float(f) for f in pts]
        ax.plot(xs, list(pts.values()), marker="o", label=g)
    ax.set_xlabel("kept 1D latents (%)")
    ax.set_ylabel("PSNR (dB)")
    ax.set_title("One-DVA: PSNR vs 1D latent length")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _frames_png(panels: list[list[torch.Tensor]], columns: list[str], path: Path) -> None:
    """One row per clip, one column per reconstruction, frames (3, h, w) shown at 3x."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n, m = len(panels), len(columns)
    fig, axes = plt.subplots(n, m, figsize=(1.9 * m, 1.2 * n + 0.4), squeeze=False)
    for r, row in enumerate(panels):
        for c, img in enumerate(row):
            ax = axes[r][c]
            ax.imshow(img.permute(1, 2, 0).numpy(), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(columns[c], fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def _per_source_table(r: dict) -> list[str]:
    """Markdown table, one row per source video: each column's per-clip PSNR averaged
    over that source's clips."""
    cols = {r["model"]: r["onedva"]["psnr_per_clip"]}
    if "baseline" in r:
        cols[r["baseline"]["model"]] = r["baseline"]["psnr_per_clip"]
    cols["flat colour"] = r["reference"]["flat_psnr_per_clip"]
    lines = ["| source | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for src in sorted({c.split("#")[0] for c in r["clips"]}):
        idx = [i for i, c in enumerate(r["clips"]) if c.split("#")[0] == src]
        lines.append(f"| {src} | " + " | ".join(f"{mean([col[i] for i in idx]):.2f}"
                                              for col in cols.values()) + " |")
    return lines


def _markdown(r: dict, cmd: str, png: str) -> str:
    m = r["machine"]
    pk = list(r.get("perceptual", {}))  # perceptual columns, lower is better
    names = {"stlpips": "ST-LPIPS", "lpips": "LPIPS"}
    ph = "".join(f" {names[k]} ↓ |" for k in pk)
    pd = "".join("---|" for _ in pk)

    def pc(row: dict) -> str:
        return "".join(f" {row[k]:.4f} |" for k in pk)

    lines = [f"# One-DVA reconstruction ({r['date'][:10]})", "",
             f"Command: `{cmd}`  ", f"Machine: {m['cpu']} ({m['cpu_count']} cores), torch "
             f"{m['torch']}; {len(r['clips'])} clips of 17 frames (64×112 / 112×64"
             + ("; centre crops at each video's own resolution" if r.get("scale") == "native" else "")
             + ").", "",
             "| model | PSNR (dB) | SSIM |" + ph + " encode s/clip | decode s/clip |",
             "|---|---|---|" + pd + "---|---|",
             f"| {r['model']} (100% 1D, 1 step) | {r['onedva']['psnr']:.2f} | {r['onedva']['ssim']:.4f} |"
             + pc(r["onedva"])
             + f" {r['onedva']['encode_s_per_clip']:.3f} | {r['onedva']['decode_s_per_clip_1step']:.3f} |"]
    if "baseline" in r:
        b = r["baseline"]
        lines.append(f"| {b['model']} (3D causal CNN, KL) | {b['psnr']:.2f} | {b['ssim']:.4f} |"
                     + pc(b) + f" {b['encode_s_per_clip']:.3f} | {b['decode_s_per_clip']:.3f} |")
    ref = r["reference"]
    lines += ["", "PSNR (dB) per source (mean over its clips):", "", *_per_source_table(r)]
    lines += ["", f"References without a model: each clip's flat mean colour "
              f"{ref['flat_mean_colour_psnr']:.2f} dB, mid-gray {ref['mid_gray_psnr']:.2f} dB"
              + (f", each frame downscaled 16× and bicubic-upscaled {ref['thumbnail16_psnr']:.2f} dB"
                 if "thumbnail16_psnr" in ref else "") + "."]
    for k in pk:
        lines += ["", f"{names[k]} of the references: flat mean colour "
                  f"{ref[f'flat_mean_colour_{k}']:.4f}, 16× thumbnail {ref[f'thumbnail16_{k}']:.4f}."]
    lines += ["", f"PSNR (dB) against the kept 1D latent fraction ({png}):", "",
              "| clips | " + " | ".join(f"{100 * float(f):.1f}%" for f in FRACTIONS) + " |",
              "|---|" + "---|" * len(FRACTIONS)]
    for g, pts in r["psnr_vs_length"].items():
        lines.append(f"| {g} | " + " | ".join(f"{v:.2f}" for v in pts.values()) + " |")
    a = r["adaptive_vs_constant"]
    lines += ["", f"Same average 1D fraction ({100 * a['average_fraction']:.1f}%): motion-adaptive "
              f"{a['adaptive_psnr']:.2f} dB vs constant {a['constant_psnr']:.2f} dB.", "",
              "| Euler steps | PSNR (dB) | SSIM |" + ph + " decode s/clip |",
              "|---|---|---|" + pd + "---|"]
    for n, s in r["steps"].items():
        lines.append(f"| {n} | {s['psnr']:.2f} | {s['ssim']:.4f} |" + pc(s)
                     + f" {s['decode_s_per_clip']:.3f} |")
    u = r["latent_use"]
    swapped = ("n/a" if u["psnr_with_other_clips_1d"] is None
               else f"{u['psnr_with_other_clips_1d']:.2f} dB over {u['swapped_clips']} clips")
    lines += ["", f"Latent use: mean posterior σ {u['posterior_sigma_struct']:.3f} (structural), "
              f"{u['posterior_sigma_oned']:.3f} (1D); PSNR with the next clip's 1D latents "
              f"in place of the clip's own: {swapped} (own: {r['onedva']['psnr']:.2f} dB)."]
    if pk:
        lines += ["", "Perceptual distances (↓ lower is better): "
                  + "; ".join(r["perceptual"].values()) + "."]
    if u.get("align_top1_cos_to_struct") is not None:
        near = u.get("align_nearest_1d_cos")
        lines += ["", f"1D latent alignment (§3.5, posterior means): top-1 cosine to the structural "
                  f"latents {u['align_top1_cos_to_struct']:.3f}, to the nearest other 1D latent "
                  + ("n/a" if near is None else f"{near:.3f}") + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
