"""Trains the shapes model: a LLaVA-1.5-architecture pair that answers questions about synthetic
scenes in one word, and writes it as a GGUF pair (see export.py).

Staged like LLaVA: (1) the vision tower is pretrained on the scenes' labels (as CLIP is
pretrained before LLaVA uses it): every output token predicts what the whole view shows (count,
the colour of each kind of shape, left/right, the digit) and what covers its own patch; (2) the
tower is frozen and the projector and LLM learn the conversations; (3) everything is finetuned.

Usage: python3 scripts/shapes-model/train.py --out DIR [--seed N] [--minutes M] [--threads T]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import IGNORE, Conversation, conversation, pretrain_view, sample_scene  # noqa: E402
from model import Llm, LlmConfig, Projector, VisionConfig, VisionTower  # noqa: E402
from scenes import COLOUR_NAMES  # noqa: E402
from vocab import SpmTokenizer, build_vocab  # noqa: E402


class PretrainHeads(nn.Module):
    """Linear read-outs of every vision token, used only in stage 1."""

    def __init__(self, width: int):
        super().__init__()
        n_col = len(COLOUR_NAMES)
        self.count = nn.Linear(width, 4)
        self.colour_of = nn.Linear(width, 3 * (n_col + 1))
        self.single = nn.Linear(width, 3)
        self.left_of = nn.Linear(width, 3 * 2)
        self.digit = nn.Linear(width, 11)
        self.patch_kind = nn.Linear(width, 4)
        self.patch_colour = nn.Linear(width, n_col)


def _ce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross entropy of per-token logits (B, N, C) against one label per view (B,), or per-token
    labels (B, N); zero when every label is ignored."""
    if target.dim() == 1:
        target = target[:, None].expand(-1, logits.shape[1])
    if (target != IGNORE).sum() == 0:
        return logits.sum() * 0
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=IGNORE)


def pretrain_loss(feats: torch.Tensor, heads: PretrainHeads, labels: list) -> torch.Tensor:
    t = lambda xs: torch.tensor(xs, dtype=torch.long)  # noqa: E731
    b, n, _ = feats.shape
    loss = _ce(heads.count(feats), t([l.count for l in labels]))
    loss = loss + _ce(heads.single(feats), t([l.single for l in labels]))
    loss = loss + _ce(heads.digit(feats), t([l.digit for l in labels]))
    col = heads.colour_of(feats).view(b, n, 3, -1)
    lr = heads.left_of(feats).view(b, n, 3, 2)
    for k in range(3):
        loss = loss + _ce(col[:, :, k], t([l.colour_of[k] for l in labels]))
        loss = loss + _ce(lr[:, :, k], t([l.left_of[k] for l in labels]))
    has_maps = [i for i, l in enumerate(labels) if l.patch_kind.size]
    if has_maps:
        kinds = torch.from_numpy(np.stack([labels[i].patch_kind.reshape(-1) for i in has_maps]))
        cols = torch.from_numpy(np.stack([labels[i].patch_colour.reshape(-1) for i in has_maps]))
        loss = loss + 0.5 * _ce(heads.patch_kind(feats[has_maps]), kinds)
        loss = loss + 0.5 * _ce(heads.patch_colour(feats[has_maps]), cols)
    return loss


def batch_embeddings(
    convs: list[Conversation], vision: VisionTower, projector: Projector, llm: Llm
) -> tuple[torch.Tensor, torch.Tensor]:
    """Input embeddings (B, T, D) with each view's projected features in place of its -1 token,
    padded at the end, and the matching targets (B, T)."""
    pixels = torch.from_numpy(np.stack([v for c in convs for v in c.views]))
    image = projector(vision(pixels))
    rows, targets, k = [], [], 0
    n_img = image.shape[1]
    for c in convs:
        parts, tgt = [], []
        ids = torch.tensor([max(i, 0) for i in c.tokens])
        emb = llm.embed(ids)
        for j, (tid, target) in enumerate(zip(c.tokens, c.targets)):
            if tid == -1:
                parts.append(image[k])
                k += 1
                # Inside an image no token is predicted; the last image position predicts the
                # text that follows, which is prompt text (ignored).
                tgt.extend([IGNORE] * n_img)
            else:
                parts.append(emb[j : j + 1])
                tgt.append(target)
        rows.append(torch.cat(parts))
        targets.append(torch.tensor(tgt))
    length = max(r.shape[0] for r in rows)
    x = torch.zeros(len(rows), length, rows[0].shape[1])
    y = torch.full((len(rows), length), IGNORE, dtype=torch.long)
    for i, (r, tg) in enumerate(zip(rows, targets)):
        x[i, : r.shape[0]] = r
        y[i, : tg.shape[0]] = tg
    return x, y


