"""The verifier itself: each kind of failure is reported with the right card and line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import main
from pipeline.load import load
from pipeline.verify import verify

CASES = Path(__file__).parent / "data" / "verify_cases.yaml"


def _line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def test_each_failure_is_located() -> None:
    text = CASES.read_text(encoding="utf-8")
    report = verify(load(CASES), timeout=3)
    found = {p.card: p for p in report.failures}
    assert set(found) == {"raises", "check-fails", "hangs", "network", "bad-toml", "bad-json"}
    assert found["raises"].line == _line_of(text, '                print(values["b"])')
    assert "KeyError: 'b'" in found["raises"].message
    assert found["check-fails"].line == _line_of(text, '                assert answer == 42, "wrong answer"')
    assert found["check-fails"].message == "check failed: AssertionError: wrong answer"
    assert "timed out after 3 s" in found["hangs"].message
    assert found["network"].line == _line_of(text, '                socket.create_connection(("example.com", 80), timeout=5)')
    assert "network access is disabled" in found["network"].message
    assert found["bad-toml"].line == _line_of(text, "                version =")
    assert found["bad-json"].line == _line_of(text, '                 "b": }')
    assert report.python_blocks == 6 and report.executed == 5


def test_passing_deck_and_cli_summary() -> None:
    example = Path(__file__).parent / "data" / "example.yaml"
    result = CliRunner().invoke(main, ["verify", str(example)])
    assert result.exit_code == 0, result.output
    assert "3 Python blocks, 2 executed (67%)" in result.output
    assert "code line is 193 columns wide (max 70)" in result.output


def test_cli_exit_code_on_failure() -> None:
    result = CliRunner().invoke(main, ["verify", str(CASES), "--timeout", "2", "--card", "raises"])
    assert result.exit_code == 1
    assert "card 'raises': code failed: KeyError" in result.output


def _python_deck(tmp_path: Path, blocks: dict[str, tuple[str, str]]) -> Path:
    """A one-section deck with one Python card per entry: card id → (src, check)."""

    def indent(text: str) -> str:
        return "".join(f"                {line}\n" for line in text.strip().splitlines())

    cards = "".join(
        f"          - id: {card_id}\n            q: What does {card_id} do?\n            a: It runs.\n"
        f"            code:\n              lang: python\n              src: |\n{indent(src)}"
        + (f"              check: |\n{indent(check)}" if check else "")
        for card_id, (src, check) in blocks.items())
    source = tmp_path / "deck.yaml"
    source.write_text("deck: {id: blocks, title: Blocks}\ntopics:\n  - id: t\n    title: T\n    sections:\n"
                      "      - id: s\n        title: S\n        cards:\n" + cards, encoding="utf-8")
    return source


def test_blocks_run_in_isolation(tmp_path: Path) -> None:
    """A block cannot see another block's globals, and runs in its own empty folder."""
    source = _python_deck(tmp_path, {
        "writer": ('import os\nLEAK = 1\nopen("marker.txt", "w").write("x")',
                   'assert sorted(os.listdir(".")) == ["main.py", "marker.txt"]'),
        "reader": ('import os\nassert "LEAK" not in globals()\nassert not os.path.exists("marker.txt")', ""),
    })
    report = verify(load(source), workers=1)
    assert report.ok, report.failures
    assert report.executed == 2


def test_blocks_run_without_the_workers_future_imports(tmp_path: Path) -> None:
    """The worker module uses `from __future__ import annotations`; blocks must not inherit it."""
    source = _python_deck(tmp_path, {
        "annotations": ("def f(x: int) -> None:\n    pass", 'assert f.__annotations__["x"] is int'),
    })
    report = verify(load(source), workers=1)
    assert report.ok, report.failures
    assert report.executed == 1
