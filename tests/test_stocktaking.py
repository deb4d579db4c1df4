"""Stocktaking (盘点) of a labelled ledger (issue 15 item 2) on a real database (SQLite, and
PostgreSQL with MIBAO_TEST_DATABASE): a department's computers are listed (one 外出 as away),
scanned by the label's QR payload, ticked and typed; a scan answers found, again, not in this
scope (with where it belongs, or which other ledger), misplaced and unknown; the session is
shared by a second workstation and taken up; the close stores missing, extra, misplaced,
unknown and duplicate items and says each in the record's history; nothing changes after; the
report is read back from the PDF and the workbook."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from openpyxl import load_workbook

from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import ServiceError, ValidationFailed
from mibao_desktop.excel.stocktake_report import export_stocktake_report
from mibao_desktop.printing.labels import content_of
from mibao_desktop.security import Actor, Role
from mibao_desktop.services import stocktaking as ST
from mibao_desktop.services.context import Services
from tests.conftest import computer, medium, today


@pytest.fixture
def services(db):
    s = Services(db, Actor.local_security_admin())
    n = 0
    for number, dept, place in (("JM-0001", "科研一处", "科研楼201"), ("JM-0002", "科研一处", "科研楼201"),
                                ("JM-0003", "科研一处", "科研楼202"), ("JM-0004", "科研一处", "科研楼202"),
                                ("JM-0009", "科研二处", "科研楼305")):
        n += 1
        s.ledgers.create("computers", computer(asset_number=number, department=dept, location=place,
                                               serial_number=f"PC0A1B2C{n}", disk_serials=f"WD-WCC6Y012345{n}",
                                               mac_addresses=f"00-1A-2B-3C-4D-5{n}"))
    s.ledgers.create("media", medium(asset_number="JMU-0007", department="科研一处"))
    return s


def rid(s, ledger, number):
    return s.ledgers.find(ledger, number).id


def _audit(db, prefix):
    with db.session() as session:
        return [e for e in session.query(AuditEntry).order_by(AuditEntry.id) if e.action.startswith(prefix)]


def test_only_labelled_ledgers_may_be_stocktaken():
    keys = {l.key for l in ST.stocktake_ledgers()}
    assert {"computers", "unclassified_computers", "media", "office_devices", "carriers"} <= keys
    assert "people" not in keys and "carrier_copies" not in keys  # copies keep their 载体核对
    with pytest.raises(ValidationFailed):
        ST.ledger_of("people")


def test_a_department_stocktake_from_open_to_report(services, db, tmp_path):
    s = services
    s.ledgers.change_status(rid(s, "computers", "JM-0004"), "外出", facts={
        "destination": "北京", "trip_purpose": "参加会议", "carried_by": "张伟",
        "return_by": (today() + dt.timedelta(days=3)).isoformat()})
    st = s.stocktaking
    assert st.scope_values("computers", "部门") == ["科研一处", "科研二处"]
    with pytest.raises(ValidationFailed):
        st.open("computers", "部门", "没有的处")
    take = st.open("computers", "部门", "科研一处")
    # a second workstation opening the same ledger and scope takes up the same session
    other = Services(db, Actor.local_security_admin())
    assert other.stocktaking.open("computers", "部门", "科研一处").id == take.id
    listing = st.listing(take.id)
    assert [x.number for x in listing.lines] == ["JM-0001", "JM-0002", "JM-0003", "JM-0004"]
    assert (listing.lines[0].person, listing.lines[0].place, listing.lines[0].title) == ("张伟", "科研楼201",
                                                                                      "台式机 联想 启天M437")
    assert listing.counts()["未盘点"] == 3 and listing.counts()["外出"] == 1

    # what the label's QR holds is what a scan reads back
    payload = content_of(s.ledgers.get(rid(s, "computers", "JM-0001"))).asset_number
    r = st.scan(take.id, payload)
    assert (r.finding, r.line.number) == ("已盘点", "JM-0001")
    assert st.scan(take.id, payload).finding == "重复"  # the same label again: told, counted
    assert other.stocktaking.scan(take.id, "jm-0002", how="输入").finding == "已盘点"  # typed, other desk
    r = st.scan(take.id, "JM-0009")
    assert r.finding == "多出" and "科研二处" in r.message  # not of this scope: where it belongs
    r = st.scan(take.id, "JMU-0007")
    assert r.finding == "多出" and "移动存储介质" in r.message  # another ledger's label, named as such
    r = st.scan(take.id, "JM-0004")
    assert r.finding == "位置不符" and "外出" in r.message and "张伟" in r.message  # here while recorded away
    r = st.scan(take.id, "XX-404")
    assert r.finding == "未登记" and "XX-404" in r.message
    assert st.scan(take.id, "XX-404").line.times_seen == 2
    st.mark(take.id, rid(s, "computers", "JM-0003"))
    st.unmark(take.id, rid(s, "computers", "JM-0003"))  # ticked by mistake

    # resumed: the session as it was left, from the database
    listing = other.stocktaking.listing(take.id)
    counts = listing.counts()
    assert (counts["已盘点"], counts["未盘点"], counts["多出"], counts["位置不符"], counts["未登记"]) == (2, 1, 2, 1, 1)

    report = st.close(take.id, checkers="李娜 王芳")
    counts = report.counts()
    assert (counts["已盘点"], counts["缺失"], counts["多出"], counts["位置不符"], counts["未登记"],
            counts["重复"]) == (2, 1, 2, 1, 1, 2)
    assert [x.number for x in report.of("缺失")] == ["JM-0003"]
    assert {x.number for x in report.of("重复")} == {"JM-0001", "XX-404"}
    with pytest.raises(ServiceError, match="已于"):
        st.scan(take.id, "JM-0003")
    with pytest.raises(ServiceError, match="已于"):
        st.open("computers", "部门", "科研一处") and st.scan(take.id, "JM-0003")
    # a new session of the same scope opens afresh after the close
    assert st.open("computers", "部门", "科研一处").id != take.id

    # each record's history says what the stocktaking found
    said = [e.reason for e in s.ledgers.history(rid(s, "computers", "JM-0003")) if e.action == "stocktake"]
    assert said and "缺失" in said[0] and f"第 {take.id} 号" in said[0]
    said = [e for e in s.ledgers.history(rid(s, "media", "JMU-0007")) if e.action == "stocktake"]
    assert said and said[0].action_label == "盘点" and "多出" in said[0].reason

    # the report reads the same later, whatever happens to the records
    s.ledgers.update(rid(s, "computers", "JM-0003"), {"department": "科研二处"})
    again = st.report(take.id)
    assert [(x.number, x.department) for x in again.of("缺失")] == [("JM-0003", "科研一处")]

    pdf = tmp_path / "盘点报告.pdf"
    assert st.print_report(take.id, pdf) >= 1
    words = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert "涉密计算机盘点报告" in words and "部门:科研一处" in words and "李娜 王芳" in words
    for text in ("一、缺失", "JM-0003", "二、多出", "JM-0009", "JMU-0007", "四、未登记", "XX-404", "五、重复"):
        assert text in words, text
    xlsx = tmp_path / "盘点报告.xlsx"
    assert export_stocktake_report(st, take.id, xlsx) == len(report.lines)
    sheet = load_workbook(xlsx).active
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    flat = [str(c) for row in cells for c in row if c is not None]
    assert any("涉密计算机盘点报告" in c for c in flat)
    found = {row[2]: row for row in cells if row and len(row) > 2 and row[2] in ("JM-0003", "XX-404", "JM-0001")}
    assert found["JM-0003"][1] == "缺失" and found["XX-404"][1] == "未登记" and found["JM-0001"][9] == 2

    actions = [e.action for e in _audit(db, "stocktake.")]
    assert actions[0] == "stocktake.open" and "stocktake.unmark" in actions and "stocktake.close" in actions


def test_a_place_and_a_whole_ledger(services):
    st = services.stocktaking
    take = st.open("computers", "存放位置", "科研楼202")
    assert [x.number for x in st.listing(take.id).lines] == ["JM-0003", "JM-0004"]
    r = st.scan(take.id, "JM-0001")
    assert r.finding == "多出" and "科研楼201" in r.message
    whole = st.open("computers", "全部")
    assert len(st.listing(whole.id).lines) == 5
    with pytest.raises(ServiceError, match="请扫描"):
        st.scan(whole.id, "   ")


def test_the_auditor_may_not_stocktake(services, db):
    auditor = Services(db, Actor("审计员", Role.AUDITOR))
    with pytest.raises(ServiceError):
        auditor.stocktaking.open("computers", "全部")
    take = services.stocktaking.open("computers", "全部")
    with pytest.raises(ServiceError):
        auditor.stocktaking.scan(take.id, "JM-0001")


def test_what_a_scanner_queued_is_saved_in_one_go_and_a_refused_code_loses_no_other(services, db):
    st = services.stocktaking
    take = st.open("computers", "部门", "科研一处")
    answers = st.save_many(take.id, [("scan", "JM-0001"), ("scan", "   "), ("scan", "JM-0001"), ("tick", 10**9),
                                     ("scan", "NEW-1"), ("tick", rid(services, "computers", "JM-0002")),
                                     ("untick", rid(services, "computers", "JM-0002"))])
    assert [a.finding if isinstance(a, ST.ScanResult) else type(a).__name__ if a else None for a in answers] == [
        "已盘点", "ServiceError", "重复", "NotFound", "未登记", "已盘点", None]
    seen = {x.number: x.times_seen for x in st.listing(take.id).lines if x.seen_how}
    assert seen == {"JM-0001": 2, "NEW-1": 1}
    assert len([e for e in _audit(db, "stocktake.mark")]) == 4  # each saved scan and tick audited alone
    st.close(take.id)
    with pytest.raises(ServiceError, match="已于"):  # a batch after the close: refused as a whole
        st.save_many(take.id, [("scan", "JM-0003")])


def test_a_copy_labels_code_names_its_carrier_in_a_stocktaking_of_the_carriers(services):
    from mibao_desktop.printing.carrier_labels import copy_code

    s = services
    s.carrier_actions.register(dict(
        carrier_number="ZT-2026-001", title="年度保密检查通知", level="机密", classified_on="2026-01-05", copies=3,
        scope="全体人员", source="接收", received_on=(today() - dt.timedelta(days=5)).isoformat(), keeper="李娜",
        department="科研一处", location="科研一处保密柜"))
    take = s.stocktaking.open("carriers", "存放位置", "科研一处保密柜")
    listing = s.stocktaking.listing(take.id)
    assert [(x.number, x.title, x.person) for x in listing.lines] == [("ZT-2026-001", "年度保密检查通知", "李娜")]
    r = s.stocktaking.scan(take.id, copy_code("ZT-2026-001", 2))  # the envelope or cover label of copy 2
    assert (r.finding, r.line.number) == ("已盘点", "ZT-2026-001")
    r = s.stocktaking.scan(take.id, "JM-0001")  # a computer's label among the carriers: named as such
    assert r.finding == "多出" and "涉密计算机" in r.message
