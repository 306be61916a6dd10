"""Syntax highlighting: the one place that knows lexers and colour styles.

Both writers use it: the Anki side gets HTML with CSS classes (styled by the note type's CSS, light
and ``.nightMode`` dark), the PDF side gets the raw token stream and the style to colour it with.
Lexers and formatters are created once and reused; creating them per block doubles the cost.
"""

from __future__ import annotations

import difflib
from functools import cache, lru_cache

from pygments import lex
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_all_lexers, get_lexer_by_name
from pygments.style import StyleMeta
from pygments.styles import get_style_by_name
from pygments.token import _TokenType
from pygments.util import ClassNotFound

LIGHT_STYLE = "xcode"
"""Light code style; every coloured token has at least 5:1 contrast on its background (WCAG AA)."""
DARK_STYLE = "monokai"
"""Dark code style for Anki's night mode; every coloured token has at least 4.5:1 contrast."""
PRINT_GRAY_STYLE = "bw"
"""Print-safe style for ``--grayscale``: bold and italic only, no colour."""
CSS_CLASS = "hl"
"""Class of the ``<div>`` around highlighted code."""


@cache
def lexer_for(lang: str) -> Lexer:
    """The Pygments lexer for a language alias; raises ``ClassNotFound`` for unknown aliases."""
    return get_lexer_by_name(lang, stripnl=False, ensurenl=False)


def is_known_language(lang: str) -> bool:
    """Whether Pygments has a lexer for ``lang``."""
    try:
        lexer_for(lang)
    except ClassNotFound:
        return False
    return True


def suggest_language(lang: str) -> str | None:
    """The closest known lexer alias to ``lang``, for a did-you-mean."""
    aliases = [alias for _, names, _, _ in get_all_lexers() for alias in names]
    close = difflib.get_close_matches(lang.lower(), aliases, n=1, cutoff=0.6)
    return close[0] if close else None


@lru_cache(maxsize=2048)
def tokens(lang: str, src: str) -> tuple[tuple[_TokenType, str], ...]:
    """The Pygments token stream of ``src`` (``src`` is reproduced exactly by the values).

    Cached: lexing is the costliest step of both writers, and the Anki HTML and the PDF lines
    of a block lex the same text (both strip the trailing newline), so it is lexed once. The
    build's parent process renders every block's HTML, then records the PDF drawing of the
    deck's last cards (see build.SPLIT): it is those blocks that must still be here, and a
    token stream weighs ~16 KB, so the cache holds the last 2,048 blocks, not the deck.
    """
    return tuple(lex(src, lexer_for(lang)))


@cache
def _html_formatter() -> HtmlFormatter:
    return HtmlFormatter(cssclass=CSS_CLASS, nowrap=True)


def to_html(lang: str, src: str) -> str:
    """``src`` as HTML spans with Pygments CSS classes (no wrapper; the caller adds ``<pre>``)."""
    from pygments import format as pygments_format

    return pygments_format(tokens(lang, src.rstrip("\n")), _html_formatter())


def style(name: str) -> StyleMeta:
    """A Pygments style class by name."""
    return get_style_by_name(name)


def css() -> str:
    """CSS for highlighted code: the light style, and the dark one scoped under ``.nightMode``."""
    light = HtmlFormatter(style=LIGHT_STYLE, cssclass=CSS_CLASS)
    dark = HtmlFormatter(style=DARK_STYLE, cssclass=CSS_CLASS)
    light_rules = light.get_style_defs(f".{CSS_CLASS}")
    dark_rules = dark.get_style_defs(f".nightMode .{CSS_CLASS}")
    # Pygments emits a few global rules (line numbers) we do not use; keep the scoped ones only.
    keep = [r for r in (light_rules + "\n" + dark_rules).splitlines() if f".{CSS_CLASS}" in r]
    return "\n".join(keep) + "\n"
