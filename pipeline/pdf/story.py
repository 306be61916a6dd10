"""Deck → flowables: title block, topic bands, section headings, one block per card.

The expensive, layout-independent work (markdown walking, code formatting) is cached by
content in :mod:`.prose` and :mod:`.code`; this module only assembles fresh flowables, since
reportlab mutates flowables while laying them out and they cannot be shared between builds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import astuple
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle
from reportlab.platypus.flowables import HRFlowable

from .. import markup
from ..cache import Store, key
from ..model import Card, Deck
from ..options import SheetOptions
from . import code, prose
from .flowables import CardBlock, CodeBox, Heading
from .replay import ReplayCard
from .styles import CODE_PAD, CODE_SIZE, Styles


class StoryBuilder:
    """Turns a deck into the flowables of one sheet; holds what every card block shares."""

    def __init__(self, styles: Styles, options: SheetOptions, width: float, column_height: float,
                 store: Store | None = None):
        self.styles = styles
        self.store = store
        """Recorded card drawings (see replay.py), or None to lay every card out afresh."""
        self.shared: set[str] = set()
        """Keys of the cards whose recordings :attr:`helper` returns."""
        self.helper: Callable[[], dict[str, Any]] | None = None
        """Returns the recordings of the :attr:`shared` cards (the parent process makes them)."""
        self.geometry: Any = None
        """The page geometry these were made for (set by the writer)."""
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
        return self.title_block(deck, count(deck, selected), date) + self.body(deck, selected)

    def body(self, deck: Deck, selected: set[str] | None) -> list[Flowable]:
        """Every topic and section that keeps a selected card: all of the sheet but its title block.

        This is nearly all of the work before the layout, and it does not depend on the build
        date, so it can start before the date is known.
        """

        def keep(card: Card) -> bool:
            return selected is None or card.id in selected

        out: list[Flowable] = []
        for ti, topic in enumerate(deck.topics):
            sections = [(s, kept) for s in topic.sections
                        if (kept := [c for c in s.cards if keep(c)])]
            if not sections:
                continue
            out.append(Heading(escape(topic.title), self.styles.topic(ti),
                               outline=(f"t{ti}", topic.title, 0)))
            for si, (section, cards) in enumerate(sections):
                out.append(Heading(escape(section.title), self.styles.section(ti),
                                   outline=(f"t{ti}s{si}", section.title, 1)))
                out.extend(map(self.card if self.store is None else self.replayable, cards))
        return out

    def title_block(self, deck: Deck, count: int, date: int) -> list[Flowable]:
        """Deck title; card count, what the answers target and build date; the description."""
        s = self.styles
        total = deck.card_count
        facts = [f"{count} cards" if count == total else f"{count} of {total} cards (a selection)"]
        if deck.targets:
            facts.append(f"answers target {deck.targets}")
        facts.append(time.strftime("built %Y-%m-%d", time.gmtime(date)))
        out: list[Flowable] = [Paragraph(escape(deck.title), s.title),
                               Paragraph(escape(" \u00b7 ".join(facts)), s.meta)]
        out.extend(self.markdown(deck.description, s.body))
        out.append(HRFlowable(width="100%", thickness=0.6, color=s.palette.rule,
                              spaceBefore=2, spaceAfter=1))
        return out

    def card(self, card: Card) -> Flowable:
        """One card: question, answer, code (and ``more`` with ``--full``) kept in one column."""
        s = self.styles
        # Bold by tag rather than by a bold face in the style, so inline code in the question
        # switches to the bold mono face instead of falling back to regular.
        parts: list[Flowable] = [Paragraph(f"<b>{prose.line(card.q, self.link)}</b>", s.question)]
        parts.extend(self.markdown(card.a, s.body))
        parts.extend(self.code_box(block.lang, block.src) for block in card.code)
        if self.options.full and card.more:
            parts.extend(self.markdown(card.more, s.more))
        return CardBlock(parts, self.column_height)

    def card_key(self, card: Card) -> str:
        """The cache key of ``card``'s recorded drawing: everything the drawing depends on."""
        more = card.more if self.options.full else None
        return key("sheet-card", astuple(self.options), self.width, card.q, card.a,
                   tuple((b.lang, b.src) for b in card.code), more)

    def replayable(self, card: Card) -> Flowable:
        """:meth:`card`, made only if its recorded drawing cannot serve (see replay.py).

        The recording comes from the store, or, for the cards in :attr:`shared`, from
        :attr:`helper` (the parent process's recordings, fetched when the layout needs them).
        """
        assert self.store is not None
        name = self.card_key(card)
        recording: Any = self.store.get(name)
        if recording is None and name in self.shared and self.helper is not None:
            helper = self.helper
            recording = lambda: helper().get(name)  # noqa: E731
        return ReplayCard(lambda: self.card(card), self.column_height, self.store, name, recording)

    def share(self, deck: Deck, selected: set[str] | None, fraction: float,
              least: int) -> list[tuple[str, Card]]:
        """The last ``fraction`` of the cards to print that have no recording (none if fewer
        than ``least``): what the build's parent process records while this one lays out."""
        assert self.store is not None
        todo = [(name, card) for _, _, card in deck.cards()
                if (selected is None or card.id in selected)
                and (name := self.card_key(card)) not in self.store]
        if len(todo) < least:
            return []
        return todo[len(todo) - int(len(todo) * fraction):]

    def code_box(self, lang: str, src: str) -> Flowable:
        """Code in ``lang``, highlighted and wrapped (cached) for this column and colour mode."""
        lines = code.lines(lang, src, self.code_style, self.code_width, CODE_SIZE, self.mark)
        return CodeBox(lines, self.styles.code, self.styles.palette.text)

    def markdown(self, text: str, role: ParagraphStyle) -> Iterator[Flowable]:
        """Flowables of a markdown text in the paragraph style ``role`` (lists indented from it)."""
        for block in prose.blocks(text, self.link):
            if block.kind == "para":
                style = self.styles.listed(role, block.depth) if block.depth else role
                yield Paragraph(block.markup, style, bulletText=block.bullet)
            elif block.kind == "table":
                yield self.table(block)
            else:
                yield self.code_box("text", block.markup)

    def table(self, block: prose.Block) -> Flowable:
        """A markdown table: a small ruled table of wrapped cells, as wide as the column."""
        cell = self.styles.cell
        rows = [[Paragraph(f"<b>{m}</b>" if block.header and r == 0 else m, cell) for m in row]
                for r, row in enumerate(block.rows)]
        ncols = max((len(r) for r in rows), default=1)
        for row in rows:
            row.extend(Paragraph("", cell) for _ in range(ncols - len(row)))
        return Table(rows, colWidths=[self.width / ncols] * ncols, hAlign="LEFT",
                     repeatRows=int(block.header), style=_table_style(self.styles, block.header),
                     spaceBefore=1.5, spaceAfter=2)


def count(deck: Deck, selected: set[str] | None) -> int:
    """How many cards of ``deck`` the sheet prints."""
    return sum(1 for _, _, c in deck.cards() if selected is None or c.id in selected)


def _hex(color: Color) -> str:
    return "#" + str(color.hexval())[2:]


@cache
def _table_style(styles: Styles, header: bool) -> TableStyle:
    commands = [("GRID", (0, 0), (-1, -1), 0.3, styles.palette.rule),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), styles.palette.code_back))
    return TableStyle(commands)


def subject(deck: Deck) -> str:
    """The PDF subject line: the description as plain text, cut to about two sentences."""
    text = markup.plain_text(deck.description)
    return text if len(text) <= 200 else text[:199].rsplit(" ", 1)[0] + "\u2026"
