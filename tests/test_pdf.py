"""The PDF cheat-sheet, read back with real PDF libraries (pypdf, pdfplumber, pypdfium2).

Builds go through ``pipeline.build.build`` on a scratch copy of the example deck, so the
writer is tested the way ``deck build`` calls it. Builds are shared per module: each one is a
few hundred milliseconds, and reading a PDF back with pdfplumber costs more than writing it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import pdfplumber
import pypdf
import pypdfium2
import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth

from pipeline import fonts, markup, pdf
from pipeline.build import build
from pipeline.load import load
from pipeline.lock import lock_path, read
from pipeline.model import Card, CodeBlock, Deck, Section, Topic
from pipeline.options import BuildOptions, SheetOptions
from pipeline.pdf import code, prose
from pipeline.pdf.document import pdf_date
from pipeline.pdf.flowables import CodeBox
from pipeline.pdf.geometry import FOOTER, Geometry
from pipeline.pdf.styles import CONTINUATION_MARK, styles
from pipeline.select import Selection

DATA = Path(__file__).parent / "data"
PDF_ONLY = ("pdf",)
TYPOGRAPHY = "→≥“”—éλ"
EPS = 0.05  # points; anything smaller is float noise, not a visible overlap


# -- building and reading ---------------------------------------------------------------------


@dataclass
class Sheet:
    """A built PDF and what the tests read from it (each read once)."""

    path: Path
    options: SheetOptions
    pages: int

    @cached_property
    def reader(self) -> pypdf.PdfReader:
        return pypdf.PdfReader(self.path)

    @cached_property
    def _plumbed(self) -> tuple[list[list[dict[str, Any]]], list[str]]:
        # One pdfplumber pass for both: parsing the PDF is the slowest step of these tests.
        geometry = Geometry(self.options)
        height = geometry.pagesize[1]
        boxes = [(c.x, height - c.top, c.right, height - c.y) for c in geometry.columns()]
        boxes.append((0, height - FOOTER, geometry.pagesize[0], height))
        chars, texts = [], []
        with pdfplumber.open(self.path) as doc:
            for page in doc.pages:
                chars.append(page.chars)
                texts.append("\n".join(page.crop(box).extract_text() or "" for box in boxes))
        return chars, texts

    @property
    def chars(self) -> list[list[dict[str, Any]]]:
        """pdfplumber's characters per page (including those drawn by form XObjects)."""
        return self._plumbed[0]

    @property
    def page_texts(self) -> list[str]:
        """Each page's text in reading order: column by column, then the footer."""
        return self._plumbed[1]

    @cached_property
    def text(self) -> str:
        """All text, whitespace normalised to single spaces."""
        return normalise(" ".join(self.page_texts))


def normalise(text: str) -> str:
    """Collapse every run of whitespace to one space."""
    return " ".join(text.split())


@dataclass
class Builder:
    """Builds the example deck from a private copy, once per distinct set of options."""

    root: Path
    source: Path = field(init=False)
    built: dict[tuple[Any, ...], Sheet] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.source = self.root / "example.yaml"
        shutil.copy(DATA / "example.yaml", self.source)
        shutil.copy(DATA / "example.lock.json", self.root / "example.lock.json")

    def sheet(self, sheet: SheetOptions | None = None, selection: Selection | None = None,
              formats: tuple[str, ...] = PDF_ONLY, name: str | None = None) -> Sheet:
        sheet, selection = sheet or SheetOptions(), selection or Selection()
        key = (sheet, selection, formats, name)
        if key not in self.built:
            out = self.root / (name or f"out{len(self.built)}")
            options = BuildOptions(out=out, formats=formats, sheet=sheet, selection=selection)
            result = build(self.source, options)
            [path] = [p for p in result.outputs if p.suffix == ".pdf"]
            assert result.pages is not None
            self.built[key] = Sheet(path, sheet, result.pages)
        return self.built[key]


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    return Builder(tmp_path_factory.mktemp("pdf"))


