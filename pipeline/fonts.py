"""The fonts the cheat-sheet embeds, and which characters they can draw.

We vendor DejaVu Sans Condensed (prose) and DejaVu Sans Mono (code), each in four faces, with
their licence. The 14 standard PDF fonts cannot draw arrows, Greek or most typography without
silently substituting, so validation rejects any character these faces lack, before a build.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).with_name("fonts")
"""Where the vendored TTF files and their licence live."""

SANS = "DejaVuSansCondensed"
"""Family name registered for prose."""
MONO = "DejaVuSansMono"
"""Family name registered for code."""

_FACES = {"": (False, False), "-Bold": (True, False), "-Oblique": (False, True), "-BoldOblique": (True, True)}


def _face_name(family: str, suffix: str) -> str:
    return family + suffix


@cache
def _font(family: str, suffix: str) -> TTFont:
    name = _face_name(family, suffix)
    return TTFont(name, str(FONT_DIR / f"{name}.ttf"))


@cache
def register() -> None:
    """Register both families (four faces each) with reportlab, once per process."""
    for family in (SANS, MONO):
        for suffix, (bold, italic) in _FACES.items():
            font = _font(family, suffix)
            pdfmetrics.registerFont(font)
            addMapping(family, int(bold), int(italic), font.fontName)


@cache
def coverage(family: str) -> frozenset[int]:
    """Code points every face of ``family`` can draw (a character must work bold and italic too)."""
    maps = [set(_font(family, suffix).face.charToGlyph) for suffix in _FACES]
    return frozenset(set.intersection(*maps))


# Characters that are layout, not glyphs: they never need drawing.
_LAYOUT = frozenset(map(ord, "\n\r\t"))


def missing(text: str, family: str) -> list[str]:
    """Characters of ``text`` the family cannot draw, in order of first appearance."""
    covered = coverage(family)
    seen: dict[str, None] = {}
    for ch in text:
        code = ord(ch)
        if code not in covered and code not in _LAYOUT:
            seen.setdefault(ch)
    return list(seen)
