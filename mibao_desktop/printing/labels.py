"""Label sheets (标识): the level label (密级标识) and the reminder label (保密提醒), on A4 label
sheets of any grid or on a label printer's roll, one label per page. Qt-free.

All geometry is in millimetres, measured from the top-left corner of the sheet as a ruler
would; a printer's feed error is corrected by a whole-page offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Iterable, Mapping

from reportlab.lib.colors import HexColor, white

from mibao_desktop.ledgers import levels
from mibao_desktop.ledgers.declaration import CLAUSE_ENDS, clauses
from mibao_desktop.ledgers.pending import PENDING, gaps as gaps_of
from mibao_desktop.printing.pdf import FONT, fit_size, mm, new_canvas, text_width
from mibao_desktop.printing.qr import draw_qr

A4 = (210.0, 297.0)
LEVEL_LABEL, REMINDER_LABEL = "level", "reminder"
KIND_TITLES = {LEVEL_LABEL: "密级标识", REMINDER_LABEL: "保密提醒标识"}

DEFAULT_COLOURS = dict(levels.COLOURS)  # the three and 非涉密; a unit's own level: levels.colours()


class LayoutError(ValueError):
    """A grid that does not fit on its page; the message says which measure to change."""


@dataclass(frozen=True)
class LabelLayout:
    """Where labels sit: a grid of ``columns`` × ``rows`` labels on a page (mm)."""

    name: str
    title: str
    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    margin_left: float = 0.0
    margin_top: float = 0.0
    gap_x: float = 0.0
    gap_y: float = 0.0

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def check(self) -> None:
        if self.columns < 1 or self.rows < 1:
            raise LayoutError("行数和列数至少为 1")
        if min(self.label_width, self.label_height) < 15:
            raise LayoutError("标签太小:宽和高至少 15 mm")
        right = self.margin_left + self.columns * self.label_width + (self.columns - 1) * self.gap_x
        bottom = self.margin_top + self.rows * self.label_height + (self.rows - 1) * self.gap_y
        if right > self.page_width + 0.01:
            raise LayoutError(f"一行标签总宽 {right:.1f} mm,超出纸宽 {self.page_width:.0f} mm:请减少列数、标签宽度、左边距或间距")
        if bottom > self.page_height + 0.01:
            raise LayoutError(f"一列标签总高 {bottom:.1f} mm,超出纸高 {self.page_height:.0f} mm:请减少行数、标签高度、上边距或间距")

    def box(self, position: int) -> tuple[float, float]:
        """Top-left corner (mm from the sheet's top-left) of the label at ``position`` (0-based,
        row by row)."""
        row, column = divmod(position % self.per_page, self.columns)
        return (self.margin_left + column * (self.label_width + self.gap_x),
                self.margin_top + row * (self.label_height + self.gap_y))


def _sheet(name, title, columns, rows, w, h, left, top, gap_x, gap_y=0.0) -> LabelLayout:
    return LabelLayout(name, title, *A4, columns, rows, w, h, left, top, gap_x, gap_y)


PRESETS: dict[str, LabelLayout] = {layout.name: layout for layout in (
    _sheet("a4-3x8", "A4 不干胶 24 格(3×8,70×37 mm)", 3, 8, 70, 37, 0, 0.5, 0),
    _sheet("a4-3x7", "A4 不干胶 21 格(3×7,63.5×38.1 mm,L7160 型)", 3, 7, 63.5, 38.1, 7.2, 15.15, 2.5),
    _sheet("a4-2x7", "A4 不干胶 14 格(2×7,99.1×38.1 mm,L7163 型)", 2, 7, 99.1, 38.1, 4.65, 15.15, 2.5),
    _sheet("a4-2x5", "A4 不干胶 10 格(2×5,99.1×57 mm,L7173 型)", 2, 5, 99.1, 57, 4.65, 6, 2.5),
    LabelLayout("roll-60x40", "标签打印机 60×40 mm", 60, 40, 1, 1, 60, 40),
    LabelLayout("roll-50x30", "标签打印机 50×30 mm", 50, 30, 1, 1, 50, 30),
)}
DEFAULT_LAYOUT = "a4-3x8"


@dataclass(frozen=True)
class LabelContent:
    """What one label says, taken from a record through its ledger's LabelSpec."""

    title: str  # 涉密计算机
    level: str | None  # 机密 … (None: a ledger without a level)
    lines: tuple[tuple[str, str], ...]  # (field label, value)
    asset_number: str
    reminder: str
    reminder_phrases: tuple[str, ...] = ()  # where a line may break (the declaration's phrases)

    @property
    def phrases(self) -> tuple[str, ...]:
        if self.reminder_phrases and "".join(self.reminder_phrases) == self.reminder:
            return self.reminder_phrases
        return clauses(self.reminder)


