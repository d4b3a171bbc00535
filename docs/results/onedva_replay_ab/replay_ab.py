"""A/B of the data offset: arm 'replay' forces offset 0 (the behaviour before 2026-12-03)."""
import sys

import vid1d.train.loop as loop
from vid1d.cli.main import main

arm, out = sys.argv[1], sys.argv[2]
if arm == "replay":
    loop.init_data_offset = lambda sha: 0
common = ["train", "onedva", "--preset", "small", "--data", "../shared/data/videos", "--out", out,
          "data.kind=mixed", "data.synthetic_fraction=0.3", "data.workers=1",
          "train.init=runs/onedva-g", "train.steps=800", "train.val_every=400",
          "train.sample_every=0", "train.ckpt_every=100", "train.optim.lr=0.0003",
          "train.optim.min_lr=0.00003", "train.optim.warmup_steps=50"]
sys.exit(main(common))
