"""A SentencePiece-style vocabulary (llama.cpp's SPM tokenizer: bigram merges by score, byte
fallback) whose pieces cover LLaVA-1.5's system prompt, the template and the questions, and a
Python copy of llama.cpp's SPM tokenizer so training sees the tokens the engine will see.
`tokenizer.ggml.add_space_prefix` is false in the GGUF: libmtmd tokenizes the text between images
as separate chunks, and without the implicit leading space each chunk tokenizes as written."""
from __future__ import annotations

import heapq
import re

from scenes import COLOUR_NAMES, COUNT_WORDS, DIGIT_WORDS, SHAPES

SYSTEM = (
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives "
    "helpful, detailed, and polite answers to the user's questions."
)
SHORT_ANSWER = "\nAnswer the question using a single word or phrase."
QUESTIONS = [
    "What shape is this?",
    "How many shapes are there?",
    "What digit is written in the image?",
    *[f"What color is the {s}?" for s in SHAPES],
    *[f"Is the {s} on the left or the right?" for s in SHAPES],
]
ANSWERS = sorted(set(SHAPES + COLOUR_NAMES + COUNT_WORDS + DIGIT_WORDS + ["left", "right"]))
TEMPLATE_TEXT = "USER: ASSISTANT:"
EXTRA_WORDS = "The image shows a picture photo of it there is I see and in on at with colour"

SPACE = "\u2581"
UNK, BOS, EOS = 0, 1, 2


def _words(text: str) -> set[str]:
    """Each word with its leading space as a piece (and without, for the start of a chunk)."""
    out: set[str] = set()
    for line in text.split("\n"):
        for i, w in enumerate(re.findall(r"[A-Za-z]+|[^A-Za-z\s]", line)):
            out.add(SPACE + w)
            out.add(w)
    return out


def build_vocab() -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and token types (1 normal, 2 unknown, 3 control, 6 byte) of the vocabulary."""
    corpus = "\n".join([SYSTEM, SHORT_ANSWER, *QUESTIONS, " ".join(ANSWERS), TEMPLATE_TEXT, EXTRA_WORDS])
    pieces: set[str] = set()
    for w in _words(corpus):
        for n in range(1, len(w) + 1):
            pieces.add(w[:n])  # every prefix, so SPM's merges can build the word left to right
    pieces |= set(corpus.replace(" ", SPACE)) | {SPACE, "\n"}
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    scores = [0.0, 0.0, 0.0] + [0.0] * 256
    for p in sorted(pieces, key=lambda p: (len(p), p)):
        tokens.append(p)
        types.append(1)
        scores.append(float(len(p)))  # longer pieces merge first
    return tokens, scores, types


class SpmTokenizer:
    """llama.cpp's llm_tokenizer_spm: merge the best-scoring adjacent pair that is a piece,
    leftmost first on ties; symbols that are no piece fall back to byte tokens."""

    def __init__(self, tokens: list[str], scores: list[float]):
        self.ids = {t: i for i, t in enumerate(tokens)}
        self.scores = scores
        self._memo: dict[tuple[str, bool], list[int]] = {}

    def encode(self, text: str, bos: bool = False) -> list[int]:
        # Training asks for the same few strings again and again: remember them.
        key = (text, bos)
        if key not in self._memo:
            self._memo[key] = self._encode(text, bos)
        return list(self._memo[key])

    def _encode(self, text: str, bos: bool) -> list[int]:
        out = [BOS] if bos else []
        # parse_special: "</s>" in the text is the end-of-sequence token.
        for i, part in enumerate(text.split("</s>")):
            if i > 0:
                out.append(EOS)
            if part:
                out.extend(self._spm(part.replace(" ", SPACE)))
        return out

    def _spm(self, text: str) -> list[int]:
        sym = list(text)
        alive = [True] * len(sym)
        nxt = list(range(1, len(sym))) + [-1]
        prv = list(range(-1, len(sym) - 1))
        heap: list[tuple[float, int, int, str]] = []

        def push(left: int, right: int) -> None:
            if left < 0 or right < 0:
                return
            piece = sym[left] + sym[right]
            tid = self.ids.get(piece)
            if tid is not None:
                heapq.heappush(heap, (-self.scores[tid], left, right, piece))

        for i in range(len(sym) - 1):
            push(i, i + 1)
        while heap:
            _, left, right, piece = heapq.heappop(heap)
            if not (alive[left] and alive[right]) or nxt[left] != right or sym[left] + sym[right] != piece:
                continue
            sym[left] = piece
            alive[right] = False
            nxt[left] = nxt[right]
            if nxt[right] >= 0:
                prv[nxt[right]] = left
            push(prv[left], left)
            push(left, nxt[left])
        out: list[int] = []
        i = 0
        while i >= 0 and i < len(sym):
            if alive[i]:
                tid = self.ids.get(sym[i])
                if tid is not None:
                    out.append(tid)
                else:
                    out.extend(self.ids[f"<0x{b:02X}>"] for b in sym[i].encode("utf-8"))
            i = nxt[i] if alive[i] else i + 1
        return out
