"""Cards drawn from a recording: the PDF operators of their last drawing, replayed exactly.

Breaking a card's paragraphs into lines and drawing them is most of the sheet's cost. But a
card draws in its own coordinates (the frame moves the origin with operators outside the card),
so what it appends to the page depends on its content and the column width, with one
exception: its text. reportlab shows text in font subsets whose character codes it hands out
in order of first use, document-wide, so the bytes of a run of text depend on everything drawn
before it. We therefore record a card's drawing as its operators with every run of text left
out as a placeholder, plus the runs themselves (font, size, leading, text); replaying appends
the operators and writes each run exactly as reportlab's ``PDFTextObject._formatText`` would,
through the same functions (so new characters and fonts are registered in the same order as
a live drawing would register them). A recording is therefore right in any document, which
lets another process record cards (the build's parent process records a share of them while
this one lays out the rest), and lets a rebuild replay every card it has seen before.

A card whose drawing does anything else to the document (a link annotation, a transparency
state, a font that is not TrueType) is not recorded; neither is a card taller than a column,
which splits. A recording is replayed only at the width it was made for and from the same
canvas state, and only once :func:`emulation_matches` has checked our text writer against
reportlab's on this machine; otherwise the card is drawn afresh. So the cache can cost time,
never change a byte.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import textobject
from reportlab.pdfgen.canvas import Canvas

from .. import fonts
from ..cache import Store
from .flowables import CardBlock

Run = tuple[int, str, float, float, str, bool]
"""(text object number within the card, font, size, leading, text, starts a fresh subset run)."""
Recording = tuple[float, float, float, float, str, str, tuple[Run, ...]]
"""(width, height, space before, space after, canvas state, operators, text runs).

The operators are the card's page operators joined by newlines (a page's content stream is its
operators joined by newlines, so they go in as one piece); run *i* is ``\\0i\\0`` in them."""

MARK = "\0"
"""Delimits a run's number in recorded operators (escaped text in PDF operators never has it)."""
_CANVAS_STATE = ("_fontname", "_fontsize", "_leading", "_fillColorObj", "_strokeColorObj",
                 "_lineWidth", "_lineCap", "_lineJoin", "_lineDash", "_mitreLimit", "_fillMode",
                 "_textMode", "_textRenderMode", "_charSpace", "_wordSpace", "_horizScale", "_rise")
"""Canvas state a card's drawing reads (the origin, _currentMatrix, is deliberately out)."""
_FORMAT = textobject.PDFTextObject._formatText
"""reportlab's own text writer, which recording wraps and replaying emulates."""


def canvas_state(canv: Canvas) -> str:
    """The canvas state a card starts drawing from, as text (colours have a stable repr)."""
    values = [getattr(canv, name) for name in _CANVAS_STATE]
    values.append(sorted(canv._extgstate._d.items()))
    return repr(values)


def _others(canv: Canvas) -> tuple[Any, ...]:
    """Document state no recorded card may change (if one does, it is not recorded)."""
    doc = canv._doc
    return (doc.objectcounter, len(doc.idToObject), len(canv._annotationrefs),
            canv._annotationCount, len(canv._formsinuse), len(canv._extgstate._c),
            len(canv._colorsUsed), len(canv._shadingUsed), id(canv._code))


def write_run(canv: Canvas, run: Run, subset: int) -> tuple[str, int]:
    """The operators of one text run, and the font subset it ends in.

    The same steps, in the same order, as the TrueType branch of reportlab's
    ``PDFTextObject._formatText``; ``subset`` is the text object's current subset (-1: none).
    """
    _, name, size, leading, text, _ = run
    doc = canv._doc
    font = pdfmetrics.getFont(name)
    out = []
    template = None
    for part, chars in font.splitString(text, doc):
        if part != subset:
            if not template:
                template = f"{textobject.fp_str(size)} Tf {textobject.fp_str(leading)} TL"
            out.append(f"{font.getSubsetInternalName(part, doc)} {template}")
            subset = part
        out.append(f"({canv._escape(chars)}) Tj")
    return " ".join(out), subset


def replay(canv: Canvas, recording: Recording) -> None:
    """Append ``recording``'s operators to the page, writing its text runs for this document."""
    pieces = recording[5].split(MARK)
    runs = recording[6]
    subsets: dict[int, int] = {}
    for i in range(1, len(pieces), 2):
        run = runs[int(pieces[i])]
        current = -1 if run[5] else subsets.get(run[0], -1)
        pieces[i], subsets[run[0]] = write_run(canv, run, current)
    canv._code.append("".join(pieces))


@cache
def emulation_matches() -> bool:
    """Whether :func:`write_run` writes what reportlab writes (checked once per process)."""
    fonts.register()
    sample = "Aé→ x\u0394y" + "".join(map(chr, range(0x400, 0x520)))  # spans two subsets
    live, emulated = Canvas(io.BytesIO()), Canvas(io.BytesIO())
    text = live.beginText()
    expected = []
    for face, chars in ((fonts.SANS, sample), (fonts.SANS, "fresh"), (fonts.MONO + "-Bold", sample)):
        text.setFont(face, 7.5, 9)
        expected.append(_FORMAT(text, chars))
        expected.append(_FORMAT(text, chars[::-1]))
    got = []
    for face, chars in ((fonts.SANS, sample), (fonts.SANS, "fresh"), (fonts.MONO + "-Bold", sample)):
        first, subset = write_run(emulated, (0, face, 7.5, 9, chars, True), -1)
        second, _ = write_run(emulated, (0, face, 7.5, 9, chars[::-1], False), subset)
        got += [first, second]
    return got == expected


