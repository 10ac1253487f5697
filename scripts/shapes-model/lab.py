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

from data import needs_binding, question_prompt, questions, sentence  # noqa: E402
from export import tower_tensor_names  # noqa: E402
from model import Llm, LlmConfig, Projector, VisionTower, vision_config_of  # noqa: E402
from pool import load_or_build  # noqa: E402
from readout import image_scenes, kind_ids, marks, parse_readout  # noqa: E402
from train import Sampler, answer_loss, assemble, features, parse_schedule, phase_at, train_stage  # noqa: E402
from vocab import SpmTokenizer, build_vocab  # noqa: E402


def tower_from_gguf(path: str) -> dict:
    """The tower's state dict from an mmproj, with as many blocks as the file says it has."""
    import gguf

    reader = gguf.GGUFReader(path)
    names = tower_tensor_names(int(reader.fields["clip.vision.block_count"].parts[-1][0]))
    sd = {}
    for t in reader.tensors:
        if t.name in names:
            shape = [int(x) for x in reversed(t.shape.tolist())]
            sd[names[t.name]] = torch.from_numpy(np.array(t.data, dtype=np.float32).reshape(shape))
    return sd


def kind_of(q: str, scene) -> str:
    if q.startswith("What color"):
        return f"colour/{len(scene.shapes)}"
    return {"What shape": "shape", "How many": "count", "Is the": "left/right"}[" ".join(q.split()[:2])]


def evaluate(llm: Llm, projector: Projector, feats: torch.Tensor, scenes: list, tok: SpmTokenizer, tokens: list[str],
             sentences: bool = False) -> str:
    """Greedy first answer token per question; with `sentences`, only the questions about one of
    several shapes, asked without the short-answer instruction and answered as a sentence up to
    the word asked for ("The circle is" ...)."""
    items = [(i, q, a) for i, s in enumerate(scenes) for q, a in questions(s, False) if not sentences or needs_binding(s, q)]
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    with torch.no_grad():
        for c in range(0, len(items), 256):
            part = items[c : c + 256]
            prompts = [question_prompt(tok, q, 1, not sentences, " " + sentence(q, a).rsplit(" ", 1)[0] if sentences else "")
                       for _, q, a in part]
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
    ap.add_argument("--schedule", default="", help="opening phases, as train.py's; the rest of --steps is the mixture")
    ap.add_argument("--sentences", type=float, default=0.0, help="as train.py's")
    ap.add_argument("--qk-gain", type=float, default=1.0, help="multiplies the LLM's initial query and key weights (sharper attention at the start)")
    ap.add_argument("--readout", default="", help="LAYER:WEIGHT: train readout.py's head on the question shape words after that LLM block")
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
    src = args.vision
    weights = tower_from_gguf(src) if src.endswith(".gguf") else torch.load(src)
    vc, lc = vision_config_of(weights), LlmConfig(vocab=len(vocab_tokens), layers=args.layers, width=args.width)
    vision = VisionTower(vc)
    vision.load_state_dict(weights)
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
    with torch.no_grad():
        for blk in llm.blocks:
            blk.q.weight.mul_(args.qk_gain)
            blk.k.weight.mul_(args.qk_gain)
    sampler = Sampler(pool, tok, vc, rng, sentences=args.sentences)
    readout = parse_readout(args.readout, lc.width) if args.readout else None
    ids = kind_ids(tok)
    t0 = time.time()

    phases = parse_schedule(args.schedule)

    def step_fn(step: int) -> torch.Tensor:
        parts = sampler.phase_batches(args.batch, 0.0, phase_at(step, phases), args.questions, args.binding)
        rows = np.concatenate([r for r, _, _ in parts])
        dialogues = [d for _, _, ds in parts for d in ds]
        x, y = assemble(dialogues, projector(feat_standard[rows]), llm)
        at = marks(dialogues, image_scenes(parts, pool.scenes, 1), vc.patches, ids) if readout else None
        return answer_loss(llm, x, y, readout, at)

    def report(done: int, ema: float) -> None:
        acc = evaluate(llm, projector, feat_held, held_scenes, tok, vocab_tokens)
        if args.sentences:
            acc += " | as sentences: " + evaluate(llm, projector, feat_held, held_scenes, tok, vocab_tokens, True)
        tail = f" | readout loss {readout.last:.3f}" if readout else ""
        print(f"lab: step {done} loss {ema:.3f} {time.time() - t0:.0f} s | {acc}{tail}", flush=True)

    extra = list(readout.parameters()) if readout else []
    train_stage(list(projector.parameters()) + list(llm.parameters()) + extra, step_fn, args.lr, args.steps, args.eval_every, report)

if __name__ == "__main__":
    main()
