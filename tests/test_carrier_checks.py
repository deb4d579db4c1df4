"""Checks of the carriers' copies (issue 13 item 4; seed 003 第十条 月核对、季检查、年终清退归档)
on a real database, as stocktakings of the copies ledger (issue 15: one service, one report): a
department's check lists its copies (those away as away), copies are ticked, scanned by a
label's QR payload and typed by number; the close finds the missing, the extra, the misplaced
and the unknown, stores them, and nothing changes after; the report is read back from the PDF
and the workbook; a missing copy is marked 下落不明 from the report; revision 0028 moves the
checks kept in their own tables into the stocktakings."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from openpyxl import load_workbook

from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import ServiceError, ValidationFailed
from mibao_desktop.excel.stocktake_report import export_stocktake_report
from mibao_desktop.printing.carrier_labels import copy_code
from mibao_desktop.security import Actor, Role
from mibao_desktop.services import carrier_checks as CC
from mibao_desktop.services import stocktaking as ST
from mibao_desktop.services.context import Services
from tests.conftest import today


COPIES = CC.COPIES.key


def open_check(s, kind, period, scope, value=""):
    return s.stocktaking.open(COPIES, scope, value, kind=kind, period=period)


def carrier(number, copies, **overrides):
    values = dict(carrier_number=number, title="年度保密检查通知", doc_number="保〔2026〕3号", issuer="上级机关",
                  level="机密", classified_on="2026-01-05", form="纸质", copies=copies, scope="全体人员",
                  source="接收", received_on=(today() - dt.timedelta(days=20)).isoformat(), keeper="李娜",
                  department="科研一处", location="科研一处保密柜")
    values.update(overrides)
    return values


@pytest.fixture
def services(db):
    s = Services(db, Actor.local_security_admin())
    for name, dept in (("李娜", "科研一处"), ("张伟", "科研一处"), ("王芳", "科研二处")):
        s.ledgers.create("people", {"name": name, "department": dept})
    s.carrier_actions.register(carrier("ZT-2026-001", 3))
    s.carrier_actions.register(carrier("ZT-2026-002", 1, level="秘密"))
    s.carrier_actions.register(carrier("ZT-2026-009", 2, department="科研二处", keeper="王芳", location="科研二处保密柜"))
    return s


def copy_ids(s, number):
    c = s.ledgers.find("carriers", number)
    return [x.id for x in s.carrier_actions.copies(c.id)]


def _audit(db, prefix):
    with db.session() as session:
        return [e for e in session.query(AuditEntry).order_by(AuditEntry.id) if e.action.startswith(prefix)]


def test_parse_code_reads_a_record_number_and_a_copy_number():
    assert CC.parse_code(" zt-2026-001 ")[0] == ("ZT-2026-001", None)  # the whole text first
    assert ("ZT-2026-001", 3) in CC.parse_code(copy_code("ZT-2026-001", 3))  # what a copy's label's QR holds
    assert ("ZT-2026-001", 3) in CC.parse_code("ZT-2026-001-3")
    assert ("ZT-2026-001", 3) in CC.parse_code("ZT-2026-001 第3份")
    assert ("ZT-2026-001", 12) in CC.parse_code("ZT-2026-001/12")
    assert ("ZT-2026-001", 2) in CC.parse_code("ZT－2026－001＃2")  # full width, as some scanners type
    assert CC.parse_code("   ") == []


def test_a_department_check_from_open_to_report(services, db, tmp_path):
    s = services
    one, two, nine = copy_ids(s, "ZT-2026-001"), copy_ids(s, "ZT-2026-002"), copy_ids(s, "ZT-2026-009")
    s.carrier_actions.lend([one[2]], {"borrower": "张伟", "due_back": (today() + dt.timedelta(days=7)).isoformat(),
                                      "approver": "王处长"})
    checks = s.stocktaking
    check = open_check(s, "月核对", CC.current_period("月核对", today()), "部门", "科研一处")
    assert open_check(s, "月核对", check.period, "部门", "科研一处").id == check.id  # taken up, not opened twice
    assert check.title == f"月核对 {check.period} 部门:科研一处" and check.word == "核对"
    listing = checks.listing(check.id)
    assert [(x.number, x.part, x.state()) for x in listing.lines] == [
        ("ZT-2026-001", 1, "在位"), ("ZT-2026-001", 2, "在位"), ("ZT-2026-001", 3, "外出"), ("ZT-2026-002", 1, "在位")]
    assert listing.lines[2].person == "张伟"  # away, with who has it
    assert listing.counts()[ST.UNCHECKED] == 3

    checks.mark(check.id, one[0])  # ticked
    r = checks.scan(check.id, "ZT-2026-002")  # the carrier's own label: one copy, so that copy
    assert (r.line.record_id, r.finding, r.message) == (two[0], ST.SEEN, "已核对:ZT-2026-002 第 1 份")
    r = checks.scan(check.id, copy_code("ZT-2026-009", 2))  # the QR of a cover label, another department's copy
    assert r.finding == "多出" and "科研二处" in r.message
    r = checks.scan(check.id, "zt-2026-001 3", how="输入")  # typed: the copy lent out is here
    assert r.finding == "位置不符"
    assert checks.scan(check.id, "ZT-2026-001-1").again
    with pytest.raises(ServiceError, match="共有 3 份在管|份在管"):
        checks.scan(check.id, "ZT-2026-001")  # several copies: which one?
    r = checks.scan(check.id, "ZT-1999-404")  # no carrier has that number: kept as unknown to MiBao
    assert r.finding == ST.UNKNOWN and "ZT-1999-404" in r.message
    with pytest.raises(ServiceError, match="没有第 7 份"):
        checks.scan(check.id, "ZT-2026-001-7")
    counts = checks.listing(check.id).counts()
    assert (counts[ST.SEEN], counts[ST.UNCHECKED], counts["多出"], counts["位置不符"], counts["未登记"]) == (2, 1, 1, 1, 1)

    report = checks.close(check.id, checkers="李娜 张伟", note="柜内清点")
    assert report.counts() == {ST.SEEN: 2, "缺失": 1, "多出": 1, "位置不符": 1, "外出": 0, "下落不明": 0, "未登记": 1,
                               "重复": 1}
    assert [x.record_id for x in report.of("缺失")] == [one[1]]
    assert "科研二处" in report.of("多出")[0].belongs and report.of("多出")[0].record_id == nine[1]
    with pytest.raises(ServiceError, match="不能再修改"):
        checks.mark(check.id, one[1])
    with pytest.raises(ServiceError, match="不能再修改"):
        checks.unmark(check.id, one[0])
    with pytest.raises(ServiceError, match="不能再修改"):
        checks.close(check.id)
    # the stored report does not follow later changes of the copies
    s.carrier_actions.give_back([one[2]])
    again = checks.report(check.id)
    assert [(x.finding, x.status) for x in again.of("位置不符")] == [("位置不符", "借出")]
    assert {e.action for e in _audit(db, "stocktake.")} == {"stocktake.open", "stocktake.mark", "stocktake.close"}
    # the copies' histories are left alone: a whole unit's year-end check lists a million
    assert not [e for e in s.ledgers.history(one[1]) if e.action == "stocktake"]

    pdf = tmp_path / "report.pdf"
    assert checks.print_report(check.id, pdf) >= 1
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for words in ("机密★", "涉密载体月核对报告", "部门:科研一处", check.period, "李娜 张伟", "缺失 1 份", "ZT-2026-009",
                  "核对人:", "部门负责人:", "保密办:"):
        assert words in text, words
    xlsx = tmp_path / "report.xlsx"
    assert export_stocktake_report(checks, check.id, xlsx) == 6
    ws = load_workbook(xlsx).active
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    flat = [v for row in values for v in row if v is not None]
    assert "缺失" in flat and "多出" in flat and "ZT-2026-009" in flat and "已核对" in flat
    assert any(str(v).startswith("核对人:") and "部门负责人:" in str(v) for v in flat)  # signed on paper
    found = [row for row in values if "缺失" in row]
    assert found[0][2:4] == ["ZT-2026-001", 2]

    # the missing copy marked 下落不明 from the report: through the carrier actions (the clock starts)
    with pytest.raises(ServiceError, match="缺失"):
        checks.mark_missing(check.id, [one[0]], "未见")
    checks.mark_missing(check.id, [one[1]], "柜内未找到")
    missing = s.ledgers.get(one[1])
    assert missing.status == "下落不明" and missing.values["search_until"] is not None
    assert "已标为下落不明" in checks.report(check.id).of("缺失")[0].followed


def test_a_person_and_a_place_check_and_the_refusals(services):
    s, checks = services, services.stocktaking
    nine = copy_ids(s, "ZT-2026-009")
    with pytest.raises(ValidationFailed):
        open_check(s, "周核对", "2026年1月", "部门", "科研一处")
    with pytest.raises(ValidationFailed):
        open_check(s, "月核对", "2026年13月", "部门", "科研一处")
    with pytest.raises(ValidationFailed):
        open_check(s, "月核对", "2026年1月", "部门", "无此部门")
    with pytest.raises(ValidationFailed, match="存放位置|存放在"):
        open_check(s, "月核对", "2026年1月", "存放位置", "无此柜")
    with pytest.raises(ValidationFailed):
        open_check(s, "月核对", "2026年1月", "人员", "无此人")
    with pytest.raises(ValidationFailed):  # a ledger's stocktaking has no person's scope
        checks.open("carriers", "人员", "王芳")
    person = open_check(s, "季检查", "2026年第四季度", "人员", "王芳")
    assert person.scope_value == "王芳(科研二处)"
    assert [x.record_id for x in checks.listing(person.id).lines] == nine
    # a copy lent to a person is with them: their check expects it (the place's and the keeper's do not)
    one = copy_ids(s, "ZT-2026-001")
    s.carrier_actions.lend([one[0]], {"borrower": "张伟", "due_back": (today() + dt.timedelta(days=3)).isoformat(),
                                      "approver": "王处长"})
    borrower = open_check(s, "月核对", "2026年11月", "人员", "张伟")
    assert [(x.record_id, x.state()) for x in checks.listing(borrower.id).lines] == [(one[0], "在位")]
    assert checks.scan(borrower.id, "ZT-2026-001#1").finding == ST.SEEN
    assert checks.close(borrower.id).counts()[ST.SEEN] == 1
    place = open_check(s, "年终清退归档", "2026年度", "存放位置", "科研一处保密柜")
    assert [x.state() for x in checks.listing(place.id).lines] == ["外出", "在位", "在位", "在位"]
    with pytest.raises(ServiceError, match="尚未完成"):
        checks.report(place.id)
    everything = open_check(s, "年终清退归档", "2026年度", "全部")
    assert everything.scope_text == "全部载体"
    report = checks.close(everything.id)
    assert (report.counts()["缺失"], report.counts()["外出"]) == (5, 1)  # the lent copy is away, not missing
    assert everything.id in [c.id for c in checks.sessions(ledger_key=COPIES)]
    assert everything.id not in [c.id for c in checks.sessions(ledger_key="carriers")]


def test_only_the_security_administrator_checks(services, db):
    auditor = Services(db, Actor("审计员", Role.AUDITOR))
    with pytest.raises(Exception, match="安全保密管理员|无权|权限"):
        open_check(auditor, "月核对", "2026年1月", "全部")


def test_a_distributed_copy_is_away_with_its_recipient_not_missing(services):
    """A copy 已分发 is not in the cabinet: a check of its place lists it as away, with the unit
    (or person) it went to, as a copy lent out is — never 缺失, never offered to be marked
    下落不明. Distributed to a person, that person's check expects it with them."""
    s, checks = services, services.stocktaking
    one = copy_ids(s, "ZT-2026-001")
    s.carrier_actions.distribute([one[0]], {"recipient_unit": "市保密局", "approver": "王处长"})
    s.carrier_actions.distribute([one[1]], {"recipient": "王芳", "approver": "王处长"})
    place = open_check(s, "月核对", CC.current_period("月核对", today()), "存放位置", "科研一处保密柜")
    lines = {x.record_id: x for x in checks.listing(place.id).lines}
    assert (lines[one[0]].state(), lines[one[0]].person) == ("外出", "市保密局")
    assert (lines[one[1]].state(), lines[one[1]].person) == ("外出", "王芳")
    checks.mark(place.id, one[2])
    report = checks.close(place.id)
    found = {x.record_id: x for x in report.lines}
    assert found[one[0]].finding == "外出" and "市保密局" in found[one[0]].belongs
    assert found[one[1]].finding == "外出" and "王芳" in found[one[1]].belongs
    assert [x.record_id for x in report.of("缺失")] == copy_ids(s, "ZT-2026-002")  # only what should be there
    with pytest.raises(ServiceError, match="缺失"):
        checks.mark_missing(place.id, [one[0]], "")
    person = open_check(s, "月核对", CC.current_period("月核对", today()), "人员", "王芳")
    held = {x.record_id: x.state() for x in checks.listing(person.id).lines}
    assert held[one[1]] == "在位"  # distributed to her: with her
    assert checks.scan(person.id, copy_code("ZT-2026-001", 1)).finding == "多出"  # went to 市保密局, not to her


