"""The fonts the cheat-sheet embeds, and which characters they can draw.

We vendor DejaVu Sans Condensed (prose) and DejaVu Sans Mono (code), each in four faces, with
their licence. The 14 standard PDF fonts cannot draw arrows, Greek or most typography without
silently substituting, so validation rejects any character these faces lack, before a build.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    # reportlab is imported here, not at the top: validation needs only coverage.json.
    from reportlab.pdfbase.ttfonts import TTFont

    name = _face_name(family, suffix)
    return TTFont(name, str(FONT_DIR / f"{name}.ttf"))


@cache
def register() -> None:
    """Register both families (four faces each) with reportlab, once per process."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics

    for family in (SANS, MONO):
        for suffix, (bold, italic) in _FACES.items():
            font = _font(family, suffix)
            pdfmetrics.registerFont(font)
            addMapping(family, int(bold), int(italic), font.fontName)


COVERAGE_FILE = FONT_DIR / "coverage.json"
"""Precomputed coverage (code point ranges per family): parsing eight TTF files costs ~0.15 s per
run. ``tests/test_fonts.py`` proves it equals what the fonts really contain."""


def measured_coverage(family: str) -> frozenset[int]:
    """Code points every face of ``family`` can draw, read from the TTF files themselves."""
    maps = [set(_font(family, suffix).face.charToGlyph) for suffix in _FACES]
    return frozenset(set.intersection(*maps))


def as_ranges(points: frozenset[int]) -> list[list[int]]:
    """``points`` as sorted inclusive ``[first, last]`` ranges (compact JSON)."""
    ranges: list[list[int]] = []
    for point in sorted(points):
        if ranges and point == ranges[-1][1] + 1:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    return ranges


@cache
def coverage(family: str) -> frozenset[int]:
    """Code points every face of ``family`` can draw (a character must work bold and italic too)."""
    ranges = json.loads(COVERAGE_FILE.read_text(encoding="utf-8"))[family]
    return frozenset(p for first, last in ranges for p in range(first, last + 1))


# Characters that are layout, not glyphs: they never need drawing.
_LAYOUT = frozenset(map(ord, "\n\r\t"))


def missing(text: str, family: str) -> list[str]:
    """Characters of ``text`` the family cannot draw, in order of first appearance."""
    covered = coverage(family)
    if not {ord(ch) for ch in set(text)} - covered - _LAYOUT:  # the common case: all drawable
        return []
    seen: dict[str, None] = {}
    for ch in text:
        code = ord(ch)
        if code not in covered and code not in _LAYOUT:
            seen.setdefault(ch)
    return list(seen)


if __name__ == "__main__":  # regenerate coverage.json: python -m pipeline.fonts
    data = {family: as_ranges(measured_coverage(family)) for family in (SANS, MONO)}
    COVERAGE_FILE.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
