"""The bad-input corpus: every broken source fails cleanly, located, and writes nothing.

Each tests/bad/NAME.yaml has its exact expected messages in tests/golden/bad/NAME.txt
(regenerate with ``pytest --update-golden`` and review the diff).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main

ROOT = Path(__file__).parent.parent
CASES = sorted((ROOT / "tests" / "bad").glob("*.yaml"))


@pytest.fixture
def out_with_previous_build(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "bad-deck.apkg").write_bytes(b"previous apkg")
    (out / "bad-deck.pdf").write_bytes(b"previous pdf")
    return out


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_bad_source(case: Path, out_with_previous_build: Path, golden, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)
    relative = case.relative_to(ROOT)
    before = _snapshot(out_with_previous_build)
    result = CliRunner().invoke(main, ["build", str(relative), "--out", str(out_with_previous_build)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert lines and all(line.startswith(f"error: {relative}") for line in lines)
    assert _snapshot(out_with_previous_build) == before
    assert not (case.parent / f"{case.stem}.lock.json").exists()
    golden.check(f"bad/{case.stem}.txt", result.output)


def _deck(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_real_process_reports_without_traceback(tmp_path: Path) -> None:
    result = _deck(["check", str(ROOT / "tests" / "bad" / "many-problems.yaml")], tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("error: ") == 3


def test_missing_file(tmp_path: Path) -> None:
    result = _deck(["build", "nowhere.yaml", "--out", "out"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: nowhere.yaml: no such file")
    assert not (tmp_path / "out").exists()


def test_source_is_a_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 1 and "is a folder" in result.output


def test_output_folder_is_a_file(example: Path, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("not a folder")
    result = CliRunner().invoke(main, ["build", str(example), "--out", str(target)])
    assert result.exit_code == 3
    assert "is a file" in result.output and "Traceback" not in result.output
    assert target.read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; permissions cannot be tested")
def test_output_folder_not_writable(example: Path, tmp_path: Path) -> None:
    target = tmp_path / "locked"
    target.mkdir()
    target.chmod(0o500)
    result = CliRunner().invoke(main, ["build", str(example), "--out", str(target)])
    assert result.exit_code == 3 and "not writable" in result.output


def test_output_folder_not_writable_even_as_root(example: Path, tmp_path: Path) -> None:
    """A read-only file system stops root too: a folder below a file cannot be created."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(main, ["build", str(example), "--out", str(blocker / "sub")])
    assert result.exit_code == 3 and "cannot create the output folder" in result.output


def test_alias_bomb_fails_fast() -> None:
    import time

    from pipeline.errors import SourceError
    from pipeline.load import load

    started = time.perf_counter()
    with pytest.raises(SourceError):
        load(ROOT / "tests" / "bad" / "alias-bomb.yaml")
    assert time.perf_counter() - started < 1.0
