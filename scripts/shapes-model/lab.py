"""LLM-stage experiments on a fixed tower (development only; CI never runs it): trains the
projector and LLM on frozen tower features for a number of steps and prints held-out accuracy per
question, with colour split by the number of shapes, every --eval-every steps. Much quicker than a
full run for trying what the LLM stage needs.

Usage: python3 scripts/shapes-model/lab.py --vision tests/fixtures/shapes-model/shapes-mmproj.gguf \
         [--steps 600] [--lr 2e-3] [--questions 3] [--layers 3]
The tower comes from vision.pt (a stage-1 tower) or from an mmproj GGUF (the committed pair's).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import question_prompt, questions  # noqa: E402
from export import tower_tensor_names  # noqa: E402
from model import Llm, LlmConfig, Projector, VisionConfig, VisionTower  # noqa: E402
from pool import load_or_build  # noqa: E402
from train import Sampler, answer_loss, assemble, features, focus_at, train_stage  # noqa: E402
from vocab import SpmTokenizer, build_vocab  # noqa: E402


def tower_from_gguf(path: str, vc: VisionConfig) -> dict:
    import gguf

    names = tower_tensor_names(vc.blocks)
    sd = {}
    for t in gguf.GGUFReader(path).tensors:
        if t.name in names:
            shape = [int(x) for x in reversed(t.shape.tolist())]
            sd[names[t.name]] = torch.from_numpy(np.array(t.data, dtype=np.float32).reshape(shape))
    return sd


def kind_of(q: str, scene) -> str:
    if q.startswith("What color"):
        return f"colour/{len(scene.shapes)}"
    return {"What shape": "shape", "How many": "count", "Is the": "left/right"}[" ".join(q.split()[:2])]


def evaluate(llm: Llm, projector: Projector, feats: torch.Tensor, scenes: list, tok: SpmTokenizer, tokens: list[str]) -> str:
    items = [(i, q, a) for i, s in enumerate(scenes) for q, a in questions(s, False)]
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    with torch.no_grad():
        for c in range(0, len(items), 256):
            part = items[c : c + 256]
            prompts = [question_prompt(tok, q, 1) for _, q, _ in part]
            x, _ = assemble([(p, [-100] * len(p)) for p in prompts], projector(feats[[i for i, _, _ in part]]), llm)
            logits = llm(x)
            for j, (i, q, a) in enumerate(part):
                last = len(prompts[j]) - 1 + feats.shape[1] - 1
                k = kind_of(q, scenes[i])
                total[k] += 1
                right[k] += int(tokens[int(logits[j, last].argmax())] == "\u2581" + a)
    colour = sum(v for k, v in right.items() if k.startswith("colour")) / max(1, sum(v for k, v in total.items() if k.startswith("colour")))
    parts = [f"colour {colour:.3f}"] + [f"{k} {right[k] / total[k]:.3f}" for k in sorted(total)]
    return ", ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vision", default="tests/fixtures/shapes-model/shapes-mmproj.gguf")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--questions", type=int, default=3, help="most questions about the first image")
    ap.add_argument("--binding", type=float, default=1.0, help="weight of questions that name one of several shapes")
    ap.add_argument("--pairs-first", type=int, default=0, help="steps on two-shape binding questions first")
    ap.add_argument("--colour-next", type=int, default=0, help="then steps on colour questions about several shapes")
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=150)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pool-cache", default=".cache/shapes-model/pool-seed1-scale1.pkl")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    os.makedirs(".cache/shapes-model", exist_ok=True)

    vocab_tokens, scores, _ = build_vocab()
    tok = SpmTokenizer(vocab_tokens, scores)
    vc, lc = VisionConfig(), LlmConfig(vocab=len(vocab_tokens), layers=args.layers, width=args.width)
    vision = VisionTower(vc)
    src = args.vision
    vision.load_state_dict(tower_from_gguf(src, vc) if src.endswith(".gguf") else torch.load(src))
    vision.eval()
    t0 = time.time()
    pool = load_or_build(args.pool_cache, 1, 24000, vc.image_size, vc.grid, 2)
    held = load_or_build(".cache/shapes-model/held-seed1000.pkl", 1000, 1500, vc.image_size, vc.grid, 2)
    held_rows = [i for i, s in enumerate(held.scenes) if s.digit is None]
    feat_standard = features(vision, pool.standard)
    feat_held = features(vision, held.standard[held_rows])
    held_scenes = [held.scenes[i] for i in held_rows]
    print(f"lab: pools and features in {time.time() - t0:.0f} s", flush=True)

    projector, llm = Projector(vc.width, lc.width), Llm(lc)
    sampler = Sampler(pool, tok, vc, rng)
    t0 = time.time()

    def step_fn(step: int) -> torch.Tensor:
        focus = focus_at(step, args.pairs_first, args.colour_next)
        rows, _, dialogues = sampler.dialogue_batch(args.batch, 0.0, args.questions, args.binding, focus)
        x, y = assemble(dialogues, projector(feat_standard[rows]), llm)
        return answer_loss(llm, x, y)

    def report(done: int, ema: float) -> None:
        acc = evaluate(llm, projector, feat_held, held_scenes, tok, vocab_tokens)
        print(f"lab: step {done} loss {ema:.3f} {time.time() - t0:.0f} s | {acc}", flush=True)

    train_stage(list(projector.parameters()) + list(llm.parameters()), step_fn, args.lr, args.steps, args.eval_every, report)

if __name__ == "__main__":
    main()
