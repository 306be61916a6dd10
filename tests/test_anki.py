"""The .apkg, imported into a real Anki collection: structure, rendering, safety, updates."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import genanki
import pytest
from anki.collection import Collection

from anki_helpers import import_package, notes_by_card_id
from pipeline.build import build
from pipeline.load import load
from pipeline.options import BuildOptions

APKG = ("apkg",)


def _build(source: Path, out: Path) -> Path:
    build(source, BuildOptions(out=out, formats=APKG))
    return out / "example-deck.apkg"


@pytest.fixture
def col(tmp_path: Path):  # type: ignore[no-untyped-def]
    collection = Collection(str(tmp_path / "collection.anki2"))
    yield collection
    collection.close()


def test_import_structure(example: Path, tmp_path: Path, col: Collection) -> None:
    deck = load(example)
    log = import_package(col, _build(example, tmp_path / "out"))
    assert len(log.new) == deck.card_count == len(col.find_notes(""))
    names = {d.name for d in col.decks.all_names_and_ids()}
    for topic, section, _ in deck.cards():
        assert f"Example Deck::{topic.title}::{section.title}" in names
    notes = notes_by_card_id(col)
    hello = notes["hello-app"]
    assert hello.guid == genanki.guid_for("example-deck", "hello-app")
    assert "example-deck::topic::basics::first-steps" in hello.tags
    assert "example-deck::level::junior" in hello.tags
    assert "example-deck::tag::setup" in hello.tags
    # The sort field is the plain-text question.
    row = col.db.first("select sfld from notes where id = ?", hello.id)
    assert row[0] == "How do you write the smallest FastAPI app?"
    top = col.decks.by_name("Example Deck")
    assert "typography" in top["desc"] and "FastAPI 0.165" in top["desc"]


def test_every_card_renders_with_styles(example: Path, tmp_path: Path, col: Collection) -> None:
    import_package(col, _build(example, tmp_path / "out"))
    notes = notes_by_card_id(col)
    for card_id, note in notes.items():
        card = note.cards()[0]
        question, answer = card.question(), card.answer()
        assert "class=\"question\"" in question, card_id
        assert "class=\"answer\"" in answer, card_id
    code_answer = notes["hello-app"].cards()[0].answer()
    assert '<span class="k">def</span>' in code_answer or '<span class="kn">from</span>' in code_answer
    css = col.models.get(notes["hello-app"].mid)["css"]
    assert ".nightMode .hl" in css and ".mobile pre.hl" in css
    assert "@import" not in css and "url(" not in css  # no remote fonts or stylesheets


def test_no_script_or_handlers_even_from_hostile_text(example: Path, tmp_path: Path, col: Collection) -> None:
    import_package(col, _build(example, tmp_path / "out"))
    hostile = notes_by_card_id(col)["html-looking-text"]
    answer = hostile.cards()[0].answer()
    assert "&lt;script&gt;" in answer  # shown as text...
    for note in notes_by_card_id(col).values():
        for html in (note.cards()[0].question(), note.cards()[0].answer()):
            assert "<script" not in html.lower()
            assert "javascript:" not in html.lower()
            assert not re.search(r"<[^>]+\son[a-z]+\s*=", html, re.IGNORECASE)


def test_new_cards_follow_source_order(example: Path, tmp_path: Path, col: Collection) -> None:
    import_package(col, _build(example, tmp_path / "out"))
    order = [c.id for _, _, c in load(example).cards()]
    cards = sorted((col.get_card(cid) for cid in col.find_cards("")), key=lambda c: c.due)
    assert [c.note()["CardId"] for c in cards] == order


def test_reimport_same_file_adds_nothing(example: Path, tmp_path: Path, col: Collection) -> None:
    apkg = _build(example, tmp_path / "out")
    import_package(col, apkg)
    log = import_package(col, apkg)
    assert len(log.new) == 0 and len(log.updated) == 0
    assert len(col.find_notes("")) == load(example).card_count


def test_release_two_updates_exactly_the_edited_note(example: Path, tmp_path: Path, col: Collection,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1900000000")  # later than the committed lock
    import_package(col, _build(example, tmp_path / "r1"))
    # Study two cards, so they have review history.
    col.decks.select(col.decks.id_for_name("Example Deck"))
    studied = []
    for _ in range(2):
        card = col.sched.getCard()
        col.sched.answerCard(card, 3)
        studied.append(card.id)
    models_before = len(col.models.all_names_and_ids())
    # Release 2: one answer edited.
    text = example.read_text(encoding="utf-8")
    example.write_text(text.replace("which reloads on code changes", "which reloads on every save"), encoding="utf-8")
    log = import_package(col, _build(example, tmp_path / "r2"))
    assert len(log.new) == 0
    assert len(log.updated) == 1
    assert notes_by_card_id(col)["run-server"]["Answer"].endswith("which reloads on every save.</p>")
    assert len(col.models.all_names_and_ids()) == models_before
    for card_id in studied:
        assert col.get_card(card_id).reps == 1


def test_style_change_reaches_users_without_touching_notes(example: Path, tmp_path: Path, col: Collection,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import_package(col, _build(example, tmp_path / "r1"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1900000000")
    monkeypatch.setattr("pipeline.anki.css", lambda: ".card { color: red; }")
    log = import_package(col, _build(example, tmp_path / "r2"))
    assert len(log.updated) == 0 and len(log.new) == 0
    mid = next(iter(notes_by_card_id(col).values())).mid
    assert col.models.get(mid)["css"] == ".card { color: red; }"


def test_builds_are_byte_identical(example: Path, tmp_path: Path) -> None:
    first = _build(example, tmp_path / "a").read_bytes()
    os.environ.pop("SOURCE_DATE_EPOCH", None)
    second = _build(example, tmp_path / "b").read_bytes()
    assert first == second


def test_committed_lock_is_current() -> None:
    """tests/data/example.lock.json matches example.yaml (so builds from a commit are reproducible)."""
    from pipeline.build import check

    assert not check(Path(__file__).parent / "data" / "example.yaml").stale
