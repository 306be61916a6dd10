"""The preview in a real browser: Debian's headless Chromium, driven by Playwright.

AnkiDroid and Anki desktop show cards in Chromium-based web views, so this is where the card
design is proven: at phone (390×844) and desktop (1280×800) size, in light and night mode, the
page never scrolls sideways, every card is there, night mode recolours the code, and every code
token keeps WCAG AA contrast (4.5:1). Screenshots land in build/screenshots/ for people to look at.

Most checks use the small example deck; the real deck is loaded once, for "all cards present, no
sideways scroll". The tests skip only when no Chromium binary exists (``make browser`` installs
Debian's). Playwright never downloads a browser here: it is pointed at that binary.

``python tests/test_browser.py [DOCS]`` regenerates the README images (``make screenshots``).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from pipeline.load import load
from pipeline.preview import preview

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "data" / "example.yaml"
REAL = ROOT / "source" / "fastapi.yaml"
SHOTS = ROOT / "build" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AA = 4.5
README_CARD = "path-param-declare-read"
"""The card the README shows: short, with a Python block, a list and a 'more' part."""


def chromium_path() -> Path | None:
    """Debian's Chromium (``$CHROMIUM`` overrides), or ``None`` when it is not installed."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Debian Chromium (never a downloaded one); skips the test when none is installed."""
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium not found at /usr/bin/chromium: install Debian's package "
                    "(make browser, or apt-get install chromium) to run the browser tests")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(path), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def example_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The preview neither reads nor writes the lock, so the committed example can be used as is.
    return preview(EXAMPLE, tmp_path_factory.mktemp("preview")).path


@contextmanager
def viewer(browser: Browser, html: Path, viewport: dict[str, int], *, night: bool = False,
           mobile: bool = False, scale: float = 1) -> Iterator[Page]:
    """The preview page at ``viewport`` with the toggles set; on leaving, it must have loaded
    nothing but itself and logged no error (a CSP violation or a script error shows up here)."""
    context = browser.new_context(viewport=viewport, device_scale_factor=scale)
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(html.as_uri())
        page.set_checked("#pv-night", night)
        page.set_checked("#pv-mobile", mobile)
        yield page
        assert errors == []
        assert {url.split("#")[0] for url in requests} == {html.as_uri()}
    finally:
        context.close()


# -- colour arithmetic (WCAG 2.x) -------------------------------------------------------------

_RGB = re.compile(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+))?\s*\)")
Colour = tuple[float, float, float, float]


def parse_colour(text: str) -> Colour:
    """A computed CSS colour (``rgb(...)``/``rgba(...)``) as 0-255 channels and alpha 0-1."""
    match = _RGB.fullmatch(text.strip())
    if not match:
        raise ValueError(f"unexpected computed colour {text!r}")
    r, g, b, a = match.groups()
    return float(r), float(g), float(b), 1.0 if a is None else float(a)


def over(top: Colour, bottom: Colour) -> Colour:
    """``top`` painted over the opaque ``bottom`` (alpha compositing)."""
    alpha = top[3]
    return (*(t * alpha + b * (1 - alpha) for t, b in zip(top[:3], bottom[:3], strict=True)), 1.0)  # type: ignore[return-value]


def luminance(colour: Colour) -> float:
    """WCAG relative luminance of an opaque colour."""
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def backdrop(backgrounds: list[str]) -> Colour:
    """The opaque colour behind an element, from its background colours (its own first, then
    its ancestors'): each layer painted over the ones below it, on the browser's white canvas."""
    ground: Colour = (255.0, 255.0, 255.0, 1.0)
    for layer in reversed(backgrounds):
        ground = over(parse_colour(layer), ground)
    return ground


