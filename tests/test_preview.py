"""The HTML preview without a browser: Anki's template forms, equality with Anki's own rendering,
a self-contained and escaped page, and the ``deck preview`` command."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from anki.collection import Collection
from click.testing import CliRunner

from anki_helpers import import_package, notes_by_card_id
from pipeline import anki
from pipeline.build import build
from pipeline.cli import main
from pipeline.load import load
from pipeline.options import BuildOptions
from pipeline.preview import (
    TemplateError,
    card_sides,
    field_is_empty,
    page,
    preview,
    render_template,
)

# -- the template renderer --------------------------------------------------------------------


@pytest.mark.parametrize(("template", "fields", "expected"), [
    ("<b>{{A}}</b>", {"A": "x&amp;<i>y</i>"}, "<b>x&amp;<i>y</i></b>"),  # field HTML goes in as is
    ("{{ A }}|{{A}}", {"A": "1"}, "1|1"),  # Anki trims the key
    ("[{{#A}}a={{A}}{{/A}}]", {"A": "1"}, "[a=1]"),
    ("[{{#A}}a={{A}}{{/A}}]", {"A": ""}, "[]"),
    ("[{{#A}}{{#B}}ab{{/B}}{{/A}}]", {"A": "1", "B": "2"}, "[ab]"),  # nested
    ("[{{#A}}{{#B}}ab{{/B}}{{/A}}]", {"A": "1", "B": " "}, "[]"),
    ("[{{#A}}1{{/A}}{{#A}}2{{/A}}]", {"A": "x"}, "[12]"),
    ("{{A}}", {"A": "{{B}} and {{#B}}x{{/B}}", "B": "no"}, "{{B}} and {{#B}}x{{/B}}"),  # never re-parsed
    ("no tags at all", {}, "no tags at all"),
    ("a {single} brace", {}, "a {single} brace"),
])
def test_render_template(template: str, fields: dict[str, str], expected: str) -> None:
    assert render_template(template, fields) == expected


def test_front_side_is_the_rendered_front() -> None:
    front = render_template("<q>{{A}}</q>", {"A": "1"})
    assert render_template("{{FrontSide}}<hr>{{B}}", {"A": "1", "B": "2"}, front_side=front) == "<q>1</q><hr>2"


@pytest.mark.parametrize(("template", "message"), [
    ("{{Nope}}", "no field 'Nope'"),
    ("{{#A}}x", "never closed"),
    ("{{#A}}x{{/B}}", "does not close the open {{#A}}"),
    ("x{{/A}}", "does not close any open section"),
    ("{{^A}}x{{/A}}", "does not render the template form"),
    ("{{text:A}}", "does not render the template form"),
    ("{{!comment}}", "does not render the template form"),
    ("{{}}", "does not render the template form"),
    ("{{#}}x{{/}}", "names no field"),
    ("{{FrontSide}}", "only available on the back"),
])
def test_unsupported_or_broken_templates_fail_loudly(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        render_template(template, {"A": "1", "B": "2"})


@pytest.mark.parametrize(("text", "empty"), [
    ("", True), (" \n\t", True), ("<br>", True), ("<BR />", True), ("<br/>", True), ("<div></div>", True),
    ("<div> </div><br>", True), ("&nbsp;", False), ("\xa0", False), ("<p></p>", False), ("x", False),
])
def test_field_is_empty_like_anki(text: str, empty: bool) -> None:
    assert field_is_empty(text) is empty


# -- the same HTML as Anki --------------------------------------------------------------------


@pytest.fixture
def imported(example: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The example deck's .apkg imported into a fresh Anki collection."""
    build(example, BuildOptions(out=tmp_path / "out", formats=("apkg",)))
    col = Collection(str(tmp_path / "collection.anki2"))
    import_package(col, tmp_path / "out" / "example-deck.apkg")
    yield col
    col.close()


def _without_css(rendered: str) -> str:
    # Anki prepends the note type's CSS as one <style> element.
    assert rendered.startswith("<style>")
    return rendered.split("</style>", 1)[1]


def test_every_card_renders_exactly_as_in_anki(example: Path, imported: Collection) -> None:
    deck = load(example)
    spec = anki.note_type(deck)
    notes = notes_by_card_id(imported)
    for data in anki.all_notes(deck):
        card = notes[data.card.id].cards()[0]
        sides = card_sides(spec, data)
        assert sides.front == _without_css(card.question()), data.card.id
        assert sides.back == _without_css(card.answer()), data.card.id


@pytest.mark.parametrize(("code", "more"), [
    ("", ""), ("<br>", "&nbsp;"), ("<div> </div>", "x"), ("{{Question}}", "<p></p>"),
])
def test_conditional_sections_agree_with_anki(example: Path, imported: Collection, code: str, more: str) -> None:
    """Edge values of the optional fields, rendered by Anki's backend and by the preview."""
    deck = load(example)
    spec = anki.note_type(deck)
    note = notes_by_card_id(imported)["hello-app"]
    note["Code"], note["More"] = code, more
    card = note.ephemeral_card()
    fields = dict(zip(anki.FIELDS, note.fields, strict=True))
    front = render_template(spec["front"], fields)
    assert front == _without_css(card.question())
    assert render_template(spec["back"], fields, front_side=front) == _without_css(card.answer())


# -- the page ---------------------------------------------------------------------------------


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text of <script> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _parse(text: str) -> _Elements:
    parser = _Elements()
    parser.feed(text)
    return parser


