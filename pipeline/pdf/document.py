"""The page machinery: column frames, footer with page number and total, pinned dates.

Everything here is about pages rather than content: the story module hands over a list of
flowables and this module decides where they go and what surrounds them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import IO, Any

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from .. import fonts
from .flowables import HeadingGroup
from .geometry import FOOTER_BASELINE, Geometry
from .styles import Styles

FOOTER_SIZE = 6.5
"""Footer text size."""
_TOTAL_FORM = "pageTotal"
"""Name of the form XObject holding the page count, drawn on every page, filled in at the end."""


def pdf_date(date: int) -> str:
    """A PDF date string (``D:YYYYMMDDHHmmSS+00'00'``) for a Unix time, in UTC."""
    return time.strftime("D:%Y%m%d%H%M%S+00'00'", time.gmtime(date))


class _PinnedTime:
    """What reportlab reads from its timestamp object, for a given Unix time (UTC)."""

    def __init__(self, date: int) -> None:
        self.t = float(date)
        self.lt = time.gmtime(date)
        self.YMDhms = tuple(self.lt)[:6]
        self.dhh = self.dmm = 0
        self.tzname = "UTC"


class SheetCanvas(Canvas):  # type: ignore[misc]
    """A canvas whose dates come from the build, and that writes the page total before saving."""

    def __init__(self, *args: Any, date: int, footer: Callable[[Canvas, int], None],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # reportlab stamps the file with the wall clock, or with SOURCE_DATE_EPOCH when that is
        # set, and seeds the file /ID with the stamp. The sheet's date is the lock's: pin both,
        # so the bytes depend on the deck alone, not on the environment of the build.
        doc = self._doc
        doc._timeStamp = _PinnedTime(date)
        doc.signature = hashlib.md5(b"a reportlab document", usedforsecurity=False)
        doc.signature.update(ascii(float(date)).encode())
        self.setDateFormatter(lambda *_: pdf_date(date))
        self.showOutline()  # open viewers with the bookmarks panel: it is the sheet's index
        self._total_footer = footer

    def save(self) -> None:
        """Define the page-total form every footer refers to, then write the file."""
        self._total_footer(self, self._pageNumber - 1)
        super().save()


class SheetDoc(BaseDocTemplate):  # type: ignore[misc]
    """Columns on every page, a footer with page number and deck title."""

    def __init__(self, path: str | IO[bytes], geometry: Geometry, styles: Styles, footer_text: str,
                 **meta: Any) -> None:
        body = geometry.body
        width, height = geometry.pagesize
        super().__init__(path, pagesize=geometry.pagesize, leftMargin=body.x, bottomMargin=body.y,
                         rightMargin=width - body.right, topMargin=height - body.top,
                         invariant=1, pageCompression=1, initialFontName=fonts.SANS, **meta)
        # (initialFontName: otherwise every page's preamble names Helvetica, a font the PDF
        # would then reference without embedding it.)
        self.geometry = geometry
        self.styles = styles
        # The title goes right of the page number; cut it rather than let the two collide.
        room = body.width - stringWidth("page 9999 of 9999", fonts.SANS, FOOTER_SIZE) - 24
        self.footer_text = _fit(footer_text, room)
        frames = [Frame(r.x, r.y, r.width, r.height, leftPadding=0, rightPadding=0, topPadding=0,
                        bottomPadding=0, id=f"col{i}") for i, r in enumerate(geometry.columns())]
        self.addPageTemplates([PageTemplate("columns", frames, onPage=self._footer)])
        self.keepTogetherClass = HeadingGroup

    def _footer(self, canv: Canvas, doc: Any) -> None:
        """Page number (and the total, via a form filled in at the end) left, title right."""
        body = self.geometry.body
        canv.saveState()
        canv.setFillColor(self.styles.palette.muted)
        canv.setStrokeColor(self.styles.palette.rule)
        canv.setLineWidth(0.4)
        canv.line(body.x, FOOTER_BASELINE + 8, body.right, FOOTER_BASELINE + 8)
        canv.setFont(fonts.SANS, FOOTER_SIZE)
        label = f"page {doc.page} of "
        canv.drawString(body.x, FOOTER_BASELINE, label)
        canv.drawRightString(body.right, FOOTER_BASELINE, self.footer_text)
        canv.translate(body.x + stringWidth(label, fonts.SANS, FOOTER_SIZE), FOOTER_BASELINE)
        canv.doForm(_TOTAL_FORM)
        canv.restoreState()

    def write_total(self, canv: Canvas, pages: int) -> None:
        """Draw the page total into the form that every footer already shows."""
        canv.beginForm(_TOTAL_FORM, lowerx=0, lowery=-3, upperx=40, uppery=8)
        canv.setFillColor(self.styles.palette.muted)
        canv.setFont(fonts.SANS, FOOTER_SIZE)
        canv.drawString(0, 0, str(pages))
        canv.endForm()


def _fit(text: str, width: float) -> str:
    """``text``, cut with an ellipsis to at most ``width`` points of footer type."""
    if stringWidth(text, fonts.SANS, FOOTER_SIZE) <= width:
        return text
    while text and stringWidth(text + "\u2026", fonts.SANS, FOOTER_SIZE) > width:
        text = text[:-1]
    return text.rstrip() + "\u2026"
