"""Can a fresh vision tower learn to read the digit from the high-detail tile that holds it, when
trained on nothing else? (Development only; CI never runs it.) Trains VisionTower plus a linear
head on the per-patch digit target (data.digit_patch_map; only the patches the digit touches
count) and prints held-out accuracy, read at the first patch the digit touches, every 100 steps.
Separates "the tower cannot learn it" from "stage 1 gives it too few examples".

Usage: python3 scripts/shapes-model/digit_lab.py [--height-scale K] [--steps N] [--train N] [--colours]
  --height-scale: the digit K times the size digit_scene draws (4 % of the long side: about
  13 px tall in a tile)
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import IGNORE, digit_tiles  # noqa: E402
from model import VisionConfig, VisionTower  # noqa: E402
from train import pixels  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--height-scale", type=float, default=1.0)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train", type=int, default=4000)
    ap.add_argument("--colours", action="store_true", help="a random colour on another, not black on white")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    vc = VisionConfig()
    t0 = time.time()
    train_views, _, train_np_maps = digit_tiles(args.train, 1, vc.image_size, vc.grid, args.height_scale, args.colours)
    test_views, test_np_digits, test_np_maps = digit_tiles(500, 2, vc.image_size, vc.grid, args.height_scale, args.colours)
    train_maps, test_maps = torch.from_numpy(train_np_maps), torch.from_numpy(test_np_maps)
    test_digits = torch.from_numpy(test_np_digits)
    print(f"digit_lab: {args.train:,} + 500 tiles in {time.time() - t0:.0f} s", flush=True)
    tower, head = VisionTower(vc), torch.nn.Linear(vc.width, 11)
    params = list(tower.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.05)
    test_pixels = pixels(test_views)
    first_patch = (test_maps != IGNORE).int().argmax(1)
    on_digit = test_maps != IGNORE
    rng = np.random.default_rng(0)
    for step in range(args.steps):
        idx = rng.integers(0, len(train_views), size=64)
        logits = head(tower(pixels(train_views[idx])))
        loss = F.cross_entropy(logits.reshape(-1, 11), train_maps[idx].reshape(-1), ignore_index=IGNORE)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if (step + 1) % 100 == 0:
            with torch.no_grad():
                all_out = head(tower(test_pixels))[..., :10]
            out = all_out[torch.arange(len(test_digits)), first_patch]
            acc = (out.argmax(-1) == test_digits).float().mean().item()
            # every patch the digit touches votes with its log-probabilities
            pooled = (all_out.log_softmax(-1) * on_digit[..., None]).sum(1)
            acc_pooled = (pooled.argmax(-1) == test_digits).float().mean().item()
            print(f"digit_lab: step {step + 1} loss {loss.item():.3f} accuracy {acc:.3f} pooled {acc_pooled:.3f} ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
