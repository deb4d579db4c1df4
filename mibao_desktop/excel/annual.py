"""The annual report (年度报表) for the secrecy office: one workbook for a year.

A summary sheet (each ledger's records by level and by status, and what the year added,
retired, destroyed, lent and voided), one sheet per ledger, and the year's changes from the
history. Every ledger in ALL_LEDGERS is included by its declaration; a new ledger needs no code.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Callable

from openpyxl import Workbook

from mibao_desktop.excel.export import SheetStream, ledger_rows, save_atomically, stream_to
from mibao_desktop.ledgers import ALL_LEDGERS
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.repository import LedgerQuery

LEVEL_ORDER = ("绝密", "机密", "秘密", "非涉密")


def _year_counts(service: LedgerService, year: int) -> tuple[dict[str, Counter], list]:
    """Per ledger: what happened during the year, by kind."""
    start, end = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
    counts: dict[str, Counter] = {ledger.key: Counter() for ledger in ALL_LEDGERS}
    rows = []
    for change in service.changes_between(start, end):
        kind = {"create": "新增", "import": "新增", "void": "作废"}.get(change.action)
        if change.action == "status" and change.changes:
            kind = {"报废": "报废", "已销毁": "销毁", "借出": "借出", "外出": "外出", "维修": "维修"}.get(change.changes[0].new)
        if kind:
            counts[change.ledger.key][kind] += 1
        rows.append(change)
    return counts, rows


def export_annual_report(service: LedgerService, year: int, path: Path, *, marking: str = "秘密", unit: str = "",
                         progress: Callable[[int, int], None] | None = None,
                         cancelled: Callable[[], bool] | None = None) -> int:
    """Write the year's report; returns the number of records listed on the ledger sheets."""
    path = Path(path)
    ledgers = [l for l in ALL_LEDGERS if l.parent is None]
    counts, changes = _year_counts(service, year)
    wb = Workbook(write_only=True)
    kinds = ("新增", "报废", "销毁", "借出", "外出", "维修", "作废")
    levels = [lv for lv in LEVEL_ORDER if any(lv in l.field("level").choices for l in ledgers if l.has_field("level"))]
    statuses = list(dict.fromkeys(s for l in ledgers for s in l.lifecycle.statuses))
    headers = ["台账", "在册合计", *[f"{lv}" for lv in levels], *[f"状态:{st}" for st in statuses],
               *[f"本年{k}" for k in kinds]]
    summary = SheetStream(wb, "汇总", f"{unit}{year} 年度保密台账汇总(截至 {dt.date.today():%Y-%m-%d})", headers,
                          [18, 10] + [8] * (len(headers) - 2), marking)
    summary_rows = []
    for ledger in ledgers:
        level_counts = [service.count(ledger, LedgerQuery(filters={"level": lv})) if ledger.has_field("level") else ""
                        for lv in levels]
        status_counts = [service.count(ledger, LedgerQuery(filters={"status": st}))
                         if st in ledger.lifecycle.statuses else "" for st in statuses]
        summary_rows.append([ledger.title, service.count(ledger), *level_counts, *status_counts,
                             *[counts[ledger.key][k] for k in kinds]])
    stream_to(summary, summary_rows, len(summary_rows))
    total = sum(service.count(l) for l in ledgers) + len(changes)
    done = 0
    for ledger in ledgers:
        chosen = list(ledger.fields)
        with service.stream(ledger) as stream:
            widths, rows = ledger_rows(stream, chosen)
            sheet = SheetStream(wb, ledger.title, f"{unit}{ledger.title}({year} 年度)", [f.label for f in chosen],
                                widths, marking)
            done += stream_to(sheet, rows, total, progress=lambda d, t: progress and progress(done + d, t),
                              cancelled=cancelled)
    change_sheet = SheetStream(wb, "本年变更", f"{unit}{year} 年度台账变更记录",
                               ["日期", "台账", "编号", "操作", "内容", "原因", "操作人"], [12, 18, 16, 10, 50, 30, 12],
                               marking)
    listed = done

    def change_rows():
        for c in changes:
            what = ";".join(f"{ch.label}:{ch.old or '(空)'} → {ch.new or '(空)'}" for ch in c.changes)
            yield [(c.effective_date or c.at.date()), c.ledger.title, c.asset_number, c.action_label, what,
                   c.reason or "", c.actor]

    stream_to(change_sheet, change_rows(), total, cancelled=cancelled)
    save_atomically(wb, path)
    service.record_output("report.annual", ledgers[0], str(path), listed, {"year": year, "marking": marking,
                                                                          "changes": len(changes)})
    if progress:
        progress(total, total)
    return listed