def contrast(text: Colour, backgrounds: list[str]) -> float:
    """WCAG contrast ratio of ``text`` on the element's backgrounds (see :func:`backdrop`)."""
    ground = backdrop(backgrounds)
    high, low = sorted((luminance(over(text, ground)), luminance(ground)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_arithmetic() -> None:
    assert contrast(parse_colour("rgb(0, 0, 0)"), ["rgb(255, 255, 255)"]) == pytest.approx(21)
    assert contrast(parse_colour("rgb(119, 119, 119)"), ["rgba(0, 0, 0, 0)"]) == pytest.approx(4.48, abs=0.01)
    # A half-transparent black layer over white is mid grey.
    assert contrast(parse_colour("rgb(255, 255, 255)"), ["rgba(0, 0, 0, 0.5)", "rgb(255, 255, 255)"]) \
        == pytest.approx(contrast(parse_colour("rgb(255, 255, 255)"), ["rgb(127.5, 127.5, 127.5)"]))


# -- what the page looks like -----------------------------------------------------------------

_LAYOUT = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  cards: Array.from(document.querySelectorAll('.pv-card')).filter(c => c.offsetParent !== null)
           .map(c => c.id.slice(2)),
  screens: Array.from(document.querySelectorAll('.pv-screen > .card'))
           .filter(s => s.getBoundingClientRect().height > 0).length,
  cardClasses: Array.from(new Set(Array.from(document.querySelectorAll('.pv-screen > .card'))
           .map(s => s.className))),
  wideCode: Array.from(document.querySelectorAll('pre.hl'))
           .filter(p => p.scrollWidth > p.clientWidth).length,
  codeWhiteSpace: Array.from(new Set(Array.from(document.querySelectorAll('pre.hl'))
           .map(p => getComputedStyle(p).whiteSpace))),
})"""

# Every visible code token with its colour and the background colours from itself up to <html>.
_TOKENS = """() => Array.from(document.querySelectorAll('.pv-screen pre.hl span[class]'))
  .filter(el => el.textContent.trim() !== '')
  .map(el => {
    const backgrounds = [];
    for (let e = el; e; e = e.parentElement) backgrounds.push(getComputedStyle(e).backgroundColor);
    return {token: el.className, text: el.textContent, color: getComputedStyle(el).color, backgrounds};
  })"""


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_card_fits_and_is_screenshot(browser: Browser, example_html: Path, size: dict[str, int],
                                           night: bool) -> None:
    phone = size is PHONE
    deck = load(EXAMPLE)
    with viewer(browser, example_html, size, night=night, mobile=phone) as page:
        layout = page.evaluate(_LAYOUT)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"example-{size['width']}-{'night' if night else 'light'}.png",
                        full_page=True)
    assert layout["scrollWidth"] <= layout["innerWidth"], "the page scrolls sideways"
    assert layout["cards"] == [card.id for _, _, card in deck.cards()]
    assert layout["screens"] == 2 * deck.card_count
    # Anki's place for the class: the element that has the card class (the body, in Anki).
    assert all(("nightMode" in c.split()) is night and "card" in c.split() for c in layout["cardClasses"])
    if phone:
        assert layout["wideCode"] == 0, "a code block scrolls sideways on a phone"
        assert layout["codeWhiteSpace"] == ["pre-wrap"]


_WRAPPED_LINE = """() => {
  const code = document.querySelector('#c-long-line .pv-side:last-child pre.hl > code');
  const first = code.querySelector('span').getBoundingClientRect();  // "value", at the margin
  const string = Array.from(code.querySelectorAll('span')).find(s => s.textContent.length > 100);
  // One rect per line fragment, plus one for each space left hanging at a wrap: keep the
  // leftmost rect of every line after the first.
  const lines = new Map();
  for (const r of string.getClientRects()) lines.set(r.top, Math.min(r.left, lines.get(r.top) ?? Infinity));
  return {start: first.left, width: first.width / 'value'.length,
          continuations: Array.from(lines.values()).slice(1)};
}"""


def test_wrapped_code_lines_hang_on_a_phone(browser: Browser, example_html: Path) -> None:
    """A code line wrapped on a phone continues 2 characters in, so it cannot pass for a new line."""
    with viewer(browser, example_html, PHONE, mobile=True) as page:
        line = page.evaluate(_WRAPPED_LINE)
    assert len(line["continuations"]) >= 2
    for left in line["continuations"]:
        assert left - line["start"] == pytest.approx(2 * line["width"], abs=1)


def test_real_deck_every_card_present_and_no_sideways_scroll(browser: Browser,
                                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    deck = load(REAL)
    html = preview(REAL, tmp_path_factory.mktemp("real")).path
    with viewer(browser, html, PHONE, night=True, mobile=True) as page:
        layout = page.evaluate(_LAYOUT)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"{deck.id}-390-night.png")
    assert layout["cards"] == [card.id for _, _, card in deck.cards()]
    assert layout["screens"] == 2 * deck.card_count
    assert layout["scrollWidth"] <= layout["innerWidth"], "the page scrolls sideways"
    assert layout["wideCode"] == 0, "a code block scrolls sideways on a phone"


def _tokens(browser: Browser, html: Path, night: bool) -> list[dict[str, Any]]:
    with viewer(browser, html, PHONE, night=night, mobile=True) as page:
        tokens: list[dict[str, Any]] = page.evaluate(_TOKENS)
    return tokens


def test_night_mode_changes_code_colours(browser: Browser, example_html: Path) -> None:
    light, night = _tokens(browser, example_html, False), _tokens(browser, example_html, True)
    assert len(light) == len(night) > 50
    assert [t["text"] for t in light] == [t["text"] for t in night]
    same = [(a["token"], a["color"]) for a, b in zip(light, night, strict=True) if a["color"] == b["color"]]
    assert same == [], "these code tokens keep their light colour at night"
    assert {backdrop(t["backgrounds"]) for t in light}.isdisjoint(backdrop(t["backgrounds"]) for t in night)


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
def test_code_tokens_meet_wcag_aa(browser: Browser, example_html: Path, night: bool) -> None:
    tokens = _tokens(browser, example_html, night)
    assert tokens
    low = {(t["token"], t["color"], round(contrast(parse_colour(t["color"]), t["backgrounds"]), 2))
           for t in tokens if contrast(parse_colour(t["color"]), t["backgrounds"]) < AA}
    assert low == set(), f"code tokens below {AA}:1"


# Every token class the highlighting CSS styles, whether or not the example deck uses it: one
# span per class, appended to a real card's code block, so that it inherits the real backgrounds.
_ALL_TOKEN_CLASSES = """() => {
  const classes = new Set();
  for (const sheet of document.styleSheets) for (const rule of sheet.cssRules) {
    const m = rule.selectorText && rule.selectorText.match(/^\\.hl \\.([\\w-]+)$/);
    if (m) classes.add(m[1]);
  }
  const code = document.querySelector('.pv-screen pre.hl > code');
  return Array.from(classes).filter(c => c !== 'w' && c !== 'hll').map(c => {
    const span = document.createElement('span');
    span.className = c;
    span.textContent = 'x';
    code.appendChild(span);
    const backgrounds = [];
    for (let e = span; e; e = e.parentElement) backgrounds.push(getComputedStyle(e).backgroundColor);
    return {token: c, color: getComputedStyle(span).color, backgrounds};
  });
}"""


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
def test_every_highlight_style_class_meets_wcag_aa(browser: Browser, example_html: Path, night: bool) -> None:
    with viewer(browser, example_html, PHONE, night=night, mobile=True) as page:
        styled = page.evaluate(_ALL_TOKEN_CLASSES)
    assert len(styled) > 40
    low = sorted((t["token"], t["color"], round(contrast(parse_colour(t["color"]), t["backgrounds"]), 2))
                 for t in styled if contrast(parse_colour(t["color"]), t["backgrounds"]) < AA)
    assert low == [], f"token classes below {AA}:1"


# Text outside code blocks: question, answer, labels, inline code, links, tables.
_CARD_TEXT = """() => Array.from(document.querySelectorAll('.pv-screen .card, .pv-screen .card *'))
  .filter(el => !el.closest('pre') &&
          Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim() !== ''))
  .map(el => {
    const backgrounds = [];
    for (let e = el; e; e = e.parentElement) backgrounds.push(getComputedStyle(e).backgroundColor);
    return {tag: el.tagName + '.' + el.className, color: getComputedStyle(el).color, backgrounds};
  })"""


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
def test_card_text_meets_wcag_aa(browser: Browser, example_html: Path, night: bool) -> None:
    with viewer(browser, example_html, PHONE, night=night, mobile=True) as page:
        texts = page.evaluate(_CARD_TEXT)
    assert len(texts) > 30
    low = {(t["tag"], t["color"], round(contrast(parse_colour(t["color"]), t["backgrounds"]), 2))
           for t in texts if contrast(parse_colour(t["color"]), t["backgrounds"]) < AA}
    assert low == set(), f"card text below {AA}:1"


# -- the page's controls ----------------------------------------------------------------------

_VISIBLE = "() => Array.from(document.querySelectorAll('.pv-card')).filter(c => !c.hidden).map(c => c.id.slice(2))"


def test_search_over_question_answer_and_tags(browser: Browser, example_html: Path) -> None:
    with viewer(browser, example_html, DESKTOP) as page:
        search = page.locator("#pv-search")
        for query, expected in [
            ("limit the LENGTH", ["query-validation"]),       # question, any case
            ("reloads code", ["run-server"]),                 # answer, words in any order
            ("unicode", ["typography"]),                      # a tag
            ("/docs", ["hello-app"]),                         # the deeper answer
            ("<script>", ["html-looking-text"]),              # text, not markup
            ("fastapi", ["hello-app", "run-server", "query-validation"]),
        ]:
            search.fill(query)
            assert page.evaluate(_VISIBLE) == expected, query
        assert page.locator("#pv-count").text_content() == "3 of 6 cards"
        assert page.locator("#s-basics--shell").is_visible()
        search.fill("reloads")
        assert page.locator("#s-basics--first-steps").is_hidden()
        assert page.locator("#t-advanced").is_hidden()
        assert page.locator(".pv-nav li[data-target='t-advanced']").is_hidden()
        assert page.locator(".pv-nav li[data-target='t-basics'] > .pv-n").text_content() == "1"
        search.fill("no card says this")
        assert page.evaluate(_VISIBLE) == [] and page.locator("#pv-empty").is_visible()
        search.fill("")
        assert len(page.evaluate(_VISIBLE)) == 6 and page.locator("#pv-count").text_content() == "6 cards"
        assert page.locator("#pv-empty").is_hidden()


def test_navigation_by_topic_and_section(browser: Browser, example_html: Path) -> None:
    with viewer(browser, example_html, {"width": 1280, "height": 500}) as page:
        page.locator(".pv-nav a", has_text="Shell & Config").click()
        assert page.evaluate("location.hash") == "#s-basics--shell"
        top = page.evaluate("document.getElementById('s-basics--shell').getBoundingClientRect().top")
        assert 0 <= top <= 20
        page.locator(".pv-nav a", has_text="Basics").click()
        assert page.evaluate("document.getElementById('t-basics').getBoundingClientRect().top") == \
            pytest.approx(8, abs=2)


def test_phone_width_toggle(browser: Browser, example_html: Path) -> None:
    geometry = """() => ({
      frame: document.getElementById('pv-frame').className,
      screens: Array.from(new Set(Array.from(document.querySelectorAll('.pv-screen'))
                 .map(s => s.getBoundingClientRect().width))),
      whiteSpace: getComputedStyle(document.querySelector('pre.hl')).whiteSpace,
    })"""
    with viewer(browser, example_html, DESKTOP, mobile=True) as page:
        phone = page.evaluate(geometry)
        page.set_checked("#pv-mobile", False)
        desktop = page.evaluate(geometry)
    assert "mobile" in phone["frame"].split() and phone["screens"] == [390]
    assert phone["whiteSpace"] == "pre-wrap"
    assert "mobile" not in desktop["frame"].split() and min(desktop["screens"]) > 390
    assert desktop["whiteSpace"] == "pre"


def test_first_view_follows_the_device(browser: Browser, example_html: Path) -> None:
    context = browser.new_context(viewport=PHONE, color_scheme="dark")
    try:
        page = context.new_page()
        page.goto(example_html.as_uri())
        assert page.is_checked("#pv-night") and page.is_checked("#pv-mobile")
        assert page.evaluate("document.getElementById('pv-toc').open") is False
    finally:
        context.close()


# -- README images (make screenshots) ---------------------------------------------------------


def readme_images(docs: Path, html: Path, pdf: Path | None) -> list[Path]:
    """Write the README's images into ``docs``: one card at phone width in light and night
    mode (its back, which shows the front too), and the PDF's first page when ``pdf`` exists."""
    docs.mkdir(parents=True, exist_ok=True)
    written = []
    with chromium() as browser:
        for night in (False, True):
            with viewer(browser, html, PHONE, night=night, mobile=True, scale=2) as page:
                target = docs / f"card-phone-{'night' if night else 'light'}.png"
                back = page.locator(f"#c-{README_CARD} .pv-side:last-child .pv-screen")
                if back.count() != 1:
                    raise LookupError(f"card {README_CARD!r} is not in the deck; choose another README_CARD")
                back.screenshot(path=target)
                written.append(target)
    if pdf is not None and pdf.is_file():
        import pypdfium2

        document = pypdfium2.PdfDocument(str(pdf))
        try:
            target = docs / "cheatsheet-page1.png"
            document[0].render(scale=2).to_pil().save(target, optimize=True)
            written.append(target)
        finally:
            document.close()
    return written


def main(argv: list[str]) -> int:
    """``python tests/test_browser.py [DOCS]``: regenerate the README images (default docs/)."""
    docs = Path(argv[0]) if argv else ROOT / "docs"
    html = preview(REAL, ROOT / "build").path  # always current: it takes a second
    pdf = html.with_suffix(".pdf")
    try:
        written = readme_images(docs, html, pdf)
    except pytest.skip.Exception as skipped:
        print(f"error: {skipped}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    if not pdf.is_file():
        print(f"note: {pdf.relative_to(ROOT)} does not exist (run 'make deck'); the PDF image was not updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
