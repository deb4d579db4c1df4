"""The annual report (年度报表) for the secrecy office: one workbook for a year.

A summary sheet (each ledger's records by level and by status, and what the year added,
moved into each status and voided), one sheet per ledger, and the year's changes from the
history. Every ledger of the registry is included by its declaration; a new ledger needs no
code. The summary reads counts kept with every write (facet counts, yearly event tallies), so
a ledger of a million records is summed up in milliseconds.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

from openpyxl import Workbook

from mibao_desktop.excel.export import SheetStream, ledger_rows, save_atomically, stream_to
from mibao_desktop.ledgers import Ledger, levels, top_level
from mibao_desktop.services import audit
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.output_service import check_target

TOTAL, ADDED, VOIDED = "在册合计", "本年新增", "本年作废"


def _moved_into(status: str) -> str:
    return f"本年{status.removeprefix('已')}"  # 本年报废, 本年销毁, 本年借出 …


def summary_columns(ledgers: list[Ledger]) -> tuple[list[str], list[str], list[str]]:
    """The levels, the statuses and the year's kinds of change the summary has columns for."""
    shown_levels = [lv for lv in levels.DEVICE_LEVELS
                    if any(l.level_field is not None and lv in l.level_field.choices for l in ledgers)]
    statuses = list(dict.fromkeys(s for l in ledgers for s in l.lifecycle.statuses))
    moves = list(dict.fromkeys(s for l in ledgers for s in l.lifecycle.statuses if s != l.lifecycle.initial))
    return shown_levels, statuses, [ADDED, *[_moved_into(s) for s in moves], VOIDED]


def annual_summary(service: LedgerService, ledger: Ledger, year: int) -> dict[str, int]:
    """One ledger's figures for the year: records by level and status now, and the year's
    additions, status changes (by the status moved into) and voids."""
    figures: dict[str, int] = {}
    by_status = service.facet_counts(ledger, "status")
    figures[TOTAL] = sum(by_status.values())
    figures.update({f"状态:{s}": n for s, n in by_status.items()})
    if ledger.level_field is not None:
        figures.update(service.facet_counts(ledger, ledger.level_field.name))
    events = service.year_counts(ledger, year)
    figures[ADDED] = events.get(("create", ""), 0) + events.get(("import", ""), 0)
    figures[VOIDED] = events.get(("void", ""), 0)
    for (action, status), n in events.items():
        if action == "status" and status:
            figures[_moved_into(status)] = figures.get(_moved_into(status), 0) + n
    return figures


def export_annual_report(service: LedgerService, year: int, path: Path, *, marking: str = "秘密", unit: str = "",
                         progress: Callable[[int, int], None] | None = None,
                         cancelled: Callable[[], bool] | None = None) -> int:
    """Write the year's report; returns the number of records listed on the ledger sheets."""
    path = Path(path)
    check_target(service.db, path)
    ledgers = list(top_level())
    shown_levels, statuses, kinds = summary_columns(ledgers)
    wb = Workbook(write_only=True)
    anchor = audit.current_anchor(service.db)
    headers = ["台账", TOTAL, *shown_levels, *[f"状态:{st}" for st in statuses], *kinds]
    summary = SheetStream(wb, "汇总", f"{unit}{year} 年度保密台账汇总(截至 {dt.date.today():%Y-%m-%d})", headers,
                          [18, 10] + [8] * (len(headers) - 2), marking, anchor=anchor.label)
    summary_rows = []
    for ledger in ledgers:
        figures = annual_summary(service, ledger, year)
        row = [ledger.title, figures[TOTAL]]
        row += [figures.get(lv, 0) if ledger.level_field is not None and lv in ledger.level_field.choices else ""
                for lv in shown_levels]
        row += [figures.get(f"状态:{st}", 0) if st in ledger.lifecycle.statuses else "" for st in statuses]
        row += [figures.get(k, 0) for k in kinds]
        summary_rows.append(row)
    stream_to(summary, summary_rows, len(summary_rows))
    start, end = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
    total = sum(r[1] for r in summary_rows)
    done = 0
    for ledger in ledgers:
        chosen = list(ledger.fields)
        with service.stream(ledger) as stream:
            widths, rows = ledger_rows(stream, chosen)
            sheet = SheetStream(wb, ledger.title, f"{unit}{ledger.title}({year} 年度)", [f.label for f in chosen],
                                widths, marking, anchor=anchor.label)
            done += stream_to(sheet, rows, total, progress=lambda d, t: progress and progress(done + d, t),
                              cancelled=cancelled)
    change_sheet = SheetStream(wb, "本年变更", f"{unit}{year} 年度台账变更记录",
                               ["日期", "台账", "编号", "操作", "内容", "原因", "操作人"], [12, 18, 16, 10, 50, 30, 12],
                               marking, anchor=anchor.label)
    listed = done
    counted = {"changes": 0}

    def change_rows():
        for c in service.changes_between(start, end):
            counted["changes"] += 1
            what = ";".join(f"{ch.label}:{ch.old or '(空)'} → {ch.new or '(空)'}" for ch in c.changes)
            yield [(c.effective_date or c.at.date()), c.ledger.title, c.asset_number, c.action_label, what,
                   c.reason or "", c.actor]

    stream_to(change_sheet, change_rows(), total, cancelled=cancelled)
    save_atomically(wb, path)
    service.record_output("report.annual", ledgers[0], str(path), listed,
                          {"year": year, "marking": marking, "changes": counted["changes"], "anchor": str(anchor)})
    if progress:
        progress(total, total)
    return listed
