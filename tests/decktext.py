"""Hypothesis strategies for deck sources whose *visible* text is known independently of the pipeline.

Prose is assembled from building blocks whose CommonMark rendering is fixed by the spec, each
returned as ``(markdown, visible text)``: words of characters the PDF fonts draw, ASCII
punctuation written with a backslash escape (CommonMark: any ASCII punctuation may be escaped),
code spans, emphasis, links, and "hostile" strings (HTML, Anki template braces, Anki media tags)
written either escaped or in backticks. The tests compare what Anki and the PDF show with the
visible text collected here, never with the pipeline's own idea of it.
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

import yaml
from hypothesis import strategies as st

from pipeline import fonts

PUNCT = string.punctuation
# Validation refuses right-to-left letters (the sheet has no bidi layout), so they are left out.
SANS = sorted(c for c in fonts.coverage(fonts.SANS) if unicodedata.bidirectional(chr(c)) not in ("R", "AL"))
MONO = sorted(c for c in fonts.coverage(fonts.MONO) if unicodedata.bidirectional(chr(c)) not in ("R", "AL"))

WORD_CHARS = [chr(c) for c in SANS if not chr(c).isspace() and chr(c) not in PUNCT]
"""Characters that are never markdown syntax: letters, digits, symbols, marks, format characters..."""
SPACES = [chr(c) for c in SANS if chr(c).isspace() and chr(c) not in "\n\r\t\u2028\u2029"]
"""Unicode spaces the fonts draw (NBSP, em space...): separators inside a line."""
CODE_CHARS = [chr(c) for c in MONO if not chr(c).isspace() or chr(c) in " \u00a0"]
"""Characters for code: everything the mono font draws (tabs and newlines are added separately)."""

HOSTILE = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<a href=\"javascript:alert(1)\">x</a>",
    "javascript:alert(1)", "<svg onload=alert(1)>", "<!-- comment -->", "<![CDATA[x]]>", "</div>",
    "{{Front}}", "{{Question}}", "{{c1::hidden}}", "{{#Code}}shown{{/Code}}", "{{", "}}", "::", "a::b::c",
    "[sound:evil.mp3]", "[latex]\\input{/etc/passwd}[/latex]", "[$]x^2[/$]", "[$$]y[/$$]",
    "[anki:tts lang=en_US]hi[/anki:tts]", "&amp;", "&lt;b&gt;", "&#60;script&#62;", "&nbsp;", "\\(x\\)",
    "*not emphasis*", "# not a heading", "- not a list", "1. not a list", "> not a quote", "| a | b |",
    "```", "~~~", "[x](javascript:alert(1))", "![img](https://example.com/x.png)", "<https://example.com>",
    "%%", "\\", "'\"", "--", "...", "!!python/object:os.system",
]
"""Text that must stay text: shown literally, never markup, template syntax or a media tag."""


def escape_all(text: str) -> str:
    """Markdown source whose visible text is exactly ``text`` (one line, no leading spaces)."""
    return "".join("\\" + ch if ch in PUNCT else ch for ch in text)


def words(min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    ascii_heavy = st.sampled_from(string.ascii_letters + string.digits)
    return st.text(st.one_of(ascii_heavy, st.sampled_from(WORD_CHARS)), min_size=min_size, max_size=max_size)


Atom = tuple[str, str]


def _code_span(content: str) -> Atom:
    return f"`{content}`", content


code_span_text = st.text(st.one_of(st.sampled_from(WORD_CHARS), st.sampled_from(PUNCT.replace("`", "")),
                                   st.just(" ")), min_size=1, max_size=30).filter(lambda s: s.strip())

atoms: st.SearchStrategy[Atom] = st.one_of(
    words().map(lambda w: (w, w)),
    words().map(lambda w: (w, w)),
    words(200, 400).map(lambda w: (w, w)),                                   # a very long word
    st.sampled_from(PUNCT).map(lambda c: ("\\" + c, c)),
    st.text(st.sampled_from(PUNCT), min_size=2, max_size=8).map(lambda s: (escape_all(s), s)),
    code_span_text.map(_code_span),
    words().map(lambda w: (f"*{w}*", w)),
    words().map(lambda w: (f"**{w}**", w)),
    words().map(lambda w: (f"~~{w}~~", w)),
    st.tuples(words(), st.sampled_from(["https://example.com/a?b=c&d=e", "http://example.org/",
                                        "mailto:someone@example.com"])).map(lambda t: (f"[{t[0]}]({t[1]})", t[0])),
    st.sampled_from(HOSTILE).map(lambda s: (escape_all(s), s)),
    st.sampled_from([h for h in HOSTILE if "`" not in h]).map(_code_span),
)


@st.composite
def inline(draw: st.DrawFn, *, max_atoms: int = 12, newlines: bool = False) -> Atom:
    """One paragraph's worth of atoms: markdown and visible text."""
    chosen = draw(st.lists(atoms, min_size=1, max_size=max_atoms))
    source, visible = chosen[0][0], [chosen[0][1]]
    for md, text in chosen[1:]:
        separator = draw(st.sampled_from([" ", " ", " ", "\n" if newlines else " ", *SPACES]))
        source += separator + md
        visible.append(text)
    return source, " ".join(visible)


