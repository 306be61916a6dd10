"""The lock file: what each released card looked like, and since when.

Anki updates an imported note only when the incoming modification time is newer than its own.
So every note carries the time its content last changed, recorded here per card id beside a
hash of that content; an unchanged card keeps its old time and a re-import leaves it (and the
user's edits to it) alone. The lock also remembers every released id, so a card that vanished
or was renamed is caught before users lose its review history.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Problem, SourceError

FORMAT = 1
"""Version of the lock file's own layout."""


def lock_path(source: Path) -> Path:
    """Where the lock of ``source`` lives: beside it, ``<stem>.lock.json``."""
    return source.with_name(source.stem + ".lock.json")


def now() -> int:
    """The current time for new modification times: ``SOURCE_DATE_EPOCH`` when set, else the clock."""
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env:
        try:
            return int(env)
        except ValueError:
            pass
    return int(time.time())


def digest(value: Any) -> str:
    """A stable content hash of a JSON-serialisable value."""
    data = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Entry:
    """What the lock knows of one card."""

    hash: str
    """Hash of the note's fields, tags and deck."""
    modified: int
    """Unix time the content last changed: the note's modification time."""
    deck: str
    """``Topic title::Section title`` the card was released in."""


@dataclass
class Lock:
    """The whole lock file."""

    deck: str
    note_type: dict[str, Any] = field(default_factory=dict)
    """``fields``, ``hash`` and ``modified`` of the note type."""
    cards: dict[str, Entry] = field(default_factory=dict)
    retired: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """Deterministic JSON text of the lock, one line per card so that diffs read well."""
        def one(value: Any) -> str:
            return json.dumps(value, ensure_ascii=False, sort_keys=True)

        cards = ",\n".join(f"  {one(cid)}: {one({'hash': e.hash, 'modified': e.modified, 'deck': e.deck})}"
                           for cid, e in sorted(self.cards.items()))
        return (f'{{\n "format": {FORMAT},\n "deck": {one(self.deck)},\n "note_type": {one(self.note_type)},\n'
                f' "cards": {{\n{cards}\n }},\n "retired": {one(sorted(self.retired))}\n}}\n')

    @property
    def newest(self) -> int:
        """The latest modification time in the lock (the release date of its content)."""
        times = [e.modified for e in self.cards.values()] + [int(self.note_type.get("modified", 0))]
        return max(times) if times else 0


def read(path: Path, deck_id: str) -> Lock:
    """Read the lock at ``path``; a missing file is an empty lock (a deck never released)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Lock(deck=deck_id)
    except (OSError, ValueError) as exc:
        raise LockError([Problem(str(path), None, f"cannot read the lock file: {exc}")]) from None
    try:
        cards = {cid: Entry(str(e["hash"]), int(e["modified"]), str(e.get("deck", "")))
                 for cid, e in data.get("cards", {}).items()}
        return Lock(deck=str(data.get("deck", deck_id)), note_type=dict(data.get("note_type", {})),
                    cards=cards, retired=list(data.get("retired", [])))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise LockError([Problem(str(path), None, f"the lock file is malformed ({exc}); restore it from git")]) from None


class LockError(SourceError):
    """The lock file itself cannot be used."""


@dataclass(frozen=True)
class CardState:
    """What the current source says of one card, for reconciling with the lock."""

    id: str
    hash: str
    deck: str
    line: int
    question: str


@dataclass
class Outcome:
    """The reconciled lock and what reconciling found."""

    lock: Lock
    problems: list[Problem]
    warnings: list[Problem]
    changed: list[str]
    """Card ids whose content is new or changed since the lock."""

    @property
    def stale(self) -> bool:
        """Whether the lock on disk differs from the reconciled one."""
        return bool(self.changed) or self._stale

    _stale: bool = False


def reconcile(old: Lock, source: str, deck_id: str, states: list[CardState], retired: tuple[str, ...],
              note_type: dict[str, Any], at: int) -> Outcome:
    """Compare the source's cards with the lock; return the updated lock and any problems.

    ``at`` is the time given to content that changed now. Times only move forward, so an update
    always reaches users even when ``at`` is not later than the recorded time.
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []
    changed: list[str] = []
    new = Lock(deck=deck_id, retired=sorted(set(old.retired) | set(retired)))
    stale = False

    if old.deck != deck_id and old.cards:
        problems.append(Problem(source, None, f"deck id changed from '{old.deck}' (in the lock) to '{deck_id}'; "
                                "the deck id namespaces every note, so changing it duplicates every card for users"))
    old_fields = old.note_type.get("fields")
    if old_fields is not None and old_fields != note_type["fields"]:
        problems.append(Problem(source, None, "the note type's fields changed since release; they are frozen "
                                "(Anki would create a second note type and stop updating notes)"))
    if old.note_type.get("hash") == note_type["hash"]:
        new.note_type = dict(old.note_type)
    else:
        stale = True
        previous = int(old.note_type.get("modified", 0))
        new.note_type = {"fields": note_type["fields"], "hash": note_type["hash"], "modified": max(at, previous + 1)}

    by_hash = {e.hash: cid for cid, e in old.cards.items()}
    present = {s.id for s in states}
    renamed: set[str] = set()
    for state in states:
        entry = old.cards.get(state.id)
        if state.id in old.retired:
            problems.append(Problem(source, state.line, "this id was retired in an earlier release and cannot "
                                    "come back; choose a new id", state.id))
            continue
        if entry is None:
            twin = by_hash.get(state.hash)
            if twin and twin not in present and twin not in retired:
                renamed.add(twin)
                problems.append(Problem(source, state.line, f"this looks like card '{twin}' renamed; a card's id is "
                                        f"its identity in Anki (a new id loses its review history): keep the id "
                                        f"'{twin}', or list '{twin}' under 'retired:'", state.id))
            changed.append(state.id)
            new.cards[state.id] = Entry(state.hash, at, state.deck)
        elif entry.hash != state.hash:
            changed.append(state.id)
            new.cards[state.id] = Entry(state.hash, max(at, entry.modified + 1), state.deck)
        else:
            new.cards[state.id] = entry
        if entry is not None and entry.deck and entry.deck != state.deck:
            warnings.append(Problem(source, state.line, f"moved from '{entry.deck}' to '{state.deck}': new users get "
                                    "it in the new place, but Anki never moves an existing user's card to another "
                                    "deck on import", state.id))
            new.cards[state.id] = Entry(new.cards[state.id].hash, new.cards[state.id].modified, state.deck)
            stale = True
    for cid in sorted(set(old.cards) - present):
        if cid in retired:
            stale = True
            continue
        if cid not in renamed:  # a rename was already reported at the new card's line
            problems.append(Problem(source, None, "was released (it is in the lock file) but is missing from the "
                                    "source; restore it, or list it under 'retired:' to remove it for good", cid))
    if set(new.retired) != set(old.retired):
        stale = True
    outcome = Outcome(new, problems, warnings, changed)
    outcome._stale = stale
    return outcome
