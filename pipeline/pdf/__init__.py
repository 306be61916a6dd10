"""The PDF writer: a validated deck → a dense, printable, reproducible cheat-sheet.

Layout: reportlab platypus, A4 landscape in three columns by default (see ``SheetOptions``),
topic bands and section headings, each card one block kept together, code highlighted and
wrapped inside its column. The package is split by concern:

- ``geometry``: page size, margins, column frames (the tests use it too);
- ``styles``: type sizes, colours, paragraph styles, made once per colour mode;
- ``prose`` and ``code``: markdown → paragraph markup, code → highlighted wrapped lines,
  both plain data cached by content;
- ``flowables``: the card block, code box and outline heading the sheet is made of;
- ``story``: deck → flowables; ``document``: pages, footer, page total, pinned dates;
- ``cmapfix``: a reportlab fix so characters beyond U+FFFF are extracted correctly;
- ``speedups``: exact, faster versions of reportlab's hottest pure-Python functions;
- ``replay``: cards drawn from the build cache when that gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from reportlab.pdfgen.canvas import Canvas

from .. import cache, fonts
from ..model import Card, Deck
from ..options import SheetOptions
from . import cmapfix, replay, speedups
from .document import SheetCanvas, SheetDoc
from .geometry import Geometry
from .story import StoryBuilder, count, subject
from .styles import styles as _styles

__all__ = ["Geometry", "record", "render", "write"]


def write(deck: Deck, path: Path, options: SheetOptions, selected: set[str] | None,
          date: int) -> int:
    """Write the cheat-sheet of ``deck`` to ``path`` and return its page count.

    Only cards whose id is in ``selected`` are printed (all when ``None``); topics and sections
    left without cards are skipped. ``date`` (a Unix time, from the lock) is the build date in
    the title block and the PDF metadata: the same deck, options and date give the same bytes.
    """
    data, pages = render(deck, options, selected, lambda: date)
    path.write_bytes(data)
    return pages


def render(deck: Deck, options: SheetOptions, selected: set[str] | None,
           date: Callable[[], int], store: cache.Store | None = None,
           helper: Callable[[], dict[str, replay.Recording]] | None = None,
           split: tuple[float, int] = (0.0, 0)) -> tuple[bytes, int]:
    """The bytes and page count of the sheet :func:`write` writes; nothing touches the disk.

    ``date`` is called once the cards are made ready for the layout, the bulk of the work:
    the build starts this in a child process before the lock, which knows the date, is
    reconciled. With a ``store``, cards are drawn from their recordings (see replay.py) and
    the store gets the recordings of this sheet. With a ``helper`` too, the cards of
    ``StoryBuilder.share`` (for ``split``) may come from ``helper()``: the recordings another
    process has made so far (see :func:`record`), asked for, without waiting, when the layout
    reaches such a card; a card not recorded yet is made here.
    """
    when: list[int] = []

    def once() -> int:
        if not when:
            when.append(date())
        return when[0]

    once.ready = getattr(date, "ready", lambda: True)  # type: ignore[attr-defined]
    try:
        return _render(deck, options, selected, once, store, helper, split)
    except replay.Mismatch:  # pragma: no cover - a recording that lied: make it all afresh
        return _render(deck, options, selected, once, None, None, split)


def record(deck: Deck, options: SheetOptions, selected: set[str] | None, store: cache.Store,
           split: tuple[float, int],
           emit: Callable[[dict[str, replay.Recording]], None] | None = None,
           every: int = 8) -> dict[str, replay.Recording]:
    """Recordings, drawn on a scratch page, of the cards :func:`render` may take from a helper.

    ``split`` is (share, least): the last ``share`` of the cards that have no recording in
    ``store``, if there are at least ``least`` of those (see ``StoryBuilder.share``). They are
    recorded last card first; with ``emit``, each ``every`` recordings go to ``emit`` as soon
    as they are made (the helper process and the layout then meet in the middle).
    """
    builder = _builder(options, store)
    cards = builder.share(deck, selected, *split)
    if not cards:
        return {}
    canv = SheetDoc(io.BytesIO(), builder.geometry, builder.styles, "")._makeCanvas(
        io.BytesIO(), Canvas)
    out: dict[str, replay.Recording] = {}
    for name, card in reversed(cards):
        if emit is not None and len(out) >= every:
            emit(out)
            out = {}
        block = builder.card(card)
        block.wrapOn(canv, builder.width, builder.column_height)
        if block.height > builder.column_height:
            continue  # it will split: drawn afresh, never recorded
        start = len(canv._code)
        canv.saveState()  # as a frame draws a flowable: saved state, origin moved
        canv.translate(0, 0)
        recording = replay.draw_recorded(block, canv)
        canv.restoreState()
        del canv._code[start:]
        if recording is not None:
            out[name] = recording
    return out


AHEAD = 1500
"""The most cards made ahead of the layout (each holds its laid-out paragraphs until drawn)."""


def when_known(date: Callable[[], int]) -> bool:
    """Whether ``date()`` would answer at once (see fork's ``receive.ready``)."""
    return bool(getattr(date, "ready", lambda: True)())


def _make_ahead(body: list[Any], builder: StoryBuilder, date: Callable[[], int]) -> None:
    """Make and lay out the first cards that have no recording until ``date`` is known.

    The date comes from the lock, which the parent process reconciles after rendering every
    card's HTML; cards laid out now are cards the layout will not wait for later.
    """
    scratch = Canvas(io.BytesIO())
    made = 0
    for flowable in body:
        if made >= AHEAD or when_known(date):
            return
        if isinstance(flowable, replay.ReplayCard) and flowable.needs_making:
            flowable.block.wrapOn(scratch, builder.width, builder.column_height)
            made += 1


def prepare(options: SheetOptions) -> None:
    """Do the deck-independent set-up of a sheet now (fonts, patches, styles): ~0.1 s."""
    fonts.register()
    cmapfix.install()
    speedups.install()
    _styles(options.grayscale)


def _builder(options: SheetOptions, store: cache.Store | None) -> StoryBuilder:
    prepare(options)
    geometry = Geometry(options)
    builder = StoryBuilder(_styles(options.grayscale), options, geometry.column_width,
                           geometry.body.height, store)
    builder.geometry = geometry
    return builder


def _render(deck: Deck, options: SheetOptions, selected: set[str] | None,
            date: Callable[[], int], store: cache.Store | None,
            helper: Callable[[], dict[str, replay.Recording]] | None,
            split: tuple[float, int]) -> tuple[bytes, int]:
    builder = _builder(options, store)
    if store is not None and helper is not None:
        builder.shared = {name for name, _ in builder.share(deck, selected, *split)}
        builder.helper = helper
    body = builder.body(deck, selected)
    if not when_known(date):  # make the first cards while the date is on its way
        _make_ahead(body, builder, date)
    when = date()
    footer = deck.title + (f" \u00b7 {deck.targets}" if deck.targets else "")
    buffer = io.BytesIO()
    doc = SheetDoc(buffer, builder.geometry, builder.styles, footer, title=deck.title,
                   author=deck.author or deck.title, subject=subject(deck),
                   creator="deck pipeline (fastapi-deck)")
    flowables = builder.title_block(deck, count(deck, selected), when) + body
    del body  # doc.build consumes the list: a card drawn is a card freed
    doc.build(flowables, canvasmaker=partial(SheetCanvas, date=when, footer=doc.write_total))
    return buffer.getvalue(), int(doc.page)
