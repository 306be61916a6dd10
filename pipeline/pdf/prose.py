"""Markdown prose (``q``, ``a``, ``more``, the description) → reportlab paragraph markup.

We walk markup.parse()'s tokens ourselves rather than feeding HTML to reportlab: its paragraph
parser understands only a few tags, and every piece of source text must arrive escaped so
that nothing an author writes (``<b>``, ``&``, ``{{Front}}``) can become markup. The result is
a tuple of :class:`Block` specs, plain data cached by text; the writer turns them into
flowables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

from markdown_it.token import Token

from .. import fonts, markup

_LINKABLE = ("http://", "https://")
"""Only web links become clickable; anything else (mailto:) stays plain text."""
_BULLETS = ("\u2022", "\u2013")
"""Bullet per list depth: a bullet, then an en dash, alternating, so nesting shows in grayscale."""


@dataclass(frozen=True)
class Block:
    """One paragraph-level piece of prose."""

    kind: str
    """``para``, ``table`` or ``code`` (fenced code: validation forbids it, but it would render)."""
    markup: str = ""
    """Paragraph markup (``para``), or the raw source text (``code``)."""
    depth: int = 0
    """List / block-quote nesting; 0 = not indented."""
    bullet: str | None = None
    """Bullet or number drawn in the hanging indent (first paragraph of a list item only)."""
    rows: tuple[tuple[str, ...], ...] = ()
    """Cell markup per row (``table``); the first row is the header when ``header``."""
    header: bool = False


_TAGS = {"strong_open": "<b>", "strong_close": "</b>", "em_open": "<i>", "em_close": "</i>",
         "s_open": "<strike>", "s_close": "</strike>"}
"""Inline markdown emphasis → reportlab paragraph tags (the faces come from the family)."""


def inline(children: Sequence[Token], link_color: str | None = None) -> str:
    """Paragraph markup of an inline token run; all text is XML-escaped.

    Web links become clickable, tinted ``link_color`` when given (the text says what it is, so
    a grayscale print loses nothing).
    """
    out: list[str] = []
    links: list[bool] = []  # per open link: did it become a <link> tag?
    for tok in children:
        kind = tok.type
        if kind == "text":
            out.append(escape(tok.content))
        elif kind == "code_inline":
            out.append(_code(tok.content))
        elif kind == "softbreak":
            out.append(" ")
        elif kind == "hardbreak":
            out.append("<br/>")
        elif kind in _TAGS:
            out.append(_TAGS[kind])
        elif kind == "link_open":
            href = str(tok.attrs.get("href", ""))
            linkable = href.lower().startswith(_LINKABLE)
            links.append(linkable)
            if linkable:
                color = f' color="{link_color}"' if link_color else ""
                out.append(f"<link href={quoteattr(href)}{color}>")
        elif kind == "link_close":
            if links and links.pop():
                out.append("</link>")
        else:  # html_inline, image (its alt text) and anything new: shown as the text it is
            out.append(escape(tok.content))
    return "".join(out)


def _code(text: str) -> str:
    """Inline code in the mono family; characters only the sans face has stay in sans."""
    covered = fonts.coverage(fonts.MONO)
    if all(ord(ch) in covered for ch in text):
        return f'<font face="{fonts.MONO}">{escape(text)}</font>'
    parts = []
    for ch in text:
        face = fonts.MONO if ord(ch) in covered else fonts.SANS
        parts.append(f'<font face="{face}">{escape(ch)}</font>')
    return "".join(parts)


@lru_cache(maxsize=8192)
def blocks(text: str, link_color: str | None = None) -> tuple[Block, ...]:
    """The paragraphs, list items and tables of a markdown text, in order (cached by text)."""
    out: list[Block] = []
    lists: list[str | None] = []  # per open list: its bullet, or None for an ordered list
    depth = 0
    pending: str | None = None  # bullet waiting for the item's first paragraph
    table: list[tuple[str, ...]] | None = None
    row: list[str] = []
    header = False
    tokens = markup.parse(text)
    for i, tok in enumerate(tokens):
        kind = tok.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            bullet = _BULLETS[len(lists) % len(_BULLETS)]
            lists.append(bullet if kind == "bullet_list_open" else None)
            depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            depth -= 1
        elif kind == "list_item_open":
            pending = lists[-1] if lists and lists[-1] else f"{tok.info or '1'}."
        elif kind == "blockquote_open":
            depth += 1
        elif kind == "blockquote_close":
            depth -= 1
        elif kind == "inline" and table is not None:
            row.append(inline(tok.children or [], link_color))
        elif kind == "inline":
            body = inline(tok.children or [], link_color)
            if tokens[i - 1].type == "heading_open":
                body = f"<b>{body}</b>"
            out.append(Block("para", body, depth, pending))
            pending = None
        elif kind == "table_open":
            table, header = [], False
        elif kind == "thead_open":
            header = True
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and table is not None:
            table.append(tuple(row))
        elif kind == "table_close" and table is not None:
            out.append(Block("table", depth=depth, rows=tuple(table), header=header))
            table = None
        elif kind in ("fence", "code_block"):
            out.append(Block("code", tok.content, depth))
        elif kind == "html_block":
            out.append(Block("para", escape(tok.content.strip()), depth, pending))
            pending = None
    return tuple(out)


@lru_cache(maxsize=65536)
def line(text: str, link_color: str | None = None) -> str:
    """Markup of a one-line markdown text (a question, a title): its paragraphs joined by spaces."""
    return " ".join(b.markup for b in blocks(text, link_color) if b.kind == "para")
