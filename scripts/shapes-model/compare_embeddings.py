"""Compares the image embeddings of the PyTorch shapes model with the engine's (libmtmd's graph
on the exported GGUF) for the same pixels: `llava-desk embed --image-prep app` on an image that is
already the encoder's size, so the app hands libmtmd these exact pixels.

Usage:
  node bin/llava-desk.js embed --model M --mmproj P --image scene.png --out emb.f32
  python3 scripts/shapes-model/compare_embeddings.py --checkpoint C.pt --image scene.png --embeddings emb.f32
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from model import Projector, VisionConfig, VisionTower  # noqa: E402
from views import normalise  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--embeddings", required=True)
    args = ap.parse_args()
    ck = torch.load(args.checkpoint)
    vc = VisionConfig(**ck["vision_config"])
    vision, projector = VisionTower(vc), Projector(vc.width, ck["llm_config"]["width"])
    vision.load_state_dict(ck["vision"])
    projector.load_state_dict(ck["projector"])
    img = Image.open(args.image).convert("RGB")
    if img.size != (vc.image_size, vc.image_size):
        sys.exit(f"the image must be {vc.image_size} x {vc.image_size} (the encoder's size), not {img.size}")
    with torch.no_grad():
        ours = projector(vision(torch.from_numpy(normalise(img))[None]))[0].double().numpy()
    engine = np.fromfile(args.embeddings, dtype="<f4").reshape(ours.shape).astype(np.float64)
    diff = np.abs(ours - engine)
    scale = np.abs(ours).max()
    print(f"compare: {ours.shape[0]} tokens x {ours.shape[1]}: max abs difference {diff.max():.3g} "
          f"(largest value {scale:.3g}, relative {diff.max() / scale:.2g}), mean {diff.mean():.3g}")


if __name__ == "__main__":
    main()
