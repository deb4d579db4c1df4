"""出国(境) and the exit documents held by the unit (issue 14 items 3, 4; seed 002 §六(二)2, seed
003 涉密人员管理制度 第六条, seed 000), on a real database file (and PostgreSQL with
MIBAO_TEST_DATABASE), with a clock the test sets."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from mibao_desktop.db.database import Database, alembic_config
from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import LifecycleError, PermissionDenied, ValidationFailed
from mibao_desktop.ledgers import exit_documents as X
from mibao_desktop.ledgers import trips as T
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.carrier_actions import RuleRefused
from mibao_desktop.services.context import Services
from tests.test_printing import pdftotext

DAY0 = dt.date(2026, 3, 2)


class Clock:
    def __init__(self, day: dt.date) -> None:
        self.now = dt.datetime.combine(day, dt.time(9, 30))

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, day: dt.date) -> None:
        self.now = dt.datetime.combine(day, dt.time(9, 30))


@pytest.fixture
def clock():
    return Clock(DAY0)


@pytest.fixture
def services(db, clock):
    return Services(db, Actor.local_security_admin(), clock=clock)


def person(services, name="李娜", grade="重要", **extra):
    return services.ledgers.create("people", {"name": name, "department": "科研一处", "grade": grade, **extra})


def passport(services, who, number="E12345678", **extra):
    return services.ledgers.create("exit_documents", {
        "document_number": number, "holder": who.label, "kind": "护照", "issued_on": "2020-05-01",
        "expires_on": "2030-04-30", "location": "人事处证件柜", **extra})


def trip(services, who, kind="因私", out=DAY0 + dt.timedelta(days=10), back=DAY0 + dt.timedelta(days=17)):
    return services.travel.apply({"traveller": who.label, "kind": kind, "destinations": "日本",
                                  "leave_on": out, "return_on": back, "purpose": "旅游", "applied_on": DAY0})


HANDED = {"collector": "李娜", "handler": "人事处 王敏"}
BACK = {"returner": "李娜", "handler": "人事处 王敏"}


def test_a_document_is_handed_out_only_after_the_briefing_and_is_overdue_when_not_back_in_time(services, clock):
    who = person(services)
    doc = passport(services, who)
    t = trip(services, who)
    assert t.status == "待审批" and t.values["restriction"] is None
    with pytest.raises(RuleRefused, match="已批准"):
        services.travel.collect(doc.id, t.id, HANDED)
    services.travel.approve(t.id, {"approver": "张副所长"})
    with pytest.raises(RuleRefused) as refused:
        services.travel.collect(doc.id, t.id, HANDED)
    assert "尚未进行行前保密提醒谈话" in str(refused.value) and "行前保密提醒" in refused.value.rule
    assert services.ledgers.get(doc.id).status == "在库"  # nothing changed by the refusal
    services.travel.brief(t.id, {"briefed_by": "保密办 刘洋", "briefing_notes": "政治纪律、外事纪律、保密纪律"})
    assert services.ledgers.history(t.id)[0].action_label == "行前保密提醒谈话"  # said in Chinese, not its key
    handed = services.travel.collect(doc.id, t.id, HANDED)
    assert handed.status == "已领取"
    # due back the trip's return day plus the default period of 10 days (seed 000)
    assert handed.values["due_on"] == DAY0 + dt.timedelta(days=27)
    assert handed.values["trip"].text == t.number
    history = services.ledgers.history(doc.id)
    assert history[0].changes[0].new == "已领取"
    assert {c.label: c.new for c in history[0].changes}["经办人"] == "人事处 王敏"

    assert services.travel.overdue(DAY0 + dt.timedelta(days=27)) == []
    late = services.travel.overdue(DAY0 + dt.timedelta(days=30))
    assert [(l.number, l.holder, l.trip, l.days) for l in late] == [("E12345678", "李娜", t.number, 3)]
    assert "逾期 3 天未交回" in late[0].note

    clock.set(DAY0 + dt.timedelta(days=30))
    services.travel.report(t.id, {"report": "按计划行程往返,无异常情况。"}, effective_date=DAY0 + dt.timedelta(days=18))
    with pytest.raises(ValidationFailed, match="不能早于它"):  # a 交回 dated before its 领取
        services.travel.hand_back(doc.id, BACK, effective_date=DAY0 - dt.timedelta(days=1))
    back = services.travel.hand_back(doc.id, BACK)
    assert back.status == "在库" and back.values["due_on"] is None
    assert services.travel.overdue(DAY0 + dt.timedelta(days=30)) == []
    with services.ledgers.db.session() as s:
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.detail["late"].startswith("逾期 3 天交回")
    assert services.ledgers.get(t.id).status == "已回国"


def test_an_approved_trip_keeps_what_was_approved(services, clock):
    """修改 of an approved trip's traveller, kind, where, when, why or with whom is refused,
    naming the fields and the way (撤销申请, a new application): what was approved, briefed
    and the document's 应交回日期 follow from them. Before approval, and its 备注 after, edit."""
    who = person(services)
    doc = passport(services, who)
    t = trip(services, who)
    assert services.ledgers.update(t.id, {"destinations": "日本、韩国"}).values["destinations"] == "日本、韩国"
    services.travel.approve(t.id, {"approver": "张副所长"})
    services.travel.brief(t.id, {"briefed_by": "保密办 刘洋"})
    services.travel.collect(doc.id, t.id, HANDED)
    for change in ({"return_on": DAY0 + dt.timedelta(days=40)}, {"destinations": "美国"},
                   {"leave_on": DAY0 + dt.timedelta(days=5), "companions": "配偶"}):
        with pytest.raises(LifecycleError, match="已批准") as refused:
            services.ledgers.update(t.id, change)
        assert "撤销申请" in str(refused.value)
        assert all(T.TRIPS.field(n).label in str(refused.value) for n in change)
    assert services.ledgers.get(t.id).values["return_on"] == DAY0 + dt.timedelta(days=17)
    assert services.ledgers.get(doc.id).values["due_on"] == DAY0 + dt.timedelta(days=27)
    assert services.ledgers.update(t.id, {"remarks": "行程未变"}).values["remarks"] == "行程未变"
    clock.set(DAY0 + dt.timedelta(days=20))
    services.travel.report(t.id, {"report": "按计划往返"})
    with pytest.raises(LifecycleError, match="已回国.*备注"):  # no 撤销申请 to point to once back
        services.ledgers.update(t.id, {"return_on": DAY0 + dt.timedelta(days=18)})


