"""What is due (issue 15 item 1): each reminder a declared rule, its thresholds settings of the
role whose job it is, read with a clock the test sets (the days pass by setting it), on a real
database file (and PostgreSQL with MIBAO_TEST_DATABASE)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import PermissionDenied, ValidationFailed
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.context import Services
from mibao_desktop.services.due import OVERDUE, WITHIN_7, WITHIN_30
from tests.conftest import computer, medium

DAY0 = dt.date(2026, 3, 2)


class Clock:
    def __init__(self, day: dt.date) -> None:
        self.now = dt.datetime.combine(day, dt.time(9, 30))

    def __call__(self) -> dt.datetime:
        return self.now

    def day(self, n: int) -> dt.date:
        self.now = dt.datetime.combine(DAY0 + dt.timedelta(days=n), dt.time(9, 30))
        return self.now.date()


@pytest.fixture
def clock():
    return Clock(DAY0)


@pytest.fixture
def services(db, clock):
    return Services(db, Actor.local_security_admin(), clock=clock)


def of(listed, rule):
    return [i for i in listed.items if i.rule == rule]


def carrier(services, number="ZT-1", copies=2, **extra):
    values = dict(carrier_number=number, title="型号设计图纸", doc_number="保字〔2026〕3号", level="机密",
                  classified_on="2026-01-05", copies=copies, keeper="李娜", department="保密办",
                  location="保密办保密柜", scope="科研一处、王芳")
    values.update(extra)
    made = services.ledgers.create("carriers", values)
    ids = [services.ledgers.create("carrier_copies", {"copy_number": n, "holder": "王芳"}, parent_id=made.id).id
           for n in range(1, copies + 1)]
    return made, ids


def test_a_loan_moves_from_30_days_to_7_days_to_overdue_and_leaves_when_given_back(services, clock):
    _made, (one, _two) = carrier(services)
    services.carrier_actions.lend([one], {"borrower": "王芳", "due_back": DAY0 + dt.timedelta(days=20),
                                          "approver": "张处长"}, effective_date=DAY0)
    [item] = of(services.due.due(), "carrier_loans")
    assert item.group(DAY0) == WITHIN_30 and item.opens.record_id == one and item.action == "归还"
    assert "ZT-1 第 1 份" == item.subject and "应归还日期 2026-03-22" in item.reason
    today = clock.day(15)
    [item] = of(services.due.due(), "carrier_loans")
    assert item.group(today) == WITHIN_7 and item.days_text(today) == "剩余 5 天"
    today = clock.day(22)
    listed = services.due.due()
    [item] = of(listed, "carrier_loans")
    assert item.group(today) == OVERDUE and item.days_text(today) == "逾期 2 天"
    assert listed.items[0].group(today) == OVERDUE  # the most urgent first
    # the first screen lists the most urgent of a rule, then says there are more
    services.carrier_actions.lend([_two], {"borrower": "王芳", "due_back": today + dt.timedelta(days=3),
                                           "approver": "张处长"}, effective_date=today)
    first, more = of(services.due.due(per_rule=1), "carrier_loans")
    assert first.opens.record_id == one and "另有借出到期的载体未列出" in more.reason and more.opens.record_id is None
    assert len(of(services.due.due(), "carrier_loans")) == 2
    services.carrier_actions.give_back([one, _two], effective_date=today)
    assert of(services.due.due(), "carrier_loans") == []
    # seen on a date given (mibao due --as-of): the day is the caller's, not the clock's
    assert services.due.due(DAY0).today == DAY0


def test_a_missing_copy_counts_its_days_against_the_60_day_search(services, clock):
    _made, (one, _two) = carrier(services)
    services.carrier_actions.missing([one], {"circumstances": "清点时未找到"}, effective_date=DAY0)
    clock.day(40)
    [item] = of(services.due.due(), "missing_copies")
    assert item.due == DAY0 + dt.timedelta(days=60) and "下落不明第 41 天" in item.reason and "60 日" in item.reason
    assert item.group(clock().date()) == WITHIN_30


def test_the_months_check_is_due_at_the_months_end_until_one_is_completed(services, clock):
    carrier(services)
    listed = services.due.due()
    monthly = [i for i in of(listed, "carrier_checks") if "月核对" in i.reason]
    assert [i.due for i in monthly] == [dt.date(2026, 3, 31)]
    # a stocktaking of another ledger is no 月核对; the carriers' check is a stocktaking of the copies
    services.stocktaking.close(services.stocktaking.open("carriers", "全部").id)
    assert [i.due for i in of(services.due.due(), "carrier_checks") if "月核对" in i.reason] == [dt.date(2026, 3, 31)]
    check = services.stocktaking.open("carrier_copies", "全部", kind="月核对", period="2026年3月")
    services.stocktaking.close(check.id, checkers="李娜")
    assert not [i for i in of(services.due.due(), "carrier_checks") if "月核对" in i.reason]
    assert [i for i in of(services.due.due(), "carrier_checks") if "季检查" in i.reason]  # each kind its own


def test_a_device_away_past_its_return_and_a_repair_past_the_threshold(services, clock):
    away = services.ledgers.create("computers", computer())
    services.ledgers.change_status(away.id, "外出", facts={
        "destination": "北京", "trip_purpose": "会议", "carried_by": "张伟",
        "return_by": DAY0 + dt.timedelta(days=3)}, effective_date=DAY0)
    fixed = services.ledgers.create("computers", computer(asset_number="JM-0002", serial_number="PC2",
                                                          disk_serials="WD-2", mac_addresses="00-1A-2B-3C-4D-5F"))
    services.ledgers.change_status(fixed.id, "维修", facts={"repaired_by": "某维修中心", "escort": "张伟",
                                                           "storage_removed": "是"}, effective_date=DAY0)
    today = clock.day(5)
    listed = services.due.due()
    [item] = of(listed, "devices_away")
    assert item.subject == "JM-0001" and item.group(today) == OVERDUE and item.opens == item.opens.__class__(
        "computers", away.id)
    [repair] = of(listed, "devices_in_repair")
    assert repair.due == DAY0 + dt.timedelta(days=30)  # the default: 30 days
    services.due.set_threshold("devices_in_repair", "days", 3)
    [repair] = of(services.due.due(), "devices_in_repair")
    assert repair.due == DAY0 + dt.timedelta(days=3) and repair.group(today) == OVERDUE
    with services.db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.change")
                                .order_by(AuditEntry.id.desc())).first()
    assert entry.target == "提醒:维修时间过长" and entry.detail["changed"] == {"维修超过多少天提醒": [30, 3]}
    with pytest.raises(ValidationFailed):
        services.due.set_threshold("devices_in_repair", "days", 0)
    auditor = Services(services.db, Actor("shenji", Role.AUDITOR), clock=clock)
    with pytest.raises(PermissionDenied):
        auditor.due.set_threshold("devices_in_repair", "days", 5)


def test_a_classified_device_unlabelled_and_one_whose_person_left(services, clock, tmp_path):
    from mibao_desktop.printing import labels as L

    made = services.ledgers.create("computers", computer())
    [item] = of(services.due.due(), "unlabelled")
    assert item.due == DAY0 + dt.timedelta(days=7) and "尚未打印密级标识" in item.reason
    services.printing.labels(made.ledger, [made], tmp_path / "标识.pdf", L.PRESETS["a4-3x7"], record=False)
    assert of(services.due.due(), "unlabelled")  # a preview on screen prints nothing
    services.printing.labels(made.ledger, [made], tmp_path / "标识.pdf", L.PRESETS["a4-3x7"])
    assert of(services.due.due(), "unlabelled") == []
    with services.db.session() as session:  # printed, said in its history and its audit entry, in one go
        from mibao_desktop.db.models import AuditEntry, RecordEvent

        event = session.scalar(select(RecordEvent).where(RecordEvent.record_id == made.id,
                                                         RecordEvent.action == "label"))
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger.print")).one()
        assert event.at == entry.at == clock() and entry.detail["count"] == 1
    # devices brought in by an import were on the unit's books (and labelled) before MiBao
    services.ledgers.create_many("computers", [computer(asset_number="JM-0902", serial_number="SN-0902", disk_serials="WD-0902",
                                                        mac_addresses="00-1A-2B-3C-09-02")])
    assert of(services.due.due(), "unlabelled") == []
    # a medium imported naming someone the register says has left (调离)
    services.ledgers.create_many("people", [{"person_number": "RY-9", "name": "赵六", "department": "科研一处",
                                             "status": "调离"}])
    services.ledgers.create("media", medium(responsible_person="赵六(RY-9)"))
    [item] = of(services.due.due(), "devices_of_leavers")
    assert item.subject == "JMU-0001" and "责任人赵六已调离" in item.reason


def test_people_review_decommission_and_trips(services, clock):
    services.ledgers.create("people", {"name": "王芳", "department": "科研一处", "grade": "核心",
                                       "vetted_on": "2025-03-20"})
    [item] = of(services.due.due(), "reviews_due")
    assert item.due == dt.date(2026, 3, 20) and "核心涉密人员下次复审日期 2026-03-20" in item.reason
    services.ledgers.create("trips", {"trip_number": "CJ-1", "traveller": "王芳", "kind": "因公",
                                      "destinations": "德国", "leave_on": DAY0 + dt.timedelta(days=10),
                                      "return_on": DAY0 + dt.timedelta(days=15), "purpose": "学术会议"})
    trip = services.ledgers.find("trips", "CJ-1")
    services.travel.approve(trip.id, {"approver": "张处长"})
    [item] = of(services.due.due(), "trips_unbriefed")
    assert item.due == DAY0 + dt.timedelta(days=10) and item.action == "行前保密提醒谈话"
    services.travel.brief(trip.id, {"briefed_by": "李娜"})
    assert of(services.due.due(), "trips_unbriefed") == []
    today = clock.day(30)
    [item] = of(services.due.due(), "trips_unreported")
    assert item.due == DAY0 + dt.timedelta(days=25) and item.group(today) == OVERDUE


def test_the_declassification_review_is_recorded_with_its_approver_and_audited(services, clock):
    # 秘密, 1 year from 2025-03-20: its 保密期限 ends within the year
    made, _ids = carrier(services, level="秘密", secrecy_period="1年", classified_on="2025-03-20")
    [item] = of(services.due.due(), "declassification")
    assert item.due == dt.date(2026, 3, 20) and item.area == "定密" and item.opens.record_id == made.id
    with pytest.raises(ValidationFailed) as refused:
        services.declassification.review(made.id, "延期", "张处长")
    assert "新的保密期限" in str(refused.value)
    with pytest.raises(ValidationFailed):
        services.declassification.review(made.id, "解密", "")
    view = services.declassification.review(made.id, "延期", "张处长", new_period="5年", note="仍在使用")
    assert view.display("declassify_on") == "2030-03-20"
    assert of(services.due.due(), "declassification") == []
    history = services.ledgers.history(made.id)
    assert any(e.action == "review" and "延期,批准人 张处长" in (e.reason or "") for e in history)
    with services.db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "carrier.review")).one()
    assert entry.detail["outcome"] == "延期" and entry.detail["approver"] == "张处长"
    assert entry.detail["declassify_on"] == ["2026-03-20", "2030-03-20"]
    other, _ = carrier(services, number="ZT-2", level="秘密", secrecy_period="1年", classified_on="2025-03-10")
    services.declassification.review(other.id, "解密", "张处长")
    assert of(services.due.due(), "declassification") == []


def test_each_role_sees_the_items_of_its_job(services, clock, db):
    auditor = Services(db, Actor("shenji", Role.AUDITOR), clock=clock)
    sysadmin = Services(db, Actor("xitong", Role.SYSTEM_ADMIN), clock=clock)
    services.ledgers.create("computers", computer())  # an unlabelled device: the ledgers' job
    assert {r.key for r in auditor.due.rules_for()} == {"audit_unverified", "password_age"}
    assert "unlabelled" not in {r.key for r in sysadmin.due.rules_for()}
    assert of(auditor.due.due(), "unlabelled") == []
    # never verified: due a week after the log's first entry, on the auditor's list only
    clock.day(10)
    [item] = of(auditor.due.due(), "audit_unverified")
    assert item.reason == "审计日志从未校验" and item.opens.place == "audit_verify"
    assert of(services.due.due(), "audit_unverified") == []
    auditor.audit.verify()
    assert of(auditor.due.due(), "audit_unverified") == []
    clock.day(16)
    [item] = of(auditor.due.due(), "audit_unverified")
    assert item.due == DAY0 + dt.timedelta(days=17)


def test_revision_0030_takes_when_each_label_was_last_printed_from_the_history(empty_db_target):
    """Each record with 打印标识 events gets the latest one's time; one never labelled none; and the
    first screen then reads the column (the labelled computer is not listed, the other is)."""
    from sqlalchemy import text

    from mibao_desktop.db.database import Database

    db = Database.open(empty_db_target, migrate=False)
    try:
        db.upgrade(backup_dir=None, target="0029")
        made = dt.datetime.combine(DAY0, dt.time(9, 0))
        with db.engine.begin() as conn:
            for rid, number in ((1, "JM-0001"), (2, "JM-0002")):
                conn.execute(text("INSERT INTO records (id, ledger, label, voided) VALUES (:i, 'computers', :n, false)"),
                             {"i": rid, "n": number})
                conn.execute(text("INSERT INTO ledger_computers (id, asset_number, level, status, voided, created_at, "
                                  "updated_at, version) VALUES (:i, :n, '机密', '在用', false, :at, :at, 1)"),
                             {"i": rid, "n": number, "at": made})
            for hours in (1, 5):
                conn.execute(text("INSERT INTO record_events (record_id, ledger, at, actor, action, reason) "
                                  "VALUES (1, 'computers', :at, 'admin', 'label', '密级标识')"),
                             {"at": made + dt.timedelta(hours=hours)})
        db.upgrade(backup_dir=None)
        with db.engine.connect() as conn:
            got = dict(conn.execute(text("SELECT id, label_printed_at FROM ledger_computers")).all())
        printed = got[1] if isinstance(got[1], dt.datetime) else dt.datetime.fromisoformat(got[1])
        assert printed == made + dt.timedelta(hours=5) and got[2] is None
        s = Services(db, Actor.local_security_admin(), clock=Clock(DAY0))
        assert [i.subject for i in of(s.due.due(), "unlabelled")] == ["JM-0002"]
    finally:
        db.close()


def test_the_people_short_of_their_training_hours_are_listed_most_short_first(services, clock):
    """From 60 days before the year ends: each person short of the grade's minimum, the most short
    first, each opening the person; capped as any rule (the first screen says there are more)."""
    from mibao_desktop.ledgers.people import PEOPLE

    people = {name: services.ledgers.create("people", {"name": name, "department": "科研一处", "grade": grade})
              for name, grade in (("张伟", "核心"), ("李娜", "重要"), ("王强", "一般"), ("赵敏", "一般"))}
    assert of(services.due.due(), "training_short") == []  # March: not yet
    today = clock.day(290)  # 2026-12-17
    services.training.register({"held_on": today - dt.timedelta(days=30), "subject": "保密法学习", "hours": "6",
                                "lecturer": "保密办", "form": "集中培训"},
                               [people[n].id for n in ("张伟", "李娜", "赵敏")])
    services.training.register({"held_on": today - dt.timedelta(days=3), "subject": "案例警示", "hours": "1",
                                "lecturer": "保密办", "form": "集中培训"}, [people["李娜"].id])
    items = of(services.due.due(), "training_short")
    # 王强 (一般) 0 of 4: short 4; 张伟 (核心) 6 of 8: short 2; 李娜 (重要) 7 of 8: short 1; 赵敏 6 of 4: not short
    assert [(i.subject, i.opens.ledger, i.opens.record_id) for i in items] == [
        ("王强(科研一处)", PEOPLE.key, people["王强"].id), ("张伟(科研一处)", PEOPLE.key, people["张伟"].id),
        ("李娜(科研一处)", PEOPLE.key, people["李娜"].id)]
    assert items[0].reason == "2026 年保密教育培训 0 学时,不足一般涉密人员的 4 学时(差 4)"
    assert items[0].due == dt.date(2026, 12, 31) and items[0].action == "登记培训"
    first, more = of(services.due.due(per_rule=1), "training_short")
    assert first.subject == "王强(科研一处)" and "另有" in more.reason and more.opens.record_id is None
