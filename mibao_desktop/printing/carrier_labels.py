"""Marks for a carrier's copies (载体份标识), on the same label sheets and rolls as the device
labels (``labels.PRESETS``, offsets, safe margin, unit name). Qt-free.

- The cover label (封面标识), one per copy: the carrier's 密级 with its 保密期限 (机密★10年, the
  statutory years when none is set: seed 002 §八 "制作涉密载体,应当标明密级和保密期限"), the
  copy's 份号 (第 3 份, of 共 12 份), the carrier's 登记编号, 文号 and title, and a QR code of
  登记编号#份号 that a check session scans (月核对).
- The sealed-envelope label (密封信封标识) of seed 002 §八: "涉密载体传递前要包装密封,信封上应当
  标明密级、编号和收发件单位名称,信封的封口及中缝处应当加盖密封章或加粘密封条": the level in its
  colour, the envelope's 编号 (登记编号 and 份号), the receiving and the sending unit (a line left
  to be written by hand when none is known), 密封 set apart as a seal, and the same QR code, so
  that the receiving registry can scan the envelope at 清点.
- The seal strip (密封条) the same paragraph asks for "信封的封口及中缝处": 密封 across its middle
  in the level's colour, the level, the envelope's 编号, the day it was sealed and a line for
  the one who sealed it to sign across; printed twice per envelope (封口 and 中缝) by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable

from reportlab.lib.colors import HexColor

from mibao_desktop.ledgers import levels
from mibao_desktop.printing.labels import (LabelLayout, SheetOptions, _anchor_in_margin, _band, _foot,
                                           _outline, check_sheet)
from mibao_desktop.printing.pdf import FONT, fit_size, mm, new_canvas, text_width
from mibao_desktop.printing.qr import draw_qr

COVER_LABEL, ENVELOPE_LABEL, SEAL_STRIP = "cover", "envelope", "seal"
KIND_TITLES = {COVER_LABEL: "载体封面标识", ENVELOPE_LABEL: "密封信封标识", SEAL_STRIP: "密封条"}
SEAL = "密封"
CODE_SEPARATOR = "#"  # 登记编号#份号: what the QR code holds (the check session reads it back)


def copy_code(carrier_number: str, copy_number: int) -> str:
    """What a copy's QR code holds: ``ZT-2024-001#3``."""
    return f"{carrier_number}{CODE_SEPARATOR}{copy_number}"


def marking(level: str, period: int | None) -> str:
    """``机密★10年``, ``秘密★长期``; a level with no period set is marked with its statutory
    years (机密★20年), the period the law gives it; a level that is no state secret, as is."""
    if level not in levels.STATUTORY_YEARS:
        return level
    return f"{level}★{levels.period_text(period or levels.STATUTORY_YEARS[level])}"


@dataclass(frozen=True)
class CopyMark:
    """What a copy's cover or envelope label says, taken from the copy and its carrier."""

    level: str  # 机密
    marking: str  # 机密★10年
    carrier_number: str
    copy_number: int
    copies: int | None  # the carrier's 份数 (共 12 份); None: not known
    title: str
    doc_number: str = ""
    receiver: str = ""  # 收件单位 (an envelope's; "" leaves a line to write on)
    sender: str = ""  # 发件单位
    sealed_on: str = ""  # a seal strip's 封装日期 (2026年11月30日)

    @property
    def code(self) -> str:
        return copy_code(self.carrier_number, self.copy_number)

    @property
    def copy_text(self) -> str:
        return f"第 {self.copy_number} 份"

    @property
    def number_text(self) -> str:
        """编号 as the envelope gives it: 登记编号 and 份号."""
        return f"{self.carrier_number} {self.copy_text}"


