"""Property-based tests: generated decks → build → a real Anki collection (and the PDF).

The decks carry arbitrary Unicode the PDF fonts draw, markdown syntax characters, HTML-looking
text, Anki template braces and media tags, ``::``, very long words and lines, tabs in code and
many cards. Each generated deck is built, imported into a fresh Anki collection (the ``anki``
package runs Anki's own Rust backend) and every card is rendered. See ``decktext`` for how the
expected visible text is derived independently of the pipeline.
"""

from __future__ import annotations

import importlib.util
import random
import re
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path

import genanki
import pytest
from anki.collection import Collection
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from anki_helpers import import_package
from decktext import Page, decks, normalise, titles, to_yaml, unsafe_markup, words
from pipeline.build import build
from pipeline.errors import SourceError
from pipeline.load import load
from pipeline.options import BuildOptions

HAS_PDF = importlib.util.find_spec("pipeline.pdf") is not None
GENERATED: Counter[str] = Counter()
"""Decks (or sources) generated per test in this run, reported at the end of the module."""

SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                      HealthCheck.large_base_example])


@pytest.fixture(scope="module", autouse=True)
def report_counts(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    yield
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    total = sum(v for k, v in GENERATED.items() if k.startswith("deck:"))
    line = (f"\nproperty tests: {total} generated decks built and imported into Anki "
            f"({', '.join(f'{k} {v}' for k, v in sorted(GENERATED.items()))})")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)
    else:  # pragma: no cover
        print(line)


def _build_and_import(data: dict, folder: Path, formats: tuple[str, ...] = ("apkg",)) -> tuple[Collection, Path]:
    source = folder / "deck.yaml"
    source.write_text(to_yaml(data), encoding="utf-8")
    build(source, BuildOptions(out=folder / "out", formats=formats))
    col = Collection(str(folder / "collection.anki2"))
    log = import_package(col, folder / "out" / "generated-deck.apkg")
    assert len(log.new) == sum(len(s["cards"]) for t in data["topics"] for s in t["sections"])
    return col, folder / "out" / "generated-deck.pdf"


def _diff(card_id: str, actual: str, expected: str) -> str:
    """Where two long texts part: a few characters of context and the differing code points."""
    at = next((i for i, (a, b) in enumerate(zip(actual, expected)) if a != b), min(len(actual), len(expected)))
    show = lambda text: ascii(text[max(0, at - 20):at + 20])  # noqa: E731
    return f"card {card_id}: differs at {at}: shown {show(actual)} vs source {show(expected)}"


def _check_collection(col: Collection, data: dict, expected: list) -> None:
    by_id = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        by_id[note["CardId"]] = note
    assert sorted(by_id) == sorted(e.card_id for e in expected)
    for want in expected:
        note = by_id[want.card_id]
        assert note.guid == genanki.guid_for("generated-deck", want.card_id)
        cards = note.cards()
        assert len(cards) == 1
        card = cards[0]
        question, answer = card.question(), card.answer()
        assert col.decks.name(card.did) == want.deck
        assert Page(question).text == want.front, _diff(want.card_id, Page(question).text, want.front)
        assert Page(answer).text == want.back, _diff(want.card_id, Page(answer).text, want.back)
        for html_text in (question, answer):
            assert unsafe_markup(html_text) == [], want.card_id
            for marker in want.hidden:
                assert marker not in html_text  # 'check' code is never shown
    top = col.decks.by_name(expected[0].deck.split("::")[0])
    assert top is not None and unsafe_markup(top["desc"]) == []


