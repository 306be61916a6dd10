"""Markdown for the prose fields (``q``, ``a``, ``more``): parse once, render per output.

One markdown-it parser produces the token stream. Validation inspects it (raw HTML, fenced code,
link schemes, images); :func:`to_html` renders it for Anki with every raw-HTML token escaped,
so nothing a source says can become markup; the PDF writer walks the same tokens itself.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

from .cache import Store, key

ALLOWED_LINK_SCHEMES = ("http://", "https://", "mailto:")
"""Links may point only here: no ``javascript:``, ``file:``, ``data:`` or relative paths."""


class _SafeHTMLRenderer(RendererHTML):
    """CommonMark HTML, except that raw HTML in the source is shown as text, never as markup."""

    def html_inline(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return html.escape(tokens[idx].content)

    def link_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        # Validation rejects other schemes; this is the second lock on the door. The tokens are
        # shared through parse()'s cache, so drop the href from a copy, never from the token.
        token = tokens[idx]
        href = str(token.attrs.get("href", ""))
        if not href.lower().startswith(ALLOWED_LINK_SCHEMES):
            token = token.copy(attrs={k: v for k, v in token.attrs.items() if k != "href"})
        return str(self.renderToken([token], 0, options, env))

    def html_block(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "<p>" + html.escape(tokens[idx].content).rstrip("\n") + "</p>\n"


def _make_parser() -> MarkdownIt:
    # html=True so that raw HTML arrives as its own tokens: validation can name it and the
    # renderer escapes it. linkify stays off: a bare URL in prose is text, not a link.
    md = MarkdownIt("commonmark", {"html": True, "typographer": False}, renderer_cls=_SafeHTMLRenderer)
    # Accept every link target while parsing, so that validation sees (and names) a
    # javascript: link instead of markdown-it quietly leaving it as text.
    md.validateLink = lambda url: True
    md.enable("table")
    md.enable("strikethrough")
    return md


_parser = _make_parser()


def _parse(text: str) -> tuple[Token, ...]:
    return tuple(_parser.parse(text))


parse = lru_cache(maxsize=16384)(_parse)
"""The markdown-it token stream of ``text`` (cached: validation and rendering parse once).

16,384 texts (5,000 cards) at ~4 KB each: beyond that, the memory is worth more than the
parsing, and a build's later passes re-parse what they need."""


def stop_caching() -> None:
    """Parse afresh from now on, in a process that uses each text once (the PDF worker)."""
    global parse
    parse = _parse  # type: ignore[assignment]


def to_html(text: str, inline: bool = False) -> str:
    """Render markdown to HTML; ``inline`` drops the ``<p>`` of a single paragraph."""
    tokens = list(parse(text))
    if inline and len(tokens) == 3 and tokens[0].type == "paragraph_open":
        return str(_parser.renderer.render(tokens[1].children or [], _parser.options, {}))
    return str(_parser.renderer.render(tokens, _parser.options, {}))


def walk(tokens: Sequence[Token]) -> Iterator[Token]:
    """Every token, block and inline, depth first."""
    for token in tokens:
        yield token
        if token.children:
            yield from walk(token.children)


_valid: Store | None = None


def remember(store: Store | None) -> None:
    """Remember texts found valid in ``store`` (a disk cache, see cache.py); None stops it.

    Validation parses every prose field; a text that passed before passes again, so a
    rebuild parses only what changed (rendering is cached separately).
    """
    global _valid
    _valid = store


def problems(text: str) -> list[str]:
    """What in ``text`` the source format forbids; each entry is a sentence for the author."""
    store = _valid
    name = key("prose-valid", text) if store is not None else ""
    if store is not None and store.get(name):
        return []
    found = _problems(text)
    if store is not None and not found:
        store.put(name, True)
    return found


def _problems(text: str) -> list[str]:
    found: list[str] = []
    for token in walk(parse(text)):
        if token.type in ("html_inline", "html_block"):
            snippet = token.content.strip().splitlines()[0][:40]
            found.append(f"raw HTML is not allowed in prose, found {snippet!r}; "
                         "put tags in backticks (`<div>`)")
        elif token.type in ("fence", "code_block"):
            found.append("code blocks are not allowed in prose; put code under 'code:'")
        elif token.type == "image":
            found.append("images are not supported (a card must not load anything remote)")
        elif token.type == "link_open":
            href = str(token.attrs.get("href", ""))
            if not href.lower().startswith(ALLOWED_LINK_SCHEMES):
                found.append(f"link target {href!r} is not allowed; use http(s):// or mailto:")
    return found


def plain_text(text: str) -> str:
    """The visible text of markdown (no markup), for sort fields, search and extraction tests."""
    parts: list[str] = []
    for token in walk(parse(text)):
        if token.type in ("text", "code_inline", "html_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.type in ("paragraph_close", "list_item_close", "th_close", "td_close", "html_block"):
            if token.type == "html_block":
                parts.append(token.content)
            parts.append(" ")
    return " ".join("".join(parts).split())
