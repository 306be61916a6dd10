"""Page geometry: paper size, margins and the column frames, in PDF points.

Kept apart from the writer so the tests can ask where text is allowed to be.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from reportlab.lib.pagesizes import A4, LETTER, landscape, portrait

from ..options import SheetOptions

PAPERS = {"a4": A4, "letter": LETTER}
"""Paper sizes by the names ``--paper`` accepts."""

MARGIN = 20.0
"""Left, right and top margin: narrow, like the printed cheat-sheets people keep (about 7 mm)."""
FOOTER = 24.0
"""Bottom margin; the footer line sits inside it."""
FOOTER_BASELINE = 11.0
"""Baseline of the footer text above the bottom edge."""
GUTTER = 12.0
"""Space between two columns."""


@dataclass(frozen=True)
class Rect:
    """An axis-aligned box in PDF user space (origin bottom left)."""

    x: float
    y: float
    width: float
    height: float

    @property
    def top(self) -> float:
        """The upper edge."""
        return self.y + self.height

    @property
    def right(self) -> float:
        """The right edge."""
        return self.x + self.width


@dataclass(frozen=True)
class Geometry:
    """Where everything goes on a page for one set of sheet options."""

    options: SheetOptions

    @cached_property
    def pagesize(self) -> tuple[float, float]:
        """Width and height of the page."""
        size = PAPERS[self.options.paper]
        width, height = portrait(size) if self.options.portrait else landscape(size)
        return float(width), float(height)

    @property
    def body(self) -> Rect:
        """The area inside the margins that columns (and the title block) share."""
        width, height = self.pagesize
        return Rect(MARGIN, FOOTER, width - 2 * MARGIN, height - MARGIN - FOOTER)

    @property
    def column_width(self) -> float:
        """Width of one column."""
        n = max(1, self.options.columns)
        return (self.body.width - (n - 1) * GUTTER) / n

    def columns(self) -> list[Rect]:
        """The column frames, left to right; the title block flows into the first one."""
        body = self.body
        step = self.column_width + GUTTER
        return [Rect(body.x + i * step, body.y, self.column_width, body.height)
                for i in range(max(1, self.options.columns))]