def render_copy_labels(target: str | Path | BinaryIO, marks: Iterable[CopyMark], layout: LabelLayout,
                       options: SheetOptions, *, kind: str = COVER_LABEL, anchor: str = "") -> int:
    """Draw a cover (``COVER_LABEL``) or sealed-envelope (``ENVELOPE_LABEL``) label per copy,
    ``options.copies`` of each; returns the labels drawn. Sheets, start position, offsets,
    colours, outline, unit name and safe margin as for the device labels."""
    check_sheet(layout, options, kind, KIND_TITLES, copies_of="每份载体的标识张数")
    margin = options.safe_margin
    unit = " ".join(options.unit.split())
    colours = {**levels.colours(), **(options.colours or {})}  # the unit's own levels (涉密专用) too
    c = new_canvas(target, (layout.page_width * mm, layout.page_height * mm), KIND_TITLES[kind], anchor=anchor)
    position, drawn = options.start - 1, 0
    for mark in marks:
        for _ in range(options.copies):
            if position and position % layout.per_page == 0:
                _anchor_in_margin(c, layout, anchor)
                c.showPage()
            x, y = layout.box(position)
            box = ((x + options.offset_x) * mm, (layout.page_height - y - layout.label_height - options.offset_y) * mm,
                   layout.label_width * mm, layout.label_height * mm)
            colour = HexColor(colours.get(mark.level, "#4D4D4D"))
            _outline(c, box, colour, options.outline)
            inner = (box[0] + margin * mm, box[1] + margin * mm, box[2] - 2 * margin * mm, box[3] - 2 * margin * mm)
            if kind == COVER_LABEL:
                _cover(c, inner, mark, colour, unit)
            elif kind == ENVELOPE_LABEL:
                _envelope(c, inner, mark, colour)
            else:
                _seal_strip(c, inner, mark, colour)
            position += 1
            drawn += 1
    _anchor_in_margin(c, layout, anchor)
    c.showPage()
    c.save()
    return drawn


