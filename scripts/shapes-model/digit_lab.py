"""Can a fresh vision tower learn to read the digit from the high-detail tile that holds it, when
trained on nothing else? (Development only; CI never runs it.) Trains VisionTower plus a linear
head on the per-patch digit target (data.digit_patch_map; only the patches the digit touches
count) and prints held-out accuracy, read at the first patch the digit touches, every 100 steps.
Separates "the tower cannot learn it" from "stage 1 gives it too few examples".

Usage: python3 scripts/shapes-model/digit_lab.py [--height-scale K] [--steps N]
  --height-scale: the digit K times the size digit_scene draws (3.1 % of the long side: about
  10 px tall in a tile)
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

from data import IGNORE, NONE_DIGIT, digit_in_tiles, digit_patch_map  # noqa: E402
from model import VisionConfig, VisionTower  # noqa: E402
from scenes import digit_scene  # noqa: E402
from train import pixels  # noqa: E402
from views import high_views  # noqa: E402


def tiles(n: int, seed: int, scale: float, vc: VisionConfig) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
    """n digit scenes: the digit's tile, the digit, and the per-patch target (IGNORE off the digit)."""
    rng = np.random.default_rng(seed)
    views, digits, maps = [], [], []
    for _ in range(n):
        s = digit_scene(rng)
        assert s.digit is not None
        s.digit.height *= scale
        tile = digit_in_tiles(s, vc.image_size)[0]
        views.append(np.asarray(high_views(s, vc.image_size, rng)[1 + tile]))
        digits.append(s.digit.value)
        m = digit_patch_map(s, 1 + tile, vc.image_size, vc.grid).reshape(-1)
        maps.append(np.where(m == NONE_DIGIT, IGNORE, m))
    return np.stack(views), torch.tensor(digits), torch.from_numpy(np.stack(maps))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--height-scale", type=float, default=1.0)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    vc = VisionConfig()
    t0 = time.time()
    train_views, _, train_maps = tiles(4000, 1, args.height_scale, vc)
    test_views, test_digits, test_maps = tiles(500, 2, args.height_scale, vc)
    print(f"digit_lab: 4,000 + 500 tiles in {time.time() - t0:.0f} s", flush=True)
    tower, head = VisionTower(vc), torch.nn.Linear(vc.width, 11)
    params = list(tower.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.05)
    test_pixels = pixels(test_views)
    first_patch = (test_maps != IGNORE).int().argmax(1)
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
                out = head(tower(test_pixels))[torch.arange(len(test_digits)), first_patch, :10]
            acc = (out.argmax(-1) == test_digits).float().mean().item()
            print(f"digit_lab: step {step + 1} loss {loss.item():.3f} accuracy {acc:.3f} ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
