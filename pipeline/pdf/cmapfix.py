"""A fix for reportlab's ToUnicode maps, so text beyond U+FFFF is extracted as itself.

reportlab writes each font subset's ToUnicode entries as ``<%04X>`` of the code point. Above
U+FFFF that gives five or six hex digits instead of the UTF-16BE surrogate pair the PDF format
requires, and readers (pypdf, pdfminer) extract such a character (DejaVu draws e.g. U+1F62A)
as garbage. Validation admits every character the fonts can draw, so the sheet must map those
too. We replace the one function that writes the map; its output is unchanged for the BMP.
"""

from __future__ import annotations

from reportlab.pdfbase import ttfonts


def _utf16_hex(code: int) -> str:
    """``code`` as UTF-16BE hex digits: four, or eight for a surrogate pair."""
    return chr(code).encode("utf-16-be", "surrogatepass").hex().upper()


def to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ``makeToUnicodeCMap`` with UTF-16BE destinations (same text below U+10000)."""
    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap", "/CIDSystemInfo",
        f"<< /Registry ({fontname})", f"/Ordering ({fontname})", "/Supplement 0", ">> def",
        f"/CMapName /{fontname} def", "/CMapType 2 def",
        "1 begincodespacerange", f"<00> <{len(subset) - 1:02X}>", "endcodespacerange",
        f"{len(subset)} beginbfchar",
        *(f"<{i:02X}> <{_utf16_hex(code)}>" for i, code in enumerate(subset)),
        "endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"])


def install() -> None:
    """Make reportlab write :func:`to_unicode_cmap` maps (idempotent; looked up per font)."""
    ttfonts.makeToUnicodeCMap = to_unicode_cmap
