"""The sheet's own flowables: a card block, a code box and an outline heading.

reportlab's ``KeepTogether`` wraps every paragraph of a card, then on a column change wraps
them all again one by one, and ``XPreformatted`` parses markup and re-measures every line we
already measured. These three small classes do only the work the sheet needs.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from reportlab.lib.colors import Color, HexColor
from reportlab.platypus import Flowable, Paragraph

from .code import Line, face

_UNBOUNDED = 1e6
"""Height offered to a card's parts: their layout does not depend on it, so wraps can be cached."""


@cache
def _color(hexcode: str) -> Color:
    return HexColor(hexcode)


class CardBlock(Flowable):  # type: ignore[misc]
    """A card's parts stacked as one unsplittable block, wrapped once per column width.

    A block that does not fit in what is left of a column reports that it cannot be split, so
    the document moves it whole to the next column; only a block taller than a whole column
    falls apart into its parts, which then flow (and split) one by one.
    """

    def __init__(self, parts: list[Flowable], column_height: float) -> None:
        super().__init__()
        self.parts = parts
        self.column_height = column_height
        self._wrapped_at: float | None = None
        self._heights: list[float] = []

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        """Lay out every part at ``availWidth`` (cached: columns share one width)."""
        if self._wrapped_at != availWidth:
            self._heights = [p.wrapOn(self.canv, availWidth, _UNBOUNDED)[1] for p in self.parts]
            gaps = sum(p.getSpaceBefore() for p in self.parts[1:]) + sum(p.getSpaceAfter() for p in self.parts[:-1])
            self.width, self.height = availWidth, sum(self._heights) + gaps
            self._wrapped_at = availWidth
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        """Nothing (move on to the next column), unless the block can never fit in one."""
        self.wrap(availWidth, availHeight)
        return list(self.parts) if self.height > self.column_height else []

    def getSpaceBefore(self) -> float:
        """The first part's space before (dropped at the top of a column)."""
        return float(self.parts[0].getSpaceBefore())

    def getSpaceAfter(self) -> float:
        """The last part's space after."""
        return float(self.parts[-1].getSpaceAfter())

    def draw(self) -> None:
        """Draw the parts top to bottom with the spacing a frame would give them."""
        y = self.height
        last = len(self.parts) - 1
        for i, (part, height) in enumerate(zip(self.parts, self._heights, strict=True)):
            if i:
                y -= part.getSpaceBefore()
            y -= height
            part.drawOn(self.canv, 0, y)
            if i < last:
                y -= part.getSpaceAfter()


class CodeBox(Flowable):  # type: ignore[misc]
    """Pre-wrapped, highlighted code lines on a tinted background; splits between lines."""

    def __init__(self, lines: tuple[Line, ...], style: Any, text_color: Color) -> None:
        super().__init__()
        self.lines = lines
        self.style = style
        self.text_color = text_color
        self.pad_v = style.borderPadding[0]
        self.spaceBefore = style.spaceBefore
        self.spaceAfter = style.spaceAfter

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        """Full column width; one leading per line plus the padding."""
        self.width = availWidth
        self.height = len(self.lines) * self.style.leading + 2 * self.pad_v
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        """Two boxes split between lines (at least two lines each), or nothing."""
        fit = int((availHeight - 2 * self.pad_v) // self.style.leading)
        if fit < 2 or len(self.lines) - fit < 2:
            return []
        return [CodeBox(self.lines[:fit], self.style, self.text_color),
                CodeBox(self.lines[fit:], self.style, self.text_color)]

    def draw(self) -> None:
        """Background, then every run in its face and colour, setting font and colour only on change."""
        canv, style = self.canv, self.style
        size, leading = style.fontSize, style.leading
        canv.saveState()
        canv.setFillColor(style.backColor)
        canv.rect(0, 0, self.width, self.height, stroke=0, fill=1)
        text = canv.beginText()
        # Centre each glyph box (descent to descent + size) in its line's leading.
        baseline = self.height - self.pad_v - leading + (leading - size) / 2 + 0.236 * size
        current: tuple[str, Any] = ("", None)
        for line in self.lines:
            text.setTextOrigin(style.leftIndent, baseline)
            for (bold, italic, color), piece in line:
                fnt, col = face(bold, italic), color
                if fnt != current[0]:
                    text.setFont(fnt, size)
                if col != current[1] or not current[0]:
                    text.setFillColor(_color(col) if col else self.text_color)
                current = (fnt, col)
                text.textOut(piece)
            baseline -= leading
        canv.drawText(text)
        canv.restoreState()


class Heading(Paragraph):  # type: ignore[misc]
    """A topic or section heading that also adds its PDF outline entry and bookmark."""

    def __init__(self, text: str, style: Any, bulletText: str | None = None, frags: Any = None,
                 caseSensitive: int = 1, encoding: str = "utf8", outline: tuple[str, str, int] | None = None):
        super().__init__(text, style, bulletText, frags, caseSensitive, encoding)
        self.outline = outline

    def split(self, availWidth: float, availHeight: float) -> list[Any]:
        """Split like a paragraph; the first part keeps the outline entry."""
        parts = super().split(availWidth, availHeight)
        if parts:
            parts[0].outline = self.outline
        return parts

    def draw(self) -> None:
        """Bookmark the top of the heading, add the outline entry, then draw the paragraph."""
        if self.outline:
            key, title, level = self.outline
            # A little above the text, so a viewer jumping here shows the whole tinted band.
            self.canv.bookmarkHorizontal(key, 0, self.height + 4)
            self.canv.addOutlineEntry(title, key, level=level, closed=False)
        super().draw()
