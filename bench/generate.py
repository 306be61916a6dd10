"""Synthetic decks of the agreed shape for the benchmark: N cards, half with a 15-line code block.

Deterministic (seeded), so every run measures the same input. Usage: python bench/generate.py N OUT.yaml
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

WORDS = ("request response dependency router model field validator schema token session engine "
         "middleware header cookie query path body status client server async await worker pool "
         "cache lifespan settings test override database commit rollback migration").split()


def _sentence(rng: random.Random, words: int) -> str:
    chosen = [rng.choice(WORDS) for _ in range(words)]
    chosen[rng.randrange(words)] = f"`{rng.choice(WORDS)}()`"
    return " ".join(chosen).capitalize() + "."


def _code(rng: random.Random, index: int) -> str:
    lines = ["from typing import Annotated", "", "from fastapi import Depends, FastAPI", "",
             "app = FastAPI()", "", "", f"def dependency_{index}() -> int:", f"    return {index}", "", "",
             f'@app.get("/items/{index}")',
             f"def read_{index}(value: Annotated[int, Depends(dependency_{index})]) -> dict:",
             f'    """{_sentence(rng, 5)}"""',
             f'    return {{"value": value, "name": "{rng.choice(WORDS)}"}}']
    return "\n".join(lines)


def deck_yaml(n: int, seed: int = 1) -> str:
    """YAML text of a deck with ``n`` cards in 8 topics of 4 sections."""
    rng = random.Random(seed)
    out = ["deck:", "  id: bench-deck", "  title: Benchmark Deck", "  description: |",
           "    A synthetic deck for the benchmark.", "topics:"]
    topics, sections = 8, 4
    per_section = max(1, n // (topics * sections))
    index = 0
    for t in range(topics):
        out += [f"  - id: topic-{t}", f"    title: Topic {t}", "    sections:"]
        for s in range(sections):
            out += [f"      - id: section-{s}", f"        title: Section {t}.{s}", "        cards:"]
            count = per_section if (t, s) != (topics - 1, sections - 1) else n - index
            for _ in range(count):
                out += [f"          - id: card-{index}",
                        f"            q: Question {index} about `{rng.choice(WORDS)}` and {rng.choice(WORDS)}?",
                        "            a: |",
                        f"              {_sentence(rng, 18)} {_sentence(rng, 14)}",
                        f"              {_sentence(rng, 12)}",
                        "            more: |",
                        f"              - {_sentence(rng, 10)}",
                        f"              - {_sentence(rng, 12)}",
                        f"            level: {rng.choice(['junior', 'mid', 'senior'])}",
                        f"            tags: [{rng.choice(WORDS)}, {rng.choice(WORDS)}]"]
                if index % 2 == 0:
                    out += ["            code:", "              lang: python", "              src: |"]
                    out += [f"                {line}" if line else "" for line in _code(rng, index).splitlines()]
                index += 1
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    Path(sys.argv[2]).write_text(deck_yaml(int(sys.argv[1])), encoding="utf-8")
