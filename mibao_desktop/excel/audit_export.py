"""The audit log as an xlsx workbook (安全审计员's export), streamed and saved atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from openpyxl import Workbook

from mibao_desktop.excel.export import _HEADER_FILL, _HEADER_FONT, _TITLE_FONT, _cell, save_atomically, stream_rows

COLUMNS = (("序号", 8), ("时间", 20), ("用户", 14), ("角色", 14), ("操作", 14), ("对象", 30), ("详情", 60))


def write_audit_workbook(path: Path, rows: Iterable, total: int, *,
                         progress: Callable[[int, int], None] | None = None,
                         cancelled: Callable[[], bool] | None = None) -> int:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("审计日志")
    for i, (_, width) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.freeze_panes = "A3"
    ws.append([_cell(ws, f"审计日志(共 {total} 条)", font=_TITLE_FONT)])
    ws.append([_cell(ws, name, font=_HEADER_FONT, fill=_HEADER_FILL) for name, _ in COLUMNS])
    rows_out = ((r.id, r.at.strftime("%Y-%m-%d %H:%M:%S"), r.actor, r.role, r.action_label, r.target, r.detail_text)
                for r in rows)
    done = stream_rows(ws, rows_out, total, progress=progress, cancelled=cancelled)  # "=cmd" stays text
    save_atomically(wb, path)
    return done
