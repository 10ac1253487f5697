"""What the encoder sees, as the app prepares it (src-main/imaging/plan.ts, LLaVA-1.5 `pad`):
standard detail is the image padded to a square with the mean colour and resized to the encoder
size; high detail (an image larger than one tile) is a squashed global view followed by the tiles,
row-major, of the image fitted into the best LLaVA-1.6 candidate grid (`select_best_resolution`,
`resize_and_pad_image`). Pixels are scaled to 0-1 and normalised with CLIP's mean and std."""
from __future__ import annotations

import math

import numpy as np
from PIL import Image

from scenes import MAX_SIDE, Scene, draw

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
PAD_COLOUR = tuple(int(m * 255) for m in CLIP_MEAN)  # expand2square's int(x * 255): (122, 116, 104)
GRIDS = [(1, 2), (2, 1), (2, 2), (3, 1), (1, 3)]  # LLaVA-1.6's candidates as (cols, rows) of tiles


def normalise(img: Image.Image) -> np.ndarray:
    """HWC uint8 -> CHW float32, CLIP-normalised."""
    a = np.asarray(img, dtype=np.float32) / 255.0
    a = (a - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)
    return a.transpose(2, 0, 1).copy()


def select_best_resolution(w: int, h: int, side: int) -> tuple[int, int]:
    best, best_eff, least_waste = None, 0, math.inf
    for cols, rows in GRIDS:
        cw, ch = cols * side, rows * side
        scale = min(cw / w, ch / h)
        eff = min(int(w * scale) * int(h * scale), w * h)
        waste = cw * ch - eff
        if eff > best_eff or (eff == best_eff and waste < least_waste):
            best, best_eff, least_waste = (cw, ch), eff, waste
    assert best is not None
    return best


def fit_into_canvas(w: int, h: int, cw: int, ch: int) -> tuple[tuple[int, int], tuple[int, int]]:
    sw, sh = cw / w, ch / h
    fitted = (cw, min(math.ceil(h * sw), ch)) if sw < sh else (min(math.ceil(w * sh), cw), ch)
    return fitted, ((cw - fitted[0]) >> 1, (ch - fitted[1]) >> 1)


# Unit normal noise for drawing digit scenes at full size, made once per process: drawing fresh
# noise for a 2048 x 683 image takes longer than the rest of its drawing.
_NOISE_FIELD: np.ndarray | None = None


def _noise_field() -> np.ndarray:
    global _NOISE_FIELD
    if _NOISE_FIELD is None:
        _NOISE_FIELD = np.random.default_rng(0).standard_normal((MAX_SIDE, MAX_SIDE, 3), dtype=np.float32)
    return _NOISE_FIELD


def render(scene: Scene, target_long: int, rng: np.random.Generator) -> Image.Image:
    """The scene as the views resize it from. A digit scene is drawn at its full size, as the app
    reads the file: its digit is a few pixels after the resize, and how those resample depends on
    the factor. A model trained on digits drawn at twice the size they are resized to read 0.967 of
    240 scenes drawn that way and 0.896 of the same scenes drawn at full size (0.912 at 3x, 0.904 at
    4x): the app reads files of 900-2048 px, 2.7-6x the plan. Shapes are large, and are drawn at
    about twice the size they are resized to (never above their full size), which costs a fraction."""
    if scene.digit is not None:
        return draw(scene, 1.0, rng, supersample=2, noise_field=_noise_field())
    scale = min(1.0, 2.0 * target_long / max(scene.width, scene.height))
    return draw(scene, scale, rng, supersample=2)


def standard_view(scene: Scene, side: int, rng: np.random.Generator, img: Image.Image | None = None) -> Image.Image:
    """`img`: the scene already rendered (render()), to share one drawing with high_views."""
    img = img if img is not None else render(scene, side, rng)
    w, h = img.size
    sq = max(w, h)
    canvas = Image.new("RGB", (sq, sq), PAD_COLOUR)
    canvas.paste(img, ((sq - w) // 2, (sq - h) // 2))
    return canvas.resize((side, side), Image.BICUBIC)


def high_views(scene: Scene, side: int, rng: np.random.Generator, img: Image.Image | None = None) -> list[Image.Image]:
    """Global view then tiles; one padded square when the image fits in one tile. `img`: as for
    standard_view."""
    if scene.width <= side and scene.height <= side:
        return [standard_view(scene, side, rng, img)]
    cw, ch = select_best_resolution(scene.width, scene.height, side)
    img = img if img is not None else render(scene, max(cw, ch), rng)
    global_view = img.resize((side, side), Image.BICUBIC)
    (fw, fh), (ox, oy) = fit_into_canvas(scene.width, scene.height, cw, ch)
    canvas = Image.new("RGB", (cw, ch), PAD_COLOUR)
    canvas.paste(img.resize((fw, fh), Image.BICUBIC), (ox, oy))
    tiles = [
        canvas.crop((c * side, r * side, (c + 1) * side, (r + 1) * side))
        for r in range(ch // side)
        for c in range(cw // side)
    ]
    return [global_view, *tiles]
