"""Printing labels and forms (打印): the security administrator's job, every print audited
(seed 002 §七.5: 对打印行为进行审计). Writes PDF; the desktop previews and prints that file."""

from __future__ import annotations

import contextlib
from dataclasses import replace
import datetime as dt
from pathlib import Path
from typing import Any, BinaryIO, Callable, Mapping, Sequence

from sqlalchemy import select, update

from mibao_desktop import files
from mibao_desktop.db.models import Account
from mibao_desktop.db.database import Database
from mibao_desktop.db.schema import LABEL_PRINTED, table_of
from mibao_desktop.services.holdings import PersonHoldings, collect
from mibao_desktop.ledgers import PEOPLE, Ledger, levels
from mibao_desktop.ledgers import carriers as carrier_fields
from mibao_desktop.ledgers import trips
from mibao_desktop.printing import carrier_labels as CL, labels as L
from mibao_desktop.printing.forms import render_form
from mibao_desktop.printing.templates import FORM_TEMPLATES, FormContext, destruction_warnings, takeout_warnings
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.services import audit, distributions, settings
from mibao_desktop.errors import ServiceError
from mibao_desktop.services.ledger_service import LedgerService, RecordView
from mibao_desktop.services.output_service import check_target

OFFSETS, COLOURS, UNIT_NAME = "printer_offsets", "label_colours", settings.UNIT_NAME
LABEL_EVENT = "label"  # a label printed for the record, in its history (打印标识)
HOLDINGS = "holdings"  # the form template of a person's list (printing.templates)
# forms that list every 领取 and 交回 of the documents chosen, from their whole histories
WHOLE_HISTORY = ("document_register",)
# forms that print the person a record names (部门, 涉密等级, 岗位), by the field naming them
PERSON_OF = {"trip_approval": trips.TRAVELLER, "trip_briefing": trips.TRAVELLER}
FILLED_FROM_CHANGES = ("takeout", "maintenance", "destruction", "borrowing", "distribution", "departure")  # forms that print a status change's facts
FORM_WARNINGS = {"takeout": takeout_warnings, "destruction": destruction_warnings}