def test_workstations_opening_the_same_check_at_once_share_one(services, db, db_target):
    """One check of a kind, period and scope is open at a time: workstations opening it at the
    same moment (each its own engine, as another computer would) all take up the one check. On
    PostgreSQL each reads "none open yet" in its own transaction unless the opening is locked."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from mibao_desktop.db.database import Database
    from mibao_desktop.db.models import Stocktake

    period = CC.current_period("月核对", today())
    others = [Database.open(db_target) for _ in range(6)]
    start = threading.Barrier(len(others))

    def open_it(other):
        start.wait()
        return open_check(Services(other, Actor.local_security_admin()), "月核对", period, "部门", "科研一处").id

    try:
        with ThreadPoolExecutor(len(others)) as pool:
            ids = list(pool.map(open_it, others, timeout=120))
    finally:
        for other in others:
            other.close()
    with db.session() as session:
        opened = session.scalar(select(func.count()).select_from(Stocktake).where(Stocktake.closed_at.is_(None)))
    assert opened == 1 and len(set(ids)) == 1
    assert len(_audit(db, "stocktake.open")) == 1


def test_revision_0023_puts_what_a_check_lists_in_the_copies_index_by_parent(empty_db_target):
    """A department's check list reads 100,000 copies by parent: revision 0023 makes their index
    by parent hold what the list reads (份号, status, place, holder), the copies kept as they were."""
    from sqlalchemy import inspect, text

    from mibao_desktop.db.database import Database

    db = Database.open(empty_db_target, migrate=False)
    try:
        db.upgrade(backup_dir=None, target="0022")
        at = {"at": dt.datetime(2026, 3, 5, 10, 0)}
        with db.engine.begin() as conn:
            for rid, ledger, label in ((1, "carriers", "ZT-1"), (2, "carrier_copies", "1"), (3, "carrier_copies", "2")):
                conn.execute(text("INSERT INTO records (id, ledger, label, voided) VALUES (:i, :l, :b, false)"),
                             {"i": rid, "l": ledger, "b": label})
            conn.execute(text("INSERT INTO ledger_carriers (id, carrier_number, level, copies, status, voided, "
                              "created_at, updated_at, version) VALUES (1, 'ZT-1', '机密', 2, '在管', false, :at, :at, 1)"),
                         at)
            for rid, number in ((2, 1), (3, 2)):
                conn.execute(text("INSERT INTO ledger_carrier_copies (id, parent_id, copy_number, status, location, "
                                  "voided, created_at, updated_at, version) "
                                  "VALUES (:i, 1, :n, '在管', '保密柜', false, :at, :at, 1)"), {"i": rid, "n": number, **at})

        def by_parent():
            (index,) = [i for i in inspect(db.engine).get_indexes("ledger_carrier_copies")
                        if i["name"] == "ix_ledger_carrier_copies_parent_id"]
            return index["column_names"]

        assert by_parent() == ["parent_id"]
        db.upgrade(backup_dir=None, target="0023")
        assert by_parent() == ["parent_id", "voided", "copy_number", "status", "location", "holder"]
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id, parent_id, copy_number, status, location FROM ledger_carrier_copies "
                                     "ORDER BY id")).all() == [(2, 1, 1, "在管", "保密柜"), (3, 1, 2, "在管", "保密柜")]
    finally:
        db.close()


@pytest.mark.sqlite_only
def test_a_departments_check_list_reads_the_copies_from_their_index_alone(services, db):
    """The copies of a department's carriers come from the index by parent, never their rows:
    a department of 100,000 copies read each copy's whole row (1 s of the list's 1.05)."""
    from mibao_desktop.db.models import Stocktake

    check = open_check(services, "月核对", CC.current_period("月核对", today()), "部门", "科研一处")
    with db.session() as session:
        info = ST._info(session.get(Stocktake, check.id))
        sql = CC._scope_copies(info).compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = [r[-1] for r in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    assert any("COVERING INDEX ix_ledger_carrier_copies_parent_id" in step for step in plan), plan
    listed = services.stocktaking.listing(check.id)
    assert [(x.number, x.part, x.place) for x in listed.lines][:3] == [
        ("ZT-2026-001", 1, "科研一处保密柜"), ("ZT-2026-001", 2, "科研一处保密柜"), ("ZT-2026-001", 3, "科研一处保密柜")]


def test_revision_0028_moves_the_checks_into_the_stocktakings_with_nothing_lost(empty_db_target):
    """The checks kept in their own tables (revision 0019) become stocktakings of the copies: a
    closed check with its findings (已核对 said as the stocktaking's 已盘点, the follow-up kept), an
    open one with its scans (taken up where it was left), numbered after the stocktakings already
    there; the old tables go, and the 首页 reads the moved check as this month's 月核对 done."""
    from sqlalchemy import inspect, text

    from mibao_desktop.db.database import Database

    db = Database.open(empty_db_target, migrate=False)
    try:
        db.upgrade(backup_dir=None, target="0027")
        at = dt.datetime.combine(today(), dt.time(9, 0))
        period = CC.current_period("月核对", today())
        with db.engine.begin() as conn:
            for rid, ledger, label in ((1, "carriers", "ZT-1"), (2, "carrier_copies", "1"), (3, "carrier_copies", "2")):
                conn.execute(text("INSERT INTO records (id, ledger, label, voided) VALUES (:i, :l, :b, false)"),
                             {"i": rid, "l": ledger, "b": label})
            conn.execute(text("INSERT INTO ledger_carriers (id, carrier_number, title, level, copies, status, voided, "
                              "created_at, updated_at, version) VALUES (1, 'ZT-1', '通知', '机密', 2, '在管', false, "
                              ":at, :at, 1)"), {"at": at})
            for rid, number in ((2, 1), (3, 2)):
                conn.execute(text("INSERT INTO ledger_carrier_copies (id, parent_id, copy_number, status, location, "
                                  "voided, created_at, updated_at, version) "
                                  "VALUES (:i, 1, :n, '在管', '保密柜', false, :at, :at, 1)"), {"i": rid, "n": number, "at": at})
            conn.execute(text("INSERT INTO stocktakes (ledger, scope, scope_value, opened_at, opened_by, closed_at) "
                              "VALUES ('computers', '全部', '', :at, 'admin', :at)"), {"at": at})
            conn.execute(text(
                "INSERT INTO carrier_checks (id, kind, period, scope, scope_value, opened_at, opened_by, closed_at, "
                "closed_by, checkers, summary) VALUES (1, '月核对', :p, '全部', '', :at, 'admin', :at, 'admin', '李娜', "
                ":summary)"), {"p": period, "at": at, "summary": '{"已核对": 1, "缺失": 1}'})
            conn.execute(text(
                "INSERT INTO carrier_checks (id, kind, period, scope, scope_value, opened_at, opened_by) "
                "VALUES (2, '季检查', :p, '全部', '', :at, 'admin')"), {"p": CC.current_period("季检查", today()), "at": at})
            for check_id, copy_id, finding, how, number, followed in (
                    (1, 2, "已核对", "扫描", 1, None), (1, 3, "缺失", None, 2, "2026-11-05 已标为下落不明"),
                    (2, 3, "已核对", "勾选", None, None)):
                conn.execute(text(
                    "INSERT INTO carrier_check_items (check_id, copy_id, finding, seen_how, seen_at, carrier_number, "
                    "copy_number, title, level, holder, place, status, followed) VALUES (:c, :i, :f, :h, :at, "
                    ":n, :k, :t, '机密', '李娜', '保密柜', '在管', :fo)"),
                    {"c": check_id, "i": copy_id, "f": finding, "h": how, "at": at, "n": "ZT-1" if number else None,
                     "k": number, "t": "通知" if number else None, "fo": followed})
        db.upgrade(backup_dir=None)
        assert not {"carrier_checks", "carrier_check_items"} & set(inspect(db.engine).get_table_names())
        s = Services(db, Actor.local_security_admin())
        moved = s.stocktaking.sessions(ledger_key=COPIES)
        assert [(c.id, c.kind, c.period, c.closed) for c in moved] == [
            (3, "季检查", CC.current_period("季检查", today()), False), (2, "月核对", period, True)]
        assert moved[1].summary == {ST.SEEN: 1, "缺失": 1} and moved[1].checkers == "李娜"
        report = s.stocktaking.report(2)
        assert [(x.label, x.finding, x.seen_how, x.times_seen, x.followed) for x in report.lines] == [
            ("ZT-1 第 2 份", "缺失", None, 0, "2026-11-05 已标为下落不明"), ("ZT-1 第 1 份", ST.SEEN, "扫描", 1, "")]
        listing = s.stocktaking.listing(3)  # the open check taken up: its scan stands
        assert [(x.label, x.seen_how) for x in listing.lines] == [("ZT-1 第 1 份", None), ("ZT-1 第 2 份", "勾选")]
        assert open_check(s, "季检查", moved[0].period, "全部").id == 3
        assert not [i for i in s.due.due().items if i.rule == "carrier_checks" and "月核对" in i.reason]
    finally:
        db.close()


def test_a_copy_voided_after_the_list_was_read_is_kept_as_seen_when_scanned(services):
    """A copy whose record was voided after the list was read, then found on the shelf and its
    label scanned: the scan is kept, said 多出 (已作废), and reported, as a voided record of any
    ledger is in its stocktaking; it was refused (“没有第 1 份”) and nothing said it was seen."""
    s, checks = services, services.stocktaking
    check = open_check(s, "月核对", CC.current_period("月核对", today()), "部门", "科研一处")
    assert checks.listing(check.id).counts()[ST.UNCHECKED] == 4
    one = copy_ids(s, "ZT-2026-001")
    s.ledgers.void(one[0], "登记错误")
    scanned = checks.scan(check.id, "ZT-2026-001#1")
    assert (scanned.finding, scanned.line.record_id, scanned.line.belongs) == (ST.EXTRA, one[0], "已作废")
    assert checks.scan(check.id, "ZT-2026-001#1").finding == ST.AGAIN
    assert checks.listing(check.id).counts()[ST.EXTRA] == 1
    report = checks.close(check.id)
    assert [(x.record_id, x.times_seen) for x in report.of(ST.EXTRA)] == [(one[0], 2)]
    assert report.counts()[ST.MISSING] == 3  # the voided copy is no longer expected
