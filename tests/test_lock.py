"""Identity guard: the lock file catches renamed and vanished cards, and tracks changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.build import build, check
from pipeline.cli import main
from pipeline.errors import SourceError
from pipeline.options import BuildOptions

APKG = BuildOptions(formats=("apkg",))


def _opts(tmp_path: Path) -> BuildOptions:
    return BuildOptions(out=tmp_path / "out", formats=("apkg",))


def _edit(source: Path, old: str, new: str) -> None:
    text = source.read_text(encoding="utf-8")
    assert old in text
    source.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_renamed_card_fails_with_its_line(example: Path, tmp_path: Path) -> None:
    _edit(example, "id: run-server", "id: start-server")
    with pytest.raises(SourceError) as info:
        build(example, _opts(tmp_path))
    messages = [str(p) for p in info.value.problems]
    line = example.read_text().splitlines().index("          - id: start-server") + 1
    assert any(m.startswith(f"{example}:{line}: card 'start-server': this looks like card 'run-server' renamed")
               for m in messages), messages
    assert not (tmp_path / "out" / "example-deck.apkg").exists()


def test_removed_card_fails_unless_retired(example: Path, tmp_path: Path) -> None:
    text = example.read_text(encoding="utf-8")
    start = text.index("          - id: typography")
    end = text.index("          - id: html-looking-text")
    example.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(SourceError) as info:
        check(example)
    assert "card 'typography': was released" in str(info.value)
    example.write_text(example.read_text() + "retired: [typography]\n", encoding="utf-8")
    outcome = check(example)
    assert outcome.stale and "typography" in outcome.lock.retired


def test_retired_id_cannot_come_back(example: Path, tmp_path: Path) -> None:
    lock = json.loads((tmp_path / "example.lock.json").read_text())
    lock["retired"] = ["brand-new"]
    (tmp_path / "example.lock.json").write_text(json.dumps(lock))
    _edit(example, "id: long-line", "id: brand-new")
    with pytest.raises(SourceError, match="retired in an earlier release"):
        check(example)


def test_edit_advances_only_that_card(example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = json.loads((tmp_path / "example.lock.json").read_text())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1900000000")
    _edit(example, "It wraps the line", "It soft-wraps the line")
    result = build(example, _opts(tmp_path))
    assert result.lock_updated
    after = json.loads((tmp_path / "example.lock.json").read_text())
    changed = {cid for cid in after["cards"] if after["cards"][cid] != before["cards"][cid]}
    assert changed == {"long-line"}
    assert after["cards"]["long-line"]["modified"] == 1900000000
    assert after["note_type"] == before["note_type"]


def test_time_never_goes_backwards(example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = json.loads((tmp_path / "example.lock.json").read_text())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1000")  # a clock in the past
    _edit(example, "It wraps the line", "It soft-wraps the line")
    build(example, _opts(tmp_path))
    after = json.loads((tmp_path / "example.lock.json").read_text())
    assert after["cards"]["long-line"]["modified"] == before["cards"]["long-line"]["modified"] + 1


def test_check_fails_on_stale_lock_and_writes_nothing(example: Path, tmp_path: Path) -> None:
    _edit(example, "It wraps the line", "It soft-wraps the line")
    lock_before = (tmp_path / "example.lock.json").read_bytes()
    result = CliRunner().invoke(main, ["check", str(example)])
    assert result.exit_code == 1
    assert "lock file is out of date (changed: long-line)" in result.output
    assert (tmp_path / "example.lock.json").read_bytes() == lock_before


def test_moving_a_card_warns(example: Path, tmp_path: Path) -> None:
    _edit(example, "title: Shell & Config", "title: Shell and Config")
    result = CliRunner().invoke(main, ["build", str(example), "--out", str(tmp_path / "out"), "--format", "apkg"])
    assert result.exit_code == 0, result.output
    assert "card 'run-server': moved from 'Basics::Shell & Config' to 'Basics::Shell and Config'" in result.output
    assert "never moves an existing user's card" in result.output


def test_reordering_changes_nothing(example: Path, tmp_path: Path) -> None:
    text = example.read_text(encoding="utf-8")
    first = text.index("          - id: hello-app")
    second = text.index("          - id: typography")
    third = text.index("          - id: html-looking-text")
    example.write_text(text[:first] + text[second:third] + text[first:second] + text[third:], encoding="utf-8")
    assert not check(example).stale


def test_frozen_fields(example: Path, tmp_path: Path) -> None:
    lock = json.loads((tmp_path / "example.lock.json").read_text())
    lock["note_type"]["fields"] = ["Front", "Back"]
    (tmp_path / "example.lock.json").write_text(json.dumps(lock))
    with pytest.raises(SourceError, match="fields changed since release"):
        check(example)


def test_malformed_lock_is_a_clean_error(example: Path, tmp_path: Path) -> None:
    (tmp_path / "example.lock.json").write_text("{not json")
    result = CliRunner().invoke(main, ["check", str(example)])
    assert result.exit_code == 1 and "cannot read the lock file" in result.output
