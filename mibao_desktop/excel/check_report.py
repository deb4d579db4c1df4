"""The report of a check of the carriers' copies as an xlsx workbook, laid out as the ledger
exports are (marking, title, 填报单位 line, ruled cells, A4 landscape, signatures): one table of
every finding, 缺失 first. Qt-free; the service records the export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook

from mibao_desktop.excel.export import SheetStream, display_width, save_atomically, stream_to, unit_line
from mibao_desktop.ledgers import levels

_GAP = "\u3000" * 8
# signed by hand under the table, inside the printed page (as the PDF report's signature lines)
SIGNOFF = f"核对人:{_GAP}部门负责人:{_GAP}保密办:{_GAP}日期:{_GAP}"
COLUMNS = ("核对结果", "登记编号", "份号", "标题", "密级", "持有人", "存放位置", "登记状态", "说明", "核对方式")


def _marking(report: Any) -> str:
    """The highest level among the copies listed, in the unit's ranking (非涉密 when none)."""
    return levels.highest(x.level for x in report.lines)


def write_check_report(report: Any, path: Path, *, unit: str = "", anchor: str = "") -> int:
    check = report.check
    counts = report.counts()
    rows = [[x.finding, x.carrier_number, x.copy_number, x.title, x.level or "", x.holder, x.place, x.status,
             ";".join(p for p in (x.belongs, x.followed) if p), x.seen_how or ""] for x in report.lines]
    widths = [display_width(h) + 2 for h in COLUMNS]
    for row in rows[:200]:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], min(display_width(str(v)) + 2, 40))
    summary = ",".join(f"{k} {v}" for k, v in counts.items())
    checked = f"核对人:{check.checkers or ''} 完成于 {check.closed_at:%Y-%m-%d %H:%M}" if check.closed_at else ""
    wb = Workbook(write_only=True)
    sheet = SheetStream(wb, "核对结果", f"涉密载体{check.kind}报告({check.period},{check.scope_text})",
                        list(COLUMNS), widths, _marking(report), anchor=anchor,
                        info=unit_line(unit, f"{summary}。{checked}"), numbered=True, centred=(0, 2, 4, 7),
                        levelled=(4,), signoff=SIGNOFF)
    done = stream_to(sheet, rows, len(rows))
    save_atomically(wb, Path(path))
    return done


def export_check_report(checks: Any, check_id: int, path: Path, *, audit_target: str | None = None) -> int:
    """The stored report of a closed check (``CarrierCheckService.report``) as a workbook at
    ``path``; returns its rows. Recorded as an export (导出), as a ledger export is."""
    from mibao_desktop.ledgers.carriers import CARRIER_COPIES
    from mibao_desktop.services import audit, report_facts
    from mibao_desktop.services.output_service import check_target

    report = checks.report(check_id)
    check_target(checks.db, path)
    anchor = audit.current_anchor(checks.db)
    rows = write_check_report(report, path, unit=report_facts.unit_name(checks.db), anchor=anchor.label)
    checks.ledgers.record_output("ledger.export", CARRIER_COPIES, audit_target or str(path), rows, {
        "what": f"载体核对报告({report.check.title})", "anchor": str(anchor)})
    return rows
