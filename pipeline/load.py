"""Load a YAML deck source into a validated, frozen :class:`~pipeline.model.Deck`.

Every problem in the file is collected, each with its line, and reported together in one
:class:`~pipeline.errors.SourceError`; nothing downstream ever sees an invalid deck.
"""

from __future__ import annotations

import ast
import difflib
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import fonts, highlight, markup
from .errors import Problem, SourceError
from .model import LEVELS, Card, CodeBlock, Deck, Section, Topic
from .yamlsource import Map, Seq, YamlProblems, read

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

TOP_KEYS = {"deck": True, "topics": True, "retired": False}
DECK_KEYS = {"id": True, "title": True, "description": False, "targets": False, "author": False}
TOPIC_KEYS = {"id": True, "title": True, "sections": True}
SECTION_KEYS = {"id": True, "title": True, "cards": True}
CARD_KEYS = {"id": True, "q": True, "a": True, "code": False, "more": False, "level": False,
             "tags": False, "sources": False}
CODE_KEYS = {"lang": True, "src": True, "run": False, "check": False}
"""Known keys per mapping, each with whether it is required."""

MAX_SOURCE_BYTES = 20 * 1024 * 1024
"""A source larger than this is refused before parsing (a typo'd path to a huge file)."""


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value[:30]!r})" if value.strip() else "empty text"
    if isinstance(value, Map):
        return "a mapping"
    if isinstance(value, Seq):
        return "a list"
    return type(value).__name__


def _right_to_left(text: str) -> str | None:
    """The first right-to-left letter in ``text`` (Hebrew, Arabic...), if any.

    The sheet lays text out left to right without bidi reordering, so such text would print reversed.
    """
    if text.isascii():
        return None
    return next((ch for ch in text if unicodedata.bidirectional(ch) in ("R", "AL")), None)


