"""Draws held-out scenes at their full size as image files, with the questions each answers:
`answers.jsonl` lines {file, question, answer, detail}. For evaluation and test fixtures; the
images go through the app's own pipeline, so nothing here is preprocessed.

Usage: python3 scripts/shapes-model/make_scenes.py --out DIR [--seed 1000] [--count 400]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import questions, sample_scene  # noqa: E402
from scenes import draw  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--count", type=int, default=400)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "answers.jsonl"), "w") as out:
        for i in range(args.count):
            scene = sample_scene(rng)
            # JPEG once, when the file is saved (draw() would compress it in memory too).
            img = draw(dataclasses.replace(scene, jpeg_quality=None), 1.0, rng, supersample=2)
            ext = "jpg" if scene.jpeg_quality is not None else "png"
            name = f"scene-{i:04d}.{ext}"
            if ext == "jpg":
                img.save(os.path.join(args.out, name), quality=scene.jpeg_quality)
            else:
                img.save(os.path.join(args.out, name))
            detail = "high" if scene.digit is not None else "standard"
            for q, a in questions(scene, detail == "high"):
                out.write(json.dumps({"file": name, "question": q, "answer": a, "detail": detail,
                                      "width": scene.width, "height": scene.height}) + "\n")
    print(f"make_scenes: {args.count} scenes in {args.out}")


if __name__ == "__main__":
    main()
