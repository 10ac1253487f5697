"""Trains the shapes model: a LLaVA-1.5-architecture pair that answers questions about synthetic
scenes in one word, and writes it as a GGUF pair (see export.py).

Staged like LLaVA: (1) the vision tower is pretrained on the scenes' labels (as CLIP is
pretrained before LLaVA uses it): every output token predicts what the whole view shows (count,
the colour of each kind of shape, left/right, the digit) and what covers its own patch; (2) the
tower is frozen and the projector and LLM learn the conversations, on features computed once;
(3) everything is finetuned. The scenes are drawn once into a pool (pool.py) that every stage
samples from. Step counts, not a clock, bound each stage, so a seed gives the same model on any
machine that trains in the same precision (--bf16: bfloat16 autocast where the CPU multiplies
bfloat16 in hardware, about 2 x faster than float32 there; float32 elsewhere).

Usage: python3 scripts/shapes-model/train.py --out DIR [--seed N] [--threads T] [--scale F]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import IGNORE, ViewLabels, centre_map, density_map, dialogue, digit_in_tiles, digit_patch_map, echo_dialogue, view_labels  # noqa: E402
from model import Llm, LlmConfig, Projector, VisionConfig, VisionTower, gelu, gelu_exact, tower_config  # noqa: E402
from pool import Pool, load_or_build  # noqa: E402
from readout import KindReadout, Marks, image_scenes, kind_ids, marks, parse_readout  # noqa: E402
from scenes import COLOUR_NAMES  # noqa: E402
from views import CLIP_MEAN, CLIP_STD  # noqa: E402
from vocab import SpmTokenizer, build_vocab  # noqa: E402

SECOND_IMAGE_SHARE = 0.2  # standard chats that get a second image in a later turn
_MEAN = np.array(CLIP_MEAN, dtype=np.float32)
_STD = np.array(CLIP_STD, dtype=np.float32)


def pixels(views: np.ndarray) -> torch.Tensor:
    """(B, S, S, 3) uint8 views -> (B, 3, S, S) CLIP-normalised, as views.normalise computes."""
    a = (views.astype(np.float32) / 255.0 - _MEAN) / _STD
    return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))


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
        self.patch_side = nn.Linear(width, 2)
        self.patch_digit = nn.Linear(width, 11)
        self.patch_centre = nn.Linear(width, 2)
        self.patch_density = nn.Linear(width, 1)


def _ce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross entropy of per-token logits (B, N, C) against one label per view (B,), or per-token
    labels (B, N); zero when every label is ignored."""
    if target.dim() == 1:
        target = target[:, None].expand(-1, logits.shape[1])
    if (target != IGNORE).sum() == 0:
        return logits.sum() * 0
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=IGNORE)


def side_map(labels: ViewLabels) -> np.ndarray:
    """For two shapes side by side: 0 on the patches of the left one, 1 on the right one's,
    IGNORE elsewhere (and everywhere in other scenes). What the left/right question needs: which
    shape a patch belongs to, and on which side that shape is."""
    out = np.full(labels.patch_kind.shape, IGNORE, dtype=np.int64)
    for kind, side in enumerate(labels.left_of):
        if side != IGNORE:
            out[labels.patch_kind == kind + 1] = side
    return out


DENSITY_SCALE = 16.0  # the density target times this: a shape's patches add up to 16, not 1


def density_loss(pred: torch.Tensor, density: torch.Tensor) -> torch.Tensor:
    """Per-patch squared error of the (scaled) density map, plus the squared error of its sum,
    the count, per view. pred, density: (B, N)."""
    target = density * DENSITY_SCALE
    count = density.sum(1)
    return F.mse_loss(pred.float(), target) + F.mse_loss(pred.float().sum(1) / DENSITY_SCALE, count) / 4


