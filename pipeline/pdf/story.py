"""Deck → flowables: the title block, topic bands, section headings, one kept-together block per card.

The expensive, layout-independent work (markdown walking, code formatting) is cached by
content in :mod:`.prose` and :mod:`.code`; this module only assembles fresh flowables, since
reportlab mutates flowables while laying them out and they cannot be shared between builds.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from reportlab.platypus import Flowable, Paragraph, Table, TableStyle
from reportlab.platypus.flowables import HRFlowable

from .. import markup
from ..model import Card, CodeBlock, Deck
from ..options import SheetOptions
from . import code, prose
from .flowables import CardBlock, CodeBox, Heading
from .styles import CODE_PAD, CODE_SIZE, Styles


class StoryBuilder:
    """Turns a deck into the flowables of one sheet; holds what every card block shares."""

    def __init__(self, styles: Styles, options: SheetOptions, width: float, column_height: float) -> None:
        self.styles = styles
        self.options = options
        self.width = width
        self.column_height = column_height
        # Text width inside a code block's padding; our wrapper keeps every line within it.
        self.code_width = width - 2 * CODE_PAD
        self.mark = _hex(styles.palette.mark)
        self.code_style = styles.palette.code_style
        self.link = None if options.grayscale else _hex(styles.palette.link)

    def story(self, deck: Deck, selected: set[str] | None, date: int) -> list[Flowable]:
        """The whole sheet: title block, then every topic and section that keeps a selected card."""
        keep = (lambda c: True) if selected is None else (lambda c: c.id in selected)
        count = sum(1 for _, _, c in deck.cards() if keep(c))
        out = self.title_block(deck, count, date)
        for ti, topic in enumerate(deck.topics):
            sections = [(s, [c for c in s.cards if keep(c)]) for s in topic.sections]
            sections = [(s, cards) for s, cards in sections if cards]
            if not sections:
                continue
            out.append(Heading(escape(topic.title), self.styles.topic(ti), outline=(f"t{ti}", topic.title, 0)))
            for si, (section, cards) in enumerate(sections):
                out.append(Heading(escape(section.title), self.styles.section(ti),
                                   outline=(f"t{ti}s{si}", section.title, 1)))
                out.extend(self.card(card) for card in cards)
        return out

    def title_block(self, deck: Deck, count: int, date: int) -> list[Flowable]:
        """Deck title, what the answers target, card count and build date, then the description."""
        s = self.styles
        total = deck.card_count
        cards = f"{count} cards" if count == total else f"{count} of {total} cards (a selection)"
        facts = [cards, time.strftime("built %Y-%m-%d", time.gmtime(date))]
        if deck.targets:
            facts.insert(1, f"answers target {deck.targets}")
        out: list[Flowable] = [Paragraph(escape(deck.title), s.title),
                               Paragraph(escape(" \u00b7 ".join(facts)), s.meta)]
        out.extend(self.prose(deck.description, s.body))
        out.append(HRFlowable(width="100%", thickness=0.6, color=s.palette.rule, spaceBefore=2, spaceAfter=1))
        return out

    def card(self, card: Card) -> Flowable:
        """One card as a block that is never split across columns (unless taller than a column)."""
        s = self.styles
        # Bold by tag rather than by a bold face in the style, so inline code in the question
        # switches to the bold mono face instead of falling back to regular.
        parts: list[Flowable] = [Paragraph(f"<b>{prose.line(card.q, self.link)}</b>", s.question)]
        parts.extend(self.prose(card.a, s.body))
        parts.extend(self.code(block) for block in card.code)
        if self.options.full and card.more:
            parts.extend(self.prose(card.more, s.more))
        return CardBlock(parts, self.column_height)

    def code(self, block: CodeBlock) -> Flowable:
        """A highlighted, pre-wrapped code block on its tinted background."""
        return self.code_box(block.lang, block.src)

    def code_box(self, lang: str, src: str) -> Flowable:
        """Code in ``lang`` formatted (cached) for this column and colour mode."""
        lines = code.lines(lang, src, self.code_style, self.code_width, CODE_SIZE, self.mark)
        return CodeBox(lines, self.styles.code, self.styles.palette.text)

    def prose(self, text: str, role: Any) -> Iterable[Flowable]:
        """Flowables of a markdown text in the paragraph style ``role`` (lists indented from it)."""
        for block in prose.blocks(text, self.link):
            style = self.styles.listed(role, block.depth) if block.depth else role
            if block.kind == "para":
                yield Paragraph(block.markup, style, bulletText=block.bullet)
            elif block.kind == "table":
                yield self.table(block, style)
            else:
                yield self.code_box("text", block.markup)

    def table(self, block: prose.Block, style: Any) -> Flowable:
        """A markdown table as a small ruled table of wrapped cells, as wide as its indent allows."""
        cell = self.styles.cell
        rows = [[Paragraph(f"<b>{m}</b>" if block.header and r == 0 else m, cell) for m in row]
                for r, row in enumerate(block.rows)]
        ncols = max((len(r) for r in rows), default=1)
        for row in rows:
            row.extend(Paragraph("", cell) for _ in range(ncols - len(row)))
        width = self.width - style.leftIndent
        table = Table(rows, colWidths=[width / ncols] * ncols, hAlign="LEFT",
                      style=_table_style(self.styles), spaceBefore=1.5, spaceAfter=2)
        return table


def _hex(color: Any) -> str:
    return "#" + color.hexval()[2:]


def _table_style(styles: Styles) -> TableStyle:
    rule = styles.palette.rule
    return TableStyle([("GRID", (0, 0), (-1, -1), 0.3, rule), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                       ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)])


def subject(deck: Deck) -> str:
    """The PDF subject line: the description as plain text, cut to a sentence or two."""
    text = markup.plain_text(deck.description)
    return text if len(text) <= 200 else text[:199].rsplit(" ", 1)[0] + "\u2026"
