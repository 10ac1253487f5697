"""Writes the Python tokenizer's ids for the texts the app sends the shapes model (the system
prompt, the template, every question with the short-answer instruction, every answer), so a test
can check that llama.cpp tokenizes them the same way (tests/integration/shapes-model.test.ts).

Usage: python3 scripts/shapes-model/tokens.py --out tests/fixtures/shapes-model/tokens.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vocab import ANSWERS, QUESTIONS, SHORT_ANSWER, SYSTEM, SpmTokenizer, build_vocab  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    tokens, scores, _ = build_vocab()
    tok = SpmTokenizer(tokens, scores)
    texts = [f"{SYSTEM} USER: ", "\n", " ASSISTANT:", "USER: "]
    texts += [f"\n{q}{SHORT_ANSWER} ASSISTANT:" for q in QUESTIONS]
    texts += [f" {a}" for a in ANSWERS]
    texts += ["Describe the image in detail, zebra 42!"]  # byte fallback for what it never saw
    with open(args.out, "w") as f:
        rows = [json.dumps({"text": t, "ids": tok.encode(t)}) for t in texts]
        f.write("[\n" + ",\n".join(rows) + "\n]\n")
    print(f"tokens: {len(texts)} texts in {args.out}")


if __name__ == "__main__":
    main()