@pytest.fixture(scope="module")
def sheet(builder: Builder) -> Sheet:
    """The default sheet, built exactly as ``deck build`` does (both outputs)."""
    return builder.sheet(formats=("apkg", "pdf"))


@pytest.fixture(scope="module")
def deck(builder: Builder) -> Deck:
    return load(builder.source)


def fonts_of(reader: pypdf.PdfReader) -> Iterator[tuple[str, Any]]:
    """Every font dictionary the pages (and the form XObjects they draw) use."""
    def walk(resources: Any) -> Iterator[tuple[str, Any]]:
        resources = resources.get_object() if resources is not None else {}
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            yield str(font.get("/BaseFont")), font
        for ref in (resources.get("/XObject") or {}).values():
            xobj = ref.get_object()
            if xobj.get("/Subtype") == "/Form":
                yield from walk(xobj.get("/Resources"))
    for page in reader.pages:
        yield from walk(page.get("/Resources"))


def outline_titles(reader: pypdf.PdfReader) -> list[Any]:
    """The outline as nested lists: ``[title, [child titles...]]`` per top-level entry."""
    out: list[Any] = []
    for item in reader.outline:
        if isinstance(item, list):
            out[-1][1].extend(child.title for child in item)
        else:
            out.append([item.title, []])
    return out


def card_questions(deck: Deck, topic: str | None = None) -> list[str]:
    return [markup.plain_text(c.q) for t, _, c in deck.cards() if topic is None or t.id == topic]


# -- content ------------------------------------------------------------------------------------


def test_every_question_is_in_the_text(sheet: Sheet, deck: Deck) -> None:
    for question in card_questions(deck):
        assert normalise(question) in sheet.text


def test_title_block_and_footer(sheet: Sheet, deck: Deck, builder: Builder) -> None:
    first = normalise(sheet.page_texts[0])
    assert first.startswith("Example Deck 6 cards · answers target FastAPI 0.165, Pydantic 2.14")
    date = read(lock_path(builder.source), deck.id).newest
    assert time.strftime("built %Y-%m-%d", time.gmtime(date)) in first
    assert "A tiny deck for the pipeline's tests" in first
    for n, text in enumerate(sheet.page_texts, 1):
        assert f"page {n} of {sheet.pages}" in normalise(text), f"page {n} does not show its number"
        assert "Example Deck · FastAPI 0.165, Pydantic 2.14" in normalise(text)


def test_every_character_is_extracted_as_itself(builder: Builder, deck: Deck) -> None:
    # --full so that `more` is printed too: then every visible character of the deck is on paper.
    sheet = builder.sheet(SheetOptions(full=True))
    visible = [deck.title, markup.plain_text(deck.description), deck.targets or ""]
    for topic, section, card in deck.cards():
        visible += [topic.title, section.title]
        visible += [markup.plain_text(text) for text in (card.q, card.a, card.more or "")]
        visible += [block.src for block in card.code]
    wanted = {ch for text in visible for ch in text if not ch.isspace()}
    drawn = {c["text"] for page in sheet.chars for c in page}
    assert set(TYPOGRAPHY) <= wanted
    assert wanted - drawn == set()
    assert "Which characters must every output draw → ≥ “ ” — é λ?" in sheet.text
    assert "<script>alert(1)</script>" in sheet.text  # escaped, so shown as itself


def test_characters_beyond_the_bmp_are_extracted_as_themselves(tmp_path: Path) -> None:
    # reportlab writes their ToUnicode entries wrongly; pipeline.pdf.cmapfix corrects that.
    question = "Is \U0001f62a (U+1F62A) or \U00010300 copied right, next to é → λ?"
    card = Card("c", question, "Code: `\U0001d55a`.", (), None, None, (), (), 1)
    deck = Deck("d", "Astral", "x", None, None,
                (Topic("t", "T", (Section("s", "S", (card,), 1),), 1),), (), "d.yaml")
    path = tmp_path / "astral.pdf"
    sheet = Sheet(path, SheetOptions(), pdf.write(deck, path, SheetOptions(), None, 0))
    assert question in sheet.text
    assert "Code: \U0001d55a." in sheet.text
    assert question in normalise(pypdf.PdfReader(path).pages[0].extract_text())


