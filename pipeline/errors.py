"""Problems found in a deck source, and the one exception that carries them.

The loader never stops at the first problem: it collects every :class:`Problem` and raises a
single :class:`SourceError` at the end, so an author fixes a whole file in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or worth a warning) in a source file."""

    path: str
    """The source file, as the user named it."""
    line: int | None
    """1-based line of the problem, or ``None`` when it has no line (a missing file)."""
    message: str
    """What was expected and what was found."""
    card: str | None = None
    """Id of the card the problem is in, if any."""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        who = f"card '{self.card}': " if self.card else ""
        return f"{where}: {who}{self.message}"


class DeckError(Exception):
    """Base class of every error the pipeline reports to a user without a traceback."""


class SourceError(DeckError):
    """The source has problems; ``problems`` lists every one of them, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.path, p.line or 0))
        super().__init__("\n".join(str(p) for p in self.problems))


class OutputError(DeckError):
    """An output could not be written (folder is a file, not writable, disk full...)."""
