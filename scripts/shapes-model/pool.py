"""A fixed pool of training scenes, drawn once by worker processes and reused by every stage.

Drawing a scene costs more than a training step of this small model does, so the scenes are
drawn up front (both cores busy, nothing else running), kept as uint8 views, and every stage
samples from them. Each chunk of scenes has its own generator seeded from (seed, chunk), so a
pool is the same whatever the number of workers.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
from dataclasses import dataclass

import numpy as np

from data import patch_maps, sample_scene
from scenes import Scene, shapes_scene
from views import high_views, render, standard_view

CHUNK = 256


@dataclass
class Pool:
    scenes: list[Scene]
    standard: np.ndarray  # (N, S, S, 3) uint8: every scene's standard (padded square) view
    high: np.ndarray  # (D, V, S, S, 3) uint8: global view and tiles of each digit scene
    high_of: np.ndarray  # (N,) row of `high` for a digit scene, -1 otherwise
    patch_kind: np.ndarray  # (N, g, g) what covers each patch centre (0 none, 1 + kind)
    patch_colour: np.ndarray  # (N, g, g) colour index at each patch centre


def _chunk(job: tuple[int, int, int, int, int, bool]) -> tuple[list[Scene], list, list, list, list]:
    seed, index, count, side, grid, crowded = job
    # (a crowded chunk's generator is seeded apart from the mixed chunks', so adding crowded
    # scenes leaves the rest of the pool as it was)
    rng = np.random.default_rng([seed, 1, index] if crowded else [seed, index])
    scenes, standard, high, kinds, colours = [], [], [], [], []
    for _ in range(count):
        scene = shapes_scene(rng, count=int(rng.integers(3, 5))) if crowded else sample_scene(rng)
        scenes.append(scene)
        # A digit scene is drawn once at full size for both its views (views.render).
        full = render(scene, side, rng) if scene.digit else None
        standard.append(np.asarray(standard_view(scene, side, rng, full)))
        high.append(np.stack([np.asarray(v) for v in high_views(scene, side, rng, full)]) if scene.digit else None)
        k, c = patch_maps(scene, grid)
        kinds.append(k)
        colours.append(c)
    return scenes, standard, high, kinds, colours


def build_pool(seed: int, count: int, side: int, grid: int, workers: int, crowded: int = 0) -> Pool:
    """`count` scenes as data.sample_scene draws them, then `crowded` more of three or four shapes."""
    jobs = [(seed, i, min(CHUNK, count - i * CHUNK), side, grid, False) for i in range((count + CHUNK - 1) // CHUNK)]
    jobs += [(seed, i, min(CHUNK, crowded - i * CHUNK), side, grid, True) for i in range((crowded + CHUNK - 1) // CHUNK)]
    with multiprocessing.get_context("fork").Pool(workers) as p:
        parts = p.map(_chunk, jobs, chunksize=1)
    scenes = [s for part in parts for s in part[0]]
    standard = np.stack([v for part in parts for v in part[1]])
    highs = [h for part in parts for h in part[2]]
    high_of = np.full(len(scenes), -1, dtype=np.int64)
    rows = []
    for i, h in enumerate(highs):
        if h is not None:
            high_of[i] = len(rows)
            rows.append(h)
    high = np.stack(rows) if rows else np.zeros((0, 4, side, side, 3), dtype=np.uint8)
    kinds = np.stack([k for part in parts for k in part[3]])
    colours = np.stack([c for part in parts for c in part[4]])
    return Pool(scenes, standard, high, high_of, kinds, colours)


def sources_digest() -> str:
    """A digest of the code that draws, renders and labels the pool: a cache written before any of
    it changed is drawn again, not reused."""
    here = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256()
    for name in ("scenes.py", "views.py", "data.py", "pool.py"):
        with open(os.path.join(here, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def load_or_build(path: str | None, seed: int, count: int, side: int, grid: int, workers: int, crowded: int = 0) -> Pool:
    """The pool from a cache file written by an earlier run with the same arguments, or a new one."""
    key = (sources_digest(), seed, count, side, grid, crowded)
    if path:
        try:
            with open(path, "rb") as f:
                cached_key, pool = pickle.load(f)
            if cached_key == key:
                return pool
        except FileNotFoundError:
            pass
    pool = build_pool(seed, count, side, grid, workers, crowded)
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)  # (a fresh clone has no .cache yet)
        with open(path, "wb") as f:
            pickle.dump((key, pool), f, protocol=5)
    return pool