def test_full_prints_more(builder: Builder, sheet: Sheet) -> None:
    full = builder.sheet(SheetOptions(full=True))
    more = "Run it with fastapi dev main.py; the docs are at /docs."
    assert more in full.text and more not in sheet.text
    assert "Input Output <b> text" in full.text  # the markdown table, as a table


def test_filtered_build_holds_only_the_selected_cards(builder: Builder, deck: Deck) -> None:
    sheet = builder.sheet(selection=Selection(topics=("advanced",)))
    assert sheet.path.name == "example-deck--topic-advanced.pdf"
    for question in card_questions(deck, "advanced"):
        assert normalise(question) in sheet.text
    for question in card_questions(deck, "basics"):
        assert normalise(question) not in sheet.text
    assert "2 of 6 cards (a selection)" in sheet.text
    assert outline_titles(sheet.reader) == [["Advanced Topics", ["Validation"]]]


# -- PDF structure --------------------------------------------------------------------------------


def test_all_fonts_are_embedded(sheet: Sheet) -> None:
    seen = dict(fonts_of(sheet.reader))
    assert seen, "no fonts found"
    for name, font in seen.items():
        descriptor = font.get("/FontDescriptor")
        if descriptor is None and "/DescendantFonts" in font:
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert descriptor is not None, f"{name} has no font descriptor"
        assert "/FontFile2" in descriptor.get_object(), f"{name} is not embedded"
    families = {re.sub(r"^[A-Z]{6}\+", "", name.lstrip("/")) for name in seen}
    assert families <= {f"{fonts.SANS}{s}" for s in ("", "-Bold", "-Oblique", "-BoldOblique")} | \
        {f"{fonts.MONO}{s}" for s in ("", "-Bold", "-Oblique", "-BoldOblique")}


def test_outline_lists_every_topic_and_section(sheet: Sheet, deck: Deck) -> None:
    expected = [[t.title, [s.title for s in t.sections]] for t in deck.topics]
    assert outline_titles(sheet.reader) == expected
    # Every entry leads to a page of the document.
    flat = [item for entry in sheet.reader.outline
            for item in (entry if isinstance(entry, list) else [entry])]
    assert all(0 <= sheet.reader.get_destination_page_number(i) < sheet.pages for i in flat)


def test_metadata(sheet: Sheet, deck: Deck, builder: Builder) -> None:
    info = sheet.reader.metadata
    assert info is not None
    assert info.title == "Example Deck"
    assert info.author == "Deck pipeline tests"
    assert info.subject.startswith("A tiny deck for the pipeline's tests: typography → ≥")
    date = read(lock_path(builder.source), deck.id).newest
    assert info["/CreationDate"] == pdf_date(date)


