"""Render a card's markdown and code to the HTML every HTML output shares (Anki, preview).

Rendering is pure and keyed by content, so results are cached, in memory and (during a build)
on disk: rebuilding after a one-card edit re-renders one card.
"""

from __future__ import annotations

import html
from dataclasses import astuple, dataclass
from functools import lru_cache

from . import highlight, markup
from .cache import Store, key
from .model import Card, CodeBlock


@dataclass(frozen=True)
class RenderedCard:
    """The HTML fragments of one card."""

    question: str
    """Inline HTML of the question."""
    answer: str
    """HTML of the crisp answer."""
    code: str
    """HTML of all code blocks (empty when there is none)."""
    more: str
    """HTML of the deeper answer (empty when there is none)."""
    plain_question: str
    """The question as plain text (Anki's sort field, search)."""


@lru_cache(maxsize=65536)
def code_html(block: CodeBlock) -> str:
    """One highlighted code block: a language label and a ``<pre>`` with Pygments classes."""
    body = highlight.to_html(block.lang, block.src)
    label = html.escape(block.lang)
    return (f'<div class="code"><div class="lang">{label}</div>'
            f'<pre class="{highlight.CSS_CLASS}"><code>{body}</code></pre></div>')


_store: Store | None = None


def remember(store: Store | None) -> None:
    """Look cards up in ``store`` (a disk cache, see cache.py) and add new ones; None stops it."""
    global _store
    _store = store


@lru_cache(maxsize=65536)
def content_key(card: Card) -> str:
    """The cache key of ``card``'s HTML: everything :func:`render_card` reads, nothing else."""
    return key("card-html", card.q, card.a, tuple((b.lang, b.src) for b in card.code), card.more)


def render_card(card: Card) -> RenderedCard:
    """The HTML of every visible part of ``card`` (``check`` code is never rendered)."""
    store = _store
    if store is None:
        return render_plain(card)
    name = content_key(card)
    hit = store.get(name)
    if hit is not None:
        return RenderedCard(*hit)
    rendered = render_plain(card)
    store.put(name, astuple(rendered))
    return rendered


@lru_cache(maxsize=65536)
def render_plain(card: Card) -> RenderedCard:
    """:func:`render_card` without the disk cache (cached in memory)."""
    return RenderedCard(
        question=markup.to_html(card.q, inline=True).strip(),
        answer=markup.to_html(card.a).strip(),
        code="".join(code_html(block) for block in card.code),
        more=markup.to_html(card.more).strip() if card.more else "",
        plain_question=markup.plain_text(card.q),
    )
