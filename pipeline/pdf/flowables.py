"""The sheet's own flowables: card block, code box, outline heading, heading group.

reportlab's ``KeepTogether`` wraps every paragraph of a card, then on a column change wraps
them all again one by one, and ``XPreformatted`` parses markup and re-measures every line we
already measured. These small classes do only the work the sheet needs.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import getFont
from reportlab.platypus import Flowable, FrameBreak, KeepTogether, Paragraph

from .. import fonts
from .code import Line, face

_FRAME_BREAK = type(FrameBreak)  # reportlab's FrameBreak is an instance; KeepTogether copies it
_MIN_START = 60.0
"""Points of an oversized card that must fit below its headings to start in this column."""
_MAX_STEP_BACK = 6
"""Lines a code box split may move up to avoid starting a column with a continuation."""
_UNBOUNDED = 1e6
"""Height offered to a card's parts: their layout ignores it, so a wrap can be reused."""


@cache
def _color(hexcode: str) -> Color:
    return HexColor(hexcode)


@cache
def _descent() -> float:
    """The mono faces' descent as a fraction of the size (0.24; what PDF readers box glyphs by)."""
    return -float(getFont(fonts.MONO).face.descent) / 1000


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
            gaps = sum(p.getSpaceBefore() for p in self.parts[1:])
            gaps += sum(p.getSpaceAfter() for p in self.parts[:-1])
            self.width, self.height = availWidth, sum(self._heights) + gaps
            self._wrapped_at = availWidth
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        """Nothing (move on to the next column), unless the block can never fit in one.

        Then its parts flow one by one, the question kept with the part after it.
        """
        self.wrap(availWidth, availHeight)
        if self.height <= self.column_height:
            return []
        self.parts[0].keepWithNext = 1
        return list(self.parts)

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

    def __init__(self, lines: tuple[Line, ...], style: ParagraphStyle, text_color: Color) -> None:
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
        # Rather not open the next column with the tail of a wrapped line: break before the
        # line's start, unless that start is far back (a huge line has to split somewhere).
        start, lowest = fit, max(2, fit - _MAX_STEP_BACK)
        while lowest < start < len(self.lines) and self.lines[start].continued:
            start -= 1
        if start < len(self.lines) and not self.lines[start].continued:
            fit = start
        if fit < 2 or len(self.lines) - fit < 2:
            return []
        return [CodeBox(self.lines[:fit], self.style, self.text_color),
                CodeBox(self.lines[fit:], self.style, self.text_color)]

    def draw(self) -> None:
        """Background, then each run in its face and colour (switched only when they change)."""
        canv, style = self.canv, self.style
        size, leading = style.fontSize, style.leading
        canv.saveState()
        canv.setFillColor(style.backColor)
        canv.rect(0, 0, self.width, self.height, stroke=0, fill=1)
        text = canv.beginText()
        # Each glyph box (descent to descent + size) sits at the bottom of its line's leading,
        # the spare leading above it: most code has no descenders, so this centres the ink.
        baseline = self.height - self.pad_v - leading + _descent() * size + 0.1
        # Nothing set yet: "" matches no face and no colour (a colour of None is the text colour).
        font: str = ""
        fill: str | None = ""
        for line in self.lines:
            text.setTextOrigin(style.leftIndent, baseline)
            for (bold, italic, color), piece in line.runs:
                if face(bold, italic) != font:
                    font = face(bold, italic)
                    text.setFont(font, size)
                if color != fill:
                    fill = color
                    text.setFillColor(_color(color) if color else self.text_color)
                text.textOut(piece)
            baseline -= leading
        canv.drawText(text)
        canv.restoreState()


class HeadingGroup(KeepTogether):  # type: ignore[misc]
    """What the document makes of headings and the card after them (``keepWithNext``).

    reportlab's version moves the whole group to the next column when it does not fit. When
    the card can never fit in a column anyway, that leaves the rest of this column empty for
    nothing: start the group here if the headings and a few lines of the card fit.
    """

    def split(self, aW: float, aH: float) -> list[Flowable]:
        """reportlab's split, minus the column break for a group that must split anyway."""
        parts: list[Flowable] = list(super().split(aW, aH))
        frame = getattr(self, "_frame", None)
        last = self._content[-1]
        if frame is None or not isinstance(last, CardBlock) or last.height <= frame._height:
            return parts
        if aH < self._H - last.height + _MIN_START:
            return parts
        return [p for p in parts if not isinstance(p, _FRAME_BREAK)]


class Heading(Paragraph):  # type: ignore[misc]
    """A topic or section heading that also adds its PDF outline entry and bookmark."""

    # Same signature as Paragraph plus ``outline`` (key, title, level): reportlab's split
    # creates the parts through ``self.__class__`` with Paragraph's arguments.
    def __init__(self, text: str, style: ParagraphStyle, bulletText: str | None = None,
                 frags: Any = None, caseSensitive: int = 1, encoding: str = "utf8",
                 outline: tuple[str, str, int] | None = None):
        super().__init__(text, style, bulletText, frags, caseSensitive, encoding)
        self.outline = outline

    def split(self, availWidth: float, availHeight: float) -> list[Any]:
        """Split like a paragraph; the first part keeps the outline entry."""
        parts: list[Any] = list(super().split(availWidth, availHeight))
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
