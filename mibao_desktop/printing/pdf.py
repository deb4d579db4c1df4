"""The PDF canvas every label sheet and form is drawn on: the bundled Chinese font embedded
(as a subset), and a request to viewers and printers not to scale the page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from mibao_desktop import paths

FONT = "WenQuanYiMicroHei"
_registered = False


def register_font() -> str:
    """WenQuanYi Micro Hei from resources/fonts: TrueType outlines, which reportlab needs
    (it cannot embed CFF/OTF fonts), and it covers ★. Embedded as a subset of the glyphs used."""
    global _registered
    if not _registered:
        path = paths.resources_dir() / "fonts" / "wqy-microhei.ttc"
        pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
        _registered = True
    return FONT


def new_canvas(target: str | Path | BinaryIO, pagesize: tuple[float, float], title: str, *,
               anchor: str = "") -> canvas.Canvas:
    register_font()
    c = canvas.Canvas(str(target) if isinstance(target, Path) else target, pagesize=pagesize,
                      initialFontName=FONT, initialFontSize=10, pageCompression=1)
    # 100 % size: a label sheet scaled "to fit" by a viewer misses every label on the sheet.
    c.setViewerPreference("PrintScaling", "None")
    c.setTitle(title)
    c.setAuthor("密保")
    c.setCreator("密保 MiBao")
    c.setSubject(f"生成于 {dt.datetime.now():%Y-%m-%d %H:%M}" + (f";{anchor}" if anchor else ""))
    if anchor:
        c.setKeywords(anchor)
    return c


def text_width(text: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, FONT, size)


def fit_size(text: str, width: float, size: float, minimum: float = 4.0) -> float:
    """The largest font size ≤ ``size`` at which ``text`` fits in ``width`` points."""
    while size > minimum and text_width(text, size) > width:
        size -= 0.25
    return size


NO_LINE_START = ",.;:!?)%\u3001\u3002\uff0c\uff1b\uff1a\uff01\uff1f\uff09\u300d\u300f\u300b\u3011"  # never begins a line (避头点)


def wrap(text: str, width: float, size: float) -> list[str]:
    """Break Chinese (and mixed) text into lines no wider than ``width`` points. A closing mark
    of punctuation that would begin a line hangs at the end of the line before (避头点), as a
    typeset page does: a line never starts with 。 or ,."""
    lines, current, used = [], "", 0.0
    for ch in text:
        if ch == "\n":
            lines.append(current)
            current, used = "", 0.0
            continue
        # the line's width summed a character at a time (the font has no kerning): measuring the
        # whole line again for each character made a long register's titles quadratic
        step = text_width(ch, size)
        if used + step > width and current and ch not in NO_LINE_START:
            lines.append(current)
            current, used = ch, step
        else:
            current += ch
            used += step
    if current:
        lines.append(current)
    return lines


__all__ = ["FONT", "mm", "new_canvas", "register_font", "text_width", "fit_size", "wrap"]
