"""Faster, exactly equivalent versions of reportlab's pure-Python hot spots.

reportlab's C accelerators live in a separate package, and with them its line breaking came out
slower here, so we replace only the four functions a profile of our sheet puts on top, each
with a version that returns the same value for every input (``tests/test_pdf.py`` checks them
against the originals): text widths, number formatting, string escaping and the ASCII85 coding
of the compressed streams. Together they are about a seventh of the PDF's time.
"""

from __future__ import annotations

import base64
from itertools import repeat
from typing import Any

from reportlab.lib import colors, rl_accel
from reportlab.pdfbase import pdfdoc, ttfonts
from reportlab.pdfgen import canvas, pathobject, textobject
from reportlab.platypus import flowables

ORIGINAL = {name: getattr(rl_accel, name) for name in
            ("instanceStringWidthTTF", "fp_str", "escapePDF", "asciiBase85Encode")}
"""reportlab's own functions, kept for the equivalence tests."""

_original_fp_str = ORIGINAL["fp_str"]
_original_escape = ORIGINAL["escapePDF"]
_original_a85 = ORIGINAL["asciiBase85Encode"]
_FP_LIMIT = 50_000
_numbers: dict[Any, str] = {}
_WIDTH_LIMIT = 50_000
_widths: dict[tuple[str, str, float], float] = {}
_ESCAPES = str.maketrans({c: ("\\%03o" % c if c < 32 or c >= 127 else "\\" + chr(c))
                          for c in range(256) if c < 32 or c >= 127 or chr(c) in "\\()"})


def string_width_ttf(font: Any, text: str | bytes, size: float, encoding: str = "utf8") -> float:
    """Width of ``text`` in a TrueType font: the same sum as reportlab's, each word measured once.

    Line breaking measures every word of every paragraph, and words repeat a lot.
    """
    if not isinstance(text, str):
        text = text.decode(encoding or "utf8")
    key = (font.fontName, text, size)
    width = _widths.get(key)
    if width is None:
        face = font.face
        width = 0.001 * size * sum(map(face.charWidths.get, map(ord, text), repeat(face.defaultWidth)))
        if len(_widths) < _WIDTH_LIMIT:
            _widths[key] = width
    return width


def fp_str(*args: Any) -> str:
    """Numbers as PDF operands, as reportlab formats them; each value formatted once per process."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    out = []
    for value in args:
        try:
            text = _numbers.get(value)
        except TypeError:  # unhashable: not a number reportlab can format either
            return str(_original_fp_str(*args))
        if text is None:
            text = _original_fp_str(value)
            if len(_numbers) < _FP_LIMIT:
                _numbers[value] = text
        out.append(text)
    return " ".join(out)


def escape_pdf(text: str | bytes) -> str:
    """``text`` escaped for a PDF string literal, as reportlab escapes it."""
    if isinstance(text, (bytes, bytearray)):
        return bytes(text).decode("latin-1").translate(_ESCAPES)
    if not text.isascii() and max(text) > "\xff":
        return str(_original_escape(text))  # reportlab raises for these: let it
    return text.translate(_ESCAPES)


def ascii_base85(data: str | bytes) -> str:
    """``data`` in ASCII85 with the ``~>`` end mark, as reportlab codes it (zeros as ``z``)."""
    if isinstance(data, (bytes, bytearray)):
        return base64.a85encode(bytes(data)).decode("latin-1") + "~>"
    return str(_original_a85(data))


_PATCHES = {
    "instanceStringWidthTTF": (string_width_ttf, (ttfonts,)),
    "fp_str": (fp_str, (canvas, textobject, pathobject, pdfdoc, ttfonts, colors, flowables)),
    "escapePDF": (escape_pdf, (canvas, pdfdoc)),
    "asciiBase85Encode": (ascii_base85, (pdfdoc,)),
}


ENABLED = True
"""Whether :func:`install` installs (the tests turn it off to build with reportlab's own)."""


def install() -> None:
    """Use the faster versions in the reportlab modules the sheet goes through (idempotent)."""
    _set(lambda name, function: function if ENABLED else ORIGINAL[name])


def restore() -> None:
    """Put reportlab's own functions back."""
    _set(lambda name, function: ORIGINAL[name])


def _set(choose: Any) -> None:
    for name, (function, modules) in _PATCHES.items():
        for module in modules:
            if hasattr(module, name):
                setattr(module, name, choose(name, function))
