"""Accuracy of a trained checkpoint in PyTorch, per question, on held-out scenes (another seed):
one question per conversation, the short-answer prompt, the greedy first answer token. The
figures that count are the app's (through `llava-desk ask`); this is the quick check while
training.

Usage: python3 scripts/shapes-model/evaluate.py --checkpoint DIR/shapes-model.pt [--count 400] [--digits] [--by-count]
  --digits: digit scenes only (high and standard detail), the quick check of the digit
  --by-count: also the count and colour questions by the scene's number of shapes
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import question_prompt, questions, sample_scene  # noqa: E402
from scenes import digit_scene  # noqa: E402
from model import Llm, LlmConfig, Projector, VisionConfig, VisionTower  # noqa: E402
from train import assemble  # noqa: E402
from views import high_views, normalise, standard_view  # noqa: E402
from vocab import SHORT_ANSWER, SpmTokenizer, build_vocab  # noqa: E402

KINDS = {"What shape": "shape", "How many": "count", "What color": "colour", "Is the": "left/right"}


def kind_of(question: str, detail: str) -> str:
    if question.startswith("What digit"):
        return f"digit ({detail})"
    return next(v for k, v in KINDS.items() if question.startswith(k))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--digits", action="store_true", help="digit scenes only")
    ap.add_argument("--by-count", action="store_true", help="also count and colour by number of shapes")
    args = ap.parse_args()
    ck = torch.load(args.checkpoint)
    vc, lc = VisionConfig(**ck["vision_config"]), LlmConfig(**ck["llm_config"])
    vision, projector, llm = VisionTower(vc), Projector(vc.width, lc.width), Llm(lc)
    vision.load_state_dict(ck["vision"])
    projector.load_state_dict(ck["projector"])
    llm.load_state_dict(ck["llm"])
    tokens, scores, _ = build_vocab()
    tok = SpmTokenizer(tokens, scores)
    rng = np.random.default_rng(args.seed)
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    with torch.no_grad():
        for _ in range(args.count):
            scene = digit_scene(rng) if args.digits else sample_scene(rng)
            details = ["high", "standard"] if scene.digit is not None else ["standard"]
            for detail in details:
                views = high_views(scene, vc.image_size, rng) if detail == "high" else [standard_view(scene, vc.image_size, rng)]
                pixels = torch.from_numpy(np.stack([normalise(v) for v in views]))
                image = projector(vision(pixels))
                for q, a in questions(scene, detail == "high"):
                    prompt = question_prompt(tok, q, len(views))
                    x, _ = assemble([(prompt, [-100] * len(prompt))], image, llm)
                    guess = int(llm(x)[0, -1].argmax())
                    k = kind_of(q, detail)
                    keys = [k, f"{k}, {len(scene.shapes)} shapes"] if args.by_count and k in ("count", "colour") else [k]
                    for key in keys:
                        total[key] += 1
                        right[key] += int(tokens[guess] == "\u2581" + a)
        # A second image later in the same chat: the question is about it, not the first one.
        for _ in range(0 if args.digits else args.count // 4):
            a, b = sample_scene(rng), sample_scene(rng)
            (qa, aa), (qb, ab) = questions(a, False)[0], questions(b, False)[-1]
            va, vb = standard_view(a, vc.image_size, rng), standard_view(b, vc.image_size, rng)
            image = projector(vision(torch.from_numpy(np.stack([normalise(va), normalise(vb)]))))
            prompt = question_prompt(tok, qa, 1) + tok.encode(f" {aa}</s>") + tok.encode("USER: ") + [-1]
            prompt += tok.encode(f"\n{qb}{SHORT_ANSWER} ASSISTANT:")
            x, _ = assemble([(prompt, [-100] * len(prompt))], image, llm)
            total["second image"] += 1
            right["second image"] += int(tokens[int(llm(x)[0, -1].argmax())] == "\u2581" + ab)
    for k in sorted(total):
        print(f"evaluate: {k}: {right[k] / total[k]:.3f} of {total[k]}")


if __name__ == "__main__":
    main()
