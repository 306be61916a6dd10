"""The whole pipeline as one function: load → reconcile the lock → select → write → publish."""

from __future__ import annotations

import gc
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import anki, atomic, cache, fork, markup, prefetch, render
from .errors import OutputError, Problem, SourceError
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
    # The PDF is most of the work: a child process starts on it at once (see fork.py) and
    # imports reportlab while this one loads the deck; this one then sends it the deck and
    # the date from the lock, and writes the .apkg. The child inherits nothing of the loading
    # (it parses what it draws itself), so the two share little memory to copy.
    sheet = fork.start(_sheet, options) if "pdf" in options.formats else None
    try:
        with _fewer_collections(), _Memos(options.out, source) as memos:
            deck = load(source)
            if sheet is not None:
                memos.stop_helper()  # two busy processes at most: the PDF's needs the core
                sheet.send(deck)
            result = _publish(deck, source, options, sheet, started)
            memos.stop_helper()
            for memo in memos.stores:  # after the outputs are published; best effort
                memo.save()
    except fork.WorkerError as exc:
        raise OutputError(f"cannot write the PDF: {exc}") from None
    finally:
        if sheet is not None:
            sheet.cancel()
    return result


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the collector rarely during a build, which allocates millions of objects that all
    live to its end (the deck, its parsed markdown, HTML): Python's default rescans them so
    often that, at 10,000 cards, collecting took 40% of loading and rendering."""
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


class _Memos:
    """For one build: validation and rendering look up and add to the disk cache in the output
    folder (see cache.py), and a helper process fills them ahead (see prefetch.py)."""

    def __init__(self, out: Path, source: Path) -> None:
        self.stores = [cache.store(out, "valid"), cache.store(out, "html")]
        self.source = source
        self.helper: fork.Job | None = None

    def __enter__(self) -> _Memos:
        markup.remember(self.stores[0])
        render.remember(self.stores[1])
        self.helper = prefetch.start(self.source, *self.stores)
        return self

    def stop_helper(self) -> None:
        """Take the helper's results so far and stop it."""
        prefetch.stop(self.helper, *self.stores)
        self.helper = None

    def __exit__(self, *exc: object) -> None:
        self.stop_helper()
        markup.remember(None)
        render.remember(None)


SPLIT = (1.0, 100)
"""The share of the cards the PDF must draw that a second worker may record (see :func:`_sheet`),
and the fewest cards worth starting it for. All of them: it records from the last card back
while the layout goes forward, so the two meet wherever their speeds put the middle."""


def _sheet(receive: Callable[[], Any], options: BuildOptions) -> tuple[bytes, int]:
    """The PDF's bytes and page count (run by a fork.Job: ``receive()`` waits for the deck, then
    the lock's date). It also saves the PDF's cache (the recordings are the heaviest part of
    the cache: no need to send them anywhere).

    The layout is one sequence, but making and drawing cards is not: a worker forked from
    here, with reportlab ready, records the last cards (see pdf.record and replay.py) while
    this process lays out the first ones, then replays its recordings. It starts once the
    date is here: before, the parent still renders the HTML, and three busy processes on two
    cores would only slow that down (this one makes cards ahead meanwhile).
    """
    from . import pdf  # reportlab costs ~0.15 s to import: only when a PDF is wanted

    worker = fork.in_worker()
    if worker:
        markup.stop_caching()  # each card's text is drawn once here: keep no token streams
    pdf.prepare(options.sheet)  # fonts and styles, while the parent still loads the deck
    deck = receive()
    store = _sheet_store(deck, options)
    selected = select(deck, options.selection)
    helper = _Helper()

    def date() -> int:
        when = receive()
        if worker:
            helper.job = fork.start(_record, deck, options, selected, store)
        return int(when)

    date.ready = receive.ready  # type: ignore[attr-defined]
    try:
        data, pages = pdf.render(deck, options.sheet, selected, date, store,
                                 helper if worker else None, SPLIT)
    finally:
        if helper.job is not None:
            helper.job.cancel()
    store.save()
    return data, pages


def _record(receive: Callable[[], Any], deck: Deck, options: BuildOptions,
            selected: set[str] | None, store: cache.Store) -> None:
    """The helper: records cards from the last back, sending them as it goes (a fork.Job)."""
    from . import pdf

    fork.emit(pdf.record(deck, options.sheet, selected, store, SPLIT, emit=fork.emit))


class _Helper:
    """The recordings the helper has sent so far (see :func:`_sheet`)."""

    def __init__(self) -> None:
        self.job: fork.Job | None = None
        self.found: dict[str, Any] = {}

    def __call__(self) -> dict[str, Any]:
        if self.job is not None:
            try:
                for batch in self.job.poll():
                    self.found.update(batch)
            except (OSError, EOFError, ValueError):  # it failed: its cards are made here
                self.job = None
        return self.found


def _sheet_store(deck: Deck, options: BuildOptions) -> cache.Store:
    return cache.store(options.out, deck.id + options.selection.suffix() + ".sheet")


def _publish(deck: Deck, source: Path, options: BuildOptions, sheet: fork.Job | None,
             started: float) -> BuildResult:
    outcome = release(deck, source)
    if sheet is not None:
        sheet.send(outcome.lock.newest)
    selected = select(deck, options.selection)
    atomic.prepare_folder(options.out)
    atomic.sweep(lock_path(source))
    stem = deck.id + options.selection.suffix()
    result = BuildResult(deck, deck.card_count if selected is None else len(selected),
                         1 + sum(1 + len(t.sections) for t in deck.topics), warnings=outcome.warnings)
    try:
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
            if sheet is not None:
                final = options.out / f"{stem}.pdf"
                staged = staging.path_for(final)  # staged while the child still works on it
                data, result.pages = sheet.result()
                staged.write_bytes(data)
                result.outputs.append(final)
            staging.commit()
    except (OSError, sqlite3.Error) as exc:  # disk full, file too large, I/O error...
        raise OutputError(f"cannot write the outputs: {exc}") from None
    result.seconds = time.perf_counter() - started
    return result
