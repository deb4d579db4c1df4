"""The report of a stocktaking (盘点, or a carriers' 月核对/季检查/年终清退归档) as an xlsx
workbook, laid out as the ledger exports are (marking, title, 填报单位 line, ruled cells, A4 landscape, signatures): one table of every
finding, 缺失 first, with how many times each label was seen. Qt-free; the export is recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook

from mibao_desktop.excel.export import SheetStream, display_width, save_atomically, stream_to, unit_line
from mibao_desktop.ledgers import levels

_GAP = "\u3000" * 8


def _marking(report: Any) -> str:
    """The highest level among the records listed, in the unit's ranking (非涉密 when none)."""
    return levels.highest(x.level for x in report.lines)


def columns(info: Any) -> list[str]:
    """盘点结果, 编号 (and 份号 for a carriers' check), 名称 … in the session's word (盘点/核对)."""
    word = info.word
    return [f"{word}结果", "编号", *(["份号"] if info.has_parts else []), "名称", "密级", info.person_title, "部门",
            "存放位置", "登记状态", "扫描次数", "说明", f"{word}方式"]


def write_stocktake_report(report: Any, path: Path, *, unit: str = "", anchor: str = "") -> int:
    info = report.info
    word = info.word
    counts = report.counts()
    parts = info.has_parts
    rows = [[x.finding.replace("盘点", word), x.number, *([x.part] if parts else []), x.title, x.level or "",
             x.person, x.department, x.place, x.status, x.times_seen or "",
             ";".join(p for p in (x.belongs, "重复扫描" if x.times_seen > 1 else "", x.followed) if p),
             x.seen_how or ""] for x in report.lines]
    heads = columns(info)
    widths = [display_width(h) + 2 for h in heads]
    for row in rows[:200]:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], min(display_width(str(v)) + 2, 40))
    summary = ",".join(f"{k.replace('盘点', word)} {v}" for k, v in counts.items())
    done_by = f"{word}人:{info.checkers or ''} 完成于 {info.closed_at:%Y-%m-%d %H:%M}" if info.closed_at else ""
    shift = 1 if parts else 0
    wb = Workbook(write_only=True)
    sheet = SheetStream(wb, f"{word}结果", info.report_title + "(" + ",".join(p for p in (info.period, info.scope_text) if p) + ")",
                        heads, widths,
                        _marking(report), anchor=anchor,
                        info=unit_line(unit, f"{summary}。{done_by}"), numbered=True,
                        centred=(0, *((2,) if parts else ()), 3 + shift, 7 + shift, 8 + shift),
                        levelled=(3 + shift,), signoff=f"{word}人:{_GAP}部门负责人:{_GAP}保密办:{_GAP}日期:{_GAP}")
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
        "what": f"{report.info.report_title}({report.info.title})", "anchor": str(anchor)})
    return rows
