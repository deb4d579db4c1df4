"""Issue 10 item 6: the import after its preview takes the preview's reading of the rows instead
of reading them again, but only when nothing was committed to the database since (by anyone),
and a record another workstation stored in between is still refused as a clash."""

from __future__ import annotations

import datetime as dt
import sqlite3

import openpyxl
import pytest
from sqlalchemy import select

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import AuditEntry
from mibao_desktop.excel.importer import plan_import, run_import
from mibao_desktop.ledgers import LEDGERS
from mibao_desktop.security import Actor
from mibao_desktop.services.ledger_service import LedgerService
from tests.conftest import computer

COMPUTERS = LEDGERS["computers"]
HEADER = ["设备编号", "设备类型", "密级", "使用人", "责任人", "所在部门", "硬盘序列号", "MAC地址", "机器序列号", "状态"]


def sheet(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["涉密计算机台账"])
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def rows(n: int = 3):
    # two rows name the same new person (added once), one comes with a status of its own
    return [[f"JM-{i:03d}", "台式机", "机密", "王新" if i < 3 else "李娜", "王新", "保密办", f"WD-{i}",
             f"00-1A-2B-3C-4D-{i:02X}", f"SN-{i}", "维修" if i == 2 else "在用"] for i in range(1, n + 1)]


def other_workstation(db_target) -> LedgerService:
    """Another workstation: a database of its own opened on the same file or server database."""
    return LedgerService(Database.open(db_target), Actor.local_security_admin())


def stored(service):
    out = {}
    for number in ("JM-001", "JM-002", "JM-003"):
        view = service.find("computers", number)
        if view is not None:
            out[number] = (view.status, str(view.values["user"]), str(view.values["responsible_person"]),
                           view.values["mac_addresses"])
    return out


def test_the_import_takes_the_previews_reading_when_nothing_changed(service, tmp_path):
    plan = plan_import(COMPUTERS, sheet(tmp_path / "台账.xlsx", rows()))
    preview = run_import(service, plan, dry_run=True)
    assert preview.accepted == 3 and preview.reading is not None and not preview.reused
    report = run_import(service, plan, preview=preview)
    assert report.reused and report.created == 3 and not report.refused
    assert preview.reading is None  # used once
    assert stored(service) == {"JM-001": ("在用", "王新", "王新", ["00-1A-2B-3C-4D-01"]),
                               "JM-002": ("维修", "王新", "王新", ["00-1A-2B-3C-4D-02"]),
                               "JM-003": ("在用", "李娜", "王新", ["00-1A-2B-3C-4D-03"])}
    assert [h.reason for h in service.history(service.find("computers", "JM-002").id)] == ["导入,状态 维修(台账.xlsx)"]
    assert service.count("people") == 2  # 王新 once, though two rows named him before he was stored


def test_a_change_by_anyone_between_preview_and_import_makes_the_import_read_the_rows_again(service, db_target,
                                                                                             tmp_path):
    plan = plan_import(COMPUTERS, sheet(tmp_path / "台账.xlsx", rows()))
    preview = run_import(service, plan, dry_run=True)
    other = other_workstation(db_target)
    try:
        other.create("computers", computer(asset_number="JM-900", serial_number="SN-900", disk_serials="WD-900",
                                           mac_addresses="00-1A-2B-3C-4D-90"))
    finally:
        other.db.close()
    report = run_import(service, plan, preview=preview)
    assert not report.reused and report.created == 3 and not report.refused
    assert stored(service)["JM-002"][0] == "维修"


def test_a_record_stored_elsewhere_after_the_preview_is_still_refused_as_a_clash(service, db_target, tmp_path):
    plan = plan_import(COMPUTERS, sheet(tmp_path / "台账.xlsx", rows()))
    preview = run_import(service, plan, dry_run=True)
    assert preview.accepted == 3 and not preview.refused
    other = other_workstation(db_target)
    try:  # another workstation registers row 2's number meanwhile
        other.create("computers", computer(asset_number="JM-002", serial_number="SN-900", disk_serials="WD-900",
                                           mac_addresses="00-1A-2B-3C-4D-90"))
    finally:
        other.db.close()
    report = run_import(service, plan, preview=preview)
    assert not report.reused
    assert report.created == 2 and [(r.row, r.column) for r in report.refused] == [(4, "设备编号")]
    assert "JM-002" in report.refused[0].message
    assert service.find("computers", "JM-001") is not None and service.find("computers", "JM-003") is not None


def test_a_clash_is_refused_even_when_the_preview_is_reused(service, tmp_path):
    """A clash stored before the preview is refused by the import too, row by row (its checks
    taken from the preview on SQLite, asked again on PostgreSQL)."""
    service.create("computers", computer(asset_number="JM-003", serial_number="SN-900", disk_serials="WD-900",
                                         mac_addresses="00-1A-2B-3C-4D-90"))
    plan = plan_import(COMPUTERS, sheet(tmp_path / "台账.xlsx", rows()))
    preview = run_import(service, plan, dry_run=True)
    report = run_import(service, plan, preview=preview)
    assert report.reused and report.created == 2
    assert [(r.row, r.column) for r in report.refused] == [(r.row, r.column) for r in preview.refused] == [(5, "设备编号")]


