"""Training examples: views of a scene as the app would hand them to the encoder, per-view labels
for pretraining the vision tower, and conversations (LLaVA-1.5 `vicuna_v1`, short-answer prompt)
tokenized chunk by chunk as libmtmd tokenizes the text between images."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from scenes import COLOUR_NAMES, COUNT_WORDS, DIGIT_WORDS, SHAPES, Scene, contrasting, digit_scene, draw_shape, shapes_scene
from views import fit_into_canvas, high_views, select_best_resolution
from vocab import SHORT_ANSWER, SYSTEM, SpmTokenizer

IGNORE = -100
NONE_DIGIT = 10
ABSENT = len(COLOUR_NAMES)  # colour class "no such shape in view"


def sample_scene(rng: np.random.Generator) -> Scene:
    r = rng.random()
    if r < 0.15:
        return digit_scene(rng)
    if r < 0.35:
        return shapes_scene(rng, side_by_side=True)
    if r < 0.55:
        return shapes_scene(rng, count=1)
    return shapes_scene(rng)


def questions(scene: Scene, high: bool) -> list[tuple[str, str]]:
    """Every question the scene answers, with its one-word answer."""
    if scene.digit is not None:
        return [("What digit is written in the image?", DIGIT_WORDS[scene.digit.value])]
    qa = [("How many shapes are there?", COUNT_WORDS[len(scene.shapes) - 1])]
    if len(scene.shapes) == 1:
        qa.append(("What shape is this?", scene.shapes[0].kind))
    for kind in SHAPES:
        found = [s for s in scene.shapes if s.kind == kind]
        if len(found) == 1:
            qa.append((f"What color is the {kind}?", found[0].colour))
    if scene.side_by_side:
        a, b = scene.shapes
        for s, other in ((a, b), (b, a)):
            qa.append((f"Is the {s.kind} on the left or the right?", "left" if s.cx < other.cx else "right"))
    return qa


def sentence(question: str, answer: str) -> str:
    """The answer as a sentence that names what was asked about, as when no short answer is asked
    for: "The circle is red." Saying the shape before its colour or side lets a small LLM learn,
    one token at a time, the binding that the one-word answer must do in one step."""
    kind = next((w for w in question.rstrip("?").split() if w in SHAPES), "")
    if kind:
        return f"The {kind} is {answer}." if question.startswith("What color") else f"The {kind} is on the {answer}."
    if question.startswith("How many"):
        return "There is one shape." if answer == "one" else f"There are {answer} shapes."
    if question.startswith("What shape"):
        return f"It is a {answer}."
    return f"The digit is {answer}."


def needs_binding(scene: Scene, question: str) -> bool:
    """Whether the answer needs the named shape told apart from the others in the scene: the hard
    questions, whose answers depend on both the words and the image."""
    return len(scene.shapes) > 1 and (question.startswith("What color") or question.startswith("Is the"))


@dataclass
class ViewLabels:
    count: int  # 0-3 for one to four shapes, IGNORE for views without the whole scene
    colour_of: list[int]  # per kind: colour index, ABSENT, or IGNORE (several of that kind)
    single: int  # the kind when there is one shape
    left_of: list[int]  # per kind: 0 left, 1 right, IGNORE
    digit: int  # 0-9, NONE_DIGIT, or IGNORE (unreadable view)
    patch_kind: np.ndarray  # (grid, grid): 0 none, 1 + kind index
    patch_colour: np.ndarray  # (grid, grid): colour index of what covers the patch centre
    # (grid, grid) for a high-detail tile of a digit scene: the digit on the patches it touches,
    # NONE_DIGIT elsewhere; empty for other views
    patch_digit: np.ndarray = field(default_factory=lambda: np.zeros(0))
    patch_centre: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (grid, grid): centre_map
    patch_density: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (grid, grid): density_map


def scene_labels(scene: Scene) -> ViewLabels:
    colour_of, left_of = [], []
    for kind in SHAPES:
        found = [s for s in scene.shapes if s.kind == kind]
        colour_of.append(COLOUR_NAMES.index(found[0].colour) if len(found) == 1 else (ABSENT if not found else IGNORE))
        if scene.side_by_side and len(found) == 1:
            other = next(s for s in scene.shapes if s is not found[0])
            left_of.append(0 if found[0].cx < other.cx else 1)
        else:
            left_of.append(IGNORE)
    n = len(scene.shapes)
    return ViewLabels(
        count=n - 1 if n else IGNORE,
        colour_of=colour_of if n else [IGNORE] * 3,
        single=SHAPES.index(scene.shapes[0].kind) if n == 1 else IGNORE,
        left_of=left_of,
        digit=NONE_DIGIT,
        patch_kind=np.zeros(0),
        patch_colour=np.zeros(0),
    )


def padded_square(scene: Scene) -> tuple[int, float, float]:
    """The side of the standard view's padded square in full-size pixels, and the scene's offset
    (x, y) inside it: the geometry that the per-patch label maps share."""
    sq = max(scene.width, scene.height)
    return sq, (sq - scene.width) / 2, (sq - scene.height) / 2


def patch_maps(scene: Scene, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """What covers each patch centre of the standard (padded square) view."""
    sq, ox, oy = padded_square(scene)
    k = grid / sq
    kind = Image.new("L", (grid, grid), 0)
    colour = Image.new("L", (grid, grid), COLOUR_NAMES.index(scene.background))
    dk, dc = ImageDraw.Draw(kind), ImageDraw.Draw(colour)
    for s in scene.shapes:
        cx, cy, r = (s.cx + ox) * k - 0.5, (s.cy + oy) * k - 0.5, s.size * k / 2
        draw_shape(dk, s.kind, cx, cy, r, SHAPES.index(s.kind) + 1)
        draw_shape(dc, s.kind, cx, cy, r, COLOUR_NAMES.index(s.colour))
    return np.asarray(kind, dtype=np.int64), np.asarray(colour, dtype=np.int64)


def centre_map(scene: Scene, grid: int) -> np.ndarray:
    """1 on the patch of the standard view that holds a shape's centre, 0 elsewhere: each shape
    marked once, so that the count is the number of marks."""
    sq, ox, oy = padded_square(scene)
    out = np.zeros((grid, grid), dtype=np.int64)
    for s in scene.shapes:
        out[min(grid - 1, int((s.cy + oy) * grid / sq)), min(grid - 1, int((s.cx + ox) * grid / sq))] = 1
    return out


def density_map(scene: Scene, grid: int, sub: int = 8) -> np.ndarray:
    """Each patch of the standard view: the share of each shape's area that lies in it, summed over
    the shapes (float32). Every shape adds up to 1, so the map sums to the count, and unlike
    centre_map no patch has to decide alone whether a centre on its edge is its own: a reader
    that averages the patches reads the count. Areas from masks drawn `sub` times finer than the
    patch grid."""
    sq, ox, oy = padded_square(scene)
    side = grid * sub
    k = side / sq
    out = np.zeros((grid, grid), dtype=np.float32)
    for s in scene.shapes:
        mask = Image.new("L", (side, side), 0)
        draw_shape(ImageDraw.Draw(mask), s.kind, (s.cx + ox) * k - 0.5, (s.cy + oy) * k - 0.5, s.size * k / 2, 1)
        area = np.asarray(mask, dtype=np.float32).reshape(grid, sub, grid, sub).sum((1, 3))
        out += area / max(float(area.sum()), 1.0)
    return out


def digit_in_tiles(scene: Scene, side: int) -> tuple[int, tuple[float, float, float, float]]:
    """The tile of the high-detail plan (views.high_views) that holds the digit, and the digit's
    box (x0, y0, x1, y1) in that tile's pixels."""
    g = scene.digit
    assert g is not None
    cw, ch = select_best_resolution(scene.width, scene.height, side)
    (fw, fh), (ox, oy) = fit_into_canvas(scene.width, scene.height, cw, ch)
    kx, ky = fw / scene.width, fh / scene.height
    w, h = g.height * 5 / 7, g.height  # the glyph is upright on wide and tall canvases
    x0, y0 = g.x * kx + ox, g.y * ky + oy
    col, row = int((x0 + w * kx / 2) // side), int((y0 + h * ky / 2) // side)
    tx, ty = col * side, row * side
    return row * (cw // side) + col, (x0 - tx, y0 - ty, x0 + w * kx - tx, y0 + h * ky - ty)


def digit_patch_map(scene: Scene, view: int, where: tuple[int, tuple[float, float, float, float]], side: int,
                    grid: int) -> np.ndarray:
    """patch_digit of view `view` (1 + tile index) of a digit scene's high-detail plan, given
    `where`, the digit's tile and box (digit_in_tiles)."""
    assert scene.digit is not None
    tile, (x0, y0, x1, y1) = where
    out = np.full((grid, grid), NONE_DIGIT, dtype=np.int64)
    if view - 1 == tile:
        p = side / grid
        out[int(y0 // p) : int(np.ceil(y1 / p)), int(x0 // p) : int(np.ceil(x1 / p))] = scene.digit.value
    return out


def digit_tiles(n: int, seed: int, side: int, grid: int, height_scale: float = 1.0,
                colours: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n digit scenes of generator `seed`, each as the high-detail tile that holds its digit
    (uint8 views), the digits, and the per-patch targets (IGNORE off the digit). `height_scale`
    enlarges the digit; `colours` draws it in a random colour on another (the design before
    2026-12-07) instead of black on white. For probes and experiments."""
    rng, paint = np.random.default_rng(seed), np.random.default_rng([seed, 1])
    views, digits, maps = [], [], []
    for _ in range(n):
        s = digit_scene(rng)
        assert s.digit is not None
        s.digit.height *= height_scale
        if colours:
            s.background = COLOUR_NAMES[int(paint.integers(0, len(COLOUR_NAMES)))]
            s.digit.colour = contrasting(paint, s.background)
        where = digit_in_tiles(s, side)
        views.append(np.asarray(high_views(s, side, rng)[1 + where[0]]))
        digits.append(s.digit.value)
        m = digit_patch_map(s, 1 + where[0], where, side, grid).reshape(-1)
        maps.append(np.where(m == NONE_DIGIT, IGNORE, m))
    return np.stack(views), np.array(digits), np.stack(maps)


def view_labels(scene: Scene, view: int, side: int,
                where: tuple[int, tuple[float, float, float, float]] | None = None) -> ViewLabels:
    """Labels of one view for pretraining the tower: view -1 is a shapes scene's standard view
    (patch maps filled in by the caller); for a digit scene, view i of its high-detail plan (0 the
    global view, which shows the digit too small to read; only the digit's tile can read it)."""
    if scene.digit is None:
        return scene_labels(scene)
    labels = ViewLabels(IGNORE, [IGNORE] * 3, IGNORE, [IGNORE] * 3, NONE_DIGIT, np.zeros(0), np.zeros(0))
    if view == 0:
        labels.digit = IGNORE
    elif view - 1 == (where or digit_in_tiles(scene, side))[0]:
        labels.digit = scene.digit.value
    return labels


def dialogue(scenes: list[Scene], tok: SpmTokenizer, n_views: int, rng: np.random.Generator, most: int = 3,
             binding: float = 1.0, ask: str | tuple[str, ...] = "", sentences: float = 0.0) -> tuple[list[int], list[int]]:
    """A vicuna_v1 conversation (most questions with the short-answer instruction) as tokens, with
    -1 where each view's image tokens go, and next-token targets that are IGNORE everywhere but
    the answers. The first scene's image opens the chat and gets 1 to `most` questions; each further scene
    is an image sent later in the same chat, in its own message, and its 1-2 questions are about
    it (as when a user drops a second picture into a conversation)."""
    tokens: list[int] = []
    targets: list[int] = []

    def text(s: str, bos: bool = False, train: bool = False) -> None:
        ids = tok.encode(s, bos=bos)
        tokens.extend(ids)
        targets.extend(ids if train else [IGNORE] * len(ids))

    text(f"{SYSTEM} USER: ", bos=True)
    for k, scene in enumerate(scenes):
        qa = [(q, a) for q, a in questions(scene, n_views > 1) if q.startswith(ask)]
        if binding == 1.0:
            # (draws in this order, so that a seed still gives the committed pair)
            order = rng.permutation(len(qa))[: int(rng.integers(1, most + 1 if k == 0 else 3))]
        else:
            # Questions that name one of several shapes get `binding` times the weight.
            n = int(rng.integers(1, most + 1 if k == 0 else 3))
            w = np.array([binding if needs_binding(scene, q) else 1.0 for q, _ in qa])
            order = rng.choice(len(qa), size=min(n, len(qa)), replace=False, p=w / w.sum())
        for n, i in enumerate(order):
            q, a = qa[int(i)]
            # Without the short-answer instruction the answer is one word too, or with `sentences`
            # (that share of the questions) a sentence.
            short = rng.random() < (1 - sentences if sentences else 0.85)
            suffix = SHORT_ANSWER if short else ""
            if sentences and not short:
                a = sentence(q, a)
            if n > 0:
                text(f"USER: {q}{suffix} ASSISTANT:")
            else:
                # libmtmd tokenizes the text between images as separate chunks.
                if k > 0:
                    text("USER: ")
                for v in range(n_views):
                    tokens.append(-1)
                    targets.append(IGNORE)
                    text("\n" if v < n_views - 1 else f"\n{q}{suffix} ASSISTANT:")
            text(f" {a}</s>", train=True)
    # Targets are the next token: shift left by one.
    return tokens, targets[1:] + [IGNORE]


def echo_dialogue(tok: SpmTokenizer, rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """A text-only chat (no image) whose answer is the shape the question names: "What color is
    the circle?" -> "circle". Like an LLM's text pretraining, it teaches the answer position to
    fetch the named shape from the question, which questions about an image need first and which
    the image questions alone teach too slowly (docs/SHAPES-MODEL.md)."""
    kind = SHAPES[int(rng.integers(0, len(SHAPES)))]
    q = f"What color is the {kind}?" if rng.random() < 0.5 else f"Is the {kind} on the left or the right?"
    suffix = SHORT_ANSWER if rng.random() < 0.85 else ""
    prompt = tok.encode(f"{SYSTEM} USER: {q}{suffix} ASSISTANT:", bos=True)
    answer = tok.encode(f" {kind}</s>")
    return prompt + answer, [IGNORE] * (len(prompt) - 1) + answer + [IGNORE]


def question_prompt(tok: SpmTokenizer, question: str, n_views: int, short: bool = True, answer_start: str = "") -> list[int]:
    """The tokens the app sends for one short-answer question about an image of n_views views
    (without the instruction when not `short`), then `answer_start` as if the model had said it."""
    seq = tok.encode(f"{SYSTEM} USER: ", bos=True) + [-1]
    for _ in range(1, n_views):
        seq += tok.encode("\n") + [-1]
    return seq + tok.encode(f"\n{question}{SHORT_ANSWER if short else ''} ASSISTANT:{answer_start}")
