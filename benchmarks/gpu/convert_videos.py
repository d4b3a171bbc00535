"""GPU machine: decode the training videos with OpenCV (it has no PyAV) into .y4m (4:4:4).

    python benchmarks/gpu/convert_videos.py SRC_DIR OUT_DIR

Files go to OUT/v10/<stem>.y4m: with that folder name the source-hash split keeps
bigbuckbunny as the only validation source, as in the CPU runs (keys *.mp4/*.avi).
"""
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from vid1d.data.split import split_keys
from vid1d.io.dispatch import write_video

src, out = Path(sys.argv[1]), Path(sys.argv[2]) / "v10"
out.mkdir(parents=True, exist_ok=True)
for f in sorted(src.iterdir()):
    cap = cv2.VideoCapture(str(f))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(bgr[:, :, ::-1].copy())
    cap.release()
    if not frames:
        sys.exit(f"{f}: OpenCV decoded no frames")
    chunks = (torch.from_numpy(np.stack(frames[i:i + 32])).permute(3, 0, 1, 2).float().div_(255)
              for i in range(0, len(frames), 32))  # (3, T, H, W) RGB
    write_video(out / (f.stem + ".y4m"), chunks, fps=round(fps, 3), pix_fmt="yuv444p")
    print(f"{f.name}: {len(frames)} frames {frames[0].shape[1]}x{frames[0].shape[0]}", flush=True)
keys = sorted("v10/" + p.name for p in out.iterdir())
val = [keys[i] for i in split_keys(keys, 0.1, "val")]
print("validation sources:", val)
if val != ["v10/bigbuckbunny.y4m"]:
    sys.exit("split differs from the CPU runs'")
