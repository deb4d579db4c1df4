"""The audit log as an xlsx workbook (安全审计员's export), streamed and saved atomically.

The rows are said as the auditor's window says them (services/audit_lines); the marking is the
one the auditor chose at export time, on the sheet and in every printed page's header and
footer (内部 unless chosen otherwise: the log names records and people, not their secrets)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable, Iterable

from openpyxl import Workbook

from mibao_desktop.errors import ServiceError
from mibao_desktop.excel.export import SheetStream, markings, save_atomically, stream_to, unit_line
from mibao_desktop.ledgers.levels import WORK_SECRET

COLUMNS = (("序号", 8), ("时间", 20), ("用户", 12), ("角色", 15), ("操作", 13), ("对象", 28), ("详情", 70))
DETAIL_WIDTH = 70  # an entry's detail reads as a line or two, not a column of wrapped words
DEFAULT_MARKING = WORK_SECRET


def write_audit_workbook(path: Path, rows: Iterable, total: int, *,
                         progress: Callable[[int, int], None] | None = None,
                         cancelled: Callable[[], bool] | None = None, anchor: str = "", note: str = "",
                         marking: str = DEFAULT_MARKING, unit: str = "") -> int:
    """``rows``: AuditLines (services/audit_lines), oldest first. ``unit``: the unit's name for
    the 填报单位 line under the title, as every export has it (blank to write by hand)."""
    if marking not in markings():
        raise ValueError(marking)
    wb = Workbook(write_only=True)
    heading = f"审计日志(共 {total} 条)" + (f"  {note}" if note else "")
    sheet = SheetStream(wb, "审计日志", heading, [n for n, _ in COLUMNS], [w for _, w in COLUMNS],
                        marking, anchor=anchor, max_width=DETAIL_WIDTH, centred=(0,),
                        info=unit_line(unit, f"导出日期:{dt.date.today().isoformat()}"))
    values = ((r.id, r.at.strftime("%Y-%m-%d %H:%M:%S"), r.actor, r.role, r.action_text, r.target_text, r.detail_text)
              for r in rows)
    done = stream_to(sheet, values, total, progress=progress, cancelled=cancelled)  # "=cmd" stays text
    save_atomically(wb, path)
    return done


def export_audit(service, path: Path, f=None, *, progress: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None, marking: str = DEFAULT_MARKING) -> int:
    """The auditor's export: the filtered log to xlsx (oldest first), written whole or not at
    all, and recorded in the log itself. ``service`` is an AuditService, which leaves out the
    auditors' own entries; the heading says so, so that the file is not taken for the whole log."""
    from mibao_desktop.services.audit_service import OWN_ENTRIES_NOTE, AuditFilter

    from mibao_desktop.services import audit, report_facts
    from mibao_desktop.services.output_service import check_target

    if marking not in markings():
        raise ServiceError(f"密级标志“{marking}”不可用,应为:{'、'.join(markings())}")
    check_target(service.db, path)  # the auditor once exported the log onto mibao.sqlite
    total, rows = service.for_export(f or AuditFilter())
    anchor = audit.current_anchor(service.db)
    count = write_audit_workbook(Path(path), rows, total, progress=progress, cancelled=cancelled,
                                 anchor=anchor.label, note=OWN_ENTRIES_NOTE, marking=marking,
                                 unit=report_facts.unit_name(service.db))
    service.record_export(path, count, anchor=str(anchor), marking=marking)
    return count
