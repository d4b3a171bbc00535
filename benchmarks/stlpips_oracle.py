"""Check vid1d's ST-LPIPS against the official ``stlpips_pytorch`` code, same weights.

The official package imports torchvision, IPython and torchsummary, none of which
vid1d may import; it only needs their names for the shift-tolerant networks, so
this script puts empty stand-ins under those names (a check script, never part of
the library). It downloads the wheel by name (``pip download --no-deps``), unpacks
it in a temporary folder, and compares both nets on random images, blurred and
shifted real frames, and frame sizes from 21 px up.

    python benchmarks/stlpips_oracle.py --out docs/results/stlpips_oracle
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import types
import zipfile
from pathlib import Path

import torch
import torch.nn.functional as F

from vid1d.data.fetch import download_package
from vid1d.io import open_video
from vid1d.metrics.convert import convert_stlpips
from vid1d.metrics.fetch import SOURCES
from vid1d.metrics.stlpips import STLPIPS


def _stub_modules() -> None:
    tv = types.ModuleType("torchvision")
    tv.models = types.ModuleType("torchvision.models")
    ipy = types.ModuleType("IPython")
    ipy.embed = lambda *a, **k: None
    ts = types.ModuleType("torchsummary")
    ts.summary = lambda *a, **k: None
    sys.modules.update({"torchvision": tv, "torchvision.models": tv.models, "IPython": ipy,
                        "torchsummary": ts})


def _cases(sample: Path) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    with open_video(sample) as r:
        clip = next(r.chunks(4))  # (3, T, H, W) in [0, 1]
    frames = clip.permute(1, 0, 2, 3).contiguous()
    blurred = F.avg_pool2d(F.pad(frames, (1, 1, 1, 1), mode="replicate"), 3, 1)
    shifted = torch.roll(frames, shifts=(0, 1), dims=(2, 3))
    noisy = (frames + 0.05 * torch.randn(frames.shape, generator=g)).clamp(0, 1)
    cases = [("sample vs 3x3 blur", frames, blurred), ("sample vs 1-px shift", frames, shifted),
             ("sample vs noise 0.05", frames, noisy)]
    for h, w in [(21, 21), (31, 45), (64, 112), (100, 37)]:
        a = torch.rand(3, 3, h, w, generator=g)
        b = (a + 0.1 * torch.randn(a.shape, generator=g)).clamp(0, 1)
        cases.append((f"random {h}x{w}", a, b))
    return cases


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", default="src/vid1d/assets/carphone_pristine.mp4")
    ap.add_argument("--out", default="docs/results/stlpips_oracle")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    rows = []
    with tempfile.TemporaryDirectory(prefix="stlpips-oracle-") as tmp:
        tmp = Path(tmp)
        wheel = download_package(SOURCES["stlpips-alex"], tmp)
        zipfile.ZipFile(wheel).extractall(tmp / "pkg")
        _stub_modules()
        sys.path.insert(0, str(tmp / "pkg"))
        from stlpips_pytorch import stlpips as official  # noqa: PLC0415 - needs the stubs

        for net in ("alex", "vgg"):
            pth = tmp / "pkg" / f"stlpips_pytorch/weights/vST0.0/{net}_shift_tolerant.pth"
            ours = STLPIPS.from_file(convert_stlpips(pth, tmp / f"{net}.safetensors"))
            ref = official.LPIPS(net=net, variant="shift_tolerant", verbose=False).eval()
            for what, a, b in _cases(Path(args.sample)):
                mine = ours(a, b)
                theirs = ref(a, b, normalize=True).flatten()
                rows.append({"net": net, "case": what, "ours": mine.tolist(),
                             "official": theirs.tolist(),
                             "max_abs_diff": float((mine - theirs).abs().max())})
    worst = max(r["max_abs_diff"] for r in rows)
    lines = ["# ST-LPIPS: vid1d against the official stlpips_pytorch 0.0.2", "",
             "Command: `python benchmarks/stlpips_oracle.py --out docs/results/stlpips_oracle`", "",
             "| net | case | vid1d (mean over frames) | official | max abs diff |", "|---|---|---:|---:|---:|"]
    for r in rows:
        mo = sum(r["ours"]) / len(r["ours"])
        mt = sum(r["official"]) / len(r["official"])
        lines.append(f"| {r['net']} | {r['case']} | {mo:.6f} | {mt:.6f} | {r['max_abs_diff']:.2e} |")
    lines += ["", f"Largest difference over all frames: {worst:.2e}."]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps({"rows": rows, "torch": torch.__version__},
                                                   indent=1) + "\n")
    print("\n".join(lines))
    return 0 if worst < 1e-5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