def pretrain_loss(feats: torch.Tensor, centre_feats: torch.Tensor, density_feats: torch.Tensor, heads: PretrainHeads,
                  labels: list, digit_map: float = 0.0, centre_map: float = 0.0, density_map: float = 0.0,
                  count_weight: float = 1.0) -> torch.Tensor:
    """Stage 1's loss on the tower's features; the centre marks are read from `centre_feats` (the
    output of the block --centre-at names) and the density map from `density_feats`
    (--density-at), so that the blocks after it can add them up into the count. `count_weight`
    multiplies the count's two targets: its per-view label and the density map."""
    t = lambda xs: torch.tensor(xs, dtype=torch.long)  # noqa: E731
    b, n, _ = feats.shape
    loss = count_weight * _ce(heads.count(feats), t([l.count for l in labels]))
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
        sides = torch.from_numpy(np.stack([side_map(labels[i]).reshape(-1) for i in has_maps]))
        loss = loss + 0.5 * _ce(heads.patch_side(feats[has_maps]), sides)
        if centre_map:
            centres = torch.from_numpy(np.stack([labels[i].patch_centre.reshape(-1) for i in has_maps]))
            loss = loss + centre_map * _ce(heads.patch_centre(centre_feats[has_maps]), centres)
        if density_map:
            dens = torch.from_numpy(np.stack([labels[i].patch_density.reshape(-1) for i in has_maps]))
            loss = loss + count_weight * density_map * density_loss(heads.patch_density(density_feats[has_maps]).squeeze(-1), dens)
    has_digit = [i for i, l in enumerate(labels) if l.patch_digit.size]
    if digit_map and has_digit:
        digits = torch.from_numpy(np.stack([labels[i].patch_digit.reshape(-1) for i in has_digit]))
        loss = loss + digit_map * _ce(heads.patch_digit(feats[has_digit]), digits)
    return loss


def assemble(dialogues: list[tuple[list[int], list[int]]], image: torch.Tensor, llm: Llm) -> tuple[torch.Tensor, torch.Tensor]:
    """Input embeddings (B, T, D) with the projected image rows (M, n, D), taken in order, in place
    of each -1 token, padded at the end, and the matching targets (B, T). One gather from a table
    of the token embeddings followed by the image rows."""
    vocab, n_img = llm.embed.weight.shape[0], image.shape[1]
    table = torch.cat([llm.embed.weight, image.reshape(-1, image.shape[-1])])
    rows, targets, k = [], [], 0
    for tokens, tgt in dialogues:
        ids: list[int] = []
        out: list[int] = []
        for t, g in zip(tokens, tgt):
            if t == -1:
                ids.extend(range(vocab + k * n_img, vocab + (k + 1) * n_img))
                # Inside an image no token is predicted; its last position predicts prompt text.
                out.extend([IGNORE] * n_img)
                k += 1
            else:
                ids.append(t)
                out.append(g)
        rows.append(ids)
        targets.append(out)
    length = max(len(r) for r in rows)
    idx = torch.tensor([r + [0] * (length - len(r)) for r in rows])
    y = torch.tensor([t + [IGNORE] * (length - len(t)) for t in targets])
    return table[idx], y


def answer_loss(llm: Llm, x: torch.Tensor, y: torch.Tensor, readout: KindReadout | None = None,
                at: Marks | None = None) -> torch.Tensor:
    """Cross entropy at the answer positions only (the output layer runs nowhere else), plus the
    readout's loss at the question shape words `at` when there is one (readout.py)."""
    h = x
    extra = x.new_zeros(())
    for i, blk in enumerate(llm.blocks):
        h = blk(h)
        if readout is not None and at is not None and i == readout.layer and len(at.pos):
            extra = readout.loss(h, at)
    keep = y != IGNORE
    return F.cross_entropy(llm.output(llm.norm(h[keep])), y[keep]) + extra


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



def has_bf16_matmul() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware: Intel AMX (`amx_bf16`) or the
    AVX-512 bfloat16 dot products (`avx512_bf16`, also on AMD Zen 4), both used by PyTorch's
    oneDNN. There a bfloat16 product of the sizes trained here runs 4-10 x faster than a float32
    one; elsewhere bfloat16 is emulated and slower."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read().split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def train_stage(params: list, step_fn: Callable[[int], torch.Tensor], peak: float, steps: int, every: int,
                report: Callable[[int, float], None], bf16: bool = False) -> None:
    """One stage's loop: AdamW with warm-up and cosine decay to `peak`, gradients clipped at 1;
    `report(steps done, loss EMA)` every `every` steps and after the last. `bf16`: the forward
    pass under bfloat16 autocast (mixed precision: weights, gradients and optimiser stay float32)."""
    opt = torch.optim.AdamW(params, lr=peak, betas=(0.9, 0.98), weight_decay=0.05)
    ema: float | None = None
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, peak)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = step_fn(step)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if (step + 1) % every == 0 or step + 1 == steps:
            report(step + 1, ema)