class Mismatch(Exception):
    """A recording disagreed with the card it records: the sheet is made again without recordings."""


class _Tape:
    """Collects the text runs of one card's drawing; stands in for ``_formatText`` meanwhile."""

    def __init__(self) -> None:
        self.runs: list[Run] = []
        self.written: list[str] = []
        self.objects: dict[int, int] = {}
        self.ok = True

    def format(self, tx: Any, text: Any) -> str:
        fresh = tx._curSubset == -1
        written = _FORMAT(tx, text)
        font = pdfmetrics.getFont(tx._fontname)
        if type(text) is not str or not font._dynamicFont:
            self.ok = False  # shaped, bytes or a standard font: not what write_run covers
            return str(written)
        self.runs.append((self.objects.setdefault(id(tx), len(self.objects)), tx._fontname,
                          tx._fontsize, tx._leading, text, fresh))
        self.written.append(written)
        return f"{MARK}{len(self.runs) - 1}{MARK}"


def draw_recorded(block: CardBlock, canv: Canvas) -> Recording | None:
    """Draw ``block`` (wrapped) on ``canv`` as usual, and return its recording (None if it has none)."""
    tape = _Tape()
    state = canvas_state(canv)
    others = _others(canv)
    start = len(canv._code)
    block.canv = canv
    textobject.PDFTextObject._formatText = lambda tx, text: tape.format(tx, text)
    try:
        block.draw()
    finally:
        textobject.PDFTextObject._formatText = _FORMAT
        del block.canv
    recorded = "\n".join(canv._code[start:])
    pieces = recorded.split(MARK)
    for i in range(1, len(pieces), 2):
        pieces[i] = tape.written[int(pieces[i])]
    canv._code[start:] = ["".join(pieces)]  # what the drawing would have appended, joined
    if not tape.ok or _others(canv) != others or len(pieces) % 2 == 0:
        return None
    return (block.width, block.height, block.getSpaceBefore(), block.getSpaceAfter(), state,
            recorded, tuple(tape.runs))


class ReplayCard(CardBlock):
    """A card block drawn from its recording when it can be, and made only when it cannot.

    ``recording`` may be a function, called when the recording is first needed (it returns
    None if the process that records cards ahead has not got to this one).
    """

    def __init__(self, make: Callable[[], CardBlock], column_height: float, store: Store,
                 key: str, recording: Recording | Callable[[], Recording | None] | None) -> None:
        super().__init__([], column_height)
        self._make = make
        self._block: CardBlock | None = None
        self._recording = recording
        self.store = store
        self.key = key

    @property
    def recording(self) -> Recording | None:
        """The recording, once fetched (None: the card is drawn afresh)."""
        if callable(self._recording):
            self._recording = self._recording()
        return self._recording

    @property
    def needs_making(self) -> bool:
        """Whether no recording is to be had: the card will be made and drawn afresh."""
        return self._block is None and not isinstance(self._recording, tuple)

    @property
    def block(self) -> CardBlock:
        """The real card block (made on first use: only when the recording cannot serve)."""
        if self._block is None:
            self._block = self._make()
            self.parts = self._block.parts
        return self._block

    def _usable(self, width: float) -> Recording | None:
        rec = self.recording
        return rec if rec is not None and rec[0] == width and emulation_matches() else None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        """The recorded size at the recorded width; otherwise the real block's."""
        rec = self._usable(availWidth)
        if rec is not None:
            self.width, self.height = rec[0], rec[1]
        else:
            self.width, self.height = self.block.wrapOn(self.canv, availWidth, availHeight)
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Any]:
        """As the real block: nothing, unless the card is taller than a column (never recorded)."""
        if self._usable(availWidth) is not None:
            return []  # it was recorded, so it fitted in a column
        self._recording = None
        return list(self.block.split(availWidth, availHeight))

    def getSpaceBefore(self) -> float:
        rec = self.recording
        return rec[2] if rec is not None else float(self.block.getSpaceBefore())

    def getSpaceAfter(self) -> float:
        rec = self.recording
        return rec[3] if rec is not None else float(self.block.getSpaceAfter())

    def draw(self) -> None:
        """Replay the recording if it fits this canvas state; else draw afresh and record."""
        canv = self.canv
        rec = self._usable(self.width)
        if rec is not None and rec[4] == canvas_state(canv):
            replay(canv, rec)
            self.store.put(self.key, rec)
            return
        block = self.block
        if rec is not None:  # laid out from the recording: the real block must agree with it
            block.wrapOn(canv, self.width, self.height)
            if (block.width, block.height) != (self.width, self.height):
                raise Mismatch(f"card {self.key}: recorded as {self.height} points high, "
                               f"made {block.height}")
        fresh = draw_recorded(block, canv)
        if fresh is not None:
            self.store.put(self.key, fresh)
