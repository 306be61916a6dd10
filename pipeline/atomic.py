"""Write outputs so that a failed or killed build never leaves a half-written file in place.

Each output is written to a hidden temporary file in its destination folder, flushed to disk,
and renamed over the real name only after every output of the build succeeded (a rename within
one folder is atomic). Leftovers of a killed build are hidden, named ``.<name>.partial-*``, and
swept at the start of the next build.
"""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

from .errors import OutputError

PARTIAL = ".partial-"


def prepare_folder(folder: Path) -> None:
    """Create ``folder`` if needed; fail clearly if it is a file or not writable."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: the output folder is a file; choose another --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the output folder: {exc.strerror}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{folder}: the output folder is not writable")
    for leftover in folder.glob(f".*{PARTIAL}*"):
        leftover.unlink(missing_ok=True)


def sweep(final: Path) -> None:
    """Delete leftovers of ``final`` from killed builds (outside the output folder: the lock)."""
    for leftover in final.parent.glob(f".{glob.escape(final.name)}{PARTIAL}*"):
        leftover.unlink(missing_ok=True)


class Staging:
    """A set of outputs written to temporary files and published together by :meth:`commit`."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def path_for(self, final: Path) -> Path:
        """A fresh temporary path beside ``final`` to write that output to."""
        handle, name = tempfile.mkstemp(prefix=f".{final.name}{PARTIAL}", dir=final.parent)
        os.close(handle)
        temp = Path(name)
        self._pending.append((temp, final))
        return temp

    def write_text(self, final: Path, text: str) -> None:
        """Stage ``text`` as the new content of ``final``."""
        self.path_for(final).write_text(text, encoding="utf-8")

    def commit(self) -> None:
        """Flush every staged file to disk, then rename each over its final name."""
        try:
            for temp, _ in self._pending:
                with open(temp, "rb+") as handle:
                    os.fsync(handle.fileno())
                os.chmod(temp, 0o644)
            for temp, final in self._pending:
                os.replace(temp, final)
        except OSError as exc:
            raise OutputError(f"cannot publish the outputs: {exc}") from None
        finally:
            self.discard()
        self._pending.clear()

    def discard(self) -> None:
        """Delete every staged file that was not published."""
        for temp, _ in self._pending:
            temp.unlink(missing_ok=True)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()