def parse_schedule(text: str) -> list[tuple[str, int]]:
    """The LLM stage's opening phases, 'left-right:200,half-binding:300' -> [('left-right', 200),
    ('half-binding', 300)]; the stage's remaining steps are the mixture. A phase is `left-right`,
    `colour` or `binding` (only questions that need the named shape told apart from others:
    which side it is on, its colour among several shapes, or both), `count` (only the count, of
    one to four shapes equally often), `mix` (the mixture), or
    `half-X` (each batch half X, half the mixture)."""
    phases = [(name, int(n)) for name, n in (p.split(":") for p in text.split(",") if p)]
    for name, _ in phases:
        if name.removeprefix("half-") not in ("left-right", "colour", "binding", "count", "echo", "mix"):
            raise SystemExit(f"train: unknown phase {name!r} in --schedule")
    return phases


def phase_at(step: int, phases: list[tuple[str, int]]) -> str:
    for name, n in phases:
        if step < n:
            return name
        step -= n
    return "mix"


class Sampler:
    """Draws training batches from the pool with its own generator."""

    def __init__(self, pool: Pool, tok: SpmTokenizer, vc: VisionConfig, rng: np.random.Generator, high_batch: float = 1.0,
                 sentences: float = 0.0, digit_tile: float = 0.0, digit_map: bool = False, centre_map: bool = False,
                 digit_share: float = 0.0, count_balance: bool = False, chat_balance: bool = False,
                 density_map: bool = False):
        self.pool, self.tok, self.vc, self.rng = pool, tok, vc, rng
        self.digit_share = digit_share  # share of stage 1's draws from digit scenes (0: as the pool has them)
        self.digit_tile = digit_tile  # share of stage 1's digit-scene draws that take the digit's tile
        # whether stage 1's labels carry the per-patch digit and centre maps (computed only if used)
        self.digit_map, self.centre_map, self.density_map = digit_map, centre_map, density_map
        self.densities: dict[int, np.ndarray] = {}  # density_map of each pool row, drawn when first used
        self.sentences = sentences  # share of answers given as sentences (data.dialogue)
        self.high_batch = high_batch  # high-detail batches hold this share of `size` conversations
        self.digit_rows = np.flatnonzero(pool.high_of >= 0)
        self.other_rows = np.flatnonzero(pool.high_of < 0)
        # shapes scenes by number of shapes, for stage 1 (count_balance) and for the chats of the
        # later stages (chat_balance) when they draw each count equally often
        self.count_balance, self.chat_balance = count_balance, chat_balance
        counts = np.array([len(s.shapes) for s in pool.scenes])
        self.rows_by_count = [np.flatnonzero(counts == n) for n in range(1, 5)]
        self.pair_rows = np.flatnonzero([s.side_by_side for s in pool.scenes])
        kinds = [[sh.kind for sh in s.shapes] for s in pool.scenes]
        self.colour_rows = np.flatnonzero([len(k) > 1 and any(k.count(x) == 1 for x in k) for k in kinds])
        self.binding_rows = np.union1d(self.pair_rows, self.colour_rows)

    def shape_rows(self, size: int) -> np.ndarray:
        """Rows of `size` shapes scenes for stage 1: as the pool holds them (a third each with one
        and two shapes, a ninth each with three and four), or each count equally often."""
        rng = self.rng
        if not self.count_balance:
            return self.other_rows[rng.integers(0, len(self.other_rows), size=size)]
        return self.balanced_rows(size)

    def balanced_rows(self, size: int) -> np.ndarray:
        """Rows of `size` shapes scenes with one to four shapes equally often."""
        rng = self.rng
        return np.array([g[rng.integers(0, len(g))] for g in (self.rows_by_count[c] for c in rng.integers(0, 4, size=size))])

    def chat_row(self) -> int:
        """A scene for a standard-detail chat: any scene of the pool, or with chat_balance a digit
        scene at the pool's share and otherwise one to four shapes equally often (the pool has
        three and four shapes a ninth each, so their count and colour questions are rare)."""
        rng = self.rng
        if not self.chat_balance:
            return int(rng.integers(0, len(self.pool.scenes)))
        if rng.random() < len(self.digit_rows) / len(self.pool.scenes):
            return int(self.digit_rows[rng.integers(0, len(self.digit_rows))])
        group = self.rows_by_count[int(rng.integers(0, 4))]
        return int(group[rng.integers(0, len(group))])

    def vision_batch(self, size: int) -> tuple[torch.Tensor, list]:
        """Views and their labels: a shapes scene's standard view (mirrored half the time, with
        left and right swapped), or one view of a digit scene's high-detail plan."""
        p, rng = self.pool, self.rng
        views, labels = [], []
        if self.digit_share:
            digit = rng.random(size) < self.digit_share
            rows = np.where(digit, self.digit_rows[rng.integers(0, len(self.digit_rows), size=size)],
                            self.shape_rows(size))
        else:
            rows = rng.integers(0, len(p.scenes), size=size)
        for i in rows:
            scene = p.scenes[i]
            if scene.digit is not None:
                v = int(rng.integers(0, p.high.shape[1]))
                where = digit_in_tiles(scene, self.vc.image_size)
                # (draws only when asked for, so that a seed still gives the same stage 1 without it)
                if self.digit_tile and rng.random() < self.digit_tile:
                    v = 1 + where[0]
                views.append(p.high[p.high_of[i], v])
                lab = view_labels(scene, v, self.vc.image_size, where)
                if self.digit_map and v > 0:
                    lab.patch_digit = digit_patch_map(scene, v, where, self.vc.image_size, self.vc.grid)
                labels.append(lab)
                continue
            lab = view_labels(scene, -1, self.vc.image_size)
            view, kinds, colours = p.standard[i], p.patch_kind[i], p.patch_colour[i]
            centres = centre_map(scene, self.vc.grid) if self.centre_map else None
            density = None
            if self.density_map:
                density = self.densities.get(int(i))
                if density is None:
                    density = self.densities[int(i)] = density_map(scene, self.vc.grid)
            if rng.random() < 0.5:
                view, kinds, colours = view[:, ::-1], kinds[:, ::-1], colours[:, ::-1]
                centres = None if centres is None else centres[:, ::-1]
                density = None if density is None else density[:, ::-1]
                lab.left_of = [x if x == IGNORE else 1 - x for x in lab.left_of]
            lab.patch_kind, lab.patch_colour = np.ascontiguousarray(kinds), np.ascontiguousarray(colours)
            if centres is not None:
                lab.patch_centre = np.ascontiguousarray(centres)
            if density is not None:
                lab.patch_density = np.ascontiguousarray(density)
            views.append(view)
            labels.append(lab)
        return pixels(np.stack(views)), labels

    def phase_batches(self, size: int, high_share: float, phase: str, most: int = 3,
                      binding: float = 1.0) -> list[tuple[np.ndarray, np.ndarray | None, list]]:
        """The batches (see dialogue_batch) of one LLM step in a phase of parse_schedule's."""
        focus = phase.removeprefix("half-")
        focus = "" if focus == "mix" else focus
        if not phase.startswith("half-") or not focus:
            return [self.dialogue_batch(size, high_share, most, binding, focus)]
        return [self.dialogue_batch(size // 2, high_share, most, binding, focus),
                self.dialogue_batch(size - size // 2, high_share, most, binding)]

    def dialogue_batch(self, size: int, high_share: float, most: int = 3, binding: float = 1.0,
                       focus: str = "") -> tuple[np.ndarray, np.ndarray | None, list]:
        """Conversations for one LLM step: all in high detail (digit scenes, their global view and
        tiles) or all in standard detail (any scene; some chats get a second image in a later
        turn), so a batch is padded only to conversations of its own kind. Returns (the scene of
        each image in order, the high rows or None, the dialogues)."""
        rng, scenes = self.rng, self.pool.scenes
        if focus == "echo":
            return np.zeros(0, dtype=np.int64), None, [echo_dialogue(self.tok, rng) for _ in range(size)]
        if focus:
            # One kind of question alone. Which side the named shape is on (two shapes side by
            # side), or its colour (several shapes): alone, such questions get the LLM past the
            # plateau where it answers without reading the shape's name (see docs/SHAPES-MODEL.md),
            # which the mixture below does not within the step budget. Or the count, of one to
            # four shapes equally often.
            if focus == "count":
                rows, ask = self.balanced_rows(size), "How many"
            else:
                pick, ask = {"left-right": (self.pair_rows, "Is the"), "colour": (self.colour_rows, "What color"),
                             "binding": (self.binding_rows, ("Is the", "What color"))}[focus]
                rows = pick[rng.integers(0, len(pick), size=size)]
            return rows, None, [dialogue([scenes[i]], self.tok, 1, rng, 1, ask=ask, sentences=self.sentences) for i in rows]
        if rng.random() < high_share:
            rows = self.digit_rows[rng.integers(0, len(self.digit_rows), size=max(1, int(size * self.high_batch)))]
            n_views = self.pool.high.shape[1]
            dialogues = [dialogue([scenes[i]], self.tok, n_views, rng, most, binding, sentences=self.sentences) for i in rows]
            return rows, self.pool.high_of[rows], dialogues
        refs: list[int] = []
        dialogues = []
        for _ in range(size):
            chat = [self.chat_row()]
            if rng.random() < SECOND_IMAGE_SHARE:
                chat.append(self.chat_row())
            refs.extend(chat)
            dialogues.append(dialogue([scenes[i] for i in chat], self.tok, 1, rng, most, binding, sentences=self.sentences))
        return np.array(refs), None, dialogues


def features(vision: VisionTower, views: np.ndarray, chunk: int = 128) -> torch.Tensor:
    """The frozen tower's features of (N, S, S, 3) views, computed once for the LLM stage."""
    with torch.no_grad():
        return torch.cat([vision(pixels(views[i : i + chunk])) for i in range(0, len(views), chunk)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads (use 1 when other work shares the 2 cores: two threads then lose)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the pool size and every stage's steps")
    ap.add_argument("--pool", type=int, default=24000, help="scenes drawn for training")
    ap.add_argument("--image-size", type=int, default=112, help="the encoder's input side in pixels (a multiple of the 14 px patch)")
    ap.add_argument("--vision-blocks", type=int, default=4, help="the tower's stored blocks (the notional CLIP has one more, which hidden_states[-2] leaves out)")
    ap.add_argument("--vision-width", type=int, default=128, help="the tower's width (a multiple of 32: heads of 32, feed-forward 4 x as wide)")
    ap.add_argument("--crowded", type=int, default=0, help="scenes of three or four shapes drawn into the pool besides --pool's mix (which holds a ninth of each)")
    ap.add_argument("--vision-steps", type=int, default=8000)
    ap.add_argument("--vision-lr", type=float, default=2e-3, help="stage 1's peak learning rate")
    ap.add_argument("--count-weight", type=float, default=1.0, help="stage 1: weight of the count's targets (the per-view count and the density map) against the others")
    ap.add_argument("--llm-steps", type=int, default=1000)
    ap.add_argument("--finetune-steps", type=int, default=300)
    ap.add_argument("--schedule", default="left-right:150,binding:150", help="the LLM stage's opening phases, e.g. 'left-right:200,half-binding:300' (see parse_schedule); the rest is the mixture; '' for none")
    ap.add_argument("--high-share", type=float, default=0.16, help="share of LLM and finetune steps on high-detail (digit) conversations, each about 2.5 x longer")
    ap.add_argument("--high-batch", type=float, default=0.25, help="high-detail LLM batches hold this share of the 32 conversations")
    ap.add_argument("--sentences", type=float, default=0.0, help="share of answers given as sentences without the short-answer instruction (0: one word, 15%% without it)")
    ap.add_argument("--readout", default="1:1", help="LAYER:WEIGHT: in the LLM stage, also train readout.py's head (not exported) on the question shape words after that block; '' for none")
    ap.add_argument("--digit-map", type=float, default=1.0, help="weight of stage 1's per-patch digit target (the digit on the patches it touches in its tile)")
    ap.add_argument("--centre-map", type=float, default=0.0, help="weight of stage 1's per-patch target that marks the patch of each shape's centre (for the count; read at --centre-at; superseded by --density-map)")
    ap.add_argument("--centre-at", type=int, default=1, help="the block (0-based) whose output --centre-map reads, so that the blocks after it can count the marks (-1: the last, the features)")
    ap.add_argument("--density-map", type=float, default=1.0, help="weight of stage 1's per-patch target: the share of each shape's area on the patch, summed over shapes, so that the map sums to the count (data.density_map; read at --density-at)")
    ap.add_argument("--density-at", type=int, default=1, help="the block (0-based) whose output --density-map reads (-1: the features)")
    ap.add_argument("--digit-tile", type=float, default=0.8, help="share of stage 1's digit-scene draws that take the digit's own tile (else any view of the plan)")
    ap.add_argument("--digit-share", type=float, default=0.2, help="share of stage 1's draws taken from digit scenes (0: as often as the pool holds them, 15%%)")
    ap.add_argument("--bf16", choices=["auto", "on", "off"], default="auto", help="train under bfloat16 autocast (auto: where the CPU multiplies bfloat16 in hardware, AMX or AVX-512 BF16, which makes it about 2 x faster)")
    ap.add_argument("--count-balance", action=argparse.BooleanOptionalAction, default=False, help="stage 1 draws shapes scenes with one to four shapes equally often (else as the pool holds them: three and four shapes a ninth each)")
    ap.add_argument("--chat-balance", action=argparse.BooleanOptionalAction, default=True, help="the LLM stage and finetune draw their standard-detail chats' scenes with one to four shapes equally often (else as the pool holds them)")
    ap.add_argument("--pool-cache", help="keep the drawn pool in this file and reuse it")
    ap.add_argument("--vision-from", help="start from this stage-1 tower (vision.pt of an earlier run), skip stage 1")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    scaled = lambda n: max(1, int(round(n * args.scale)))  # noqa: E731
    bf16 = args.bf16 == "on" or (args.bf16 == "auto" and has_bf16_matmul())
    print(f"train: torch {torch.__version__}, BLAS {blas_name()}, {args.threads} threads, {'bfloat16 autocast' if bf16 else 'float32'}", flush=True)

    tokens, scores, _ = build_vocab()
    tok = SpmTokenizer(tokens, scores)
    vc = tower_config(args.image_size, args.vision_blocks, args.vision_width)
    lc = LlmConfig(vocab=len(tokens))
    vision, projector, llm = VisionTower(vc), Projector(vc.width, lc.width), Llm(lc)
    heads = PretrainHeads(vc.width)
    log: list[dict] = []
    timings: dict[str, float] = {}

    started = time.time()
    crowded = scaled(args.crowded) if args.crowded else 0  # (scaled() never gives 0)
    pool = load_or_build(args.pool_cache, args.seed, scaled(args.pool), vc.image_size, vc.grid, os.cpu_count() or 2, crowded)
    timings["pool"] = time.time() - started
    print(f"train: pool of {len(pool.scenes)} scenes ({len(pool.high)} digit scenes) in {timings['pool']:.0f} s", flush=True)
    sampler = Sampler(pool, tok, vc, rng, args.high_batch, args.sentences, args.digit_tile,
                      args.digit_map > 0, args.centre_map > 0, args.digit_share, args.count_balance, args.chat_balance,
                      args.density_map > 0)

    def run(stage: str, params: list, step_fn: Callable[[int], torch.Tensor], peak: float, steps: int) -> None:
        t0 = time.time()

        def report(done: int, ema: float) -> None:
            rate = done / (time.time() - t0)
            print(f"train: {stage} step {done}/{steps} loss {ema:.3f} ({rate:.2f} steps/s)", flush=True)
            log.append({"stage": stage, "step": done, "loss": round(ema, 4)})

        train_stage(params, step_fn, peak, steps, 50, report, bf16)
        timings[stage] = time.time() - t0

    def vision_step(_: int) -> torch.Tensor:
        views, labels = sampler.vision_batch(64)
        states = vision.block_outputs(views)
        return pretrain_loss(states[-1], states[args.centre_at], states[args.density_at], heads, labels, args.digit_map,
                             args.centre_map, args.density_map, args.count_weight)

    if args.vision_from:
        vision.load_state_dict(torch.load(args.vision_from))
    else:
        for blk in vision.blocks:
            blk.act = gelu_exact  # (see model.gelu_exact; every later stage computes ggml's GELU)
        run("vision", list(vision.parameters()) + list(heads.parameters()), vision_step, args.vision_lr, scaled(args.vision_steps))
        for blk in vision.blocks:
            blk.act = gelu
        os.makedirs(args.out, exist_ok=True)
        torch.save(vision.state_dict(), os.path.join(args.out, "vision.pt"))

    t0 = time.time()
    for p in vision.parameters():
        p.requires_grad_(False)
    # (under bfloat16 autocast too where the stages run so: the projector reads them in bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        feat_standard = features(vision, pool.standard)
        feat_high = features(vision, pool.high.reshape(-1, *pool.high.shape[2:])).view(len(pool.high), pool.high.shape[1], vc.patches, -1)
    timings["features"] = time.time() - t0

    phases = [(name, scaled(n)) for name, n in parse_schedule(args.schedule)]
    # The LLM stage draws from generators seeded here, not from where stage 1 left them, so a run
    # with --vision-from draws the same batches (and readout weights) as the full run that wrote
    # that tower.
    sampler.rng = np.random.default_rng([args.seed, 2])
    torch.manual_seed(args.seed + 2)
    readout = parse_readout(args.readout, lc.width) if args.readout else None
    ids = kind_ids(tok) if readout else {}

    def llm_step(step: int) -> torch.Tensor:
        parts = sampler.phase_batches(32, args.high_share, phase_at(step, phases))
        feats = torch.cat([feat_standard[r] if h is None else feat_high[h].flatten(0, 1) for r, h, _ in parts])
        dialogues = [d for _, _, ds in parts for d in ds]
        x, y = assemble(dialogues, projector(feats), llm)
        at = marks(dialogues, image_scenes(parts, pool.scenes, pool.high.shape[1]), vc.patches, ids) if readout else None
        return answer_loss(llm, x, y, readout, at)

    extra = list(readout.parameters()) if readout else []
    run("llm", list(projector.parameters()) + list(llm.parameters()) + extra, llm_step, 2e-3, scaled(args.llm_steps))
    del feat_standard, feat_high

    for p in vision.parameters():
        p.requires_grad_(True)

    def finetune_step(_: int) -> torch.Tensor:
        rows, high_rows, dialogues = sampler.dialogue_batch(32, args.high_share)
        views = pool.standard[rows] if high_rows is None else pool.high[high_rows].reshape(-1, *pool.high.shape[2:])
        x, y = assemble(dialogues, projector(vision(pixels(views))), llm)
        return answer_loss(llm, x, y)

    params = list(vision.parameters()) + list(projector.parameters()) + list(llm.parameters())
    run("finetune", params, finetune_step, 3e-4, scaled(args.finetune_steps))

    os.makedirs(args.out, exist_ok=True)
    torch.save({"vision": vision.state_dict(), "projector": projector.state_dict(), "llm": llm.state_dict(),
                "vision_config": vc.__dict__, "llm_config": lc.__dict__, "seed": args.seed},
               os.path.join(args.out, "shapes-model.pt"))
    with open(os.path.join(args.out, "training-log.json"), "w") as f:
        json.dump({"seed": args.seed, "threads": args.threads, "scale": args.scale, "pool": len(pool.scenes), "visionConfig": vc.__dict__,
                   "schedule": args.schedule, "sentences": args.sentences, "digitMap": args.digit_map, "digitTile": args.digit_tile, "digitShare": args.digit_share, "countBalance": args.count_balance, "chatBalance": args.chat_balance, "centreMap": args.centre_map, "centreAt": args.centre_at, "densityMap": args.density_map, "densityAt": args.density_at, "visionLr": args.vision_lr, "countWeight": args.count_weight, "crowded": crowded, "readout": args.readout, "highBatch": args.high_batch, "highShare": args.high_share,
                   "precision": "bfloat16 autocast" if bf16 else "float32",
                   "steps": {"vision": 0 if args.vision_from else scaled(args.vision_steps), "llm": scaled(args.llm_steps), "finetune": scaled(args.finetune_steps)},
                   "seconds": {k: round(v) for k, v in timings.items()}, "log": log}, f, indent=1)
    print(f"train: saved {args.out}/shapes-model.pt after {time.time() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