def test_a_plan_changed_after_the_preview_is_read_again(service, tmp_path):
    plan = plan_import(COMPUTERS, sheet(tmp_path / "台账.xlsx", rows()))
    preview = run_import(service, plan, dry_run=True)
    plan.mapping = {i: name for i, name in plan.mapping.items() if name != "department"}  # 所在部门 not taken now
    report = run_import(service, plan, preview=preview)
    assert not report.reused and report.created == 3
    assert service.find("computers", "JM-001").values["department"] is None


def test_another_files_preview_is_never_taken_though_its_header_and_mapping_are_the_same(service, tmp_path):
    # Same header, same mapping, other rows: only the preview of this very sheet may be taken.
    first = plan_import(COMPUTERS, sheet(tmp_path / "一.xlsx", rows()))
    preview = run_import(service, first, dry_run=True)
    other_rows = rows()
    other_rows[1][9] = "停用"
    second = plan_import(COMPUTERS, sheet(tmp_path / "二.xlsx", other_rows))
    report = run_import(service, second, preview=preview)
    assert not report.reused and report.created == 3
    assert stored(service)["JM-002"][0] == "停用"  # what the second file says, not the first's 维修


def test_the_import_takes_the_previews_checks_whole_on_sqlite_when_nothing_changed(service, monkeypatch, tmp_path):
    """An exact preview (SQLite) resolves the references to the ids the import gives: the import
    after it, nothing committed since, stores its outcome without asking the database again,
    and the records name the people the import added. PostgreSQL's ids come from a sequence
    (another workstation's too): there the checks are made again."""
    plan = plan_import(COMPUTERS, sheet(tmp_path / "台账.xlsx", rows()))
    preview = run_import(service, plan, dry_run=True)
    assert preview.people_added == ["王新", "李娜"]
    asked = []
    resolve = LedgerService._resolve
    monkeypatch.setattr(LedgerService, "_resolve", lambda self, *a, **k: asked.append(a) or resolve(self, *a, **k))
    report = run_import(service, plan, preview=preview)
    assert report.reused and report.created == 3 and report.people_added == ["王新", "李娜"]
    assert bool(asked) == (not service.db.is_sqlite)
    assert stored(service)["JM-003"] == ("在用", "李娜", "王新", ["00-1A-2B-3C-4D-03"])
    user = service.find("computers", "JM-003").values["user"]
    assert service.get(user.id).values["name"] == "李娜" and service.count("people") == 2


@pytest.mark.sqlite_only
def test_the_change_mark_is_read_once_the_write_transaction_holds_the_database(service, db_target, monkeypatch,
                                                                               tmp_path):
    # read before BEGIN IMMEDIATE, another workstation could commit between the mark and the
    # transaction's first read: the import would then store a preview's outcome made on a
    # database that has changed since
    plan = plan_import(COMPUTERS, sheet(tmp_path / "台账.xlsx", rows()))
    others_could_write = []
    mark = type(service.db).change_mark

    def change_mark(db, session):
        other = sqlite3.connect(db_target, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            others_could_write.append(True)
        except sqlite3.OperationalError:  # database is locked: the import holds it
            others_could_write.append(False)
        finally:
            other.close()
        return mark(db, session)

    monkeypatch.setattr(type(service.db), "change_mark", change_mark)
    preview = run_import(service, plan, dry_run=True)
    report = run_import(service, plan, preview=preview)
    assert report.reused and others_could_write == [False, False]


def test_an_import_after_its_preview_says_every_person_it_added_as_a_fresh_import_does(service, db, tmp_path):
    # Two namesakes told apart by their departments are two people added: the preview's names
    # (one 张伟) were stored as the import's, so the audit entry and 已在人员台账中新增 N 人 said one
    lines = rows(2)
    lines[0][3], lines[1][3] = "张伟(科研一处)", "张伟(财务处)"
    plan = plan_import(COMPUTERS, sheet(tmp_path / "台账.xlsx", lines))
    preview = run_import(service, plan, dry_run=True)
    # (an exact preview says them so too; PostgreSQL's knows only the names)
    assert sorted(preview.people_added) == (["张伟", "张伟", "王新"] if service.db.is_sqlite else ["张伟", "王新"])
    report = run_import(service, plan, preview=preview)
    assert report.reused and report.created == 2 and service.count("people") == 3
    assert sorted(report.people_added) == ["张伟", "张伟", "王新"]
    with db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "record.import")).one()
    assert entry.detail["people_added"] == report.people_added


def test_a_preview_whose_rows_were_read_before_midnight_is_not_taken_after_it(service, monkeypatch):
    # A row's date checks (not after today) ran on the day the rows were read: a preview that
    # crossed midnight kept the day after, and the import on that day took refusals made the day before
    from types import SimpleNamespace

    from mibao_desktop.services import ledger_service

    day = [dt.date(2026, 12, 1)]
    monkeypatch.setattr(ledger_service, "dt", SimpleNamespace(date=SimpleNamespace(today=lambda: day[0]),
                                                              datetime=dt.datetime))

    def rows():
        yield computer(asset_number="JM-001")
        day[0] += dt.timedelta(days=1)  # midnight, once the last row was read

    preview = service.create_many("computers", rows(), dry_run=True, keep=True)
    assert preview.checked is not None and preview.accepted == 1
    result = service.create_many("computers", rows(), checked=preview.checked)
    assert not result.reused and len(result.created) == 1
