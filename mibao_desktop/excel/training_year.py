"""The training year on the annual report: 保密教育培训学时 — who of the 涉密人员 is short of the
year's minimum hours and by how much (seed 002 §六 1), with the counts by grade above the list.
The figures are read by ``services/training.compliance_of`` in the report's snapshot."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openpyxl import Workbook

from mibao_desktop.excel.export import SheetStream, signoff_line, stream_to, unit_line
from mibao_desktop.ledgers.fields import tenths_text
from mibao_desktop.ledgers.people import GRADES

SHEET = "培训学时"
HEADERS = ["人员编号", "姓名", "部门", "涉密等级", "参训次数", "已完成学时", "最低学时", "尚差学时"]


def by_grade(compliance: Any) -> str:
    """应参训/未达标 by grade: 核心 12 人未达标 3 人;…"""
    parts = []
    for grade in GRADES:
        if grade in compliance.counts:
            listed, short = compliance.counts[grade]
            parts.append(f"{grade}(最低 {tenths_text(compliance.minimums[grade])} 学时){listed} 人,未达标 {short} 人")
    return ";".join(parts)


def write_training_year(wb: Workbook, compliance: Any, marking: str, *, unit: str, filled_by: str, today: dt.date,
                        anchor: str = "") -> int:
    """The sheet of the people short of hours; returns how many it lists."""
    sheet = SheetStream(wb, SHEET, f"{compliance.year} 年度保密教育培训学时未达标人员名单", HEADERS,
                        [12, 10, 18, 10, 9, 11, 10, 10], marking, anchor=anchor,
                        info=unit_line(unit, by_grade(compliance)), numbered=True, centred=range(len(HEADERS)),
                        signoff=signoff_line(filled_by, today))
    rows = ([ln.number, ln.name, ln.department, ln.grade, ln.sessions, _hours(ln.tenths), _hours(ln.minimum),
             _hours(ln.short_by)] for ln in compliance.short)
    return stream_to(sheet, rows, len(compliance.short))


def _hours(tenths: int) -> int | float:
    """A number Excel can add up: 15 → 1.5, 80 → 8."""
    return tenths // 10 if tenths % 10 == 0 else tenths / 10
