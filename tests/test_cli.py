"""The `deck` command: help, version, summaries, stats, focused builds."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import __version__
from pipeline.build import build
from pipeline.cli import main
from pipeline.load import load
from pipeline.options import BuildOptions
from pipeline.select import Selection, SelectionError, select


@pytest.mark.parametrize("command", [[], ["build"], ["check"], ["stats"], ["verify"]])
def test_help_everywhere(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_version_and_module_entry_point() -> None:
    result = subprocess.run([sys.executable, "-m", "pipeline", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"deck, version {__version__}"


def test_build_summary(example: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(example), "--out", str(tmp_path / "out"), "--format", "apkg"])
    assert result.exit_code == 0, result.output
    assert "Example Deck: 6 cards in 6 decks" in result.output
    assert "wrote " in result.output and "example-deck.apkg" in result.output
    assert CliRunner().invoke(main, ["build", str(example), "--out", str(tmp_path / "o2"), "--format", "apkg",
                                     "--quiet"]).output == ""


def test_stats(example: Path) -> None:
    result = CliRunner().invoke(main, ["stats", str(example)])
    assert result.exit_code == 0
    assert "Example Deck (example-deck): 6 cards" in result.output
    assert "levels: junior 2, mid 2, senior 2" in result.output
    assert "code blocks: python 3, bash 1, toml 1" in result.output
    assert "executed by 'deck verify': 2/3 (67%)" in result.output


def test_selection(example: Path) -> None:
    deck = load(example)
    assert select(deck, Selection()) is None
    assert select(deck, Selection(topics=("advanced",))) == {"query-validation", "long-line"}
    assert select(deck, Selection(levels=("junior",))) == {"hello-app", "run-server"}
    assert select(deck, Selection(tags=("cli", "layout"))) == {"run-server", "long-line"}
    assert select(deck, Selection(topics=("basics",), levels=("senior",))) == {"html-looking-text"}
    with pytest.raises(SelectionError, match="did you mean 'advanced'"):
        select(deck, Selection(topics=("advnced",)))
    with pytest.raises(SelectionError, match="keeps no card"):
        select(deck, Selection(topics=("advanced",), levels=("junior",)))


def test_focused_build_has_its_own_name_and_only_its_cards(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(example, BuildOptions(out=out, formats=("apkg",), selection=Selection(topics=("advanced",))))
    focused = out / "example-deck--topic-advanced.apkg"
    assert focused.exists() and not (out / "example-deck.apkg").exists()
    with zipfile.ZipFile(focused) as package:
        assert "collection.anki2" in package.namelist()
    import sqlite3

    db = tmp_path / "c.anki2"
    db.write_bytes(zipfile.ZipFile(focused).read("collection.anki2"))
    count = sqlite3.connect(db).execute("select count(*) from notes").fetchone()[0]
    assert count == 2


def test_unknown_selection_is_a_clean_error(example: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(example), "--out", str(tmp_path), "--tag", "nope"])
    assert result.exit_code == 1 and "unknown tag 'nope'" in result.output
