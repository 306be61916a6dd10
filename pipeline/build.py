"""The whole pipeline as one function: load → reconcile the lock → select → write → publish."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from . import anki, atomic
from .errors import Problem, SourceError
from .load import load
from .lock import CardState, Outcome, lock_path, now, read, reconcile
from .model import Deck
from .options import BuildOptions
from .select import select


@dataclass
class BuildResult:
    """What a build produced, for the summary the CLI prints."""

    deck: Deck
    cards: int
    """Cards written (after selection)."""
    decks: int
    """Anki decks (top, topics, sections)."""
    outputs: list[Path] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    lock_updated: bool = False
    seconds: float = 0.0
    pages: int | None = None


def release(deck: Deck, source: Path) -> Outcome:
    """Reconcile ``deck`` with its lock file; raise SourceError on identity problems."""
    old = read(lock_path(source), deck.id)
    notes = anki.all_notes(deck)
    states = [CardState(n.card.id, n.hash, n.deck.split("::", 1)[1], n.card.line, n.sort_field) for n in notes]
    spec = anki.note_type(deck)
    outcome = reconcile(old, str(source), deck.id, states, deck.retired,
                        {"fields": spec["fields"], "hash": spec["hash"]}, now())
    if outcome.problems:
        raise SourceError(outcome.problems)
    return outcome


def check(source: Path) -> Outcome:
    """Validate ``source`` and its lock without writing anything; the outcome says if the lock is stale."""
    return release(load(source), source)


def build(source: Path, options: BuildOptions = BuildOptions()) -> BuildResult:
    """Build the outputs of ``source`` into ``options.out``; nothing is replaced unless all succeed."""
    started = time.perf_counter()
    deck = load(source)
    outcome = release(deck, source)
    selected = select(deck, options.selection)
    atomic.prepare_folder(options.out)
    stem = deck.id + options.selection.suffix()
    result = BuildResult(deck, deck.card_count if selected is None else len(selected),
                         1 + sum(1 + len(t.sections) for t in deck.topics), warnings=outcome.warnings)
    with atomic.Staging() as staging:
        # Staged first so it is published first: the outputs end up newer than the lock,
        # which is what make's file targets compare.
        if options.update_lock and outcome.stale:
            staging.write_text(lock_path(source), outcome.lock.to_json())
            result.lock_updated = True
        if "apkg" in options.formats:
            final = options.out / f"{stem}.apkg"
            anki.write(deck, staging.path_for(final), outcome.lock, selected)
            result.outputs.append(final)
        if "pdf" in options.formats:
            from . import pdf  # reportlab costs ~0.2 s to import: only when a PDF is wanted

            final = options.out / f"{stem}.pdf"
            result.pages = pdf.write(deck, staging.path_for(final), options.sheet, selected, outcome.lock.newest)
            result.outputs.append(final)
        staging.commit()
    result.seconds = time.perf_counter() - started
    return result