def test_the_three_forms_print_filled_from_the_records(services, clock, tmp_path):
    core = person(services, "赵强", grade="核心", post="机要员")
    doc = passport(services, core)
    t = trip(services, core)
    out = tmp_path / "approval.pdf"
    assert services.printing.form("trip_approval", t.ledger, [t], out) == 1
    text = pdftotext(out).replace(" ", "")
    for said in ("出国(境)审批表", "赵强", "科研一处", "机要员", "核心", "■因私", "日本", "2026年03月12日", "2026年03月19日",
                 "旅游", T.CORE_PRIVATE, "审批须写明特批理由"):
        assert said.replace(" ", "") in text, said
    services.travel.approve(t.id, {"approver": "张副所长", "exception_reason": "母亲病危,所务会同意"})
    services.travel.brief(t.id, {"briefed_by": "保密办刘洋", "briefing_notes": "不携带工作电脑"})
    t = services.ledgers.get(t.id)
    services.printing.form("trip_approval", t.ledger, [t], out)
    text = pdftotext(out).replace(" ", "")
    assert "同意。审批人:张副所长" in text and "母亲病危" in text and "审批须写明特批理由" not in text
    brief = tmp_path / "briefing.pdf"
    assert services.printing.form("trip_briefing", t.ledger, [t], brief) == 1
    text = pdftotext(brief).replace(" ", "")
    for said in ("行前保密提醒谈话记录", "赵强", "机要员", "2026年03月02日", "保密办刘洋", "其他:不携带工作电脑",
                 "外事纪律和保密纪律", "谈话对象(签字)"):
        assert said in text, said
    services.travel.collect(doc.id, t.id, {"collector": "赵强", "handler": "人事处王敏"})
    clock.set(DAY0 + dt.timedelta(days=30))
    services.travel.hand_back(doc.id, {"returner": "赵强", "handler": "人事处李静"})
    register = tmp_path / "register.pdf"
    services.printing.form("document_register", doc.ledger, [services.ledgers.get(doc.id)], register)
    text = pdftotext(register).replace(" ", "")
    for said in ("因私出入境证件领取、交回登记", "E12345678", "赵强", t.number, "2026-03-02", "人事处王敏", "2026-03-29",
                 "2026-04-01", "人事处李静", "逾期3天"):
        assert said in text, said


