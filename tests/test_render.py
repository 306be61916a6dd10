"""Rendered card HTML (golden files) and the markdown safety rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import markup
from pipeline.anki import note_data
from pipeline.load import load

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("card_id", ["hello-app", "html-looking-text", "run-server", "typography"])
def test_card_fields_golden(card_id: str, golden) -> None:  # type: ignore[no-untyped-def]
    deck = load(DATA / "example.yaml")
    topic, section, card = next(x for x in deck.cards() if x[2].id == card_id)
    data = note_data(deck, topic, section, card)
    text = "\n".join(f"== {name}\n{value}" for name, value in zip(
        ("Question", "Answer", "Code", "More", "Topic", "Section", "Level", "CardId"), data.fields, strict=True))
    text += "\n== tags\n" + " ".join(data.tags) + "\n== deck\n" + data.deck + "\n"
    golden.check(f"cards/{card_id}.html", text)


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "<div onclick=alert(1)>x</div>\n\nafter",
    "{{Front}} and {{c1::cloze}}",
])
def test_hostile_text_never_becomes_markup(text: str) -> None:
    html = markup.to_html(text)
    assert "<script" not in html and "<img" not in html and "<div" not in html
    assert 'href="javascript' not in html.lower()
    assert markup.problems(text) or "{{" in text  # validation names it too


def test_plain_text_is_the_visible_text() -> None:
    assert markup.plain_text("Use `Depends()` with **care** and [docs](https://x.org).") == \
        "Use Depends() with care and docs."
