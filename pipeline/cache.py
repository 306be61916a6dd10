"""A content-addressed cache on disk, so a rebuild after a small edit redoes only what changed.

Each :class:`Store` is one file under the output folder (``build/.cache/<name>.bin``) mapping
keys to plain values (strings, numbers, tuples: whatever :mod:`marshal` writes). A key is a
hash of everything its value is computed from, so a stale entry is never found, only missed;
and every file is stamped with :func:`fingerprint`, a hash of the pipeline's own code and of
the libraries that shape the outputs, so a new version of either starts from an empty cache.

The cache never changes an output: a hit returns exactly what computing the value would.
It is safe to lose at any moment: a missing, truncated, corrupted or foreign file (each file
carries a checksum of its contents) reads as empty, and a file is replaced atomically, so a
killed build leaves the old one or the new one. Writing it is best effort: a full disk or a
read-only folder costs the next build its speed, never this build its outputs.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
from collections.abc import Callable
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any

FOLDER = ".cache"
"""Name of the cache folder inside the output folder."""
DISABLE_ENV = "DECK_NO_CACHE"
"""Set to 1 to build without reading or writing the cache (a cold build)."""
_MAGIC = b"deck-cache 1\n"
_LIBRARIES = (("markdown_it", "__version__"), ("pygments", "__version__"), ("reportlab", "Version"))
"""Libraries whose output is cached, with their version attribute (importlib.metadata costs 30 ms)."""
_CODE_SUFFIXES = (".py", ".json", ".html", ".css")


def enabled() -> bool:
    """Whether builds use the cache (``DECK_NO_CACHE=1`` turns it off)."""
    return os.environ.get(DISABLE_ENV, "") in ("", "0")


@cache
def fingerprint() -> str:
    """A hash of the pipeline's code and data files and of the versions of the libraries it uses.

    Cached values are only valid for the code that computed them; hashing the files (a few
    milliseconds) rather than trusting a version number also covers an uncommitted edit.
    """
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in _CODE_SUFFIXES
                       and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for name, attribute in _LIBRARIES:
        version = getattr(import_module(name), attribute, "-")  # reportlab's package is tiny
        digest.update(f"{name}={version}\0".encode())
    return digest.hexdigest()


def key(*parts: Any) -> str:
    """A cache key: a hash of ``parts`` (strings, numbers, ``None`` and tuples of them)."""
    return hashlib.sha256(marshal.dumps(parts)).hexdigest()[:32]


class Store:
    """One cache file: values by key, read once, written back by :meth:`save`.

    Only the entries used by this build are written back, so the file holds what the current
    source needs and does not grow with every edit.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._old: dict[str, Any] = _read(path) if path is not None else {}
        self._used: dict[str, Any] = {}
        self._offered: dict[str, Any] = {}
        self.refill: Callable[[], None] | None = None
        """Called on a miss, to :meth:`offer` more entries before giving up (see prefetch.py)."""

    def get(self, name: str) -> Any:
        """The value stored under ``name``, or ``None``; a hit is kept for :meth:`save`."""
        value = self._used.get(name)
        if value is None:
            value = self._old.get(name)
            if value is None:
                value = self._offered.get(name)
                if value is None and self.refill is not None:
                    self.refill()
                    value = self._offered.get(name)
            if value is not None:
                self._used[name] = value
        return value

    def offer(self, name: str, value: Any) -> None:
        """Make ``value`` findable under ``name``, as if it had been put (see prefetch.py)."""
        self._offered.setdefault(name, value)

    def put(self, name: str, value: Any) -> None:
        """Store ``value`` (not ``None``) under ``name``."""
        self._used[name] = value

    def __contains__(self, name: str) -> bool:
        return name in self._used or name in self._old or name in self._offered

    def __len__(self) -> int:
        """Entries read from the file (a measure of how much a rebuild finds)."""
        return len(self._old)

    @property
    def changed(self) -> bool:
        """Whether :meth:`save` would write something different from what was read."""
        return self._used.keys() != self._old.keys() or any(
            self._old.get(k) is not v and self._old.get(k) != v for k, v in self._used.items())

    def save(self) -> None:
        """Replace the file with the entries used since it was read (best effort, atomic)."""
        if self.path is None or not self.changed:
            return
        _write(self.path, self._used)


def folder(out: Path) -> Path | None:
    """The cache folder of output folder ``out``, or ``None`` when the cache is disabled."""
    return out / FOLDER if enabled() else None


def store(out: Path | None, name: str) -> Store:
    """The store ``name`` of the cache under output folder ``out`` (an empty one if disabled)."""
    where = folder(out) if out is not None else None
    return Store(where / f"{name}.bin" if where is not None else None)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    head = len(_MAGIC)
    if not data.startswith(_MAGIC) or len(data) < head + 32:
        return {}
    checksum, payload = data[head:head + 32], data[head + 32:]
    if hashlib.sha256(payload).digest() != checksum:
        return {}  # truncated or damaged: marshal must never see it
    try:
        stamp, entries = marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return {}
    if stamp != fingerprint() or not isinstance(entries, dict):
        return {}
    return entries


def _write(path: Path, entries: dict[str, Any]) -> None:
    payload = marshal.dumps((fingerprint(), entries))
    data = _MAGIC + hashlib.sha256(payload).digest() + payload
    temp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in path.parent.glob(f".{path.name}.partial-*"):  # of a killed build
            leftover.unlink(missing_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.partial-", dir=path.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temp, path)
        temp = None
    except (OSError, ValueError):
        pass  # best effort: the next build is slower, nothing else
    finally:
        if temp is not None:
            try:
                os.unlink(temp)
            except OSError:
                pass