def _shortened(text: str, width: float, size: float) -> str:
    """``text`` cut with … to fit ``width`` points at ``size`` (a long title on a small label)."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _cover(c, box, mark: CopyMark, colour, unit: str) -> None:
    """The band: 机密★10年 on the left, 第 3 份 on the right; under it 登记编号, 文号, title and
    共 N 份 beside the QR code."""
    x, y, w, h = box
    pad = min(w, h) * 0.06
    band = h * 0.30
    _band(c, box, colour, pad, band)
    middle = y + h - pad / 2 - band / 2
    copy_size = fit_size(mark.copy_text, (w - pad * 2) * 0.34, band * 0.62)
    marking_size = fit_size(mark.marking, w - pad * 3 - text_width(mark.copy_text, copy_size), band * 0.72)
    c.setFont(FONT, marking_size)
    c.drawString(x + pad, middle - marking_size * 0.36, mark.marking)
    c.setFont(FONT, copy_size)
    c.drawRightString(x + w - pad, middle - copy_size * 0.36, mark.copy_text)
    body_top, body_bottom = y + h - band - pad, y + pad * 0.9
    if unit:
        foot_size = min(h * 0.085, 8.0)
        _foot(c, x + pad, body_bottom, w - pad * 2, foot_size, unit)
        body_bottom += foot_size * 1.3
    qr = min(body_top - body_bottom, w * 0.34)
    qr_x = x + w - pad - qr
    draw_qr(c, mark.code, qr_x, body_top - qr, qr)
    lines = [f"编号:{mark.carrier_number}"]
    if mark.doc_number:
        lines.append(f"文号:{mark.doc_number}")
    lines.append(f"标题:{mark.title}")
    if mark.copies:
        lines.append(f"共 {mark.copies} 份")
    room = qr_x - x - pad * 1.5
    line_height = (body_top - body_bottom) / len(lines)
    size = min(line_height * 0.66, 10)
    fixed = [line for line in lines if not line.startswith("标题:")]  # the title is shortened instead
    size = fit_size(max(fixed, key=lambda s: text_width(s, size)), room, size, minimum=3.5)
    c.setFillColorRGB(0, 0, 0)
    c.setFont(FONT, size)
    for i, line in enumerate(lines):
        baseline = body_top - (i + 0.5) * line_height - size * 0.36
        c.drawString(x + pad, baseline, _shortened(line, room, size))


def _envelope(c, box, mark: CopyMark, colour) -> None:
    """A frame in the level's colour; the level large at the top left, 密封 as a seal at the top
    right; 编号, 收件单位 and 发件单位 on ruled lines beside the QR code."""
    x, y, w, h = box
    pad = min(w, h) * 0.07
    c.saveState()
    c.setStrokeColor(colour)
    c.setLineWidth(max(min(w, h) * 0.02, 1.0))
    c.rect(x + pad / 2, y + pad / 2, w - pad, h - pad, stroke=1, fill=0)
    c.restoreState()
    inner_x, inner_w = x + pad * 1.3, w - pad * 2.6
    head = h * 0.30
    top = y + h - pad * 1.2
    seal_size = fit_size(SEAL, inner_w * 0.22, head * 0.42)
    seal_w, seal_h = text_width(SEAL, seal_size) + seal_size * 0.8, seal_size * 1.5
    level_size = fit_size(mark.level, inner_w - seal_w - pad, head * 0.82)
    c.setFillColor(colour)
    c.setFont(FONT, level_size)
    c.drawString(inner_x, top - level_size * 0.86, mark.level)
    # 密封: set apart in a box, as a seal stamp is, at the head's right
    seal_x, seal_y = inner_x + inner_w - seal_w, top - head / 2 - seal_h / 2
    c.saveState()
    c.setStrokeColor(colour)
    c.setLineWidth(max(seal_size * 0.09, 0.8))
    c.rect(seal_x, seal_y, seal_w, seal_h, stroke=1, fill=0)
    c.restoreState()
    c.setFont(FONT, seal_size)
    c.drawCentredString(seal_x + seal_w / 2, seal_y + seal_h / 2 - seal_size * 0.36, SEAL)
    body_top, body_bottom = top - head - pad * 0.3, y + pad * 1.2
    qr = min(body_top - body_bottom, inner_w * 0.30)
    qr_x = inner_x + inner_w - qr
    draw_qr(c, mark.code, qr_x, body_bottom, qr)
    rows = [("编号", mark.number_text), ("收件单位", mark.receiver), ("发件单位", mark.sender)]
    room = qr_x - inner_x - pad * 0.6
    line_height = (body_top - body_bottom) / len(rows)
    size = min(line_height * 0.6, 11)
    size = fit_size(max((f"{k}:{v}" for k, v in rows if v), key=lambda s: text_width(s, size)), room, size,
                    minimum=3.5)
    c.setFillColorRGB(0, 0, 0)
    c.setFont(FONT, size)
    c.setStrokeColorRGB(0.35, 0.35, 0.35)
    c.setLineWidth(0.4)
    for i, (label, value) in enumerate(rows):
        baseline = body_top - (i + 0.7) * line_height
        said = f"{label}:"
        c.drawString(inner_x, baseline, said + _shortened(value, room - text_width(said, size), size))
        if not value:  # a line to write on by hand
            start = inner_x + text_width(said, size) + size * 0.2
            c.line(start, baseline - size * 0.15, inner_x + room, baseline - size * 0.15)


def _seal_strip(c, box, mark: CopyMark, colour) -> None:
    """Bars in the level's colour along both long edges; 密 封 spaced wide across the middle; the
    level and 编号 above it, 封装日期 and a line for 封装人 below."""
    x, y, w, h = box
    pad = min(w, h) * 0.06
    bar = h * 0.07
    c.setFillColor(colour)
    c.rect(x + pad / 2, y + h - pad / 2 - bar, w - pad, bar, stroke=0, fill=1)
    c.rect(x + pad / 2, y + pad / 2, w - pad, bar, stroke=0, fill=1)
    inner_top, inner_bottom = y + h - pad / 2 - bar - pad * 0.4, y + pad / 2 + bar + pad * 0.4
    band = inner_top - inner_bottom
    small = min(band * 0.16, 9)
    head = f"{mark.level}  {mark.number_text}"
    small = fit_size(head, w - pad * 2, small, minimum=3.5)
    c.setFont(FONT, small)
    c.drawCentredString(x + w / 2, inner_top - small, head)
    seal = "密　封"
    size = fit_size(seal, (w - pad * 2) * 0.8, band - small * 3.2)
    c.setFont(FONT, size)
    c.drawCentredString(x + w / 2, inner_bottom + small * 1.6 + (band - small * 3.2 - size) / 2 + size * 0.12, seal)
    c.setFillColorRGB(0, 0, 0)
    # the foot in two halves: 封装日期 on the left, 封装人 and its line on the right
    foot = f"封装日期:{mark.sealed_on}" if mark.sealed_on else "封装日期:"
    signer = "封装人:"
    half = (w - pad * 3) / 2
    size = fit_size(foot, half, small, minimum=3.0)
    c.setFont(FONT, size)
    c.drawString(x + pad, inner_bottom + size * 0.3, foot)
    start = x + pad * 2 + half
    c.drawString(start, inner_bottom + size * 0.3, signer)
    c.setStrokeColorRGB(0.35, 0.35, 0.35)
    c.setLineWidth(0.4)
    line_y = inner_bottom + size * 0.15
    c.line(start + text_width(signer, size), line_y, x + w - pad, line_y)
    if not mark.sealed_on:
        c.line(x + pad + text_width(foot, size), line_y, start - pad, line_y)


__all__ = ["COVER_LABEL", "ENVELOPE_LABEL", "SEAL_STRIP", "KIND_TITLES", "CopyMark", "copy_code", "marking", "render_copy_labels"]
