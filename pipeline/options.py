"""Options of a build that more than one module needs to know."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .select import Selection

FORMATS = ("apkg", "pdf")
"""Output formats ``deck build`` can write."""


@dataclass(frozen=True)
class SheetOptions:
    """How the PDF cheat-sheet is laid out."""

    paper: str = "a4"
    """``a4`` or ``letter``."""
    columns: int = 3
    """Number of text columns per page."""
    portrait: bool = False
    """Portrait instead of the default landscape."""
    full: bool = False
    """Also print each card's ``more`` part."""
    grayscale: bool = False
    """Print-safe code style: no colour, meaning carried by bold and italic."""


@dataclass(frozen=True)
class BuildOptions:
    """Everything ``deck build`` can be told."""

    out: Path = Path("build")
    """Output folder."""
    formats: tuple[str, ...] = FORMATS
    """Which outputs to write."""
    sheet: SheetOptions = field(default_factory=SheetOptions)
    """PDF layout."""
    selection: Selection = field(default_factory=Selection)
    """Which cards go into the outputs."""
    update_lock: bool = True
    """Write the reconciled lock file beside the source (``deck check`` only compares)."""
