"""Highlighted code → styled runs per printed line, wrapped to the column with a visible mark.

Our own small formatter over :func:`pipeline.highlight.tokens`: reportlab's ``pygments2xpre``
drops bold and italic and miscolours tokens. Each token gets its Pygments style's colour, bold
and italic, drawn later in the matching real face of the registered mono family. Lines are
wrapped here, measured with ``stringWidth``, so a line can never run into the next column and
nothing is shrunk to an unreadable size. The result is plain data (cached by content and
layout) that :class:`.flowables.CodeBox` draws without going through reportlab's paragraph
parser, which was the single largest cost of the sheet when code went in as markup.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import NamedTuple

from pygments.token import _TokenType
from reportlab.pdfbase.pdfmetrics import stringWidth

from .. import fonts, highlight
from .styles import CONTINUATION_MARK

Format = tuple[bool, bool, str | None]
"""(bold, italic, colour as ``#rrggbb`` or ``None`` for the default text colour)."""
Run = tuple[Format, str]
"""A stretch of one line in one format."""


class Line(NamedTuple):
    """One printed line: a source line, or one piece of a wrapped one."""

    runs: tuple[Run, ...]
    continued: bool
    """Whether this piece continues the line above (it then starts with the continuation mark)."""


_PLAIN: Format = (False, False, None)
_BREAK_AFTER = frozenset(" ,;([{")
"""Preferred places to wrap a long line: after a space or an opening bracket or separator."""


@cache
def _format(style_name: str, ttype: _TokenType) -> Format:
    """Bold, italic and colour of a token type in a Pygments style (inherited from parents)."""
    style = highlight.style(style_name)
    # Lexers may invent token types no style lists (YAML's Literal.Scalar.Plain): use the
    # nearest ancestor the style knows, as Pygments' own formatters do.
    while not style.styles_token(ttype) and ttype.parent is not None:
        ttype = ttype.parent
    spec = style.style_for_token(ttype)
    color = spec["color"]
    # The style's plain text colour is the sheet's text colour: leave it to the paragraph style.
    if color in (None, "", "000000"):
        color = None
    return bool(spec["bold"]), bool(spec["italic"]), f"#{color}" if color else None


@cache
def face(bold: bool, italic: bool) -> str:
    """The registered mono face for a bold/italic combination."""
    suffix = {(False, False): "", (True, False): "-Bold", (False, True): "-Oblique",
              (True, True): "-BoldOblique"}[(bold, italic)]
    return fonts.MONO + suffix


@lru_cache(maxsize=4096)
def _char_width(font: str, ch: str, size: float) -> float:
    return float(stringWidth(ch, font, size))


def _lines(lang: str, src: str, style_name: str) -> list[list[Run]]:
    """The token stream split into lines of runs; neighbouring runs of one format are merged."""
    lines: list[list[Run]] = [[]]
    for ttype, value in highlight.tokens(lang, src):
        fmt = _format(style_name, ttype)
        for n, piece in enumerate(value.split("\n")):
            if n:
                lines.append([])
            if not piece:
                continue
            line = lines[-1]
            # Whitespace looks the same in every face (the mono faces share one advance width),
            # so it joins the previous run: fewer runs, fewer font and colour switches to draw.
            if line and (line[-1][0] == fmt or piece.isspace()):
                line[-1] = (line[-1][0], line[-1][1] + piece)
            else:
                line.append((fmt, piece))
    return lines


def _width(runs: list[Run], size: float) -> float:
    # One measurement per line: the four DejaVu Sans Mono faces share every advance width
    # (tests/test_pdf.py checks this), so the regular face measures bold and italic runs too.
    return float(stringWidth("".join(text for _, text in runs), fonts.MONO, size))


def _wrap(runs: list[Run], width: float, size: float, mark_fmt: Format) -> list[list[Run]]:
    """Split one line into pieces no wider than ``width``; continuations start with the mark."""
    if _width(runs, size) <= width:
        return [runs]
    chars = [(fmt, ch) for fmt, text in runs for ch in text]
    plain = "".join(ch for _, ch in chars)
    indent = len(plain) - len(plain.lstrip(" "))
    # The continuation lines up under the wrapped line's code, but never eats half the column.
    prefix = " " * indent + CONTINUATION_MARK + " "
    while _width([(_PLAIN, prefix)], size) > width / 2 and len(prefix) > 2:
        prefix = prefix[1:]
    prefix_width = _width([(_PLAIN, prefix)], size)
    out: list[list[Run]] = []
    start, room = 0, width
    while start < len(chars):
        end, used = start, 0.0
        while end < len(chars):
            fmt, ch = chars[end]
            w = _char_width(face(fmt[0], fmt[1]), ch, size)
            if used + w > room:
                break
            used += w
            end += 1
        if end < len(chars):
            end = max(end, start + 1)  # always make progress, even in an absurdly narrow column
            for cut in range(end, start + (end - start) // 2, -1):
                if chars[cut - 1][1] in _BREAK_AFTER:
                    end = cut
                    break
        piece = _runs(chars[start:end])
        out.append(piece if not out else [(mark_fmt, prefix), *piece])
        start = end
        while start < len(chars) and chars[start][1] == " ":
            start += 1  # the break swallows the spaces, as in prose
        room = width - prefix_width
    return out


def _runs(chars: list[tuple[Format, str]]) -> list[Run]:
    runs: list[Run] = []
    for fmt, ch in chars:
        if runs and runs[-1][0] == fmt:
            runs[-1] = (fmt, runs[-1][1] + ch)
        else:
            runs.append((fmt, ch))
    return runs


@lru_cache(maxsize=2048)
def lines(lang: str, src: str, style_name: str, width: float, size: float,
          mark_color: str) -> tuple[Line, ...]:
    """The visual lines of ``src`` highlighted in ``style_name`` and wrapped to ``width`` points.

    Cached by content and layout: the same block in the same column is formatted once.
    """
    fonts.register()  # measuring needs the faces; registering is done once per process
    mark: Format = (False, False, mark_color)
    text = src.rstrip("\n").expandtabs(4)
    out: list[Line] = []
    for runs in _lines(lang, text, style_name):
        # PEP 8's double blank lines cost a line of paper each; one blank line separates as well.
        if not any(piece.strip() for _, piece in runs):
            if out and not out[-1].runs:
                continue
            runs = []
        pieces = _wrap(runs, width, size, mark)
        out.extend(Line(tuple(piece), n > 0) for n, piece in enumerate(pieces))
    return tuple(out)
