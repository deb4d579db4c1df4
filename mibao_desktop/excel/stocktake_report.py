"""The report of a stocktaking (盘点) as an xlsx workbook, laid out as the ledger exports are
(marking, title, 填报单位 line, ruled cells, A4 landscape, signatures): one table of every
finding, 缺失 first, with how many times each label was seen. Qt-free; the export is recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook

from mibao_desktop.excel.export import SheetStream, display_width, save_atomically, stream_to, unit_line
from mibao_desktop.ledgers import levels

_GAP = "\u3000" * 8
SIGNOFF = f"盘点人:{_GAP}部门负责人:{_GAP}保密办:{_GAP}日期:{_GAP}"
COLUMNS = ("盘点结果", "编号", "名称", "密级", "责任人", "部门", "存放位置", "登记状态", "扫描次数", "说明", "盘点方式")


def write_stocktake_report(report: Any, path: Path, *, unit: str = "", anchor: str = "") -> int:
    info = report.info
    counts = report.counts()
    rows = [[x.finding, x.number, x.title, x.level or "", x.person, x.department, x.place, x.status,
             x.times_seen or "", ";".join(p for p in (x.belongs, "重复扫描" if x.times_seen > 1 else "") if p),
             x.seen_how or ""] for x in report.lines]
    widths = [display_width(h) + 2 for h in COLUMNS]
    for row in rows[:200]:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], min(display_width(str(v)) + 2, 40))
    summary = ",".join(f"{k} {v}" for k, v in counts.items())
    done_by = f"盘点人:{info.checkers or ''} 完成于 {info.closed_at:%Y-%m-%d %H:%M}" if info.closed_at else ""
    wb = Workbook(write_only=True)
    sheet = SheetStream(wb, "盘点结果", f"{info.noun}盘点报告({info.scope_text})", list(COLUMNS), widths,
                        levels.highest(x.level for x in report.lines), anchor=anchor,
                        info=unit_line(unit, f"{summary}。{done_by}"), numbered=True, centred=(0, 3, 7, 8),
                        levelled=(3,), signoff=SIGNOFF)
    done = stream_to(sheet, rows, len(rows))
    save_atomically(wb, Path(path))
    return done


def export_stocktake_report(stocktaking: Any, stocktake_id: int, path: Path, *,
                            audit_target: str | None = None) -> int:
    """The stored report of a closed stocktaking (``StocktakeService.report``) as a workbook at
    ``path``; returns its rows. Recorded as an export (导出), as a ledger export is."""
    from mibao_desktop.services import audit, report_facts
    from mibao_desktop.services.output_service import check_target

    report = stocktaking.report(stocktake_id)
    check_target(stocktaking.db, path)
    anchor = audit.current_anchor(stocktaking.db)
    rows = write_stocktake_report(report, path, unit=report_facts.unit_name(stocktaking.db), anchor=anchor.label)
    stocktaking.ledgers.record_output("ledger.export", report.info.ledger, audit_target or str(path), rows, {
        "what": f"盘点报告({report.info.title})", "anchor": str(anchor)})
    return rows