@st.composite
def prose(draw: st.DrawFn) -> Atom:
    """Markdown of paragraphs and bullet lists, with its visible text."""
    blocks = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            blocks.append(draw(inline(newlines=True)))
        else:
            items = draw(st.lists(inline(max_atoms=5), min_size=1, max_size=4))
            blocks.append(("\n".join(f"- {md}" for md, _ in items), " ".join(v for _, v in items)))
    return "\n\n".join(md for md, _ in blocks), " ".join(v for _, v in blocks)


def _no_double_colon(text: str) -> str:
    while "::" in text:
        text = text.replace("::", ":")
    return text


titles = st.text(st.one_of(st.sampled_from(WORD_CHARS), st.sampled_from(PUNCT), st.just(" ")),
                 min_size=1, max_size=40).map(_no_double_colon).filter(
                     lambda s: s.strip() and not s.strip().startswith(":") and not s.strip().endswith(":"))
"""Titles: one line, no '::' and no ':' at either end (Anki would rename the deck; validation refuses)."""

code_lines = st.text(st.sampled_from(CODE_CHARS), max_size=120)


@st.composite
def code_block(draw: st.DrawFn) -> dict[str, object]:
    lang = draw(st.sampled_from(["python", "text", "bash", "json", "html", "javascript", "toml", "yaml", "sql"]))
    lines = draw(st.lists(st.one_of(code_lines, st.text(st.sampled_from(CODE_CHARS), min_size=300, max_size=600)),
                          min_size=1, max_size=6))
    if draw(st.booleans()):
        lines = ["\t" + line if i % 2 else line for i, line in enumerate(lines)]
    if not "".join(lines).strip():
        lines.append("x")  # an empty block is rightly refused
    if lang == "python":  # must parse: every line becomes a string literal or a comment
        lines = [f"value_{i} = {line!r}" if i % 2 == 0 else f"# {line}" for i, line in enumerate(lines)]
    return {"lang": lang, "src": "\n".join(lines) + "\n"}


@dataclass
class Expected:
    """What a generated card must show."""

    card_id: str
    deck: str
    front: str
    back: str
    question: str
    hidden: list[str] = field(default_factory=list)


LEVEL_NAMES = ("junior", "mid", "senior")


