"""The validated deck: frozen dataclasses, produced only by :func:`pipeline.load.load`.

Everything downstream (renderers, writers, the verifier) reads these and nothing else, so a
value here has already passed every check in ``load``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

LEVELS = ("junior", "mid", "senior")
"""Allowed card levels, easiest first."""


@dataclass(frozen=True)
class CodeBlock:
    """One code sample of a card."""

    lang: str
    """Pygments lexer alias as written in the source (``python``, ``bash``...)."""
    src: str
    """The code shown to readers."""
    run: bool
    """Python only: ``True`` when ``deck verify`` executes the block (the default)."""
    check: str | None
    """Hidden assertions run after ``src`` by ``deck verify``; never shown."""
    line: int
    """1-based source line of the first line of ``src``."""
    check_line: int | None
    """1-based source line of the first line of ``check``."""


@dataclass(frozen=True)
class Card:
    """One question and its answer: one Anki note, one block on the cheat-sheet."""

    id: str
    """Slug, unique in the deck; the note's identity forever (its GUID derives from it)."""
    q: str
    """The question, markdown, one line."""
    a: str
    """The crisp answer, markdown."""
    code: tuple[CodeBlock, ...]
    """Code samples, possibly none."""
    more: str | None
    """Optional deeper answer, markdown."""
    level: str | None
    """``junior``, ``mid``, ``senior`` or ``None``."""
    tags: tuple[str, ...]
    """Lowercase slugs."""
    sources: tuple[str, ...]
    """Seed units this card covers (``SEED:LINE``)."""
    line: int
    """1-based source line where the card starts."""


@dataclass(frozen=True)
class Section:
    """A group of cards inside a topic; an Anki subdeck ``Deck::Topic::Section``."""

    id: str
    """Slug, unique within its topic."""
    title: str
    """Human title, also the subdeck name."""
    cards: tuple[Card, ...]
    """The cards, in source order (which is also the order new cards are studied in)."""
    line: int
    """1-based source line of the section."""


@dataclass(frozen=True)
class Topic:
    """A top-level group of sections."""

    id: str
    """Slug, unique among topics."""
    title: str
    """Human title, also the subdeck name."""
    sections: tuple[Section, ...]
    """The sections, in source order."""
    line: int
    """1-based source line of the topic."""


@dataclass(frozen=True)
class Deck:
    """A whole validated source file."""

    id: str
    """Namespace of every Anki id derived for this deck; never changes after release."""
    title: str
    """Deck title: the top-level Anki deck name and the cheat-sheet title."""
    description: str
    """Markdown shown as the Anki deck description and on the cheat-sheet title block."""
    targets: str | None
    """What the answers are written for, e.g. ``FastAPI 0.165, Pydantic 2.14``."""
    author: str | None
    """Author shown in PDF metadata."""
    topics: tuple[Topic, ...]
    """The topics, in source order."""
    retired: tuple[str, ...]
    """Card ids released earlier and deliberately removed."""
    path: str
    """The source file the deck was loaded from."""

    def cards(self) -> Iterator[tuple[Topic, Section, Card]]:
        """Every card with its topic and section, in source order."""
        for topic in self.topics:
            for section in topic.sections:
                for card in section.cards:
                    yield topic, section, card

    @property
    def card_count(self) -> int:
        """Number of cards in the deck."""
        return sum(len(s.cards) for t in self.topics for s in t.sections)
