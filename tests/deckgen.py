"""Generate large, valid deck sources for tests (crash safety, timing)."""

from __future__ import annotations

from pathlib import Path

import yaml


def big_deck(cards: int, *, deck_id: str = "big-deck", edition: int = 1, per_section: int = 25,
             sections_per_topic: int = 6) -> dict:
    """A valid deck of ``cards`` cards, with prose, code and lists; ``edition`` changes every answer."""
    topics: list[dict] = []
    number = 0
    topic_index = 0
    while number < cards:
        topic = {"id": f"topic-{topic_index}", "title": f"Topic {topic_index}", "sections": []}
        for section_index in range(sections_per_topic):
            if number >= cards:
                break
            section = {"id": f"section-{section_index}", "title": f"Section {topic_index}.{section_index}",
                       "cards": []}
            for _ in range(per_section):
                if number >= cards:
                    break
                card = {
                    "id": f"card-{number}",
                    "q": f"What does **card {number}** say about `value_{number}` → λ?",
                    "a": (f"Edition {edition}: it says *{number}* and links to "
                          f"[the docs](https://example.com/{number}).\n\n"
                          f"- first point of card {number}\n- second point, with `code_{number}()`\n"),
                    "level": ("junior", "mid", "senior")[number % 3],
                    "tags": [f"tag-{number % 7}"],
                }
                if number % 2 == 0:
                    card["code"] = {"lang": "python", "run": False, "src": (
                        f"def handler_{number}(value: int) -> int:\n"
                        f"    \"\"\"Edition {edition}.\"\"\"\n"
                        f"    return value * {number} + {edition}\n")}
                if number % 5 == 0:
                    card["more"] = f"A deeper note on card {number}, edition {edition}: `x < y` and `{{{{ braces }}}}`."
                section["cards"].append(card)
                number += 1
            topic["sections"].append(section)
        topics.append(topic)
        topic_index += 1
    return {"deck": {"id": deck_id, "title": f"Big Deck {deck_id}", "description": "A generated deck."},
            "topics": topics}


def write_deck(path: Path, deck: dict) -> Path:
    """Write ``deck`` as YAML at ``path`` and return the path."""
    path.write_text(yaml.safe_dump(deck, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
    return path
