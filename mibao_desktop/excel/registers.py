"""A carriers' register as an xlsx workbook, laid out by the ledger export's ``SheetStream`` (the
marking, the title, the 填报单位 line with the period, a 序号 column, ruled 宋体 cells, 填表人 /
审核人 / 日期 under the table, A4 landscape with page numbers). Qt-free; the service records
the export."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from openpyxl import Workbook

from mibao_desktop.excel.export import (MAX_WIDTH, SheetStream, display_width, save_atomically, signoff_line,
                                        stream_to, unit_line)


def write_register(table: Any, path: Path, *, marking: str, anchor: str = "",
                   progress: Callable[[int, int], None] | None = None,
                   cancelled: Callable[[], bool] | None = None) -> int:
    register = table.register
    columns = register.columns
    rows = [table.cells(row) for row in table.rows]
    widths = [max(c.width, display_width(c.header) + 2) for c in columns]
    for row in rows[:200]:
        for i, value in enumerate(row):
            if not columns[i].date:
                widths[i] = max(widths[i], min(display_width(str(value)) + 2, MAX_WIDTH))
    wb = Workbook(write_only=True)
    sheet = SheetStream(wb, register.title, register.title, register.headers, widths, marking, anchor=anchor,
                        info=unit_line(table.unit, f"期间:{table.period}    {table.summary()}"), numbered=True,
                        signoff=signoff_line(table.filled_by, table.today),
                        centred=[i for i, c in enumerate(columns) if c.centred],
                        dates=[i for i, c in enumerate(columns) if c.date],
                        levelled=[i for i, c in enumerate(columns) if c.level])
    done = stream_to(sheet, rows, len(rows), progress=progress, cancelled=cancelled)
    save_atomically(wb, Path(path))
    return done


def export_register(registers: Any, table: Any, path: Path, *, marking: str | None = None,
                    progress: Callable[[int, int], None] | None = None, cancelled: Callable[[], bool] | None = None,
                    audit_target: str | None = None) -> int:
    """The register read by ``registers`` (``CarrierRegisters.read``) as a workbook at ``path``,
    marked with ``marking`` (by default the highest level it lists); returns its rows. Recorded
    as an export (导出), naming the register and its period."""
    from mibao_desktop.ledgers.carriers import CARRIER_COPIES
    from mibao_desktop.services import audit
    from mibao_desktop.services.carrier_registers import require_marking
    from mibao_desktop.services.output_service import check_target

    require_marking(marking)
    marking = marking or table.marking
    path = Path(path)
    check_target(registers.db, path)
    anchor = audit.current_anchor(registers.db)
    done = write_register(table, path, marking=marking, anchor=anchor.label, progress=progress, cancelled=cancelled)
    registers.ledgers.record_output("ledger.export", CARRIER_COPIES, audit_target or str(path), done, {
        "what": f"{table.register.title}({table.period})", "marking": marking, "anchor": str(anchor)})
    return done