def content_of(record) -> LabelContent:
    """A RecordView's label text, as its ledger declares it."""
    spec = record.ledger.label
    if spec is None:
        raise LayoutError(f"{record.ledger.title}没有标识")
    level = record.display(spec.level_field) if spec.level_field else None
    gaps = {f.name for f in gaps_of(record.ledger, record.values)}  # 待补充: printed as such, not blank
    lines = tuple((record.ledger.field(n).label, record.display(n) or (PENDING if n in gaps else ""))
                  for n in spec.lines)
    return LabelContent(spec.title, level, lines, record.asset_number, spec.reminder, spec.phrases)


@dataclass(frozen=True)
class SheetOptions:
    kind: str = LEVEL_LABEL
    start: int = 1  # the first free position on a partly used sheet (1-based)
    copies: int = 1  # labels per record
    offset_x: float = 0.0  # mm, + moves everything right: the printer's feed correction
    offset_y: float = 0.0  # mm, + moves everything down
    colours: Mapping[str, str] | None = None
    outline: bool = True  # a thin cutting outline (die-cut sheets print well without it too)
    unit: str = ""  # the unit's name, printed small at the foot of each label ("": none)
    safe_margin: float = 0.0  # mm kept free of print inside each label's edges (printers that
    #                           cannot print to the edge of the sheet); the outline stays on the edge


MAX_SAFE_MARGIN = 8.0


def check_sheet(layout: LabelLayout, options: SheetOptions, kind: str, kinds: Iterable[str], *,
                copies_of: str = "每条记录的份数") -> None:
    """What every label sheet checks before it draws (devices' labels, carrier copies' labels):
    a known kind, the start position on the sheet, the copies of each, and a safe margin that
    leaves room for the label's content."""
    layout.check()
    if kind not in kinds:
        raise LayoutError(f"未知的标识种类:{kind}")
    if not 1 <= options.start <= layout.per_page:
        raise LayoutError(f"起始位置应在 1 到 {layout.per_page} 之间")
    if not 1 <= options.copies <= 100:
        raise LayoutError(f"{copies_of}应在 1 到 100 之间")
    margin = options.safe_margin
    if not 0 <= margin <= MAX_SAFE_MARGIN:
        raise LayoutError(f"安全边距应在 0 到 {MAX_SAFE_MARGIN:.0f} 毫米之间")
    if min(layout.label_width, layout.label_height) - 2 * margin < 15:
        raise LayoutError(f"安全边距 {margin:g} mm 太大:留给标识内容的宽和高至少 15 mm,请减小安全边距")


def render_labels(target: str | Path | BinaryIO, contents: Iterable[LabelContent], layout: LabelLayout,
                  options: SheetOptions = SheetOptions(), *, anchor: str = "") -> int:
    """Draw the labels; returns the number of labels drawn. ``anchor`` (审计链头 N:HASH16) goes
    into the PDF's properties, and onto each sheet only where its margin leaves room below or
    above the labels (a roll label or a 24-up sheet has none); the print's audit entry holds it
    too."""
    check_sheet(layout, options, options.kind, KIND_TITLES)
    margin = options.safe_margin
    unit = " ".join(options.unit.split())
    colours = {**levels.colours(), **(options.colours or {})}
    c = new_canvas(target, (layout.page_width * mm, layout.page_height * mm), KIND_TITLES[options.kind],
                   anchor=anchor)
    position, drawn = options.start - 1, 0
    for content in contents:
        if options.kind == LEVEL_LABEL and content.level is None:
            raise LayoutError(f"{content.title}没有密级标识,请选择“保密提醒标识”")
        for _ in range(options.copies):
            if position and position % layout.per_page == 0:
                _anchor_in_margin(c, layout, anchor)
                c.showPage()
            x, y = layout.box(position)
            box = ((x + options.offset_x) * mm, (layout.page_height - y - layout.label_height - options.offset_y) * mm,
                   layout.label_width * mm, layout.label_height * mm)
            colour = HexColor(colours.get(content.level or "非涉密", "#4D4D4D"))
            _outline(c, box, colour, options.outline)
            inner = (box[0] + margin * mm, box[1] + margin * mm, box[2] - 2 * margin * mm, box[3] - 2 * margin * mm)
            if options.kind == LEVEL_LABEL:
                _level_label(c, inner, content, colour, unit)
            else:
                _reminder_label(c, inner, content, colour, unit)
            position += 1
            drawn += 1
    _anchor_in_margin(c, layout, anchor)
    c.showPage()
    c.save()
    return drawn


