"""The naive baseline the benchmark compares against: the obvious way to build the same outputs.

Pure-Python YAML loader, a new Markdown parser and Pygments formatter per block, genanki with
defaults, and a single reportlab platypus pass with Pygments markup in XPreformatted.
Usage: python bench/naive.py SOURCE.yaml OUT_DIR [--apkg-only]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import genanki
import yaml
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name


def stage(name: str, started: float, times: dict[str, float]) -> float:
    now = time.perf_counter()
    times[name] = now - started
    return now


def render(doc: dict) -> list[dict]:  # type: ignore[type-arg]
    cards = []
    for topic in doc["topics"]:
        for section in topic["sections"]:
            for card in section["cards"]:
                md = MarkdownIt("commonmark")
                code = card.get("code")
                blocks = code if isinstance(code, list) else ([code] if code else [])
                html_code = "".join(highlight(b["src"], get_lexer_by_name(b["lang"]), HtmlFormatter()) for b in blocks)
                cards.append({"id": card["id"], "q": md.renderInline(card["q"]), "a": md.render(card["a"]),
                              "code": html_code, "more": md.render(card.get("more") or ""),
                              "deck": f"{doc['deck']['title']}::{topic['title']}::{section['title']}",
                              "src": card, "blocks": blocks})
    return cards


def write_apkg(doc: dict, cards: list[dict], path: Path) -> None:  # type: ignore[type-arg]
    model = genanki.Model(1607392319, "Naive", fields=[{"name": n} for n in ("Q", "A", "Code", "More")],
                          templates=[{"name": "Card 1", "qfmt": "{{Q}}", "afmt": "{{A}}{{Code}}{{More}}"}],
                          css=HtmlFormatter().get_style_defs(".highlight"))
    decks: dict[str, genanki.Deck] = {}
    for card in cards:
        deck = decks.setdefault(card["deck"], genanki.Deck(abs(hash(card["deck"])) % (1 << 31), card["deck"]))
        deck.add_note(genanki.Note(model=model, fields=[card["q"], card["a"], card["code"], card["more"]],
                                   guid=genanki.guid_for(card["id"])))
    genanki.Package(list(decks.values())).write_to_file(str(path))


def write_pdf(doc: dict, cards: list[dict], path: Path) -> None:  # type: ignore[type-arg]
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import BaseDocTemplate, Frame, KeepTogether, PageTemplate, Paragraph, XPreformatted
    from reportlab.lib.pygments2xpre import pygments2xpre

    styles = getSampleStyleSheet()
    body = styles["BodyText"].clone("b", fontSize=7, leading=8.5)
    bold = body.clone("q", fontName="Helvetica-Bold")
    code_style = styles["Code"].clone("c", fontSize=6.5, leading=7.5)
    width, height = landscape(A4)
    margin, gap = 20, 10
    column = (width - 2 * margin - 2 * gap) / 3
    frames = [Frame(margin + i * (column + gap), margin, column, height - 2 * margin, id=f"c{i}") for i in range(3)]
    document = BaseDocTemplate(str(path), pagesize=(width, height))
    document.addPageTemplates([PageTemplate(id="p", frames=frames)])
    story = [Paragraph(doc["deck"]["title"], styles["Title"])]
    for card in cards:
        parts = [Paragraph(card["q"], bold), Paragraph(card["a"], body)]
        for block in card["blocks"]:
            parts.append(XPreformatted(pygments2xpre(block["src"], language=block["lang"]), code_style))
        story.append(KeepTogether(parts))
    document.build(story)


def main() -> None:
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    t = time.perf_counter()
    doc = yaml.load(source.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)  # noqa: S506 - pure-Python safe loader
    t = stage("load", t, times)
    cards = render(doc)
    t = stage("render", t, times)
    write_apkg(doc, cards, out / "naive.apkg")
    t = stage("apkg", t, times)
    if "--apkg-only" not in sys.argv:
        write_pdf(doc, cards, out / "naive.pdf")
        t = stage("pdf", t, times)
    print(" ".join(f"{k}={v:.3f}" for k, v in times.items()))


if __name__ == "__main__":
    main()