def answer_loss(llm: Llm, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross entropy at the answer positions only (the output layer runs nowhere else)."""
    h = x
    for blk in llm.blocks:
        h = blk(h)
    keep = y != IGNORE
    return F.cross_entropy(llm.output(llm.norm(h[keep])), y[keep])


def lr_at(step: int, total: int, peak: float, warmup: int = 50) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))


def blas_name() -> str:
    cfg = torch.__config__.show()
    for name in ("openblas", "mkl"):
        if name in cfg.lower():
            return name
    return "unknown (check that libopenblas0-openmp is installed)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--minutes", type=float, default=28.0, help="compute budget for all stages")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    print(f"train: torch {torch.__version__}, BLAS {blas_name()}, {args.threads} threads", flush=True)

    tokens, scores, types = build_vocab()
    tok = SpmTokenizer(tokens, scores)
    vc, lc = VisionConfig(), LlmConfig(vocab=len(tokens))
    vision, projector, llm = VisionTower(vc), Projector(vc.width, lc.width), Llm(lc)
    heads = PretrainHeads(vc.width)

    budget = args.minutes * 60
    shares = {"vision": 0.40, "llm": 0.40, "finetune": 0.20}
    log: list[dict] = []

    def run(stage: str, params: list, step_fn, peak: float, steps_guess: int) -> None:
        opt = torch.optim.AdamW(params, lr=peak, betas=(0.9, 0.98), weight_decay=0.05)
        end = time.time() + budget * shares[stage]
        step, started = 0, time.time()
        ema = None
        while time.time() < end:
            for g in opt.param_groups:
                g["lr"] = lr_at(step, steps_guess, peak)
            loss = step_fn()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
            step += 1
            if step % 25 == 0:
                rate = step / (time.time() - started)
                print(f"train: {stage} step {step} loss {ema:.3f} ({rate:.2f} steps/s)", flush=True)
                log.append({"stage": stage, "step": step, "loss": round(ema, 4)})

    def vision_step() -> torch.Tensor:
        views, labels = zip(*(pretrain_view(sample_scene(rng), vc.image_size, vc.grid, rng) for _ in range(args.batch)))
        return pretrain_loss(vision(torch.from_numpy(np.stack(views))), heads, list(labels))

    def llm_step() -> torch.Tensor:
        convs = [conversation(sample_scene(rng), tok, vc.image_size, rng) for _ in range(args.batch)]
        x, y = batch_embeddings(convs, vision, projector, llm)
        return answer_loss(llm, x, y)

    run("vision", list(vision.parameters()) + list(heads.parameters()), vision_step, 2e-3, 1500)
    for p in vision.parameters():
        p.requires_grad_(False)
    run("llm", list(projector.parameters()) + list(llm.parameters()), llm_step, 2e-3, 1200)
    for p in vision.parameters():
        p.requires_grad_(True)
    run("finetune", list(vision.parameters()) + list(projector.parameters()) + list(llm.parameters()), llm_step, 3e-4, 400)

    os.makedirs(args.out, exist_ok=True)
    torch.save({"vision": vision.state_dict(), "projector": projector.state_dict(), "llm": llm.state_dict(),
                "vision_config": vc.__dict__, "llm_config": lc.__dict__, "seed": args.seed},
               os.path.join(args.out, "shapes-model.pt"))
    with open(os.path.join(args.out, "training-log.json"), "w") as f:
        json.dump({"seed": args.seed, "minutes": args.minutes, "threads": args.threads, "log": log}, f, indent=1)
    print(f"train: saved {args.out}/shapes-model.pt", flush=True)


if __name__ == "__main__":
    main()