ANCHOR_ROOM = 5.0  # mm of margin needed for the 6-point line of the audit head


def _anchor_in_margin(c, layout: LabelLayout, anchor: str) -> None:
    """The audit head in small type in the sheet's bottom (else top) margin, never on a label."""
    if not anchor:
        return
    bottom = layout.page_height - layout.margin_top - layout.rows * layout.label_height - (layout.rows - 1) * layout.gap_y
    if bottom >= ANCHOR_ROOM:
        y = bottom / 2 - 1
    elif layout.margin_top >= ANCHOR_ROOM:
        y = layout.page_height - layout.margin_top / 2 - 1
    else:
        return
    c.setFont(FONT, 6)
    c.setFillColor(HexColor("#808080"))
    c.drawRightString((layout.page_width - 5) * mm, y * mm, anchor)


def _outline(c, box, colour, outline: bool) -> None:
    x, y, w, h = box
    if outline:
        c.setStrokeColor(colour)
        c.setLineWidth(0.6)
        c.rect(x, y, w, h, stroke=1, fill=0)


def _band(c, box, colour, pad: float, band: float) -> None:
    """The coloured band across the top, ready for white text."""
    x, y, w, h = box
    c.setFillColor(colour)
    c.rect(x + pad / 2, y + h - band - pad / 2, w - pad, band, stroke=0, fill=1)
    c.setFillColor(white)


UNIT_GREY = "#333333"


def _foot(c, x: float, y: float, w: float, size: float, unit: str, number: str = "") -> None:
    """The label's foot: the unit's name on the left, the number (if given) on the right."""
    gap = size
    if number:
        c.setFillColorRGB(0.3, 0.3, 0.3)
        c.setFont(FONT, size)
        c.drawRightString(x + w, y, number)
    if unit:
        room = w - (text_width(number, size) + gap if number else 0)
        unit_size = fit_size(unit, room, size, minimum=3.0)
        c.setFillColor(HexColor(UNIT_GREY))
        c.setFont(FONT, unit_size)
        c.drawString(x, y, unit)


def _level_label(c, box, content: LabelContent, colour, unit: str) -> None:
    x, y, w, h = box
    pad = min(w, h) * 0.06
    band = h * 0.30
    _band(c, box, colour, pad, band)
    level_text = f"{content.level}" if content.level == "非涉密" else f"{content.level}★"
    size = fit_size(level_text, (w - pad * 2) * 0.45, band * 0.78)
    c.setFont(FONT, size)
    c.drawString(x + pad, y + h - pad / 2 - band / 2 - size * 0.36, level_text)
    title_size = fit_size(content.title, (w - pad * 2) * 0.5, band * 0.42)
    c.setFont(FONT, title_size)
    c.drawRightString(x + w - pad, y + h - pad / 2 - band / 2 - title_size * 0.36, content.title)
    body_top, body_bottom = y + h - band - pad, y + pad * 0.9
    if unit:
        foot_size = min(h * 0.085, 8.0)
        _foot(c, x + pad, body_bottom, w - pad * 2, foot_size, unit)
        body_bottom += foot_size * 1.3
    # The number is printed once: on its line when the declaration lists it (设备编号:…), else
    # under the QR code that holds it.
    caption = not any(value == content.asset_number for _, value in content.lines)
    qr = min(body_top - body_bottom - pad * 0.3, w * 0.36)
    number_size = fit_size(content.asset_number, qr + pad, qr * 0.16) if caption else 0.0
    qr_size = qr - number_size * 0.9
    qr_x = x + w - pad - qr_size
    draw_qr(c, content.asset_number, qr_x, body_top - qr_size, qr_size)
    c.setFillColorRGB(0, 0, 0)
    if caption:
        c.setFont(FONT, number_size)
        c.drawCentredString(qr_x + qr_size / 2, body_bottom, content.asset_number)
    text_width_available = qr_x - x - pad * 1.5
    line_height = (body_top - body_bottom) / max(len(content.lines), 1)
    size = min(line_height * 0.62, 11)
    longest = max((f"{k}:{v}" for k, v in content.lines), key=lambda s: text_width(s, size), default="")
    size = fit_size(longest, text_width_available, size)
    c.setFont(FONT, size)
    for i, (label, value) in enumerate(content.lines):
        baseline = body_top - (i + 0.5) * line_height - size * 0.36
        c.drawString(x + pad, baseline, f"{label}:{value}")


