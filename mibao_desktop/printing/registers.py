"""A carriers' register (收文, 发文, 借阅, 复制登记簿, 销毁清单) on paper: A4 landscape as the
book a unit files — the marking on every page, the title, the unit and the period, the ruled
columns with a 序号, long texts wrapped in their cells, and the signature lines under the table.
Drawn from a register already read (``services/carrier_registers.py``); only values here."""

from __future__ import annotations

from typing import Any

from mibao_desktop.ledgers import levels
from mibao_desktop.printing.forms import Form, Signatures, Table, Text

NUMBER_WIDTH = 7


def _width(text: str) -> int:
    """Columns of text as the declaration counts them: a Chinese character is two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def register_form(table: Any, *, marking: str) -> Form:
    register = table.register
    form = Form(title=register.title, landscape=True, marking=levels.marking_text(marking),
                note=f"填报单位:{table.unit or chr(0x3000) * 12}",
                note_right=f"期间:{table.period}    {table.summary()}")
    if table.rows:
        rows = [(n, *table.cells(row, dates_as_text=True)) for n, row in enumerate(table.rows, start=1)]
        widths = [max(c.width, _width(c.header) + 3 if len(c.header) <= 4 else c.width) for c in register.columns]
        form.blocks.append(Table(("序号", *register.headers), (NUMBER_WIDTH, *widths), rows, row_height=9, wrap=True))
    else:
        form.blocks.append(Text(["本期间内无登记事项。"], size=11))
    filled = f"填表人:{table.filled_by}" if table.filled_by else "填表人:"
    form.blocks.append(Signatures((filled, *register.signatures), per_line=3 if len(register.signatures) < 4 else 4))
    return form
