"""The Anki writer: a validated deck and its lock → a reproducible ``.apkg``.

Identity rules (they decide whether a user's re-import updates or duplicates): the note GUID
comes from the deck id and card id; the note type id and every deck id come from slugs; the
field list and template name below are frozen forever. Modification times come from the lock.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from . import highlight
from .lock import Lock, digest
from .model import Card, Deck, Section, Topic
from .render import render_card

FIELDS = ("Question", "Answer", "Code", "More", "Topic", "Section", "Level", "CardId")
"""The note type's fields. FROZEN: released collections match the note type by these names."""
TEMPLATE_NAME = "Recall"
"""The single card template's name. FROZEN for the same reason."""
MODEL_NAME_SUFFIX = " (deck pipeline)"

_TEMPLATES = Path(__file__).with_name("templates")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def stable_id(*parts: str) -> int:
    """A deterministic Anki id in genanki's recommended range [2**30, 2**31) from slugs."""
    number = int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")
    return (1 << 30) + number % (1 << 30)


@cache
def _template(name: str) -> str:
    return (_TEMPLATES / name).read_text(encoding="utf-8")


def css() -> str:
    """The note type's CSS: card layout plus light and ``.nightMode`` code styles."""
    return _template("card.css") + "\n/* Code highlighting (Pygments) */\n" + highlight.css()


def note_type(deck: Deck) -> dict[str, Any]:
    """Fields, templates and CSS of the note type, with the hash the lock tracks."""
    spec = {"fields": list(FIELDS), "template": TEMPLATE_NAME, "front": _template("front.html"),
            "back": _template("back.html"), "css": css(), "name": deck.title + MODEL_NAME_SUFFIX}
    return {**spec, "hash": digest(spec)}


def deck_name(deck: Deck, topic: Topic | None = None, section: Section | None = None) -> str:
    """Anki deck name: ``Deck::Topic::Section`` (titles; Anki matches decks by name)."""
    return "::".join(part.title for part in (deck, topic, section) if part is not None)


def tags(deck: Deck, topic: Topic, section: Section, card: Card) -> list[str]:
    """Hierarchical tags: ``<deck>::topic::<topic>::<section>``, ``<deck>::level::..``, ``<deck>::tag::..``."""
    out = [f"{deck.id}::topic::{topic.id}::{section.id}"]
    if card.level:
        out.append(f"{deck.id}::level::{card.level}")
    out.extend(f"{deck.id}::tag::{tag}" for tag in card.tags)
    return out


@dataclass(frozen=True)
class NoteData:
    """Everything that goes into one note; its hash is what the lock compares."""

    card: Card
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str
    sort_field: str

    @property
    def hash(self) -> str:
        """Content hash over fields, tags and deck: a change to any of them must reach users.

        The CardId field is left out: it never changes for a note, and leaving it out lets the
        lock recognise a card whose id was renamed by its unchanged content.
        """
        return digest([self.fields[:-1], self.tags, self.deck])


_ANKI_MARKUP = re.compile(r"\[(?=sound:|anki:|/?latex\]|/?\$\$?\])", re.IGNORECASE)
"""Text Anki's renderer would act on: ``[sound:x]`` plays a media file, ``[latex]`` makes an image."""


def _inert(field: str) -> str:
    """``field`` with Anki's media and LaTeX tags shown as text (``&#91;`` is a ``[`` that matches nothing).

    Anki also NFC-normalises stored fields, which would merge a tag's closing ``>`` and a text
    starting with U+0338 (combining long solidus) into ``≯`` and break the tag: escape that mark.
    """
    return _ANKI_MARKUP.sub("&#91;", field).replace(">\u0338", ">&#x338;")


def note_data(deck: Deck, topic: Topic, section: Section, card: Card) -> NoteData:
    """The fields, tags and deck of ``card``'s note."""
    rendered = render_card(card)
    fields = tuple(map(_inert, (rendered.question, rendered.answer, rendered.code, rendered.more,
                                html.escape(topic.title), html.escape(section.title), card.level or "", card.id)))
    return NoteData(card, fields, tuple(tags(deck, topic, section, card)), deck_name(deck, topic, section),
                    rendered.plain_question)