@st.composite
def decks(draw: st.DrawFn, *, max_topics: int = 2, max_sections: int = 2,
          max_cards: int = 4) -> tuple[dict, list[Expected]]:
    """A valid deck source (as data for YAML) and what every card must show."""
    deck_title = draw(titles)
    topic_keys: set[str] = set()

    def distinct(title: str, keys: set[str]) -> str:
        # Anki matches deck names ignoring case: topics (and sections of a topic) need distinct titles.
        while unicodedata.normalize("NFC", title.strip()).casefold() in keys:
            title = title.strip() + " 2"
        keys.add(unicodedata.normalize("NFC", title.strip()).casefold())
        return title

    data: dict = {"deck": {"id": "generated-deck", "title": deck_title}, "topics": []}
    if draw(st.booleans()):
        data["deck"]["description"] = draw(prose())[0]
    expected: list[Expected] = []
    number = 0
    for t in range(draw(st.integers(1, max_topics))):
        topic_title = distinct(draw(titles), topic_keys)
        topic = {"id": f"topic-{t}", "title": topic_title, "sections": []}
        section_keys: set[str] = set()
        for s in range(draw(st.integers(1, max_sections))):
            section_title = distinct(draw(titles), section_keys)
            section = {"id": f"section-{s}", "title": section_title, "cards": []}
            for _ in range(draw(st.integers(1, max_cards))):
                q_md, q_text = draw(inline())
                # A unique tail keeps questions distinct (duplicates are rejected, rightly).
                q_md += f" \\(\\#{number}\\)"
                q_text += f" (#{number})"
                a_md, a_text = draw(prose())
                card: dict = {"id": f"card-{number}", "q": q_md, "a": a_md}
                level = draw(st.sampled_from([None, *LEVEL_NAMES]))
                if level:
                    card["level"] = level
                # The templates: front = "Topic › Section · level" and the question; back = front,
                # the answer, each code block (language label, code) and "More" with the more part.
                front = [topic_title.strip(), "\u203a", section_title.strip(), *(["\u00b7", level] if level else [])]
                front.append(q_text)
                back = [*front, a_text]
                hidden = []
                blocks = draw(st.lists(code_block(), max_size=2))
                for i, block in enumerate(blocks):
                    back += [str(block["lang"]), str(block["src"]).rstrip("\n")]
                    if block["lang"] == "python":
                        block["run"] = False
                        marker = f"hidden_check_{number}_{i}"
                        block["check"] = f"assert {marker!r}\n"
                        hidden.append(marker)
                if blocks:
                    card["code"] = blocks if len(blocks) > 1 else blocks[0]
                if draw(st.booleans()):
                    more_md, more_text = draw(prose())
                    card["more"] = more_md
                    back += ["More", more_text]
                section["cards"].append(card)
                expected.append(Expected(
                    card_id=card["id"], deck=unicodedata.normalize("NFC", "::".join(
                        (deck_title.strip(), topic_title.strip(), section_title.strip()))),
                    front=normalise(" ".join(front)), back=normalise(" ".join(back)), question=q_text, hidden=hidden))
                number += 1
            topic["sections"].append(section)
        data["topics"].append(topic)
    return data, expected


class _LiteralDumper(yaml.CSafeDumper):
    """Multi-line text as ``|`` blocks, the way people write decks (PyYAML falls back when it must)."""


def _str(dumper: yaml.CSafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value.rstrip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str)


def to_yaml(data: dict) -> str:
    """YAML text of ``data`` that provably loads back to ``data``."""
    text = yaml.dump(data, Dumper=_LiteralDumper, allow_unicode=True, sort_keys=False, width=10**6)
    assert yaml.load(text, Loader=yaml.CSafeLoader) == data, "the test's YAML writer lost something"
    return text


# -- reading rendered HTML --------------------------------------------------------------------

BLOCK_TAGS = {"div", "p", "ul", "ol", "li", "pre", "hr", "br", "table", "thead", "tbody", "tr", "td", "th",
              "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}


class Page(HTMLParser):
    """Visible text (style skipped, blocks separated) and every tag with its attributes."""

    def __init__(self, html_text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self._skip = 0
        self.feed(html_text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag in ("style", "script"):
            self._skip += 1
        if tag in BLOCK_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag in BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip = max(0, self._skip - 1)
        if tag in BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return normalise("".join(self.parts))

    @property
    def raw(self) -> str:
        """The visible text as is (whitespace kept)."""
        return "".join(self.parts)


def normalise(text: str) -> str:
    """Whitespace collapsed; NFC (Anki stores text NFC-normalised)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


SAFE_SCHEMES = ("http://", "https://", "mailto:")
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "img", "svg", "math", "link", "meta", "base", "form",
                  "input", "button", "audio", "video", "source", "frame", "frameset", "applet"}


def unsafe_markup(html_text: str) -> list[str]:
    """Everything in rendered card HTML that could run script or load something."""
    found = []
    if "<script" in html_text.lower():
        found.append("'<script' in the HTML")
    for tag, attrs in Page(html_text).tags:
        if tag in FORBIDDEN_TAGS:
            found.append(f"<{tag}> element")
        for name, value in attrs:
            squashed = "".join((value or "").split()).lower()
            if name.startswith("on"):
                found.append(f"event handler {name}= on <{tag}>")
            if "javascript:" in squashed or "vbscript:" in squashed or "data:" in squashed:
                found.append(f"script URL in {name}= on <{tag}>")
            if name in ("href", "src", "action", "formaction", "xlink:href") and not squashed.startswith(SAFE_SCHEMES):
                found.append(f"{name}={value!r} on <{tag}>")
    return found
