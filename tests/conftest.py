"""Shared fixtures: the example deck in a scratch folder, and self-updating golden files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite golden files from the current output instead of comparing.")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the example deck source and its lock; returns the source path."""
    source = tmp_path / "example.yaml"
    shutil.copy(DATA / "example.yaml", source)
    shutil.copy(DATA / "example.lock.json", tmp_path / "example.lock.json")
    return source


class Golden:
    """Compare text with a file under tests/golden; ``--update-golden`` (or a new file) rewrites it."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def check(self, name: str, actual: str) -> None:
        path = GOLDEN / name
        if self.update or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            if not self.update:
                pytest.fail(f"golden file {path} did not exist; it was written, review and commit it")
            return
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"output differs from {path}; if intended, rerun with --update-golden"


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """The golden-file comparer."""
    return Golden(bool(request.config.getoption("--update-golden")))
