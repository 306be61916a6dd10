"""Focused builds: choose cards by topic, tag and level, for both the deck and the sheet."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .errors import DeckError
from .model import LEVELS, Deck


@dataclass(frozen=True)
class Selection:
    """Which cards to build; an empty criterion selects everything."""

    topics: tuple[str, ...] = ()
    """Topic ids; a card is kept when its topic is one of them."""
    tags: tuple[str, ...] = ()
    """Tags; a card is kept when it has at least one of them."""
    levels: tuple[str, ...] = ()
    """Levels; a card is kept when its level is one of them."""

    @property
    def everything(self) -> bool:
        """Whether no criterion is set."""
        return not (self.topics or self.tags or self.levels)

    def suffix(self) -> str:
        """A file-name suffix naming the selection (``--topic-security``), empty for all cards."""
        parts = [f"topic-{t}" for t in self.topics] + [f"tag-{t}" for t in self.tags]
        parts += [f"level-{lv}" for lv in self.levels]
        return "--" + "-".join(parts) if parts else ""


class SelectionError(DeckError):
    """A selection names something the deck does not have, or keeps no card."""


def _unknown(kind: str, value: str, known: list[str]) -> SelectionError:
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return SelectionError(f"unknown {kind} '{value}'{hint} (known: {', '.join(sorted(known))})")


def select(deck: Deck, selection: Selection) -> set[str] | None:
    """The ids of the selected cards, or ``None`` when the selection keeps everything."""
    if selection.everything:
        return None
    topics = [t.id for t in deck.topics]
    tags = sorted({tag for _, _, c in deck.cards() for tag in c.tags})
    for value in selection.topics:
        if value not in topics:
            raise _unknown("topic", value, topics)
    for value in selection.tags:
        if value not in tags:
            raise _unknown("tag", value, tags)
    for value in selection.levels:
        if value not in LEVELS:
            raise _unknown("level", value, list(LEVELS))
    chosen = {
        card.id for topic, _, card in deck.cards()
        if (not selection.topics or topic.id in selection.topics)
        and (not selection.tags or set(card.tags) & set(selection.tags))
        and (not selection.levels or card.level in selection.levels)
    }
    if not chosen:
        raise SelectionError("the selection keeps no card; loosen --topic/--tag/--level")
    return chosen