def _reminder_label(c, box, content: LabelContent, colour, unit: str) -> None:
    x, y, w, h = box
    pad = min(w, h) * 0.07
    band = h * 0.24
    _band(c, box, colour, pad, band)
    heading = f"保密提醒 · {content.title}"
    size = fit_size(heading, w - pad * 2, band * 0.62)
    c.setFont(FONT, size)
    c.drawCentredString(x + w / 2, y + h - pad / 2 - band / 2 - size * 0.36, heading)
    small = fit_size(content.asset_number, w / 2, pad * 1.1)
    area_top, area_bottom = y + h - band - pad, y + pad * 0.6 + small * 1.4
    size, lines = fit_phrases(content.phrases, w - pad * 2, area_top - area_bottom,
                              min((area_top - area_bottom) * 0.4, 20))
    c.setFillColor(colour)
    c.setFont(FONT, size)
    block = len(lines) * size * LEADING
    first = area_bottom + (area_top - area_bottom + block) / 2 - size
    for i, line in enumerate(lines):
        c.drawCentredString(x + w / 2, first - i * size * LEADING, line)
    _foot(c, x + pad, y + pad * 0.6, w - pad * 2, small, unit, content.asset_number)


LEADING = 1.25  # line distance of a reminder text, in font sizes
SMALLEST = 5.0  # points: below this a phrase is broken rather than shrunk further


def fit_phrases(phrases: tuple[str, ...], width: float, height: float, largest: float) -> tuple[float, tuple[str, ...]]:
    """The reminder text in the largest size (≤ ``largest``, in quarter points) at which it fits
    ``width`` × ``height`` (points) with lines broken only between ``phrases``; the lines as
    even as they can be. Only when a phrase cannot fit even at ``SMALLEST`` are its characters
    broken apart (a mark of punctuation never starts a line)."""
    return _fit(tuple(phrases), round(width, 2), round(height, 2), round(largest, 2))


@lru_cache(maxsize=512)  # every label of a run asks the same question
def _fit(phrases: tuple[str, ...], width: float, height: float, largest: float) -> tuple[float, tuple[str, ...]]:
    size, lines = _best_lines(phrases, width, height, largest)
    if size < SMALLEST:
        size, lines = _best_lines(_characters("".join(phrases)), width, height, largest)
    return max(size, 1.0), lines


def _best_lines(phrases: tuple[str, ...], width: float, height: float, largest: float) -> tuple[float, tuple[str, ...]]:
    widths = [text_width(p, 1.0) for p in phrases]  # at 1 pt; widths add up (no kerning)
    best: tuple[float, tuple[str, ...]] = (0.0, ("".join(phrases),))
    for count in range(1, len(phrases) + 1):
        widest, lines = _even_split(phrases, widths, count)
        size = min(largest, width / widest if widest else largest, height / (count * LEADING))
        size = int(size * 4) / 4  # quarter points: a tie keeps the fewer lines
        if size > best[0]:
            best = (size, lines)
        if height / ((count + 1) * LEADING) <= best[0]:
            break  # more lines can only be smaller
    return best


