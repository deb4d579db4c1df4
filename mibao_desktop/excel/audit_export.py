"""The audit log as an xlsx workbook (安全审计员's export), streamed and saved atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from openpyxl import Workbook

from mibao_desktop.excel.export import _HEADER_FILL, _HEADER_FONT, _TITLE_FONT, _cell, save_atomically
from mibao_desktop.services.errors import Cancelled

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
    done = 0
    try:
        for row in rows:
            values = (row.id, row.at.strftime("%Y-%m-%d %H:%M:%S"), row.actor, row.role, row.action_label,
                      row.target, row.detail_text)
            ws.append([_cell(ws, v) for v in values])  # a name like "=cmd" stays text
            done += 1
            if done % 500 == 0:
                if cancelled and cancelled():
                    raise Cancelled("导出已取消,未生成文件")
                if progress:
                    progress(done, total)
    except BaseException:
        ws.close()
        raise
    save_atomically(wb, path)
    return done
