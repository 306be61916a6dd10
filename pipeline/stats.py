"""``deck stats``: what a deck contains, as a small text report."""

from __future__ import annotations

from collections import Counter

from .model import LEVELS, Deck

PYTHON = ("python", "py", "python3")


def report(deck: Deck) -> str:
    """Cards per topic/section/level, code blocks per language and the share of Python run."""
    lines = [f"{deck.title} ({deck.id}): {deck.card_count} cards"]
    levels: Counter[str] = Counter()
    langs: Counter[str] = Counter()
    python = run = 0
    for topic in deck.topics:
        lines.append(f"  {topic.title:<40} {sum(len(s.cards) for s in topic.sections):>4}")
        for section in topic.sections:
            lines.append(f"    {section.title:<38} {len(section.cards):>4}")
            for card in section.cards:
                levels[card.level or "(none)"] += 1
                for block in card.code:
                    langs[block.lang] += 1
                    if block.lang in PYTHON:
                        python += 1
                        run += block.run
    lines.append("levels: " + ", ".join(f"{lv} {levels[lv]}" for lv in (*LEVELS, "(none)") if levels[lv]))
    lines.append("code blocks: " + (", ".join(f"{lang} {n}" for lang, n in langs.most_common()) or "none"))
    if python:
        lines.append(f"python blocks executed by 'deck verify': {run}/{python} ({100 * run / python:.0f}%)")
    return "\n".join(lines)