def _even_split(phrases: tuple[str, ...], widths: list[float], count: int) -> tuple[float, tuple[str, ...]]:
    """``phrases`` in ``count`` lines, in order, with the widest line as narrow as it can be."""
    n = len(phrases)
    prefix = [0.0]
    for wd in widths:
        prefix.append(prefix[-1] + wd)
    inf = float("inf")
    # cost[m][j]: the widest line when the first j phrases make m lines; cut[m][j]: where the last begins
    cost = [[inf] * (n + 1) for _ in range(count + 1)]
    cut = [[0] * (n + 1) for _ in range(count + 1)]
    cost[0][0] = 0.0
    for m in range(1, count + 1):
        for j in range(m, n + 1):
            for i in range(m - 1, j):
                value = max(cost[m - 1][i], prefix[j] - prefix[i])
                if value < cost[m][j]:
                    cost[m][j], cut[m][j] = value, i
    lines, j = [], n
    for m in range(count, 0, -1):
        i = cut[m][j]
        lines.append("".join(phrases[i:j]))
        j = i
    return cost[count][n], tuple(reversed(lines))


def _characters(text: str) -> tuple[str, ...]:
    """A text's characters as units to break between, each mark of punctuation kept with the
    character before it."""
    units: list[str] = []
    for ch in text:
        if units and ch in CLAUSE_ENDS:
            units[-1] += ch
        else:
            units.append(ch)
    return tuple(units)


def calibration_page(target: str | Path | BinaryIO, layout: LabelLayout, offset_x: float = 0.0,
                     offset_y: float = 0.0) -> None:
    """A page of millimetre rulers and the layout's label outlines, offset as the labels will be:
    print it, measure, and correct the offset until the outlines meet the sheet's labels."""
    c = new_canvas(target, (layout.page_width * mm, layout.page_height * mm), "标签校准页")
    page_h = layout.page_height
    c.setStrokeColorRGB(0.55, 0.55, 0.55)
    c.setLineWidth(0.3)
    for i in range(layout.per_page):
        x, y = layout.box(i)
        c.rect((x + offset_x) * mm, (page_h - y - layout.label_height - offset_y) * mm,
               layout.label_width * mm, layout.label_height * mm)
    c.setStrokeColorRGB(0, 0, 0)
    origin_x, origin_y = 10.0 + offset_x, 10.0 + offset_y  # rulers start 10 mm in from the edges
    c.setLineWidth(0.2)
    for n in range(0, int(layout.page_width - origin_x - 2)):
        tick = 4 if n % 10 == 0 else 2.5 if n % 5 == 0 else 1.5
        px = (origin_x + n) * mm
        c.line(px, (page_h - origin_y) * mm, px, (page_h - origin_y - tick) * mm)
        if n % 10 == 0 and n:
            c.setFont(FONT, 6)
            c.drawCentredString(px, (page_h - origin_y - 7) * mm, str(n))
    for n in range(0, int(page_h - origin_y - 2)):
        tick = 4 if n % 10 == 0 else 2.5 if n % 5 == 0 else 1.5
        py = (page_h - origin_y - n) * mm
        c.line(origin_x * mm, py, (origin_x + tick) * mm, py)
        if n % 10 == 0 and n:
            c.setFont(FONT, 6)
            c.drawString((origin_x + 5) * mm, py - 2, str(n))
    c.setFont(FONT, 9)
    lines = [
        f"标签校准页 · {layout.title} · 当前偏移 X {offset_x:+.1f} mm,Y {offset_y:+.1f} mm",
        "1. 用 100% 比例(不缩放)打印本页。2. 用直尺量纸的左边到横尺 0 刻度线、上边到竖尺 0 刻度线的距离,",
        "应为 10 mm。多出的毫米数填为负偏移,不足的填为正偏移(X 向右为正,Y 向下为正)。",
        "3. 把本页叠在空白标签纸上透光对照:灰色方框应与标签重合。",
    ]
    for i, line in enumerate(lines):
        c.drawString(30 * mm, (page_h - 40 - i * 6) * mm, line)
    c.showPage()
    c.save()


__all__ = ["A4", "DEFAULT_COLOURS", "DEFAULT_LAYOUT", "LEVEL_LABEL", "PRESETS", "REMINDER_LABEL", "LabelContent",
           "LabelLayout", "LayoutError", "MAX_SAFE_MARGIN", "SheetOptions", "calibration_page", "content_of",
           "fit_phrases", "render_labels"]
