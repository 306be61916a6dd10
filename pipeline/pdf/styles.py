"""Type sizes, colours and paragraph styles of the sheet, built once per colour mode.

Creating a ``ParagraphStyle`` per block is measurable churn on a 10,000-card sheet, so every
style a build can need is made here once and shared; list depths and topic tints are finite.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle

from .. import fonts, highlight

BODY_SIZE = 7.2
"""Answer text: small enough for density, big enough to read on paper."""
CODE_SIZE = 6.6
"""Code: DejaVu Sans Mono is wide, so a little smaller than the prose."""
CODE_LEADING = 7.8
"""Line pitch of code; above the font size so no two glyph boxes touch."""
CODE_PAD = 2.5
"""Horizontal padding inside a code block's tinted background."""
LIST_INDENT = 8.0
"""Indent per list level; the bullet hangs in it."""
CONTINUATION_MARK = "\u21aa"
"""Starts a wrapped code line's continuation (↪, drawn by every DejaVu Sans Mono face)."""

# Topic bands cycle through these (band fill, heading text) pairs; the topic title is always
# written out, so the tint only helps the eye find the next topic.
_TINTS = (("#dbe7f5", "#173f6e"), ("#dcefe3", "#1d5632"), ("#f7e6d2", "#73400d"),
          ("#ebe0f3", "#4b2a6b"), ("#d7eeee", "#155454"), ("#f5dede", "#6e1f1f"))
_GRAY_TINT = ("#e4e4e4", "#000000")


@dataclass(frozen=True)
class Palette:
    """The colours of one colour mode."""

    text: Color
    muted: Color
    link: Color
    code_back: Color
    rule: Color
    mark: Color
    tints: tuple[tuple[Color, Color], ...]
    code_style: str
    """Name of the Pygments style the code formatter uses."""


def palette(grayscale: bool) -> Palette:
    """The palette for colour or grayscale output."""
    if grayscale:
        gray = ((HexColor(_GRAY_TINT[0]), HexColor(_GRAY_TINT[1])),)
        return Palette(HexColor("#000000"), HexColor("#555555"), HexColor("#000000"),
                       HexColor("#f0f0f0"), HexColor("#999999"), HexColor("#777777"),
                       gray, highlight.PRINT_GRAY_STYLE)
    tints = tuple((HexColor(band), HexColor(ink)) for band, ink in _TINTS)
    return Palette(HexColor("#111111"), HexColor("#555555"), HexColor("#1a4f8b"),
                   HexColor("#f3f5f8"), HexColor("#b8c2cc"), HexColor("#8a8a8a"),
                   tints, highlight.LIGHT_STYLE)


class Styles:
    """Every paragraph style of the sheet for one colour mode (get it from :func:`styles`)."""

    def __init__(self, grayscale: bool) -> None:
        fonts.register()
        self.palette = p = palette(grayscale)
        base = ParagraphStyle("body", fontName=fonts.SANS, fontSize=BODY_SIZE, leading=8.6,
                              textColor=p.text, alignment=TA_LEFT, spaceAfter=1.2,
                              bulletFontName=fonts.SANS, bulletFontSize=BODY_SIZE,
                              splitLongWords=1, allowOrphans=0, allowWidows=0)
        self.body = base
        self.question = ParagraphStyle("question", base, fontSize=7.5,
                                       leading=8.9, spaceBefore=4.5, spaceAfter=1.2)
        self.more = ParagraphStyle("more", base, fontSize=6.9, leading=8.2, textColor=p.muted)
        self.cell = ParagraphStyle("cell", base, fontSize=6.6, leading=7.8, spaceAfter=0)
        self.code = ParagraphStyle("code", base, fontName=fonts.MONO, fontSize=CODE_SIZE,
                                   leading=CODE_LEADING, backColor=p.code_back,
                                   leftIndent=CODE_PAD, rightIndent=CODE_PAD,
                                   borderPadding=(1.6, CODE_PAD, 1.6, CODE_PAD),
                                   spaceBefore=2.4, spaceAfter=2.4, splitLongWords=0)
        self.title = ParagraphStyle("title", base, fontName=fonts.SANS + "-Bold", fontSize=15,
                                    leading=18, spaceAfter=2, textColor=p.tints[0][1])
        self.meta = ParagraphStyle("meta", base, fontSize=7, leading=8.6, textColor=p.muted)
        bold = fonts.SANS + "-Bold"
        self.topics = [ParagraphStyle(f"topic{i}", base, fontName=bold, fontSize=9.5, leading=11.5,
                                      textColor=ink, backColor=band, leftIndent=3, rightIndent=3,
                                      borderPadding=(2, 3, 2.5, 3), spaceBefore=9, spaceAfter=4,
                                      keepWithNext=1)
                       for i, (band, ink) in enumerate(p.tints)]
        self.sections = [ParagraphStyle(f"section{i}", base, fontName=bold, fontSize=8.2,
                                        leading=9.8, textColor=ink, spaceBefore=5, spaceAfter=0.5,
                                        keepWithNext=1)
                         for i, (_, ink) in enumerate(p.tints)]
        self._lists: dict[tuple[str, int], ParagraphStyle] = {}

    def listed(self, role: ParagraphStyle, depth: int) -> ParagraphStyle:
        """``role`` indented for a list item or block quote at nesting ``depth`` (1 = top level)."""
        key = (role.name, depth)
        style = self._lists.get(key)
        if style is None:
            indent = role.leftIndent + depth * LIST_INDENT
            style = ParagraphStyle(f"{role.name}-l{depth}", role, leftIndent=indent,
                                   bulletIndent=indent - LIST_INDENT + 1.5,
                                   bulletFontSize=role.fontSize, bulletColor=role.textColor,
                                   spaceAfter=0.6)
            self._lists[key] = style
        return style

    def topic(self, index: int) -> ParagraphStyle:
        """Band style of the ``index``-th topic (the tints cycle)."""
        return self.topics[index % len(self.topics)]

    def section(self, index: int) -> ParagraphStyle:
        """Heading style of a section in the ``index``-th topic."""
        return self.sections[index % len(self.sections)]


@cache
def styles(grayscale: bool) -> Styles:
    """The shared styles of a colour mode, made on first use."""
    return Styles(grayscale)
