"""A training-only readout (not exported): at the shape word of a question ("What color is the
circle?") a linear head on the LLM's hidden state after one block predicts that shape's colour and
side in the image the question is about. It asks the question's own shape word to gather its
shape's patches (the first hop of the binding the one-word answer needs), which the answer loss
alone teaches too slowly: the LLM stage's plateau in docs/SHAPES-MODEL.md."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from data import IGNORE, scene_labels
from scenes import COLOUR_NAMES, SHAPES, Scene
from vocab import SpmTokenizer


@dataclass
class Marks:
    """Where the shape words of the questions are in a batch (B, T) and what they should read."""
    batch: torch.Tensor
    pos: torch.Tensor
    colour: torch.Tensor  # colour index, ABSENT, or IGNORE
    side: torch.Tensor  # 0 left, 1 right, or IGNORE


class KindReadout(nn.Module):
    def __init__(self, width: int, layer: int, weight: float):
        super().__init__()
        self.layer, self.weight = layer, weight
        self.colour = nn.Linear(width, len(COLOUR_NAMES) + 1)
        self.side = nn.Linear(width, 2)
        self.last = 0.0  # the latest loss before weighting, for reports

    def loss(self, hidden: torch.Tensor, marks: Marks) -> torch.Tensor:
        h = hidden[marks.batch, marks.pos]
        loss = hidden.new_zeros(())
        for head, target in ((self.colour, marks.colour), (self.side, marks.side)):
            if bool((target != IGNORE).any()):
                loss = loss + F.cross_entropy(head(h), target, ignore_index=IGNORE)
        self.last = float(loss)
        return self.weight * loss


def kind_ids(tok: SpmTokenizer) -> dict[int, int]:
    """Token id of each shape word as a question writes it -> its index in SHAPES."""
    ids = {}
    for k, kind in enumerate(SHAPES):
        piece = tok.encode(f" {kind}")
        assert len(piece) == 1, f"{kind!r} is not one piece"
        ids[piece[0]] = k
    return ids


def marks(dialogues: list[tuple[list[int], list[int]]], image_scenes: list[Scene | None], n_img: int,
          ids: dict[int, int]) -> Marks:
    """The question shape words of `dialogues` (as train.assemble lays them out, n_img positions per
    image), each labelled from the scene of the latest image before it (`image_scenes`, one per
    image in order). A shape word whose target is IGNORE is in a question, not an answer."""
    b_, p_, c_, s_ = [], [], [], []
    k = 0
    for b, (tokens, targets) in enumerate(dialogues):
        pos, labels = 0, None
        for t, g in zip(tokens, targets):
            if t == -1:
                scene = image_scenes[k]
                labels = scene_labels(scene) if scene is not None else None
                k += 1
                pos += n_img
                continue
            if t in ids and g == IGNORE and labels is not None:
                b_.append(b)
                p_.append(pos)
                c_.append(labels.colour_of[ids[t]])
                s_.append(labels.left_of[ids[t]])
            pos += 1
    return Marks(*(torch.tensor(v, dtype=torch.long) for v in (b_, p_, c_, s_)))


def image_scenes(parts: list[tuple[np.ndarray, np.ndarray | None, list]], scenes: list[Scene],
                 n_views: int) -> list[Scene | None]:
    """The scene of each image of an LLM step's batches (train.Sampler.phase_batches), in the order
    train.assemble lays them out; None for the views of a high-detail batch, whose questions the
    readout leaves alone (their digit scenes have no shapes to bind)."""
    out: list[Scene | None] = []
    for rows, high_rows, _ in parts:
        out += [scenes[i] for i in rows] if high_rows is None else [None] * (len(rows) * n_views)
    return out


def parse_readout(text: str, width: int) -> KindReadout:
    """--readout LAYER:WEIGHT"""
    layer, weight = text.split(":")
    return KindReadout(width, int(layer), float(weight))
