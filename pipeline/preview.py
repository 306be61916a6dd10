"""The HTML preview: every card's front and back, as Anki renders them, in one offline page.

The cards are rendered from exactly what the ``.apkg`` carries (the note's field HTML, the
note type's templates and CSS), so the preview can be trusted to show what a reviewer sees.
Anki fills the templates itself; :func:`render_template` does the same for the few template
forms our note type uses and refuses any other form, so a template change it does not
understand fails loudly instead of previewing something Anki would not show.

The page is a single file with no external resources. A Content-Security-Policy in the page
allows only its own script (by hash) and inline styles: even a card that somehow carried
markup could neither run script nor load anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from string import Template

from . import anki, atomic
from .load import load
from .markup import plain_text
from .model import Deck, Topic

_TEMPLATES = Path(__file__).with_name("templates")


# -- Anki's template language, the part our note type uses ------------------------------------


class TemplateError(ValueError):
    """A card template uses a form the preview does not render, or is malformed."""


_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# Anki's own rule (rslib template.rs, field_is_empty): a field is empty when it holds only
# ASCII whitespace and <br>/<div> tags, so "<br>" hides a {{#Field}} section but "&nbsp;" does not.
_EMPTY_FIELD = re.compile(r"(?:[ \t\n\x0b\x0c\r]|</?(?:br|div) ?/?>)*", re.IGNORECASE)
FRONT_SIDE = "FrontSide"


@dataclass(frozen=True)
class _Section:
    """A ``{{#Field}}...{{/Field}}`` block: its children render only when the field is non-empty."""

    name: str
    children: tuple[str | _Field | _Section, ...]


@dataclass(frozen=True)
class _Field:
    """A ``{{Field}}`` (or ``{{FrontSide}}``) replacement."""

    name: str


_Node = str | _Field | _Section


@cache
def _parse(template: str) -> tuple[_Node, ...]:
    # A stack of (open field, children so far); the bottom entry is the template itself.
    stack: list[tuple[str | None, list[_Node]]] = [(None, [])]
    position = 0
    for match in _TAG.finditer(template):
        if match.start() > position:
            stack[-1][1].append(template[position:match.start()])
        position = match.end()
        key = match.group(1).strip()
        name = key[1:].strip()
        if key[:1] in ("#", "/") and not name:
            raise TemplateError(f"{match.group(0)!r} names no field")
        if key.startswith("#"):
            stack.append((name, []))
        elif key.startswith("/"):
            opened, children = stack.pop() if len(stack) > 1 else (None, [])
            if opened != name:
                where = f"the open {{{{#{opened}}}}}" if opened else "any open section"
                raise TemplateError(f"{{{{/{name}}}}} does not close {where}")
            stack[-1][1].append(_Section(name, tuple(children)))
        elif not key or key[0] in "^!=>" or ":" in key:
            raise TemplateError(f"the preview does not render the template form {match.group(0)!r}")
        else:
            stack[-1][1].append(_Field(key))
    if position < len(template):
        stack[-1][1].append(template[position:])
    if len(stack) > 1:
        raise TemplateError(f"{{{{#{stack[-1][0]}}}}} is never closed")
    return tuple(stack[0][1])


def field_is_empty(text: str) -> bool:
    """Whether Anki treats a field as empty (only whitespace, ``<br>`` and ``<div>`` tags)."""
    return _EMPTY_FIELD.fullmatch(text) is not None


def render_template(template: str, fields: Mapping[str, str], front_side: str | None = None) -> str:
    """Fill an Anki card template the way Anki does.

    Supports ``{{Field}}`` (the field's HTML, inserted as is), ``{{#Field}}...{{/Field}}`` (kept
    only when the field is not empty, nestable) and, on the back, ``{{FrontSide}}`` (the
    rendered front, passed as ``front_side``). Any other form, an unknown field or an
    unbalanced section raises :class:`TemplateError`. Field text is never parsed again, so a
    field containing ``{{Other}}`` shows those braces, as in Anki.
    """
    out: list[str] = []

    def value(name: str) -> str:
        if name == FRONT_SIDE:
            if front_side is None:
                raise TemplateError("{{FrontSide}} is only available on the back template")
            return front_side
        if name not in fields:
            raise TemplateError(f"the template uses {{{{{name}}}}}, but the note has no field "
                                f"{name!r}")
        return fields[name]

    def emit(nodes: tuple[_Node, ...]) -> None:
        for node in nodes:
            if isinstance(node, str):
                out.append(node)
            elif isinstance(node, _Field):
                out.append(value(node.name))
            elif not field_is_empty(value(node.name)):
                emit(node.children)

    emit(_parse(template))
    return "".join(out)


@dataclass(frozen=True)
class CardSides:
    """The front and back HTML of one card, as Anki's reviewer shows them (without the CSS)."""

    front: str
    back: str


def card_sides(spec: Mapping[str, str], note: anki.NoteData) -> CardSides:
    """Render ``note`` through the note type ``spec`` (:func:`pipeline.anki.note_type`)."""
    fields = dict(zip(anki.FIELDS, note.fields, strict=True))
    front = render_template(spec["front"], fields)
    return CardSides(front, render_template(spec["back"], fields, front_side=front))


# -- the page ---------------------------------------------------------------------------------


@cache
def _asset(name: str) -> str:
    return (_TEMPLATES / name).read_text(encoding="utf-8")


def _e(text: str) -> str:
    """Escape text (and attribute values) that is not our own markup."""
    return html.escape(text, quote=True)


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _search_text(note: anki.NoteData) -> str:
    # What the search box matches: question, answer (crisp and deeper) and tags, lowercased once
    # here so that the page's script only lowercases the query.
    card = note.card
    parts = [plain_text(card.q), plain_text(card.a), plain_text(card.more or ""), *card.tags]
    return " ".join(" ".join(parts).split()).lower()


def _card_html(spec: Mapping[str, str], note: anki.NoteData) -> str:
    card = note.card
    sides = card_sides(spec, note)
    anchor = _e(f"c-{card.id}")
    level = f'<span class="pv-level">{_e(card.level)}</span>' if card.level else ""
    chips = "".join(f'<span class="pv-tag">{_e(tag)}</span>' for tag in card.tags)
    # The Anki side is exactly the rendered template inside an element with Anki's card classes.
    screens = "".join(
        f'<div class="pv-side"><div class="pv-side-label">{label}</div>'
        f'<div class="pv-screen"><div class="card card1">{body}</div></div></div>'
        for label, body in (("Front", sides.front), ("Back", sides.back)))
    return (f'<article class="pv-card" id="{anchor}" data-search="{_e(_search_text(note))}">'
            f'<header class="pv-card-head"><a class="pv-card-id" href="#{anchor}">{_e(card.id)}</a>'
            f'{level}{chips}</header><div class="pv-sides">{screens}</div></article>\n')


def _topic_html(spec: Mapping[str, str], notes: Mapping[str, anki.NoteData],
                topic: Topic) -> tuple[str, str]:
    """The contents entry and the body section of one topic."""
    anchor = _e(f"t-{topic.id}")
    title = _e(topic.title)
    count = sum(len(s.cards) for s in topic.sections)
    nav = [f'<li class="pv-nav-topic" data-target="{anchor}"><a href="#{anchor}">{title}</a> '
           f'<span class="pv-n">{count}</span><ul>']
    body = [f'<section class="pv-topic" id="{anchor}"><h2>{title}</h2>\n']
    for section in topic.sections:
        # "--" cannot occur inside a slug, so topic and section ids never collide.
        target = _e(f"s-{topic.id}--{section.id}")
        nav.append(f'<li data-target="{target}"><a href="#{target}">{_e(section.title)}</a> '
                   f'<span class="pv-n">{len(section.cards)}</span></li>')
        body.append(f'<section class="pv-section" id="{target}"><h3><span class="pv-crumb">'
                    f"{title} ›</span> {_e(section.title)}</h3>\n")
        body.extend(_card_html(spec, notes[card.id]) for card in section.cards)
        body.append("</section>\n")
    nav.append("</ul></li>")
    body.append("</section>\n")
    return "".join(nav), "".join(body)


def page(deck: Deck) -> str:
    """The complete preview page of ``deck`` (one self-contained HTML document)."""
    spec = anki.note_type(deck)
    notes = {note.card.id: note for note in anki.all_notes(deck)}
    parts = [_topic_html(spec, notes, topic) for topic in deck.topics]
    script = _asset("preview.js")
    return Template(_asset("preview.html")).substitute(
        title=_e(deck.title),
        subtitle=_e(f"Answers target {deck.targets}") if deck.targets else "",
        card_css=spec["css"],
        page_css=_asset("preview.css"),
        script=script,
        script_hash=_csp_hash(script),
        cards=_plural(deck.card_count, "card"),
        topics=_plural(len(deck.topics), "topic"),
        nav="".join(nav for nav, _ in parts),
        body="".join(body for _, body in parts),
    )


@dataclass(frozen=True)
class PreviewResult:
    """What :func:`write` produced, for the summary the CLI prints."""

    deck: Deck = field(repr=False)
    path: Path
    cards: int
    sections: int
    seconds: float


def write(deck: Deck, out: Path, started: float | None = None) -> PreviewResult:
    """Write ``out/<deck id>.html`` atomically; raises :class:`~pipeline.errors.OutputError`.

    ``started`` (a :func:`time.perf_counter` value) is when the work began, for the summary.
    """
    started = time.perf_counter() if started is None else started
    text = page(deck)
    atomic.prepare_folder(out)
    final = out / f"{deck.id}.html"
    with atomic.Staging() as staging:
        staging.write_text(final, text)
        staging.commit()
    sections = sum(len(t.sections) for t in deck.topics)
    return PreviewResult(deck, final, deck.card_count, sections, time.perf_counter() - started)


def preview(source: Path, out: Path) -> PreviewResult:
    """Load and validate ``source``, then write its preview into ``out`` (the lock is untouched)."""
    started = time.perf_counter()
    return write(load(source), out, started)