class _Checker:
    """Walks the line-annotated YAML, builds the model, and records problems as it goes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.card: str | None = None

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.path, line, message, self.card))

    # -- shapes -------------------------------------------------------------------------------

    def keys(self, node: Map, known: dict[str, bool], what: str) -> None:
        for key, line in node.key_lines.items():
            if key not in known:
                close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.5)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.problem(line, f"unknown key '{key}' in {what} (known: {', '.join(known)}){hint}")
        for key, required in known.items():
            if required and key not in node.values:
                self.problem(node.line, f"{what} is missing the required key '{key}'")

    def mapping(self, value: Any, line: int, what: str) -> Map | None:
        if isinstance(value, Map):
            return value
        self.problem(line, f"{what} must be a mapping, found {_describe(value)}")
        return None

    def seq(self, node: Map, key: str, what: str, *, allow_empty: bool = False) -> list[tuple[Any, int]]:
        value = node.values.get(key)
        line = node.value_lines.get(key, node.line)
        if value is None and key not in node.values:
            return []
        if not isinstance(value, Seq):
            self.problem(line, f"'{key}' of {what} must be a list, found {_describe(value)}")
            return []
        if not value.items and not allow_empty:
            self.problem(line, f"'{key}' of {what} is an empty list")
        return list(zip(value.items, value.item_lines, strict=True))

    def text(self, node: Map, key: str, what: str, *, required: bool = True) -> str | None:
        value = node.values.get(key)
        line = node.value_lines.get(key, node.line)
        if key not in node.values:
            return None  # a missing required key is reported by keys()
        if not isinstance(value, str):
            self.problem(line, f"'{key}' of {what} must be text, found {_describe(value)}")
            return None
        if required and not value.strip():
            self.problem(line, f"'{key}' of {what} is empty")
            return None
        return value

    def slug(self, node: Map, what: str) -> str | None:
        value = self.text(node, "id", what)
        if value is None:
            return None
        if not SLUG.fullmatch(value):
            self.problem(node.value_lines["id"],
                         f"id of {what} must be a slug (lowercase letters, digits and single hyphens), "
                         f"found {value!r}")
            return None
        return value

    # -- content checks -----------------------------------------------------------------------

    def prose(self, node: Map, key: str, what: str, *, required: bool = True) -> str | None:
        value = self.text(node, key, what, required=required)
        if value is None:
            return None
        line = node.value_lines[key]
        for message in markup.problems(value):
            self.problem(line, f"'{key}': {message}")
        self.glyphs(value, line, key, fonts.SANS)
        return value

    def title_text(self, title: str, line: int) -> None:
        # Titles become Anki deck names, where "::" starts a subdeck.
        if "::" in title:
            self.problem(line, f"title {title!r} contains '::', which Anki reads as a subdeck separator")
        elif title.strip().startswith(":") or title.strip().endswith(":"):
            self.problem(line, f"title {title!r} starts or ends with ':', which Anki drops from deck names "
                         "(next to the '::' separator)")
        if "\n" in title.strip():
            self.problem(line, "a title must be one line")
        self.glyphs(title, line, "title", fonts.SANS)

    def glyphs(self, text: str, first_line: int, key: str, family: str) -> None:
        for ch in fonts.missing(text, family):
            offset = text[: text.index(ch)].count("\n")
            name = f"U+{ord(ch):04X}"
            self.problem(first_line + offset,
                         f"'{key}': the PDF fonts cannot draw {ch!r} ({name}); use another character")
        rtl = _right_to_left(text)
        if rtl:
            offset = text[: text.index(rtl)].count("\n")
            self.problem(first_line + offset,
                         f"'{key}': right-to-left text ({rtl!r}, U+{ord(rtl):04X}) is not supported: the cheat-sheet "
                         "would print it in reverse order")

    def code_block(self, value: Any, line: int, what: str) -> CodeBlock | None:
        node = self.mapping(value, line, f"a code block of {what}")
        if node is None:
            return None
        self.keys(node, CODE_KEYS, "a code block")
        lang = self.text(node, "lang", "the code block")
        src = self.text(node, "src", "the code block")
        check = self.text(node, "check", "the code block")
        run_value = node.values.get("run", True)
        if not isinstance(run_value, bool):
            self.problem(node.value_lines.get("run"), f"'run' must be true or false, found {_describe(run_value)}")
            run_value = True
        if lang is not None and not highlight.is_known_language(lang):
            hint = highlight.suggest_language(lang)
            hint_text = f"; did you mean '{hint}'?" if hint else ""
            self.problem(node.value_lines["lang"], f"unknown code language '{lang}' (not a Pygments lexer){hint_text}")
            lang = None
        src_line = node.value_lines.get("src", node.line)
        check_line = node.value_lines.get("check")
        if src is not None:
            self.glyphs(src, src_line, "src", fonts.MONO)
        if lang is not None and lang not in ("python", "py", "python3"):
            for key in ("run", "check"):
                if key in node.values:
                    self.problem(node.key_lines[key], f"'{key}' applies to Python code only, not to '{lang}'")
        elif lang is not None:
            for key, text, first in (("src", src, src_line), ("check", check, check_line)):
                if text is not None and first is not None:
                    self.python_syntax(text, first, key)
        if lang is None or src is None:
            return None
        return CodeBlock(lang=lang, src=src, run=run_value, check=check, line=src_line, check_line=check_line)

    def python_syntax(self, text: str, first_line: int, key: str) -> None:
        try:
            ast.parse(text)
        except SyntaxError as exc:
            where = first_line + (exc.lineno or 1) - 1
            self.problem(where, f"'{key}': Python does not parse: {exc.msg}")

    # -- the tree -----------------------------------------------------------------------------

    def each(self, items: list[tuple[Any, int]], what: str, fn: Callable[[Map], Any]) -> list[Any]:
        out = []
        for value, line in items:
            node = self.mapping(value, line, what)
            if node is not None:
                built = fn(node)
                if built is not None:
                    out.append(built)
        return out

    def load(self, root: Any) -> Deck | None:
        top = self.mapping(root, 1, "the document")
        if top is None:
            return None
        self.keys(top, TOP_KEYS, "the document")
        deck_node = self.mapping(top.values.get("deck"), top.value_lines.get("deck", 1), "'deck'") \
            if "deck" in top.values else None
        deck_id = title = description = targets = author = None
        if deck_node is not None:
            self.keys(deck_node, DECK_KEYS, "'deck'")
            deck_id = self.slug(deck_node, "the deck")
            title = self.text(deck_node, "title", "the deck")
            description = self.prose(deck_node, "description", "the deck", required=False) or ""
            targets = self.text(deck_node, "targets", "the deck")
            author = self.text(deck_node, "author", "the deck")
            if title is not None:
                self.title_text(title, deck_node.value_lines["title"])
        retired = []
        for value, line in self.seq(top, "retired", "the document", allow_empty=True):
            if not isinstance(value, str) or not SLUG.fullmatch(value):
                self.problem(line, f"'retired' lists card ids (slugs), found {_describe(value)}")
            else:
                retired.append(value)

        self.card_lines: dict[str, int] = {}
        self.questions: dict[str, tuple[str, int]] = {}
        topic_lines: dict[str, int] = {}
        topics = self.each(self.seq(top, "topics", "the document"), "a topic",
                           lambda n: self.topic(n, topic_lines))
        self.distinct_titles(topics, "topic")
        for topic in topics:
            self.distinct_titles(topic.sections, f"section of topic '{topic.id}'")
        for card_id in retired:
            if card_id in self.card_lines:
                self.card = card_id
                self.problem(self.card_lines[card_id],
                             "this id is listed under 'retired'; a retired id cannot come back, choose a new one")
                self.card = None
        if self.problems or deck_id is None or title is None:
            return None
        return Deck(id=deck_id, title=title, description=description or "", targets=targets, author=author,
                    topics=tuple(topics), retired=tuple(retired), path=self.path)

    def distinct_titles(self, items: list[Topic] | tuple[Section, ...], what: str) -> None:
        # Anki matches decks by name, ignoring case (and Unicode normalisation): two topics, or two
        # sections of a topic, with the same title would be one deck ("Title_" on a second import).
        seen: dict[str, Topic | Section] = {}
        for item in items:
            key = unicodedata.normalize("NFC", item.title).casefold()
            if key in seen:
                first = seen[key]
                self.problem(item.line, f"{what} '{item.id}' has the same title as '{first.id}' (line {first.line}), "
                             f"{item.title!r}; Anki matches decks by name, so give each its own title")
            else:
                seen[key] = item

    def topic(self, node: Map, seen: dict[str, int]) -> Topic | None:
        self.keys(node, TOPIC_KEYS, "a topic")
        topic_id = self.slug(node, "a topic")
        title = self.text(node, "title", f"topic '{topic_id}'")
        if title is not None:
            self.title_text(title, node.value_lines["title"])
        if topic_id is not None:
            if topic_id in seen:
                self.problem(node.value_lines["id"], f"topic id '{topic_id}' is used twice (first at line {seen[topic_id]})")
            seen.setdefault(topic_id, node.value_lines["id"])
        section_lines: dict[str, int] = {}
        sections = self.each(self.seq(node, "sections", f"topic '{topic_id}'"), "a section",
                             lambda n: self.section(n, section_lines, topic_id))
        if topic_id is None or title is None:
            return None
        return Topic(id=topic_id, title=title.strip(), sections=tuple(sections), line=node.line)

    def section(self, node: Map, seen: dict[str, int], topic_id: str | None) -> Section | None:
        self.keys(node, SECTION_KEYS, "a section")
        section_id = self.slug(node, "a section")
        title = self.text(node, "title", f"section '{section_id}'")
        if title is not None:
            self.title_text(title, node.value_lines["title"])
        if section_id is not None:
            if section_id in seen:
                self.problem(node.value_lines["id"],
                             f"section id '{section_id}' is used twice in topic '{topic_id}' (first at line {seen[section_id]})")
            seen.setdefault(section_id, node.value_lines["id"])
        cards = self.each(self.seq(node, "cards", f"section '{section_id}'"), "a card", self.card_of)
        if section_id is None or title is None:
            return None
        return Section(id=section_id, title=title.strip(), cards=tuple(cards), line=node.line)

    def card_of(self, node: Map) -> Card | None:
        self.card = None
        raw_id = node.values.get("id")
        self.card = raw_id if isinstance(raw_id, str) else None
        try:
            return self._card(node)
        finally:
            self.card = None

    def _card(self, node: Map) -> Card | None:
        self.keys(node, CARD_KEYS, "a card")
        card_id = self.slug(node, "a card")
        if card_id is not None:
            if card_id in self.card_lines:
                self.problem(node.value_lines["id"],
                             f"card id '{card_id}' is used twice (first at line {self.card_lines[card_id]}); ids must be unique in the deck")
            else:
                self.card_lines[card_id] = node.value_lines["id"]
        q = self.prose(node, "q", "the card")
        a = self.prose(node, "a", "the card")
        more = self.prose(node, "more", "the card", required=False)
        if q is not None:
            if "\n" in q.strip():
                self.problem(node.value_lines["q"], "'q' must be one line")
            key = markup.plain_text(q).casefold()
            if key in self.questions:
                other, other_line = self.questions[key]
                self.problem(node.value_lines["q"], f"the same question is asked by card '{other}' (line {other_line})")
            else:
                self.questions[key] = (card_id or "?", node.value_lines["q"])
        level = node.values.get("level")
        if level is not None and level not in LEVELS:
            close = difflib.get_close_matches(str(level), LEVELS, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.problem(node.value_lines["level"], f"'level' must be one of {', '.join(LEVELS)}, found {_describe(level)}{hint}")
            level = None
        tags = []
        for value, line in self.seq(node, "tags", "the card", allow_empty=True):
            if not isinstance(value, str) or not SLUG.fullmatch(value):
                self.problem(line, f"tags must be lowercase slugs (letters, digits, hyphens), found {_describe(value)}")
            else:
                tags.append(value)
        sources = []
        for value, line in self.seq(node, "sources", "the card", allow_empty=True):
            if not isinstance(value, str) or not value.strip():
                self.problem(line, f"sources must be text references, found {_describe(value)}")
            else:
                sources.append(value.strip())
        blocks: list[CodeBlock] = []
        if "code" in node.values:
            code = node.values["code"]
            line = node.value_lines["code"]
            items = list(zip(code.items, code.item_lines, strict=True)) if isinstance(code, Seq) else [(code, line)]
            if isinstance(code, Seq) and not code.items:
                self.problem(line, "'code' is an empty list; remove it or add a block")
            for value, item_line in items:
                block = self.code_block(value, item_line, "the card")
                if block is not None:
                    blocks.append(block)
        if card_id is None or q is None or a is None:
            return None
        return Card(id=card_id, q=q.strip(), a=a, code=tuple(blocks), more=more, level=level,
                    tags=tuple(dict.fromkeys(tags)), sources=tuple(sources), line=node.line)


def load(path: str | Path) -> Deck:
    """Read and validate the deck source at ``path``.

    Raises :class:`SourceError` listing every problem (each with ``file:line``) when the source
    is invalid, unreadable or missing; returns a frozen :class:`Deck` otherwise.
    """
    name = str(path)
    file = Path(path)
    try:
        if file.is_dir():
            raise SourceError([Problem(name, None, "is a folder; expected a YAML deck source file")])
        size = file.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise SourceError([Problem(name, None, f"is {size // 1024 // 1024} MiB; a deck source is at most 20 MiB")])
        data = file.read_bytes()
    except FileNotFoundError:
        raise SourceError([Problem(name, None, "no such file")]) from None
    except PermissionError:
        raise SourceError([Problem(name, None, "cannot be read (permission denied)")]) from None
    except OSError as exc:
        raise SourceError([Problem(name, None, f"cannot be read: {exc.strerror}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError([Problem(name, line, f"is not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8")]) from None
    try:
        root = read(text, name)
    except YamlProblems as exc:
        raise SourceError(exc.problems) from None
    checker = _Checker(name)
    deck = checker.load(root)
    if checker.problems or deck is None:
        raise SourceError(checker.problems or [Problem(name, 1, "the source is not a valid deck")])
    return deck