def test_builds_are_byte_identical(builder: Builder, sheet: Sheet,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # reportlab would stamp SOURCE_DATE_EPOCH into the file; the sheet's date comes from the lock.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    again = builder.sheet(formats=("apkg", "pdf"), name="again")
    assert again.path.read_bytes() == sheet.path.read_bytes()


def test_builds_in_another_process_are_byte_identical(builder: Builder, sheet: Sheet,
                                                      tmp_path: Path) -> None:
    # Another interpreter, another hash seed: no set or dict order may leak into the bytes.
    script = ("import sys; from pathlib import Path; from pipeline.build import build; "
              "from pipeline.options import BuildOptions; "
              "build(Path(sys.argv[1]), BuildOptions(out=Path(sys.argv[2]), formats=('pdf',)))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "SOURCE_DATE_EPOCH": "42"}
    subprocess.run([sys.executable, "-c", script, str(builder.source), str(tmp_path)], check=True,
                   env=env, cwd=Path(__file__).parent.parent)
    assert (tmp_path / sheet.path.name).read_bytes() == sheet.path.read_bytes()


def test_page_sizes(builder: Builder, sheet: Sheet) -> None:
    def size(s: Sheet) -> tuple[int, int]:
        box = s.reader.pages[0].mediabox
        return round(float(box.width)), round(float(box.height))

    assert size(sheet) == (842, 595)  # A4 landscape
    assert size(builder.sheet(SheetOptions(paper="letter"))) == (792, 612)
    assert size(builder.sheet(SheetOptions(portrait=True))) == (595, 842)
    assert size(builder.sheet(SheetOptions(paper="letter", portrait=True, columns=2))) == (612, 792)


def test_grayscale_has_no_coloured_text(builder: Builder, sheet: Sheet) -> None:
    def coloured(s: Sheet) -> int:
        return sum(1 for page in s.chars for c in page
                   if len(set(c["non_stroking_color"] or (0,))) > 1)

    gray = builder.sheet(SheetOptions(grayscale=True))
    assert coloured(sheet) > 0  # the colour sheet highlights code
    assert coloured(gray) == 0
    assert gray.text == sheet.text  # same words, only the ink differs
    # Meaning survives without colour: keywords are bold, strings and comments italic.
    faces = {(c["text"], c["fontname"].split("+")[-1]) for page in gray.chars for c in page}
    assert ("d", f"{fonts.MONO}-Bold") in faces  # `def`
    assert any(face == f"{fonts.MONO}-Oblique" for _, face in faces)


# -- geometry: nothing outside its column, nothing printed over anything ---------------------------


LAYOUTS = [SheetOptions(), SheetOptions(full=True, paper="letter", portrait=True, columns=2),
           SheetOptions(columns=4, grayscale=True),
           SheetOptions(full=True, paper="letter", portrait=True, columns=6)]  # the narrowest


def check_geometry(sheet: Sheet) -> None:
    """Every glyph inside the page and inside one column (or the footer); no two glyphs overlap."""
    geometry = Geometry(sheet.options)
    width, height = geometry.pagesize
    columns = geometry.columns()
    for number, chars in enumerate(sheet.chars, 1):
        for c in chars:
            where = f"page {number}: {c['text']!r} at ({c['x0']:.1f}, {c['top']:.1f})"
            assert c["x0"] >= -EPS and c["x1"] <= width + EPS, f"{where} is off the page"
            assert c["top"] >= -EPS and c["bottom"] <= height + EPS, f"{where} is off the page"
            y0, y1 = height - c["bottom"], height - c["top"]  # PDF coordinates, origin bottom left
            body = geometry.body
            in_footer = y1 <= FOOTER and body.x - EPS <= c["x0"] and c["x1"] <= body.right + EPS
            in_column = any(col.x - EPS <= c["x0"] and c["x1"] <= col.right + EPS
                            and col.y - EPS <= y0 and y1 <= col.top + EPS for col in columns)
            assert in_footer or in_column, f"{where} is outside every column"
        assert_no_overlap(chars, number)


def assert_no_overlap(chars: list[dict[str, Any]], page: int) -> None:
    """No two glyph boxes intersect (by more than float noise); checked per 20-point grid cell."""
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, c in enumerate(chars):
        for gx in range(int(c["x0"] // 20), int(c["x1"] // 20) + 1):
            for gy in range(int(c["top"] // 20), int(c["bottom"] // 20) + 1):
                cells[gx, gy].append(i)
    for members in cells.values():
        for n, i in enumerate(members):
            a = chars[i]
            for j in members[n + 1:]:
                b = chars[j]
                dx = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
                dy = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
                assert dx <= EPS or dy <= EPS, (
                    f"page {page}: {a['text']!r} and {b['text']!r} overlap at ({a['x0']:.1f}, "
                    f"{a['top']:.1f})")


@pytest.mark.parametrize("options", LAYOUTS, ids=["a4-3", "letter-portrait-2-full", "a4-4-gray",
                                                  "letter-portrait-6-full"])
def test_no_glyph_outside_its_column_or_over_another(builder: Builder,
                                                     options: SheetOptions) -> None:
    check_geometry(builder.sheet(options))


def test_long_code_line_wraps_with_a_mark(sheet: Sheet) -> None:
    lines = [line for text in sheet.page_texts for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith('value = "a very long line'))
    wrapped = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith(CONTINUATION_MARK):
            break
        wrapped.append(line.removeprefix(CONTINUATION_MARK + " "))
    assert len(wrapped) >= 3, lines[start:start + 6]
    assert " ".join(wrapped).endswith('and on and on"')


def test_oversized_cards_and_many_pages(tmp_path: Path) -> None:
    """Cards taller than a column, over several pages, still stay inside the frames."""
    body = "Every dependency is resolved once per request → cached. " * 4
    # 90 source lines, a third of them wrapping: taller than any column, so the card must split.
    src = "".join(f"result_{i} = compute(value_{i}, other='{'x' * (i % 3 * 30)}')\n"
                  for i in range(90))
    block = (CodeBlock("python", src, False, None, 1, None),)
    cards = [Card(f"c{i}", f"Question {i}: what about `item_{i}`?", body,
                  block if i % 10 == 0 else (), None, None, (), (), 1) for i in range(30)]
    section = Section("s", "Section", tuple(cards), 1)
    deck = Deck("big", "Big", "A big deck.", None, None, (Topic("t", "Topic", (section,), 1),),
                (), "big.yaml")
    options = SheetOptions()
    path = tmp_path / "big.pdf"
    pages = pdf.write(deck, path, options, None, 0)
    sheet = Sheet(path, options, pages)
    assert pages == len(sheet.reader.pages) >= 3
    # The oversized first card starts right under the title, not in the next column.
    first = normalise(sheet.page_texts[0])
    assert first.startswith("Big 30 cards · built 1970-01-01 A big deck. Topic Section Question 0:")
    for n, text in enumerate(sheet.page_texts, 1):
        assert f"page {n} of {pages}" in normalise(text)
    for i in range(30):
        assert f"Question {i}: what about item_{i}?" in sheet.text
    check_geometry(sheet)


def test_rendered_pages_are_not_blank(sheet: Sheet, tmp_path: Path) -> None:
    doc = pypdfium2.PdfDocument(sheet.path)
    try:
        for index in range(min(2, len(doc))):
            image = doc[index].render(scale=1.5).to_pil().convert("L")
            image.save(tmp_path / f"page-{index + 1}.png")
            dark = sum(image.histogram()[:128])
            assert dark > 1000, f"page {index + 1} renders (almost) blank"
    finally:
        doc.close()


# -- the formatters ---------------------------------------------------------------------------


def test_code_lines_fit_the_width_and_keep_every_character() -> None:
    fonts.register()
    src = "x = " + repr("word " * 40) + "  # a comment\n    indented = call(" + "arg, " * 30 + ")\n"
    width, size = 180.0, 6.6
    lines = code.lines("python", src, "xcode", width, size, "#888888")
    texts = ["".join(t for _, t in line.runs) for line in lines]
    marked = [t.lstrip().startswith(CONTINUATION_MARK) for t in texts]
    assert [line.continued for line in lines] == marked
    assert all(stringWidth(t, fonts.MONO, size) <= width + 1e-6 for t in texts)
    assert len(texts) > 4 and sum(marked) >= 3
    # Remove the marks (and the indent before them): the source comes back, up to the
    # spaces a break swallows.
    rebuilt = "".join(t.lstrip().removeprefix(CONTINUATION_MARK + " ") if mark else "\n" + t
                      for t, mark in zip(texts, marked, strict=True))
    assert rebuilt.replace(" ", "") == "\n" + src.rstrip("\n").replace(" ", "")


def test_code_box_splits_between_source_lines() -> None:
    sheet_styles = styles(False)
    box_of = partial(CodeBox, style=sheet_styles.code, text_color=sheet_styles.palette.text)
    # Every source line wraps once: a split lands before a source line, never inside one...
    src = "".join(f"a{i} = '{'abc ' * 20}'\n" for i in range(60))
    lines = code.lines("python", src, "xcode", 250.0, 6.6, "#888888")
    assert len(lines) == 120
    for height in (100.0, 107.8, 300.0, 305.0):
        first, rest = box_of(lines).split(250.0, height)
        assert not rest.lines[0].continued and len(first.lines) + len(rest.lines) == 120
        assert first.wrap(250.0, height)[1] <= height
    # ...but one huge line is split where the column ends, not after a two-line stub.
    huge = code.lines("python", "x = '" + "abc " * 3000 + "'\n", "xcode", 250.0, 6.6, "#888888")
    first, _ = box_of(huge).split(250.0, 300.0)
    assert first.wrap(250.0, 300.0)[1] > 280


def test_code_formats_come_from_the_pygments_style() -> None:
    [(line, _)] = code.lines("python", "def f(): return 'x'  # c\n", "bw", 500.0, 6.6, "#777777")
    def fmt(word: str) -> tuple[bool, bool, str | None]:
        return next(f for f, text in line if word in text)

    assert fmt("def")[0] and fmt("return")[0]  # bw: keywords bold
    assert fmt("'x'")[1] and fmt("# c")[1]  # strings and comments italic
    assert not any(fmt("f(")[:2])
    assert all(color is None for (_, _, color), _ in line)


LEXERS = ["yaml", "bash", "toml", "json", "dockerfile", "nginx", "ini", "text"]


@pytest.mark.parametrize("lang", LEXERS)
def test_code_formats_every_lexer(lang: str) -> None:
    # Some lexers emit token types no style lists (YAML's Literal.Scalar.Plain): never a crash.
    src = "key: value\nlist:\n  - 1  # c\n"
    for style_name in ("xcode", "bw"):
        lines = code.lines(lang, src, style_name, 200.0, 6.6, "#777777")
        assert "".join(t for line in lines for _, t in line.runs) == src.replace("\n", "")


def test_mono_faces_share_advance_widths() -> None:
    # code._width measures whole lines in the regular face; that is exact only if this holds.
    fonts.register()
    chars = "".join(chr(cp) for cp in sorted(fonts.coverage(fonts.MONO)) if chr(cp).isprintable())
    faces = [fonts.MONO + s for s in ("", "-Bold", "-Oblique", "-BoldOblique")]
    for ch in chars[::7]:
        widths = {round(stringWidth(ch, f, 10), 6) for f in faces}
        assert len(widths) == 1, (ch, widths)
    assert ord(CONTINUATION_MARK) in fonts.coverage(fonts.MONO)


def test_prose_is_escaped_and_links_are_web_only() -> None:
    text = "A <b>tag</b> & {{Front}}, [web](https://x.y/?a=1&b=2), [mail](mailto:a@b.c), `a<b`."
    [block] = prose.blocks(text, "#123456")
    assert "&lt;b&gt;tag&lt;/b&gt; &amp; {{Front}}" in block.markup
    assert '<link href="https://x.y/?a=1&amp;b=2" color="#123456">web</link>' in block.markup
    assert "mail" in block.markup and "mailto" not in block.markup
    assert f'<font face="{fonts.MONO}">a&lt;b</font>' in block.markup


def test_prose_lists_and_tables() -> None:
    blocks = prose.blocks("Intro:\n\n- one\n- two\n  1. nested\n\n| A | B |\n|---|---|\n| x | y |")
    assert [(b.kind, b.depth, b.bullet) for b in blocks] == [
        ("para", 0, None), ("para", 1, "•"), ("para", 1, "•"), ("para", 2, "1."),
        ("table", 0, None)]
    assert blocks[-1].rows == (("A", "B"), ("x", "y")) and blocks[-1].header
