"""The vendored fonts: the precomputed coverage is what the TTF files really contain."""

from __future__ import annotations

import pytest

from pipeline import fonts


@pytest.mark.parametrize("family", [fonts.SANS, fonts.MONO])
def test_precomputed_coverage_matches_the_fonts(family: str) -> None:
    assert fonts.coverage(family) == fonts.measured_coverage(family)


def test_missing_characters() -> None:
    assert fonts.missing("→ ≥ “ ” — é λ …", fonts.SANS) == []
    assert fonts.missing("a 漢 b 漢 字", fonts.SANS) == ["漢", "字"]
    assert fonts.missing("tab\tand\nnewline", fonts.MONO) == []


def test_licence_is_vendored_with_the_fonts() -> None:
    assert (fonts.FONT_DIR / "LICENSE-DejaVu.txt").read_text().count("Bitstream") >= 1
    for family in (fonts.SANS, fonts.MONO):
        for suffix in ("", "-Bold", "-Oblique", "-BoldOblique"):
            assert (fonts.FONT_DIR / f"{family}{suffix}.ttf").exists()