def all_notes(deck: Deck) -> list[NoteData]:
    """Note data of every card in source order."""
    return [note_data(deck, t, s, c) for t, s, c in deck.cards()]


def write(deck: Deck, path: Path, lock: Lock, selected: set[str] | None = None) -> None:
    """Write ``deck`` (only the ``selected`` card ids, if given) as an ``.apkg`` at ``path``.

    Every note's modification time is its lock time and every id is derived, so the same deck
    and lock always give the same bytes.
    """
    import genanki  # 35 ms to import (it brings asyncio): only when a package is written

    spec = note_type(deck)
    model = genanki.Model(
        stable_id(deck.id, "note-type"), spec["name"],
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": TEMPLATE_NAME, "qfmt": spec["front"], "afmt": spec["back"]}],
        css=spec["css"], sort_field_index=0,
    )
    root = genanki.Deck(stable_id(deck.id, "deck"), deck.title, description=_description(deck))
    decks = [root]
    by_section: dict[tuple[str, str], genanki.Deck] = {}
    for topic in deck.topics:
        decks.append(genanki.Deck(stable_id(deck.id, "deck", topic.id), deck_name(deck, topic)))
        for section in topic.sections:
            sub = genanki.Deck(stable_id(deck.id, "deck", topic.id, section.id), deck_name(deck, topic, section))
            by_section[(topic.id, section.id)] = sub
            decks.append(sub)
    times: dict[str, int] = {}
    for position, (topic, section, card) in enumerate(deck.cards()):
        if selected is not None and card.id not in selected:
            continue
        data = note_data(deck, topic, section, card)
        note = genanki.Note(model=model, fields=list(data.fields), tags=list(data.tags),
                            guid=genanki.guid_for(deck.id, card.id), sort_field=data.sort_field, due=position)
        by_section[(topic.id, section.id)].add_note(note)
        times[note.guid] = lock.cards[card.id].modified
    for d in decks:
        d.add_model(model)
    model_time = int(lock.note_type["modified"])
    # Note and card ids are creation times in Anki; derive them from the lock, never the clock.
    first = min(list(times.values()) + [model_time])
    with tempfile.TemporaryDirectory(prefix="deck-apkg-") as tmp:
        db_path = Path(tmp) / "collection.anki2"
        connection = sqlite3.connect(db_path)
        try:
            cursor = connection.cursor()
            genanki.Package(decks).write_to_db(cursor, model_time, itertools.count(first * 1000))
            # By rowid, not guid: notes.guid has no index, so "WHERE guid = ?" scanned the table
            # once per note (quadratic: 1.1 s at 2,000 cards, half a minute at 10,000).
            rowids = dict(cursor.execute("SELECT guid, id FROM notes"))
            cursor.executemany("UPDATE notes SET mod = ? WHERE id = ?",
                               [(t, rowids[g]) for g, t in times.items()])
            cursor.execute("UPDATE cards SET mod = (SELECT mod FROM notes WHERE notes.id = cards.nid)")
            _stamp_decks(cursor, model_time)
            connection.commit()
            cursor.execute("VACUUM")
        finally:
            connection.close()
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as package:
            for name, data_bytes in (("collection.anki2", db_path.read_bytes()), ("media", b"{}")):
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                package.writestr(info, data_bytes)


def _stamp_decks(cursor: sqlite3.Cursor, when: int) -> None:
    # genanki stamps decks with a constant from 2015; use the release time so descriptions update.
    (decks_json,) = cursor.execute("SELECT decks FROM col").fetchone()
    decks = json.loads(decks_json)
    for value in decks.values():
        if value.get("id") != 1:
            value["mod"] = when
    cursor.execute("UPDATE col SET decks = ?", (json.dumps(decks, sort_keys=True),))


def _description(deck: Deck) -> str:
    from .markup import to_html

    parts = [to_html(deck.description).strip()] if deck.description else []
    if deck.targets:
        parts.append(f"<p><em>Answers target {html.escape(deck.targets)}.</em></p>")
    return "\n".join(parts)