def test_core_private_travel_is_marked_and_approved_only_with_an_exception_reason(services):
    core = person(services, "赵强", grade="核心")
    t = trip(services, core)
    assert t.values["restriction"] == T.CORE_PRIVATE
    with pytest.raises(LifecycleError, match="审批同意"):  # no bare 变更状态 around the rule
        services.ledgers.change_status(t.id, "已批准")
    with pytest.raises(RuleRefused) as refused:
        services.travel.approve(t.id, {"approver": "张副所长"})
    assert "特批理由" in str(refused.value) and "核心涉密人员因私出国(境)原则上不予批准" in refused.value.rule
    assert services.ledgers.get(t.id).status == "待审批"
    ok = services.travel.approve(t.id, {"approver": "张副所长", "exception_reason": "母亲病危,经所务会研究同意"})
    assert ok.status == "已批准" and ok.values["exception_reason"].startswith("母亲病危")
    # official travel of the same person carries no mark
    assert trip(services, core, kind="因公").values["restriction"] is None


def test_a_person_in_their_decommissioning_period_needs_the_same_exception(services, db):
    who = person(services, "周敏", grade="一般")
    with db.write() as s:  # put them in their 脱密期 as the departure procedure would
        from mibao_desktop.db.schema import table_of
        from mibao_desktop.ledgers import PEOPLE
        t = table_of(PEOPLE)
        s.execute(t.update().where(t.c.id == who.id).values(status="脱密期"))
    official = trip(services, who, kind="因公")
    assert official.values["restriction"] == T.IN_DECOMMISSION
    with pytest.raises(RuleRefused) as refused:
        services.travel.approve(official.id, {"approver": "张副所长"})
    assert "保密法》第四十六条" in refused.value.rule
    services.travel.approve(official.id, {"approver": "张副所长", "exception_reason": "上级机关批准的公务"})


def test_document_numbers_are_checked_by_kind_and_unique(services):
    who = person(services)
    with pytest.raises(ValidationFailed) as wrong:
        passport(services, who, number="C12345678")
    assert "不像护照号码" in str(wrong.value)
    permit = services.ledgers.create("exit_documents", {"document_number": "c 1234 5678".replace(" ", ""),
                                                        "holder": who.label, "kind": "港澳通行证",
                                                        "expires_on": "2031-01-01"})
    assert permit.values["kind"] == "往来港澳通行证" and permit.number == "C12345678"
    passport(services, who)
    with pytest.raises(ValidationFailed):
        passport(services, who)  # the same passport twice