@settings(SLOW, max_examples=100)
@given(decks())
def test_generated_decks_render_their_source_text_in_anki(case: tuple[dict, list]) -> None:
    data, expected = case
    GENERATED["deck:anki"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        col, _ = _build_and_import(data, Path(tmp))
        try:
            _check_collection(col, data, expected)
        finally:
            col.close()


@pytest.mark.skipif(not HAS_PDF, reason="pipeline.pdf is not there yet")
@settings(SLOW, max_examples=15)
@given(decks(max_cards=3))
def test_pdf_contains_every_question(case: tuple[dict, list]) -> None:
    # The characters in drawing order (pdfplumber's page.chars): extract_text() would merge the
    # sheet's columns line by line, and pypdf reorders right-to-left runs (Hebrew...), which
    # reportlab draws left to right.
    import pdfplumber

    data, expected = case
    GENERATED["deck:pdf"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        col, pdf = _build_and_import(data, Path(tmp), formats=("apkg", "pdf"))
        col.close()
        with pdfplumber.open(pdf) as document:
            text = "".join(char["text"] for page in document.pages for char in page.chars)
        squashed = _squash(text)
        for want in expected:
            # A soft hyphen prints as a hyphen where the sheet breaks the word there, else as nothing.
            pattern = "".join("[-\u00ad\u2010]?" if ch == "\u00ad" else re.escape(ch) for ch in _squash(want.question))
            assert re.search(pattern, squashed), _missing(want.card_id, _squash(want.question), squashed)


def _missing(card_id: str, needle: str, haystack: str) -> str:
    """Where ``needle`` stops being found in ``haystack``: the longest prefix that is there."""
    low, high = 0, len(needle)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if needle[:middle] in haystack else (low, middle - 1)
    at = haystack.find(needle[:low]) + low if low else 0
    return (f"card {card_id}: question found up to {low}/{len(needle)}: source continues "
            f"{ascii(needle[max(0, low - 10):low + 10])}, the PDF {ascii(haystack[max(0, at - 10):at + 10])}")


def _squash(text: str) -> str:
    """Text without whitespace (the sheet breaks lines, and long words, anywhere) and without
    invisible format characters (zero-width space, joiners, bidi marks: the sheet may break at
    them or leave them out). Soft hyphens stay: they print as a hyphen where a line breaks."""
    return "".join(ch for ch in "".join(normalise(text).split())
                   if ch == "\u00ad" or unicodedata.category(ch) != "Cf")


@settings(SLOW, max_examples=3)
@given(st.integers(150, 400), st.lists(words(1, 8), min_size=5, max_size=40), st.randoms(use_true_random=False))
def test_many_cards(count: int, vocabulary: list[str], rnd: random.Random) -> None:
    cards = [{"id": f"card-{i}", "q": f"{' '.join(rnd.choices(vocabulary, k=6))} \\#{i}",
              "a": " ".join(rnd.choices(vocabulary, k=20))} for i in range(count)]
    sections = [{"id": f"s-{i}", "title": f"Section {i}", "cards": cards[i::7]} for i in range(7)]
    data = {"deck": {"id": "generated-deck", "title": "Many"},
            "topics": [{"id": "only", "title": "Only", "sections": sections}]}
    GENERATED["deck:many-cards"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        col, _ = _build_and_import(data, Path(tmp))
        try:
            assert len(col.find_cards("")) == count
            for cid in col.find_cards(""):
                card = col.get_card(cid)
                note = card.note()
                source = cards[int(note["CardId"].split("-")[1])]
                shown = Page(card.question()).text
                assert shown == normalise(f"Only \u203a {note['Section']} " + source["q"].replace("\\#", "#"))
        finally:
            col.close()


# -- the loader never fails with anything but SourceError --------------------------------------

EXAMPLE = (Path(__file__).parent / "data" / "example.yaml").read_text(encoding="utf-8")
YAML_TOKENS = [
    "deck:", "topics:", "sections:", "cards:", "id:", "q:", "a:", "code:", "lang:", "src:", "run:", "check:",
    "title:", "retired:", "level:", "tags:", "more:", "- ", "  ", "    ", "\n", "\n  ", ": ", "-", "?", ":", ",",
    "[", "]", "{", "}", "|", "|-", ">", "'", '"', "#", "&a ", "*a", "<<: ", "!", "!!", "!!python/object:os.system ",
    "!!python/object/apply:os.system ", "!!binary ", "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!set ",
    "!!omap ", "!!str ", "!!null ", "!!merge ", "!!value ", "!foo ", "%YAML 1.1\n", "%TAG ! tag:x/\n", "---\n",
    "...\n", "\t", "\ufeff", "\x00", "\r\n", "\u2028", "\x85", "~", "null", "true", "yes", "0x", "0o", "0b",
    "1_0", "1:2", "._", ".nan", ".inf", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "=", "@", "`", "%",
    "python", "junior", "x", "é", "λ", "→", "\\", "\\x", "\\u12", "<script>", "`x`", "[a](javascript:x)",
]


TAGS = ["", "!!int ", "!!float ", "!!bool ", "!!null ", "!!timestamp ", "!!str ", "!!binary ", "!!set ", "!!omap ",
        "!!pairs ", "!!merge ", "!!value ", "!!python/object:os.system ", "!!python/name:os.system ",
        "!!python/object/apply:os.system ", "!foo ", "! "]
ODD_VALUES = ["", "x", "_", ".", "0x", "0b2", "0o9", "1:x", "1_", "-", "+", "2001-13-45", "2001-02-30", "1e999",
              ".nan", "~", "yes", "maybe", "'!!!'", "{}", "[]", "[x]", "{x: 1}", "|\n  x", "\"\\x\"", "*a", "&a x"]


@st.composite
def tagged_lines(draw: st.DrawFn) -> str:
    """``key: !!tag value`` lines (keys tagged too), top-level or under a deck-like mapping."""
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        key = draw(st.sampled_from(TAGS)) + draw(st.sampled_from(["deck", "topics", "id", "x", "1", "2001-13-45"]))
        value = draw(st.sampled_from(TAGS)) + draw(st.sampled_from(ODD_VALUES))
        indent = draw(st.sampled_from(["", "  "]))
        lines.append(f"{indent}{key}: {value}" if indent else f"? {key}\n: {value}" if draw(st.booleans())
                     else f"{key}: {value}")
    return "deck:\n" + "\n".join(lines) + "\n" if lines[0].startswith("  ") else "\n".join(lines) + "\n"


@st.composite
def yamlish(draw: st.DrawFn) -> str:
    """Text made of YAML syntax, deck keys and odd values, or the example deck with edits."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return "".join(draw(st.lists(st.sampled_from(YAML_TOKENS) | st.text(max_size=3), max_size=60)))
    if kind == 1:
        return draw(tagged_lines())
    text = EXAMPLE
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 20))
        insert = draw(st.sampled_from(YAML_TOKENS) | st.text(max_size=4))
        text = text[:at] + insert + text[at + cut:]
    return text


def _load_bytes(data: bytes, folder: Path) -> None:
    path = folder / "fuzz.yaml"
    path.write_bytes(data)
    try:
        deck = load(path)
    except SourceError as error:
        assert error.problems, "a SourceError must say what is wrong"
        for problem in error.problems:
            assert problem.path == str(path)
            # YAML also counts \r, NEL, U+2028 and U+2029 as line breaks.
            lines = len(data.decode("utf-8", "replace").splitlines()) + 2
            assert problem.line is None or 1 <= problem.line <= lines, problem
        return
    assert deck.card_count >= 1


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yamlish())
@example("a: !!int abc\n")
@example("? !!python/object:os.system x\n: 1\n")
@example("deck: !!python/object/apply:os.system [echo hi]\n")
@example("a: !!timestamp xyz\n")
def test_loader_raises_only_source_error_on_yamlish_text(text: str) -> None:
    GENERATED["source:yamlish"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        _load_bytes(text.encode("utf-8", "surrogatepass"), Path(tmp))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_loader_raises_only_source_error_on_bytes(data: bytes) -> None:
    GENERATED["source:bytes"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        _load_bytes(data, Path(tmp))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(decks(max_topics=1, max_sections=1, max_cards=2), st.sampled_from([
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))", "[x]( javascript:alert(1))", "[x](data:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox)", "[x](file:///etc/passwd)", "[x](//evil.example)", "![x](https://evil.example/x.png)",
    "<a href=x>y</a>", "<div onclick=alert(1)>x</div>", "<svg/onload=alert(1)>", "<!-- x -->", "<?php x ?>",
    "<https://example.com>", "<javascript:alert(1)>", "<mailto:x@example.com>", "[x][r]\n\n[r]: javascript:alert(1)",
    "```\ncode\n```", "    indented code", "<style>*{}</style>", "<iframe src=https://x>", "&#106;avascript:x",
]), st.sampled_from(["q", "a", "more"]))
def test_raw_markup_is_rejected_or_inert(case: tuple[dict, list], hostile: str, key: str) -> None:
    """Raw HTML, images, code fences and non-http(s)/mailto links: a located error, or plain text."""
    data, _ = case
    card = data["topics"][0]["sections"][0]["cards"][0]
    if key == "q":
        hostile = hostile.replace("\n", " ")
    card[key] = (card.get(key, "text") + "\n\n" if key != "q" else card["q"] + " ") + hostile
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            col, _ = _build_and_import(data, folder)
            GENERATED["deck:hostile-imported"] += 1
        except SourceError as error:
            GENERATED["source:hostile-refused"] += 1
            text = folder.joinpath("deck.yaml").read_text(encoding="utf-8").splitlines()
            assert all(p.line for p in error.problems)
            assert not (folder / "out").exists() or not any((folder / "out").iterdir())
            assert any(p.card == "card-0" for p in error.problems), error
            assert len(text) >= max(p.line or 0 for p in error.problems)
            return
        try:
            for cid in col.find_cards(""):
                card_obj = col.get_card(cid)
                for html_text in (card_obj.question(), card_obj.answer()):
                    assert unsafe_markup(html_text) == []
                    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html_text, re.IGNORECASE)
        finally:
            col.close()


# -- titles Anki would merge or rename are refused ----------------------------------------------

@settings(max_examples=60, deadline=None)
@given(titles, st.sampled_from(["same", "upper", "lower", "nfd", "spaces"]), st.sampled_from(["topic", "section"]))
def test_titles_anki_would_merge_are_refused(title: str, variant: str, level: str) -> None:
    """Anki matches deck names ignoring case and Unicode normalisation: such twins are an error."""
    twin = {"same": title, "upper": title.upper(), "lower": title.lower(),
            "nfd": unicodedata.normalize("NFD", title), "spaces": f"  {title}  "}[variant]
    assume(twin.strip() and "::" not in twin and not twin.strip().startswith(":") and not twin.strip().endswith(":"))
    def name(text: str) -> str:  # how Anki compares deck names
        return unicodedata.normalize("NFC", text.strip()).casefold()

    assume(name(twin) == name(title))
    card = {"id": "one", "q": "One?", "a": "One."}
    if level == "topic":
        topics = [{"id": "a", "title": title, "sections": [{"id": "s", "title": "S", "cards": [card]}]},
                  {"id": "b", "title": twin, "sections": [{"id": "s", "title": "S", "cards": [{**card, "id": "two",
                                                                                               "q": "Two?"}]}]}]
    else:
        topics = [{"id": "a", "title": "T", "sections": [
            {"id": "s", "title": title, "cards": [card]},
            {"id": "t", "title": twin, "cards": [{**card, "id": "two", "q": "Two?"}]}]}]
    GENERATED["source:title-twins"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "twins.yaml"
        path.write_text(to_yaml({"deck": {"id": "twins", "title": "Twins"}, "topics": topics}), encoding="utf-8")
        with pytest.raises(SourceError) as info:
            load(path)
        assert any("has the same title as" in p.message and p.line for p in info.value.problems), info.value


@pytest.mark.parametrize("title", [":", "Q&A:", ":colon first", " trailing: ", "a::b"])
def test_titles_anki_would_rename_are_refused(title: str, tmp_path: Path) -> None:
    """Anki drops ':' next to its '::' separator ('Q&A:' would become 'Q&A'; ':' would become 'blank')."""
    data = {"deck": {"id": "colons", "title": "Colons"},
            "topics": [{"id": "t", "title": title, "sections": [{"id": "s", "title": "S",
                                                                  "cards": [{"id": "c", "q": "Q?", "a": "A."}]}]}]}
    path = tmp_path / "colons.yaml"
    text = to_yaml(data)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as info:
        load(path)
    lines = text.splitlines()
    topic_title = next(n for n, line in enumerate(lines, 1) if line.strip().startswith("title:") and n > 4)
    assert [p.line for p in info.value.problems] == [topic_title], info.value


def test_tabs_inside_a_block_scalar_are_code_not_indentation(tmp_path: Path) -> None:
    """A Makefile recipe or Go code under ``src: |`` keeps its tabs (YAML allows them there)."""
    text = ("deck:\n  id: generated-deck\n  title: Tabs\ntopics:\n  - id: t\n    title: T\n    sections:\n"
            "      - id: s\n        title: S\n        cards:\n          - id: make\n"
            "            q: How does a Makefile recipe line start?\n            a: With a tab.\n"
            "            code:\n              lang: makefile\n              src: |\n"
            "                all:\n                \techo \"built\"\n")
    (tmp_path / "tabs.yaml").write_text(text, encoding="utf-8")
    build(tmp_path / "tabs.yaml", BuildOptions(out=tmp_path / "out", formats=("apkg",)))
    col = Collection(str(tmp_path / "c.anki2"))
    try:
        import_package(col, tmp_path / "out" / "generated-deck.apkg")
        answer = col.get_card(col.find_cards("")[0]).answer()
        assert "all:\n\techo" in Page(answer).raw
    finally:
        col.close()
    broken = text.replace("            a: With a tab.", "\t    a: With a tab.")
    (tmp_path / "tabs.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(SourceError, match="a tab indents this line"):
        load(tmp_path / "tabs.yaml")
