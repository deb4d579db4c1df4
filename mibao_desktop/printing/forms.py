"""Approval forms and records (审批表): one small framework of blocks, and the forms as data.

A form is a list of blocks drawn top to bottom on A4: a title, a grid of ruled label/value
cells, a table whose rows run over as many pages as needed (its header repeated), numbered
paragraphs of text, and signature lines. The carriers and staff ledgers add their forms as
more templates here, not as drawing code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Sequence

from reportlab.lib.colors import HexColor

WARNING_COLOUR = HexColor("#B00020")

from mibao_desktop.printing.pdf import FONT, fit_size, mm, new_canvas, text_width, wrap

LABEL_FILL = HexColor("#EEF1F5")
MARGIN = 18.0  # mm on every side
BLANK_DATE = "    年    月    日"
WRAP_SIZE = 9.0  # pt of a wrapped cell's text (a register's title column)


@dataclass(frozen=True)
class Cell:
    text: str = ""
    span: int = 1
    label: bool = False  # a shaded caption cell (部门, 使用人 …); otherwise a value
    sign: str = ""  # a signature line at the cell's foot: "签字:      日期:    年  月  日"


def L(text: str, span: int = 1) -> Cell:  # noqa: E743 (a caption)
    return Cell(text, span, label=True)


def V(text: object = "", span: int = 1, sign: str = "") -> Cell:
    return Cell("" if text is None else str(text), span, sign=sign)


@dataclass(frozen=True)
class Grid:
    """Ruled rows of cells over ``columns`` equal-width columns; heights in mm."""

    rows: Sequence[tuple[float, Sequence[Cell]]]
    columns: int = 4
    widths: Sequence[float] | None = None  # relative column widths


@dataclass(frozen=True)
class Table:
    """A list that may run over pages: the header is repeated on each page."""

    headers: Sequence[str]
    widths: Sequence[float]
    rows: Sequence[Sequence[object]]
    row_height: float = 8.0
    blank_rows: int = 0  # empty ruled rows after the data, for hand entries
    totals: Sequence[str] = ()
    # a register's rows: a long text (a title) wraps in its cell and the row grows, as written on
    # paper, rather than shrinking to an unreadable size on one line
    wrap: bool = False


@dataclass(frozen=True)
class Text:
    paragraphs: Sequence[str]
    size: float = 11.5
    numbered: bool = False


@dataclass(frozen=True)
class Signatures:
    items: Sequence[str]  # 承诺人, 日期 …
    per_line: int = 3


@dataclass(frozen=True)
class NextCopy:
    """The form starts again on a new page, its title without 续: one filled copy per record
    (a 保密承诺书 for each person selected)."""


@dataclass
class Form:
    title: str
    blocks: list = field(default_factory=list)
    note: str = ""  # a line under the title: 单位, 编号
    landscape: bool = False
    note_right: str = ""  # the right of that line (日期, 经办人); a line of its own when both do not fit
    warning: str = ""  # said in red under the title of the first page: the records are in no state for this form
    marking: str = ""  # 机密★: a register listing classified items is marked on every page, top and foot


class _Pen:
    """Draws blocks down the page, starting a new page when one is full."""

    def __init__(self, target, form: Form, anchor: str = "") -> None:
        size = (297 * mm, 210 * mm) if form.landscape else (210 * mm, 297 * mm)
        self.c = new_canvas(target, size, form.title, anchor=anchor)
        self.anchor = anchor
        self.width, self.height = size
        self.left, self.right = MARGIN * mm, self.width - MARGIN * mm
        self.form = form
        self.page = 0
        self.copy_start = 1  # the page this copy of the form began on: later ones are its 续
        self.new_page()

    def new_page(self) -> None:
        if self.page:
            self.c.showPage()
        self.page += 1
        self.y = self.height - MARGIN * mm
        c = self.c
        if self.form.marking:
            c.setFillColor(WARNING_COLOUR)
            c.setFont(FONT, 14)
            c.drawString(self.left, self.height - MARGIN * mm / 2 - 8, self.form.marking)
            c.setFont(FONT, 10)
            c.drawString(self.left, MARGIN * mm / 2, self.form.marking)
            c.setFillColorRGB(0, 0, 0)
        c.setFont(FONT, 18)
        c.drawCentredString(self.width / 2, self.y - 18, self.form.title + ("(续)" if self.page > self.copy_start else ""))
        self.y -= 30
        note, right = self.form.note, self.form.note_right
        if note or right:
            c.setFont(FONT, 10)
            if note and right and text_width(note, 10) + text_width(right, 10) + 8 * mm > self.right - self.left:
                c.drawString(self.left, self.y - 4, note)  # a long unit name: the date goes below it
                self.y -= 14
                note = ""
            if note:
                c.drawString(self.left, self.y - 4, note)
            if right:
                c.drawRightString(self.right, self.y - 4, right)
            self.y -= 14
        if self.form.warning and self.page == 1:
            size = 10.5
            c.setFillColor(WARNING_COLOUR)
            c.setFont(FONT, size)
            for line in wrap("注意:" + self.form.warning + "。", self.right - self.left, size):
                c.drawString(self.left, self.y - 6, line)
                self.y -= size * 1.45
            c.setFillColorRGB(0, 0, 0)
            self.y -= 4
        c.setFont(FONT, 8)
        c.drawCentredString(self.width / 2, MARGIN * mm / 2, f"第 {self.page} 页")
        if self.anchor:  # the audit chain's head on paper: the auditor can check the log still holds it
            c.setFont(FONT, 7)
            c.drawRightString(self.right, MARGIN * mm / 2, self.anchor)

    def room(self, needed: float) -> None:
        if self.y - needed < MARGIN * mm:
            self.new_page()

    def cell_text(self, text: str, x: float, top: float, w: float, h: float, *, label: bool, size: float = 10.5) -> None:
        c = self.c
        pad = 1.8 * mm
        lines = wrap(text, w - 2 * pad, size)
        while size > 6 and len(lines) * size * 1.3 > h - pad:
            size -= 0.5
            lines = wrap(text, w - 2 * pad, size)
        c.setFont(FONT, size)
        block = len(lines) * size * 1.3
        if label or h <= 12 * mm:  # captions and short values sit in the middle
            first = top - (h - block) / 2 - size
        else:
            first = top - pad - size
        for i, line in enumerate(lines):
            if label:
                c.drawCentredString(x + w / 2, first - i * size * 1.3 + 2, line)
            else:
                c.drawString(x + pad, first - i * size * 1.3 + 2, line)

    def grid(self, g: Grid) -> None:
        c = self.c
        widths = list(g.widths or [1] * g.columns)
        unit = (self.right - self.left) / sum(widths)
        for height, cells in g.rows:
            h = height * mm
            self.room(h)
            x = self.left
            col = 0
            for cell in cells:
                w = sum(widths[col:col + cell.span]) * unit
                if cell.label:
                    c.setFillColor(LABEL_FILL)
                    c.rect(x, self.y - h, w, h, stroke=0, fill=1)
                    c.setFillColorRGB(0, 0, 0)
                c.setLineWidth(0.7)
                c.rect(x, self.y - h, w, h, stroke=1, fill=0)
                if cell.text:
                    self.cell_text(cell.text, x, self.y, w, h - (6 * mm if cell.sign else 0), label=cell.label)
                if cell.sign:
                    c.setFont(FONT, 10)
                    c.drawRightString(x + w - 3 * mm, self.y - h + 2.5 * mm, cell.sign)
                x += w
                col += cell.span
            self.y -= h
        self.y -= 4 * mm

    def table(self, t: Table) -> None:
        c = self.c
        unit = (self.right - self.left) / sum(t.widths)
        h = t.row_height * mm

        def header() -> None:
            self.room(2 * h)
            x = self.left
            for title, w in zip(t.headers, t.widths):
                c.setFillColor(LABEL_FILL)
                c.rect(x, self.y - h, w * unit, h, stroke=1, fill=1)
                c.setFillColorRGB(0, 0, 0)
                self.cell_text(title, x, self.y, w * unit, h, label=True, size=10)
                x += w * unit
            self.y -= h

        header()
        rows = [list(r) for r in t.rows] + [[""] * len(t.headers) for _ in range(t.blank_rows)]
        for i, row in enumerate(rows):
            # the totals stay with the last row: a page of totals alone would be a list without its header
            after = len(t.totals) * 6.5 * mm if i == len(rows) - 1 else 0
            texts = ["" if value is None else str(value) for value in row]
            # only a text wider than its cell is broken into lines (most fit: one measure each)
            lines = [wrap(text, w * unit - 2 * mm, WRAP_SIZE)
                     if t.wrap and text and text_width(text, WRAP_SIZE) > w * unit - 2 * mm else [text]
                     for text, w in zip(texts, t.widths)]
            row_h = max(h, max((len(x) for x in lines), default=1) * WRAP_SIZE * 1.3 + 2.2 * mm) if t.wrap else h
            if self.y - row_h - after < MARGIN * mm:
                self.new_page()
                header()
            x = self.left
            for text, cell_lines, w in zip(texts, lines, t.widths):
                c.setLineWidth(0.5)
                c.rect(x, self.y - row_h, w * unit, row_h, stroke=1, fill=0)
                if text and t.wrap and len(cell_lines) > 1:
                    c.setFont(FONT, WRAP_SIZE)
                    top = self.y - (row_h - len(cell_lines) * WRAP_SIZE * 1.3) / 2 - WRAP_SIZE
                    for k, line in enumerate(cell_lines):
                        c.drawString(x + 1 * mm, top - k * WRAP_SIZE * 1.3 + 1.5, line)
                elif text:
                    size = fit_size(text, w * unit - 3 * mm, 9.5, 5.5)
                    c.setFont(FONT, size)
                    c.drawCentredString(x + w * unit / 2, self.y - row_h / 2 - size * 0.35, text)
                x += w * unit
            self.y -= row_h
        for line in t.totals:
            self.room(7 * mm)
            c.setFont(FONT, 10.5)
            c.drawString(self.left, self.y - 5 * mm, line)
            self.y -= 6.5 * mm
        self.y -= 4 * mm

    def text(self, t: Text) -> None:
        c = self.c
        width = self.right - self.left
        for i, paragraph in enumerate(t.paragraphs, start=1):
            body = f"{i}. {paragraph}" if t.numbered else paragraph
            lines = wrap("\u3000\u3000" + body if not t.numbered else body, width, t.size)
            for line in lines:
                self.room(t.size * 1.9)
                c.setFont(FONT, t.size)
                c.drawString(self.left, self.y - t.size, line)
                self.y -= t.size * 1.75
            self.y -= t.size * 0.5
        self.y -= 3 * mm

    def signatures(self, s: Signatures) -> None:
        c = self.c
        self.room(12 * mm * ((len(s.items) + s.per_line - 1) // s.per_line))
        width = (self.right - self.left) / s.per_line
        for i, item in enumerate(s.items):
            if i and i % s.per_line == 0:
                self.y -= 12 * mm
            x = self.left + (i % s.per_line) * width
            c.setFont(FONT, 11)
            c.drawString(x, self.y - 8 * mm, item)
            c.setLineWidth(0.5)
            start = x + text_width(item, 11) + 2 * mm
            c.line(start, self.y - 8.8 * mm, max(x + width - 4 * mm, start + 25 * mm), self.y - 8.8 * mm)
        self.y -= 14 * mm

    def nextcopy(self, _block: NextCopy) -> None:
        self.copy_start = self.page + 1
        self.new_page()

    def done(self) -> int:
        self.c.showPage()
        self.c.save()
        return self.page


def render_form(target: str | Path | BinaryIO, form: Form, *, anchor: str = "") -> int:
    """Draw the form; returns its number of pages. ``anchor`` (审计链头 N:HASH16) is printed in
    every page's footer."""
    pen = _Pen(target, form, anchor)
    for block in form.blocks:
        getattr(pen, type(block).__name__.lower())(block)
    return pen.done()


__all__ = ["BLANK_DATE", "Cell", "Form", "Grid", "L", "NextCopy", "Signatures", "Table", "Text", "V", "render_form"]