def test_expiring_and_people_with_no_document_on_file(services):
    a, b = person(services, "甲"), person(services, "乙", grade="核心")
    person(services, "丙", grade="非涉密")  # not classified staff: no document expected
    passport(services, a, expires_on=DAY0 + dt.timedelta(days=90))
    assert [l.number for l in services.travel.expiring(DAY0)] == ["E12345678"]
    assert services.travel.expiring(DAY0, days=30) == []
    missing = services.travel.without_document()
    assert [(p.name, p.grade) for p in missing] == [("乙", "核心")]
    watch = services.travel.watch(DAY0)
    assert watch.return_days == 10 and watch.expiry_days == 180 and len(watch.without_document) == 1


def test_the_periods_are_the_security_administrators_setting(services, db, clock):
    assert services.travel.set_periods(return_days=15) == (15, 180)
    with pytest.raises(ValidationFailed):
        services.travel.set_periods(expiry_days=0)
    auditor = Services(db, Actor("审计员", Role.AUDITOR), clock=clock)
    with pytest.raises(PermissionDenied):
        auditor.travel.set_periods(return_days=20)
    who = person(services)
    doc = passport(services, who)
    t = trip(services, who)
    services.travel.approve(t.id, {"approver": "张副所长"})
    services.travel.brief(t.id, {"briefed_by": "刘洋"})
    assert services.travel.collect(doc.id, t.id, HANDED).values["due_on"] == DAY0 + dt.timedelta(days=17 + 15)


def test_a_document_is_not_handed_out_for_someone_elses_trip_nor_expiring_before_the_return(services):
    a, b = person(services, "甲"), person(services, "乙")
    doc = passport(services, a, expires_on=DAY0 + dt.timedelta(days=12))
    other = trip(services, b)
    services.travel.approve(other.id, {"approver": "张"})
    services.travel.brief(other.id, {"briefed_by": "刘"})
    with pytest.raises(RuleRefused, match="不是 护照 E12345678 持证人本人"):
        services.travel.collect(doc.id, other.id, HANDED)
    own = trip(services, a)
    services.travel.approve(own.id, {"approver": "张"})
    services.travel.brief(own.id, {"briefed_by": "刘"})
    with pytest.raises(RuleRefused, match="早于回国"):
        services.travel.collect(doc.id, own.id, HANDED)


def test_revision_0024_creates_the_trips_and_documents_tables_on_a_database_at_0023(empty_db_target):
    db = Database.open(empty_db_target, migrate=False)
    try:
        db.upgrade(backup_dir=None, target="0023")
        assert "ledger_trips" not in inspect(db.engine).get_table_names()
        db.upgrade(backup_dir=None, target="0024")
        names = inspect(db.engine).get_table_names()
        assert {"ledger_trips", "ledger_exit_documents", "ledger_trips_search", "ledger_exit_documents_search"} <= set(names)
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("ledger_exit_documents")}
        assert "ix_ledger_exit_documents_due_on" in indexes
        assert ScriptDirectory.from_config(alembic_config()).get_revision("0024").down_revision == "0023"
    finally:
        db.close()


def test_the_sample_passports_are_made_on_a_day_400_days_after_a_leap_day(monkeypatch):
    """mibao demo on 2025-04-04 made a passport issued 2024-02-29 and gave it 2034-02-29, a day
    that does not exist (ValueError, the demo stopped): it expires on 2034-02-28."""
    import random
    import types

    from mibao_desktop.ledgers import exit_documents
    from mibao_desktop.ledgers.declaration import SampleContext

    class Day(dt.date):
        @classmethod
        def today(cls):
            return dt.date(2025, 4, 4)

    monkeypatch.setattr(exit_documents, "dt", types.SimpleNamespace(date=Day, timedelta=dt.timedelta))
    made = {"people": [{"name": "王芳", "person_number": "RY-0001", "grade": "重要"}]}
    rows = list(exit_documents._sample(SampleContext(random.Random(1), 1.0, made, ["王芳"])))
    assert rows[0]["issued_on"] == "2024-02-29" and rows[0][exit_documents.EXPIRES_ON] == "2034-02-28"