class PrintService:
    def __init__(self, db: Database, actor: Actor, *, clock: Callable[[], dt.datetime] = dt.datetime.now,
                 ledgers: LedgerService | None = None) -> None:
        self.db, self.actor, self.clock = db, actor, clock
        self.ledgers = ledgers or LedgerService(db, actor, clock=clock)

    def _require(self, doing: str = "打印") -> None:
        require(self.actor, Role.SECURITY_ADMIN, doing=doing)

    # -- settings -----------------------------------------------------------------------------

    def _read(self, key: str, default):
        self._require("查看打印设置")
        with self.db.session() as session:
            return settings.read(session, key, default)

    def _write(self, key: str, value, detail: dict) -> None:
        self._require("修改打印设置")
        with self.db.write() as session:
            now = self.clock()
            settings.write(session, key, value, self.actor.name, now)
            audit.append(session, self.actor, "settings.change", key, detail, at=now)

    def offset(self, printer: str) -> tuple[float, float]:
        """The x/y correction (mm) kept for a printer (its feed shifts the paper)."""
        dx, dy = self._read(OFFSETS, {}).get(printer or "PDF", (0.0, 0.0))
        return float(dx), float(dy)

    def set_offset(self, printer: str, dx: float, dy: float) -> None:
        if not (-20 <= dx <= 20 and -20 <= dy <= 20):
            raise ServiceError("偏移量应在 -20 到 20 毫米之间。")
        offsets = dict(self._read(OFFSETS, {}))
        offsets[printer or "PDF"] = [round(dx, 1), round(dy, 1)]
        self._write(OFFSETS, offsets, {"printer": printer or "PDF", "offset_mm": [round(dx, 1), round(dy, 1)]})

    def colours(self) -> dict[str, str]:
        return {**levels.colours(), **self._read(COLOURS, {})}

    def set_colour(self, level: str, colour: str) -> None:
        if level not in levels.colours() or not (len(colour) == 7 and colour.startswith("#")):
            raise ServiceError(f"颜色应为 #RRGGBB 形式,密级应为 {'、'.join(levels.colours())} 之一。")
        colours = dict(self._read(COLOURS, {}))
        colours[level] = colour.upper()
        self._write(COLOURS, colours, {"level": level, "colour": colour.upper()})

    def unit_name(self) -> str:
        return self._read(UNIT_NAME, "") or ""

    def set_unit_name(self, name: str) -> None:
        name = settings.clean_unit_name(name)
        self._write(UNIT_NAME, name, {"unit": name})

    # -- labels -------------------------------------------------------------------------------

    def records(self, ledger: Ledger, ids: Sequence[int]) -> list[RecordView]:
        self._require()
        found = self.ledgers.get_many(ids)
        wrong = [r.asset_number for r in found if r.ledger.key != ledger.key]
        if wrong:
            raise ServiceError(f"{'、'.join(wrong)} 不属于{ledger.title}")
        return found

    def labels(self, ledger: Ledger, records: Sequence[RecordView], target: str | Path | BinaryIO,
               layout: L.LabelLayout, *, kind: str = L.LEVEL_LABEL, start: int = 1, copies: int = 1,
               printer: str = "", medium: str = "", record: bool = True, unit: bool = False,
               safe_margin: float = 0.0) -> int:
        """Render the labels of ``records`` (PDF) and record the print; returns labels drawn.
        A preview on screen is not an output of information: ``record=False``.

        ``unit`` prints the unit's name (打印设置) at the foot of each label; ``safe_margin``
        (mm) keeps the print that far inside each label's edges, for printers that cannot
        print to the edge of the sheet."""
        self._require("打印标识")
        check_target(self.db, target)
        if not records:
            raise ServiceError("请先选择要打印标识的记录。")
        if ledger.label is None:
            raise ServiceError(f"{ledger.title}没有标识。")
        unit_name = self.unit_name() if unit else ""
        if unit and not unit_name:
            raise ServiceError("尚未填写单位名称:请在“打印设置”中填写后再在标识上印单位名称。")
        dx, dy = self.offset(printer)
        options = L.SheetOptions(kind=kind, start=start, copies=copies, offset_x=dx, offset_y=dy,
                                 colours=self.colours(), unit=unit_name, safe_margin=safe_margin)
        anchor = audit.current_anchor(self.db)
        try:
            with _written(target) as out:
                drawn = L.render_labels(out, [L.content_of(r) for r in records], layout, options,
                                        anchor=anchor.label)
        except L.LayoutError as exc:
            raise ServiceError(str(exc)) from None
        if not record:
            return drawn
        # the print's audit entry, each record's history (its label printed) and when it was
        # printed (the record's label_printed_at: the first screen lists a classified device whose
        # label never was, services/reminders.py, as an index range) in one transaction
        with self.ledgers._write("打印标识") as session:
            now = self.clock()
            audit.append(session, self.actor, "ledger.print", medium or _name(target), {
                "ledger": ledger.title, "count": len(records), "what": L.KIND_TITLES[kind], "layout": layout.title,
                "labels": drawn, "printer": printer, "unit": unit_name, "safe_margin_mm": safe_margin,
                "anchor": str(anchor), "asset_numbers": [r.asset_number for r in records[:200]]}, at=now)
            for r in records:
                self.ledgers._event(session, ledger, r.id, now, LABEL_EVENT, reason=L.KIND_TITLES[kind])
            t = table_of(ledger)
            ids = sorted({r.id for r in records})
            for start in range(0, len(ids), 500):
                session.execute(update(t).where(t.c.id.in_(ids[start:start + 500])).values({LABEL_PRINTED: now}))
        return drawn

    def copy_marks(self, records: Sequence[RecordView], *, receiver: str = "", sender: str = "",
                   envelope: bool = False, only: Sequence[int] = ()) -> list[CL.CopyMark]:
        """What each copy's cover or envelope label says. ``records``: copies, or carriers (each
        of their copies still held, or those numbered in ``only``). The level and period are the
        carrier's, never the copy's own (a copy inherits them). An envelope's 收件单位 is
        ``receiver``, else the one the copy was last 分发 to; its 发件单位 ``sender``, else the
        unit's name (打印设置)."""
        self._require("打印标识")
        copies, parents = [], {}
        for record in records:
            if record.ledger.parent is None:
                held = [c for c in self.ledgers.children(record.id)
                        if (c.number in only if only else c.status not in c.ledger.lifecycle.closing)]
                if not held:
                    said = f"份号为 {'、'.join(map(str, only))} 的" if only else "在管的"
                    raise ServiceError(f"{record.ledger.noun} {record.number} 下没有{said}载体份。")
                parents[record.id] = record
                copies.extend(held)
            else:
                copies.append(record)
        if not copies:
            raise ServiceError("请先选择要打印标识的载体或载体份。")
        sender = sender.strip() or (self.unit_name() if envelope else "")
        sent_to = self._sent_to([c.id for c in copies]) if envelope and not receiver.strip() else {}
        marks = []
        for copy in copies:
            carrier = parents.get(copy.parent_id)
            if carrier is None:
                carrier = parents[copy.parent_id] = self.ledgers.get(copy.parent_id)
            level_field = carrier.ledger.level_field
            level = carrier.values.get(level_field.name) if level_field is not None else None
            if level is None:
                raise ServiceError(f"{carrier.ledger.noun} {carrier.number} 的密级待补充,补全后才能打印标识。")
            period = carrier.values.get(level_field.type.period_field) if level_field.type.period_field else None
            to = receiver.strip() or sent_to.get(copy.id, "")
            count = carrier.values.get(copy.ledger.counted_by) if copy.ledger.counted_by else None
            marks.append(CL.CopyMark(level, CL.marking(level, period), carrier.number, int(copy.number), count,
                                     carrier.display(carrier_fields.TITLE), carrier.display(carrier_fields.DOC_NUMBER),
                                     receiver=to, sender=sender))
        return marks

    def _sent_to(self, copy_ids: Sequence[int]) -> dict[int, str]:
        """The unit (or person) each copy was last 分发 to: its envelope's 收件单位. Read for
        all the copies in a few queries (the preview asks at each change, on the UI thread;
        each copy's whole history took 10 ms a copy)."""
        with self.ledgers._read("打印标识") as session:
            return {rid: r.text for rid, r in distributions.last_recipients(session, copy_ids).items()}

    def copy_labels(self, ledger: Ledger, marks: Sequence[CL.CopyMark], target: str | Path | BinaryIO,
                    layout: L.LabelLayout, *, kind: str = CL.COVER_LABEL, start: int = 1, copies: int = 1,
                    printer: str = "", medium: str = "", record: bool = True, unit: bool = False,
                    safe_margin: float = 0.0) -> int:
        """Render a cover or sealed-envelope label per copy (``copy_marks``) as PDF on the label
        sheets, and record the print naming each copy (登记编号#份号); returns labels drawn."""
        self._require("打印标识")
        check_target(self.db, target)
        if not marks:
            raise ServiceError("请先选择要打印标识的载体或载体份。")
        unit_name = self.unit_name() if unit else ""
        if unit and not unit_name:
            raise ServiceError("尚未填写单位名称:请在“打印设置”中填写后再在标识上印单位名称。")
        if kind == CL.SEAL_STRIP:  # sealed today: the day the strip is printed for the envelope
            today = self.clock().date()
            marks = [m if m.sealed_on else replace(m, sealed_on=f"{today.year}年{today.month}月{today.day}日")
                     for m in marks]
        dx, dy = self.offset(printer)
        options = L.SheetOptions(start=start, copies=copies, offset_x=dx, offset_y=dy, colours=self.colours(),
                                 unit=unit_name, safe_margin=safe_margin)
        anchor = audit.current_anchor(self.db)
        try:
            with _written(target) as out:
                drawn = CL.render_copy_labels(out, marks, layout, options, kind=kind, anchor=anchor.label)
        except L.LayoutError as exc:
            raise ServiceError(str(exc)) from None
        if record:
            self.ledgers.record_output("ledger.print", ledger, medium or _name(target), len(marks), {
                "what": CL.KIND_TITLES[kind], "layout": layout.title, "labels": drawn, "printer": printer,
                "unit": unit_name, "safe_margin_mm": safe_margin, "anchor": str(anchor),
                **({"receivers": sorted({m.receiver for m in marks if m.receiver})[:50],
                    "sender": marks[0].sender} if kind == CL.ENVELOPE_LABEL else {}),
                **({"sealed_on": marks[0].sealed_on} if kind == CL.SEAL_STRIP else {}),
                "copies": [m.code for m in marks[:500]]})
        return drawn

    def calibration(self, target: str | Path | BinaryIO, layout: L.LabelLayout, printer: str = "") -> None:
        self._require("打印校准页")
        dx, dy = self.offset(printer)
        L.calibration_page(target, layout, dx, dy)

    # -- forms --------------------------------------------------------------------------------

    def _people_named(self, key: str, records: Sequence[RecordView]) -> dict[int, RecordView] | None:
        """The person each record names for a form that prints their 部门, 涉密等级 and 岗位 (a
        trip's 出国(境)人员), read together."""
        field = PERSON_OF.get(key)
        if field is None:
            return None
        refs = {r.id: r.values.get(field) for r in records if r.ledger.has_field(field)}
        found = {p.id: p for p in self.ledgers.get_many([ref.id for ref in refs.values() if ref is not None])}
        return {rid: found.get(ref.id) for rid, ref in refs.items() if ref is not None}

    def form(self, key: str, ledger: Ledger | None, records: Sequence[RecordView], target: str | Path | BinaryIO,
             *, printer: str = "", medium: str = "", record: bool = True, holdings: PersonHoldings | None = None,
             departure: Mapping[str, Any] | None = None) -> int:
        """Fill and render an approval form; returns its pages. Recorded like any print.

        The holdings list reads what the selected person holds, unless ``holdings`` brings it
        already read (the desktop reads it off the UI thread before the preview). The 离岗保密承诺书
        prints a departure under way from ``departure`` (services/departure.py ``Plan.form_facts``),
        else from the change that closed the person."""
        self._require("打印审批表")
        check_target(self.db, target)
        template = FORM_TEMPLATES.get(key)
        if template is None:
            raise ServiceError(f"没有名为“{key}”的审批表,可选:{'、'.join(FORM_TEMPLATES)}")
        if template.selection == "one" and len(records) != 1:
            raise ServiceError(f"“{template.title}”一次填写一条记录,请只选择一条。")
        if template.selection == "many" and not records:
            raise ServiceError(f"请先选择要列入“{template.title}”的记录。")
        history = {r.id: self.ledgers.history(r.id) for r in records[:1]} if key == "maintenance" else None
        if key in WHOLE_HISTORY:  # every 领取 and 交回 of each document
            history = {r.id: self.ledgers.history(r.id) for r in records}
        last_changes = {}
        if key in FILLED_FROM_CHANGES:  # 外出地点, 维修单位, 销毁原因 …: the record's latest status change
            if history:
                last_changes = {rid: next((e for e in entries if e.status_moved is not None), None)
                                for rid, entries in history.items()}
            else:  # hundreds of copies on one list: read together, not a history each
                found = self.ledgers.latest_status_changes([r.id for r in records])
                last_changes = {r.id: found.get(r.id) for r in records}
        if key == "copy":  # a carrier copy's 复制: the facts it recorded
            last_changes = {r.id: next((e for e in self.ledgers.history(r.id) if e.action == "copy"), None)
                            for r in records}
        if key == HOLDINGS:
            if records[0].ledger.key != PEOPLE.key:
                raise ServiceError(f"“{template.title}”为人员名册中的人填写,请在“人员”中选择一人。")
            if holdings is None or holdings.person.id != records[0].id:
                holdings = collect(self.ledgers, records[0].id)
        # a child record (a carrier copy) is named on paper by its parent: title, number, 密级
        parent_ids = list(dict.fromkeys(r.parent_id for r in records if r.parent_id is not None))
        found = {p.id: p for p in self.ledgers.get_many(parent_ids)} if parent_ids else {}
        parents = {r.id: found[r.parent_id] for r in records if r.parent_id in found}
        events = [e for entries in (history or {}).values() for e in entries]
        names = self._names({self.actor.name, *(e.actor for e in events), *(e.actor for e in last_changes.values() if e)})
        context = FormContext(unit=self.unit_name(), today=self.clock().date(), history=history,
                              holdings=holdings.items if key == HOLDINGS else None, last_changes=last_changes,
                              names=names, handler=names.get(self.actor.name, ""), parents=parents,
                              departure=departure if key == "departure" else None,
                              people=self._people_named(key, records))
        anchor = audit.current_anchor(self.db)
        with _written(target) as out:
            pages = render_form(out, template.build(list(records), context), anchor=anchor.label)
        if not record:
            return pages
        if ledger is not None or records:
            detail = {"what": template.title, "pages": pages, "printer": printer, "anchor": str(anchor),
                      "asset_numbers": [r.asset_number for r in records[:200]]}
            if key == HOLDINGS:  # what the list named, as an export would record it
                detail["items"] = [h.number for h in holdings.items[:1000]]
            self.ledgers.record_output("ledger.print", ledger or records[0].ledger, medium or _name(target),
                                       len(records), detail)
        else:
            with self.db.write() as session:
                audit.append(session, self.actor, "ledger.print", medium or _name(target),
                             {"what": template.title, "pages": pages, "printer": printer, "anchor": str(anchor)},
                         at=self.clock())
        return pages


    def form_warnings(self, key: str, records: Sequence[RecordView]) -> list[str]:
        """What the form will say the records are in no state for (a device 维修 on the take-out
        form, one not yet 报废 on the destruction form): the desktop asks before printing."""
        self._require("打印审批表")
        check = FORM_WARNINGS.get(key)
        return check(records) if check is not None else []

    def _names(self, logins: set[str]) -> dict[str, str]:
        """Account login → 姓名, for 经办人 on paper (a login such as baomi names no one)."""
        with self.db.session() as session:
            rows = session.execute(select(Account.name, Account.display_name).where(Account.name.in_(sorted(logins))))
            return {name: display for name, display in rows if display}

    def holdings_list(self, holdings: PersonHoldings, target: str | Path | BinaryIO, *, printer: str = "",
                      medium: str = "", record: bool = True) -> int:
        """人员保管、使用的设备和介质清单 of one person (the 离岗清退 check list), as PDF; returns
        its pages. Every print of it is recorded in the audit log with the items it named."""
        return self.form(HOLDINGS, PEOPLE, [holdings.person], target, printer=printer, medium=medium, record=record,
                         holdings=holdings)


@contextlib.contextmanager
def _written(target):
    """A file target is drawn to a temporary file beside it, synced and renamed when complete:
    a kill in the last seconds of a 20,000-label run, or a full disk, left a broken PDF under
    its final name. A stream (the preview, the printer) is drawn to as it is."""
    if not isinstance(target, (str, Path)):
        yield target
        return
    try:
        with files.atomic_path(Path(target)) as temp:
            yield temp
    except OSError as exc:
        raise ServiceError(files.explain(exc, Path(target))) from exc


def _name(target) -> str:
    return str(target) if isinstance(target, (str, Path)) else "打印机"
