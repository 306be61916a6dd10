"""``deck verify``: the code in the answers is tested like code.

Python blocks (not marked ``run: false``) are executed with their hidden ``check`` in isolated
worker children (see :mod:`pipeline.verify_worker`); every block is parsed; other languages are
lexed by Pygments, and TOML, JSON and YAML are parsed by their own parsers. Code lines wider
than :data:`MAX_COLUMNS` are reported as warnings (phones and the sheet's columns are narrow).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import tomllib
from dataclasses import dataclass, field
from queue import Empty, Queue

import yaml
from pygments.token import Error

from . import highlight
from .errors import Problem
from .model import CodeBlock, Deck

MAX_COLUMNS = 70
"""Widest code line that reads well on a phone and in a cheat-sheet column."""
PYTHON = ("python", "py", "python3")


@dataclass
class Report:
    """What verification found."""

    failures: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    python_blocks: int = 0
    executed: int = 0
    other_blocks: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether every block passed."""
        return not self.failures


def _blocks(deck: Deck) -> list[tuple[str, CodeBlock]]:
    return [(card.id, block) for _, _, card in deck.cards() for block in card.code]


def _static(deck: Deck, report: Report) -> None:
    """Checks that need no execution: widths, lexing, parsing of data formats."""
    for card_id, block in _blocks(deck):
        for offset, text in enumerate(block.src.splitlines()):
            if len(text) > MAX_COLUMNS:
                report.warnings.append(Problem(deck.path, block.line + offset,
                                               f"code line is {len(text)} columns wide (max {MAX_COLUMNS})", card_id))
        if block.lang in PYTHON:
            report.python_blocks += 1
            continue
        report.other_blocks += 1
        problem = _check_other(block)
        if problem:
            line, message = problem
            report.failures.append(Problem(deck.path, block.line + line - 1, message, card_id))


def _check_other(block: CodeBlock) -> tuple[int, str] | None:
    """(line within the block, message) of the first problem in a non-Python block, if any."""
    lang = block.lang.lower()
    try:
        if lang == "toml":
            tomllib.loads(block.src)
        elif lang == "json":
            json.loads(block.src)
        elif lang in ("yaml", "yml"):
            yaml.safe_load(block.src)
    except tomllib.TOMLDecodeError as exc:
        # TOMLDecodeError gained .lineno only in Python 3.14; older ones say it in the message.
        found = re.search(r"at line (\d+)", str(exc))
        return getattr(exc, "lineno", None) or (int(found.group(1)) if found else 1), f"TOML does not parse: {exc}"
    except json.JSONDecodeError as exc:
        return exc.lineno, f"JSON does not parse: {exc.msg}"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return (mark.line + 1 if mark else 1), f"YAML does not parse: {getattr(exc, 'problem', exc)}"
    line = 1
    for token, value in highlight.tokens(block.lang, block.src):
        if token in Error and value.strip():
            return line, f"the {block.lang} lexer cannot read {value.strip()[:20]!r}"
        line += value.count("\n")
    return None


def _worker(timeout: int, jobs: Queue[dict[str, object]], results: list[dict[str, object]]) -> None:
    process = subprocess.Popen([sys.executable, "-m", "pipeline.verify_worker", str(timeout)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    assert process.stdin and process.stdout
    process.stdout.readline()  # "ready": the heavy imports are done
    try:
        while True:
            try:
                job = jobs.get_nowait()
            except Empty:
                break
            process.stdin.write(json.dumps(job) + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
            results.append(json.loads(line) if line else {"id": job["id"], "ok": False, "line": None,
                                                           "error": "the verification worker died"})
    finally:
        process.stdin.close()
        process.wait()


def verify(deck: Deck, *, timeout: int = 30, workers: int | None = None, only: set[str] | None = None) -> Report:
    """Verify every code block of ``deck`` (or of the cards in ``only``); see the module docs."""
    started = time.perf_counter()
    report = Report()
    _static(deck, report)
    jobs: Queue[dict[str, object]] = Queue()
    where: dict[int, tuple[str, CodeBlock]] = {}
    for number, (card_id, block) in enumerate(_blocks(deck)):
        if block.lang not in PYTHON or not block.run or (only is not None and card_id not in only):
            continue
        where[number] = (card_id, block)
        jobs.put({"id": number, "path": deck.path, "src": block.src, "src_line": block.line,
                  "check": block.check or "", "check_line": block.check_line or 0})
    report.executed = len(where)
    results: list[dict[str, object]] = []
    count = max(1, min(workers or os.cpu_count() or 1, len(where)))
    threads = [threading.Thread(target=_worker, args=(timeout, jobs, results)) for _ in range(count)] if where else []
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in sorted(results, key=lambda r: int(r["id"])):  # type: ignore[call-overload]
        if result.get("ok"):
            continue
        card_id, block = where[int(result["id"])]  # type: ignore[call-overload]
        line = result.get("line") or block.line
        part = "check" if result.get("in_check") else "code"
        report.failures.append(Problem(deck.path, int(line), f"{part} failed: {result['error']}", card_id))
    report.failures.sort(key=lambda p: (p.line or 0))
    report.seconds = time.perf_counter() - started
    return report
