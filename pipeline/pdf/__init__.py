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
- ``cmapfix``: a reportlab fix so characters beyond U+FFFF are extracted correctly.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from .. import fonts
from ..model import Deck
from ..options import SheetOptions
from . import cmapfix
from .document import SheetCanvas, SheetDoc
from .geometry import Geometry
from .story import StoryBuilder, subject
from .styles import styles as _styles

__all__ = ["Geometry", "write"]


def write(deck: Deck, path: Path, options: SheetOptions, selected: set[str] | None,
          date: int) -> int:
    """Write the cheat-sheet of ``deck`` to ``path`` and return its page count.

    Only cards whose id is in ``selected`` are printed (all when ``None``); topics and sections
    left without cards are skipped. ``date`` (a Unix time, from the lock) is the build date in
    the title block and the PDF metadata: the same deck, options and date give the same bytes.
    """
    fonts.register()
    cmapfix.install()
    geometry = Geometry(options)
    styles = _styles(options.grayscale)
    footer = deck.title + (f" \u00b7 {deck.targets}" if deck.targets else "")
    doc = SheetDoc(str(path), geometry, styles, footer, title=deck.title,
                   author=deck.author or deck.title, subject=subject(deck),
                   creator="deck pipeline (fastapi-deck)")
    builder = StoryBuilder(styles, options, geometry.column_width, geometry.body.height)
    flowables = builder.story(deck, selected, date)
    doc.build(flowables, canvasmaker=partial(SheetCanvas, date=date, footer=doc.write_total))
    return int(doc.page)