def test_page_is_one_self_contained_file(example: Path) -> None:
    text = page(load(example))
    elements = _parse(text)
    tags = [tag for tag, _ in elements.tags]
    for forbidden in ("link", "img", "iframe", "object", "embed", "video", "audio", "source", "base"):
        assert forbidden not in tags
    assert not [attrs for _, attrs in elements.tags if "src" in attrs or "srcset" in attrs]
    assert "@import" not in text and "url(" not in text and "@font-face" not in text
    # Links inside cards may point outside (a card's source links); nothing is loaded from them.
    assert all(not str(a.get("href", "#")).startswith("//") for tag, a in elements.tags if tag == "a")


def test_only_our_script_may_run(example: Path) -> None:
    text = page(load(example))
    elements = _parse(text)
    assert len(elements.scripts) == 1
    (script,) = elements.scripts
    csp = next(a["content"] for t, a in elements.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert csp is not None and f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    assert not [a for _, attrs in elements.tags for a in attrs if a.lower().startswith("on")]


def test_page_carries_every_side_and_the_note_type_css(example: Path) -> None:
    deck = load(example)
    text = page(deck)
    spec = anki.note_type(deck)
    assert spec["css"] in text
    for data in anki.all_notes(deck):
        sides = card_sides(spec, data)
        assert f'<div class="card card1">{sides.front}</div>' in text
        assert f'<div class="card card1">{sides.back}</div>' in text
    ids = re.findall(r'<article class="pv-card" id="c-([^"]+)"', text)
    assert ids == [c.id for _, _, c in deck.cards()]


def test_navigation_targets_exist(example: Path) -> None:
    deck = load(example)
    elements = _parse(page(deck))
    ids = {attrs["id"] for _, attrs in elements.tags if attrs.get("id")}
    targets = [attrs["href"] for tag, attrs in elements.tags
               if tag == "a" and str(attrs.get("href", "")).startswith("#")]
    assert len(targets) >= deck.card_count + len(deck.topics) + 3
    assert all(str(href)[1:] in ids for href in targets)
    for topic in deck.topics:
        assert f"t-{topic.id}" in ids
        assert all(f"s-{topic.id}--{section.id}" in ids for section in topic.sections)


def test_search_text_holds_question_answer_and_tags(example: Path) -> None:
    elements = _parse(page(load(example)))
    search = {attrs["id"]: str(attrs["data-search"]) for tag, attrs in elements.tags if tag == "article"}
    assert "how do you write the smallest fastapi app?" in search["c-hello-app"]
    assert "path operation decorator" in search["c-hello-app"]
    assert "fastapi dev main.py" in search["c-hello-app"]  # the deeper answer counts as answer
    assert "setup" in search["c-hello-app"].split()
    assert "<script>alert(1)</script>" in search["c-html-looking-text"]  # text, unescaped by the parser


def test_everything_that_is_not_our_markup_is_escaped(example: Path) -> None:
    hostile = '<img src=x onerror=alert(1)>"\'&'
    text = example.read_text(encoding="utf-8")
    text = text.replace("title: Example Deck", f"title: '{hostile.replace(chr(39), chr(39) * 2)}'")
    text = text.replace("title: Basics", "title: Basics <script>alert(2)</script>")
    text = text.replace("targets: FastAPI 0.165, Pydantic 2.14", "targets: </title><b>x</b>")
    example.write_text(text, encoding="utf-8")
    out = page(load(example))
    elements = _parse(out)
    assert len(elements.scripts) == 1
    assert "img" not in [tag for tag, _ in elements.tags]
    assert not [tag for tag, _ in elements.tags if tag == "b"]
    assert "&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;" in out
    assert "Basics &lt;script&gt;alert(2)&lt;/script&gt;" in out
    # The hostile card's text reaches the page as text, exactly as the field escapes it.
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in out


def test_write_replaces_the_file_atomically(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = preview(example, out)
    assert first.path == out / "example-deck.html" and first.cards == 6 and first.sections == 3
    first.path.write_text("stale", encoding="utf-8")
    preview(example, out)
    assert first.path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in out.iterdir()) == ["example-deck.html"]  # no partial files left


# -- the command ------------------------------------------------------------------------------


def test_cli_summary(example: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["preview", str(example), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Example Deck: 6 cards in 2 topics, 3 sections"
    assert re.fullmatch(r"  wrote .*example-deck\.html \(\d+ KiB\)", lines[1])
    assert lines[2].startswith("  open file://") and lines[2].endswith("/o/example-deck.html")
    assert re.fullmatch(r"  in \d+\.\d\d s", lines[3])


def test_cli_quiet_prints_nothing(example: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["preview", str(example), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 0 and result.output == ""
    assert (tmp_path / "o" / "example-deck.html").is_file()


def test_cli_errors_and_exit_codes(example: Path, tmp_path: Path) -> None:
    missing = CliRunner().invoke(main, ["preview", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")])
    assert missing.exit_code == 1 and "no such file" in missing.output
    assert not (tmp_path / "o").exists()
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    unwritable = CliRunner().invoke(main, ["preview", str(example), "--out", str(blocked), "-q"])
    assert unwritable.exit_code == 3 and "output folder is a file" in unwritable.output


def test_preview_does_not_touch_the_lock(example: Path, tmp_path: Path) -> None:
    lock = example.with_suffix(".lock.json")
    before = lock.read_bytes()
    example.write_text(example.read_text(encoding="utf-8").replace("which reloads", "which restarts"),
                       encoding="utf-8")
    preview(example, tmp_path / "o")
    assert lock.read_bytes() == before
