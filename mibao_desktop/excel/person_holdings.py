"""What one person holds or uses (人员保管、使用的设备和介质): gathered from every ledger that
refers to the 人员名册, and written as an xlsx list. Qt-free.

The same list is printed (printing.templates ``holdings``) as the check list of a 离岗清退
(seed 003 涉密人员管理制度 第七条: on leaving, every carrier and device in their charge is
returned and checked). The workbook follows the ledger exports: streamed sheet, marking at the
top and in every page's header and footer — the highest level among the items — A4
landscape, saved atomically, and recorded as an output of information.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

from openpyxl import Workbook

from mibao_desktop.excel.export import SheetStream, display_width, markings, save_atomically, stream_to
from mibao_desktop.ledgers import PEOPLE
from mibao_desktop.services.holdings import TITLE, Holding, PersonHoldings, child_number, collect  # noqa: F401
from mibao_desktop.services.ledger_service import LedgerService

COLUMNS = ("序号", "类别", "编号", "类型", "名称/型号", "密级", "责任关系", "状态", "存放地点", "清点核对")


def rows(holdings: PersonHoldings) -> list[list[str | int]]:
    return [[i, h.record.ledger.noun, h.number, h.kind, h.name, h.level or "—", "、".join(h.roles),
             h.record.status, h.show("location"), ""]
            for i, h in enumerate(holdings.items, start=1)]


def write_person_holdings(holdings: PersonHoldings, path: Path, *, marking: str | None = None, unit: str = "",
                          today: dt.date | None = None, progress: Callable[[int, int], None] | None = None,
                          cancelled: Callable[[], bool] | None = None, anchor: str = "") -> int:
    """The list as an xlsx workbook at ``path`` (written whole, then renamed); returns its rows."""
    marking = marking or holdings.marking
    if marking not in markings():
        raise ValueError(marking)
    person = holdings.person
    today = today or dt.date.today()
    who = "·".join(p for p in (person.display("department"), person.number) if p)
    heading = f"{unit}{person.label}({who}){TITLE}({holdings.summary()},{today.isoformat()})"
    values = rows(holdings)
    widths = [display_width(h) + 2 for h in COLUMNS]
    for row in values[:200]:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], min(display_width(str(v)) + 2, 40))
    wb = Workbook(write_only=True)
    sheet = SheetStream(wb, "保管使用清单", heading, list(COLUMNS), widths, marking, anchor=anchor)
    done = stream_to(sheet, values, len(values), progress=progress, cancelled=cancelled)
    # The same signatures as the printed list: it may serve as the 离岗清退 check list.
    sheet.ws.append([])
    sheet.ws.append(["", "本人签字:", "", "", "部门负责人:", "", "", "保密办:"])
    sheet.ws.append(["", "日期:", "", "", "日期:", "", "", "日期:"])
    save_atomically(wb, Path(path))
    return done


def export_person_holdings(ledgers: LedgerService, holdings: PersonHoldings, path: Path, *,
                           marking: str | None = None, unit: str | None = None,
                           progress: Callable[[int, int], None] | None = None,
                           cancelled: Callable[[], bool] | None = None, audit_target: str | None = None) -> int:
    """Write the list and record the output (导出) in the audit log, as a ledger export is.
    ``unit``: the unit's name in the heading; by default the one set in 打印设置."""
    from mibao_desktop.services import audit, report_facts
    from mibao_desktop.services.output_service import check_target

    check_target(ledgers.db, path)
    if unit is None:
        unit = report_facts.unit_name(ledgers.db)
    marking = marking or holdings.marking
    anchor = audit.current_anchor(ledgers.db)
    done = write_person_holdings(holdings, path, marking=marking, unit=unit, progress=progress, cancelled=cancelled,
                                 anchor=anchor.label)
    ledgers.record_output("ledger.export", PEOPLE, audit_target or str(path), done, {
        "what": TITLE, "person": f"{holdings.person.label}({holdings.person.number})", "marking": marking,
        "anchor": str(anchor),
        "asset_numbers": [h.number for h in holdings.items[:1000]]})
    return done


__all__ = ["Holding", "PersonHoldings", "TITLE", "child_number", "collect", "export_person_holdings", "write_person_holdings"]
