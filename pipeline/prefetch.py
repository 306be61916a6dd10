"""Validate and render the deck's last cards in a second process while this one loads it.

Validation parses every prose field and rendering highlights every code block: most of an
.apkg build, and the part of a full build before the PDF can start. Both are pure functions
of a card's text and are looked up by content (``markup.remember``, ``render.remember``), so a
helper process can compute them ahead for cards this process has not reached yet. The helper
reads the source itself (YAML is the cheap part), works from the last card backwards and sends
what it has every few cards; this process picks that up whenever a lookup misses, and the two
meet in the middle. The helper only ever supplies cache entries: whatever it does or fails to
do, the build computes the same outputs, at worst by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from pathlib import Path
from typing import Any

from . import fork, highlight, markup, render
from .cache import Store, key
from .model import Card, CodeBlock
from .yamlsource import Map, Seq, read

CHUNK = 12
"""Cards per message: small enough that this process finds results soon after they exist."""


def start(source: Path, valid: Store, html: Store) -> fork.Job | None:
    """Start the helper for ``source`` and let the stores pick up its results (None: no helper).

    No helper where forking is not possible, nor when the HTML cache already has entries (a
    rebuild finds nearly everything there).
    """
    if not fork.can_fork() or len(html):
        return None
    job = fork.start(_work, source)

    def refill() -> None:
        for found_valid, found_html in job.poll():
            for name in found_valid:
                valid.offer(name, True)
            for name, fields in found_html:
                html.offer(name, fields)

    valid.refill = html.refill = refill
    return job


def stop(job: fork.Job | None, *stores: Store) -> None:
    """Take what the helper has sent so far, then stop it."""
    if job is None:
        return
    for store in stores:
        if store.refill is not None:
            store.refill()
            break
    for store in stores:
        store.refill = None
    job.cancel()


def _work(receive: Callable[[], Any], source: Path) -> None:  # pragma: no cover - in the child
    """The helper: every card's validation and HTML, last card first, sent every CHUNK cards."""
    try:
        root = read(source.read_text(encoding="utf-8"), str(source))
    except Exception:  # noqa: BLE001 - the build itself reports a bad source
        return
    valid: list[str] = []
    html: list[tuple[str, tuple[str, ...]]] = []
    for done, node in enumerate(reversed(list(_cards(root))), 1):
        try:
            _card(node, valid, html)
        except Exception:  # noqa: BLE001 - an invalid card: the build reports it
            pass
        if done % CHUNK == 0:
            fork.emit((valid, html))
            valid, html = [], []
    fork.emit((valid, html))


def _items(node: Any, name: str) -> list[Any]:
    value = node.values.get(name) if isinstance(node, Map) else None
    return value.items if isinstance(value, Seq) else []


def _cards(root: Any) -> list[Map]:
    return [card for topic in _items(root, "topics") for section in _items(topic, "sections")
            for card in _items(section, "cards") if isinstance(card, Map)]


def _card(node: Map, valid: list[str], html: list[tuple[str, tuple[str, ...]]]) -> None:
    """What load and render would compute for this card, as the keys they look up."""
    values = node.values
    q, a, more = values.get("q"), values.get("a"), values.get("more")
    for text in (q, a, more):
        if isinstance(text, str) and not markup.problems(text):
            valid.append(key("prose-valid", text))
    code = values.get("code")
    blocks = [b for b in (code.items if isinstance(code, Seq) else [code]) if isinstance(b, Map)]
    pairs = [(b.values.get("lang"), b.values.get("src")) for b in blocks]
    if not (isinstance(q, str) and isinstance(a, str) and (more is None or isinstance(more, str))):
        return
    if not all(isinstance(lang, str) and isinstance(src, str) and highlight.is_known_language(lang)
               for lang, src in pairs):
        return
    # Only the fields render reads matter (the key is made of them); the rest are placeholders.
    card = Card(id="", q=q.strip(), a=a, more=more, level=None, tags=(), sources=(), line=0,
                code=tuple(CodeBlock(lang, src, True, None, 0, None) for lang, src in pairs))
    html.append((render.content_key(card), astuple(render.render_plain(card))))
