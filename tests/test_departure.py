"""离岗离职, the 脱密期 and the major-event reports (issue 14 items 1, 5, 6; seed 002 §六, seed
003 涉密人员管理制度 第七、八条), on a real database file (and PostgreSQL with
MIBAO_TEST_DATABASE), with a clock the test sets."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import LifecycleError, PermissionDenied, ValidationFailed
from mibao_desktop.ledgers import decommission
from mibao_desktop.ledgers.major_events import KINDS
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.context import Services
from tests.conftest import computer, medium

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


FACTS = {"reason": "调往市档案局工作", "briefed_on": DAY0, "briefed_by": "保密办 王主任",
         "pledge_signed_on": DAY0, "access_revoked_by": "信息中心 刘工", "access_revoked_on": DAY0}


def person(services, name="赵强", grade="核心", **extra):
    return services.ledgers.create("people", {"name": name, "department": "科研一处", "grade": grade, **extra})


def holding_everything(services, who):
    """A computer (责任人 and 使用人), a medium, a carrier kept by the person and one copy lent
    to them from a carrier kept by someone else."""
    pc = services.ledgers.create("computers", computer(responsible_person=who.label, user=who.label))
    usb = services.ledgers.create("media", medium(responsible_person=who.label))
    own = services.ledgers.create("carriers", dict(carrier_number="ZT-1", title="型号总体方案", level="机密",
                                                   classified_on="2026-01-05", copies=1, keeper=who.label,
                                                   department="科研一处"))
    own_copy = services.ledgers.create("carrier_copies", {"copy_number": 1, "holder": who.label}, parent_id=own.id)
    other = services.ledgers.create("carriers", dict(carrier_number="ZT-2", title="年度计划", level="秘密",
                                                     classified_on="2026-01-05", copies=1, keeper="李娜",
                                                     department="保密办", scope="全体人员"))
    lent = services.ledgers.create("carrier_copies", {"copy_number": 1, "holder": "李娜"}, parent_id=other.id)
    services.carrier_actions.lend([lent.id], {"borrower": who.label, "due_back": DAY0 + dt.timedelta(days=10),
                                              "approver": "王主任"}, effective_date=DAY0)
    return pc, usb, own, own_copy, lent


def test_what_a_person_holds_is_listed_and_blocks_leaving_until_each_is_returned(services):
    who = person(services)
    pc, usb, own, own_copy, lent = holding_everything(services, who)
    departure = services.departure
    held = departure.holdings(who.id)
    assert [(h.noun, h.number, h.roles) for h in held] == [
        ("涉密计算机", "JM-0001", "使用人、责任人"), ("移动存储介质", "JMU-0001", "责任人"),
        ("涉密载体", "ZT-1", "保管人"), ("载体份", "ZT-1·份号1", "持有人"), ("载体份", "ZT-2·份号1", "持有人")]
    # a lent copy goes back to its carrier's 保管人; a copy of the carrier they keep has nobody to go back to
    assert [h.can_give_back for h in held] == [False, False, False, False, True]
    with pytest.raises(LifecycleError, match="手中还有 5 件未清退:涉密计算机 JM-0001.*ZT-2·份号1"):
        departure.leave(who.id, "脱密期", FACTS)
    assert services.ledgers.get(who.id).status == "在岗"  # nothing stored

    lent_back, = departure.give_back(who.id, [lent.id])
    assert lent_back.status == "在管" and lent_back.display("holder") == "李娜"
    with pytest.raises(ValidationFailed, match="批准人"):
        departure.hand_over(who.id, [pc.id], "孙丽", approver="")
    with pytest.raises(ValidationFailed, match="不能是离岗的赵强本人"):
        departure.hand_over(who.id, [pc.id], "赵强", approver="王主任")
    gone = person(services, name="钱多", grade=None)
    departure.leave(gone.id, "退休", {**FACTS, "reason": "退休"})
    with pytest.raises(ValidationFailed, match="钱多 当前为“退休”,已不在岗"):
        departure.hand_over(who.id, [pc.id], "钱多", approver="王主任")
    departure.hand_over(who.id, [pc.id, usb.id, own.id, own_copy.id], "孙丽", approver="王主任")
    assert departure.holdings(who.id) == []
    assert services.ledgers.get(pc.id).display("user") == "孙丽"
    assert services.ledgers.get(pc.id).display("responsible_person") == "孙丽"
    assert services.ledgers.get(own.id).display("keeper") == "孙丽"
    assert services.ledgers.get(own_copy.id).display("holder") == "孙丽"
    assert any("离岗交接" in (e.reason or "") for e in services.ledgers.history(pc.id))

    left = departure.leave(who.id, "脱密期", FACTS)
    assert left.status == "脱密期"
    assert left.values["decommission_from"] == DAY0
    assert left.values["decommission_until"] == dt.date(2029, 3, 1)  # 核心: 3 years by default
    change = services.ledgers.history(who.id)[0]
    said = {c.label: c.new for c in change.changes}
    assert said["状态"] == "脱密期" and said["谈话人"] == "保密办 王主任" and said["脱密期截止"] == "2029-03-01"
    assert said["取消涉密系统权限经办人"] == "信息中心 刘工"


def test_a_copy_lent_out_must_come_back_before_it_is_handed_over(services):
    who = person(services)
    *_rest, lent = holding_everything(services, who)
    with pytest.raises(LifecycleError, match="ZT-2·份号1 未能移交.*借出.*须先归还"):
        services.departure.hand_over(who.id, [lent.id], "孙丽", approver="王主任")


def test_leaving_needs_the_talk_the_commitment_and_the_revoked_access(services):
    who = person(services)
    with pytest.raises(ValidationFailed) as refused:
        services.departure.leave(who.id, "调离", {"reason": "调动"})
    assert set(refused.value.errors) == {"briefed_on", "briefed_by", "pledge_signed_on", "access_revoked_by",
                                         "access_revoked_on"}
    no_grade = person(services, name="钱多", grade=None)
    with pytest.raises(ValidationFailed, match="未定涉密等级"):
        services.departure.leave(no_grade.id, "脱密期", FACTS)
    assert services.departure.leave(no_grade.id, "退休", {**FACTS, "reason": "退休"}).status == "退休"
    assert services.ledgers.get(no_grade.id).values["decommission_until"] is None


def test_a_bare_status_change_out_of_service_points_to_the_procedure(services):
    who = person(services)
    with pytest.raises(LifecycleError, match="须办理“离岗离职”"):
        services.ledgers.change_status(who.id, "调离", reason="调动", confirm_referenced=True)


def test_the_period_follows_the_grade_and_the_units_setting(services):
    assert services.departure.periods() == {"核心": 36, "重要": 24, "一般": 12}
    with pytest.raises(ValidationFailed, match="6个月至3年"):
        services.departure.set_periods({"核心": 48, "重要": 24, "一般": 12})
    with pytest.raises(ValidationFailed, match="月数"):
        services.departure.set_periods({"核心": "三年", "重要": 24, "一般": 12})
    services.departure.set_periods({"核心": 30, "重要": 18, "一般": 6})
    who = person(services, grade="一般")
    plan = services.departure.plan(who.id)
    assert (plan.months, plan.end) == (6, dt.date(2026, 9, 1)) and plan.period_text == "6个月(2026年03月02日至2026年09月01日)"
    left = services.departure.leave(who.id, "脱密期", FACTS)
    assert left.values["decommission_until"] == dt.date(2026, 9, 1)
    auditor = Services(services.db, Actor("审计员", Role.AUDITOR))
    with pytest.raises(PermissionDenied):
        auditor.departure.set_periods({"核心": 30, "重要": 18, "一般": 6})
    with services.db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.change")
                                .order_by(AuditEntry.id.desc())).first()
        assert entry.target == "脱密期" and entry.detail["changed"]["核心涉密人员"] == ["3年", "2年6个月"]


def test_the_end_of_the_period_moves_the_person_to_decommissioned_with_a_history_entry(services, clock):
    who = person(services, grade="一般")
    services.departure.leave(who.id, "脱密期", FACTS)  # until 2027-03-01
    clock.set(dt.date(2027, 3, 1))
    assert services.departure.end_due() == []  # the last day of the period: still in it
    assert services.ledgers.get(who.id).status == "脱密期"
    clock.set(dt.date(2027, 3, 5))
    moved, = services.departure.end_due()
    assert moved.status == "已脱密"
    entry = services.ledgers.history(who.id)[0]
    assert entry.status_moved == ("脱密期", "已脱密") and entry.effective_date == dt.date(2027, 3, 2)
    assert "脱密期满(脱密期截止 2027-03-01)" in entry.reason
    assert services.departure.end_due() == []  # once
    with services.db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "record.status")
                                .order_by(AuditEntry.id.desc())).first()
        assert entry.detail["to"] == "已脱密"


def test_a_selection_is_handed_over_all_or_nothing_naming_each_item_that_cannot_go(services):
    """移交所选 is one transaction: when any item may not go (a copy still lent out, a
    passport out), nothing moves, and the refusal names each of them, not only the first."""
    who = person(services)
    pc, usb, own, own_copy, lent = holding_everything(services, who)
    other = services.ledgers.create("carriers", dict(carrier_number="ZT-3", title="会议纪要", level="秘密",
                                                     classified_on="2026-01-05", copies=1, keeper="李娜",
                                                     department="保密办", scope="全体人员"))
    lent_too = services.ledgers.create("carrier_copies", {"copy_number": 1, "holder": "李娜"}, parent_id=other.id)
    services.carrier_actions.lend([lent_too.id], {"borrower": who.label, "due_back": DAY0 + dt.timedelta(days=10),
                                                  "approver": "王主任"}, effective_date=DAY0)
    chosen = [pc.id, usb.id, lent.id, own.id, own_copy.id, lent_too.id]
    with pytest.raises(LifecycleError) as refused:
        services.departure.hand_over(who.id, chosen, "孙丽", approver="王主任")
    said = str(refused.value)
    assert "ZT-2·份号1" in said and "ZT-3·份号1" in said and "均未移交" in said
    assert "JM-0001" not in said
    assert services.ledgers.get(pc.id).display("responsible_person") == "赵强"  # nothing moved
    assert services.ledgers.get(own.id).display("keeper") == "赵强"
    assert services.ledgers.get(own_copy.id).display("holder") == "赵强"
    assert len(services.departure.holdings(who.id)) == 6
    done = services.departure.hand_over(who.id, [pc.id, usb.id, own.id, own_copy.id], "孙丽", approver="王主任")
    assert len(done) == 4 and [h.record.id for h in services.departure.holdings(who.id)] == [lent.id, lent_too.id]


def test_the_next_review_is_cleared_while_out_of_post_and_computed_again_on_return(services, clock):
    """下次复审日期 is for people in post: leaving clears it (the 首页's 复审 due reads it), the
    end of the 脱密期, a saved 复审周期 or an import of a leaver does not bring it back, and
    coming back to the post computes it again."""
    who = person(services, grade="一般", vetted_on="2025-01-10")
    assert services.ledgers.get(who.id).values["next_review"] == dt.date(2030, 1, 10)
    left = services.departure.leave(who.id, "脱密期", FACTS)
    assert left.values["next_review"] is None
    entry = services.ledgers.history(who.id)[0]
    assert [(c.old, c.new) for c in entry.changes if c.field == "next_review"] == [("2030-01-10", "")]
    services.settings.set_review_intervals({"一般": 4})
    assert services.ledgers.get(who.id).values["next_review"] is None
    clock.set(dt.date(2027, 3, 5))
    services.departure.end_due()
    assert services.ledgers.get(who.id).values["next_review"] is None
    back = services.ledgers.change_status(who.id, "在岗", reason="重新任用")
    assert back.values["next_review"] == dt.date(2029, 1, 10)  # the interval saved meanwhile
    result = services.ledgers.create_many("people", [
        {"name": "孙立", "grade": "核心", "vetted_on": "2025-05-01", "status": "调离"},
        {"name": "周平", "grade": "核心", "vetted_on": "2025-05-01"}])
    assert [services.ledgers.get(rid).values["next_review"] for rid in result.created] == [None, dt.date(2026, 5, 1)]


def test_an_exit_document_out_with_the_person_is_held_until_it_is_handed_back(services):
    """A passport 已领取 by its 持证人 is in their hands: listed among what they hold, not
    handed over to someone else (it goes back to the unit by 交回), and the person is not let go
    until it is back. In the unit's safe it is nobody's item to clear."""
    who = person(services, grade="重要")
    passport = services.ledgers.create("exit_documents", {
        "document_number": "E12345678", "holder": who.label, "kind": "护照", "issued_on": "2020-05-01",
        "expires_on": "2030-04-30"})
    services.ledgers.create("exit_documents", {"document_number": "C12345678", "holder": who.label,
                                               "kind": "往来港澳通行证", "expires_on": "2030-04-30"})
    assert services.departure.holdings(who.id) == []
    trip = services.travel.apply({"traveller": who.label, "kind": "因私", "destinations": "日本", "purpose": "旅游",
                                  "leave_on": DAY0, "return_on": DAY0 + dt.timedelta(days=5), "applied_on": DAY0})
    services.travel.approve(trip.id, {"approver": "张副所长"})
    services.travel.brief(trip.id, {"briefed_by": "保密办 刘洋"})
    services.travel.collect(passport.id, trip.id, {"collector": who.label, "handler": "人事处 王敏"})
    held, = services.departure.holdings(who.id)
    assert (held.record.id, held.noun, held.number, held.roles) == (passport.id, "出入境证件", "E12345678", "持证人")
    with pytest.raises(LifecycleError, match="E12345678") as refused:
        services.departure.leave(who.id, "脱密期", FACTS)
    assert "出入境证件 E12345678" in str(refused.value)
    with pytest.raises(LifecycleError, match="交回"):
        services.departure.hand_over(who.id, [passport.id], "李娜", approver="王主任")
    assert services.ledgers.get(passport.id).values["holder"].id == who.id
    services.travel.hand_back(passport.id, {"returner": who.label, "handler": "人事处 王敏"})
    assert services.departure.holdings(who.id) == []
    assert services.departure.leave(who.id, "脱密期", FACTS).status == "脱密期"


def test_a_major_event_report_is_under_the_person_in_their_history_and_audited(services):
    who = person(services)
    report = services.departure.report_major_event(who.id, {
        "kind": "涉外婚姻", "reported_on": "2026-02-20", "content": "本人拟与加拿大籍人员结婚。",
        "handling": "已报局保密办备案,调整工作岗位", "reported_to": "保密办"})
    assert report.display("kind") == KINDS[3] and report.parent_id == who.id and report.number == "ZX-0001"
    entry = services.ledgers.history(who.id)[0]
    assert entry.action_label == "重大事项报告" and entry.changes[0].new == f"重大事项报告 ZX-0001:{KINDS[3]}"
    # the same from the person's page (the child tab's 新增: the ledger service itself)
    services.ledgers.create("major_event_reports", {"kind": 6, "reported_on": "2026-02-21", "content": "其他情况"},
                            parent_id=who.id)
    assert services.ledgers.history(who.id)[0].changes[0].new == f"重大事项报告 ZX-0002:{KINDS[5]}"
    with services.db.session() as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "record.create",
                                                           AuditEntry.target == "major_event_reports:ZX-0001")).one()
        assert audited.detail["person"] == "赵强"
    with pytest.raises(ValidationFailed, match="事项类别"):
        services.departure.report_major_event(who.id, {"kind": "买彩票中奖", "reported_on": "2026-02-20",
                                                       "content": "中奖"})


def test_decommission_ends_on_the_day_before_the_same_date_months_later():
    assert decommission.end_of(dt.date(2026, 3, 1), 6) == dt.date(2026, 8, 31)
    # the month with no 31st: the period runs to its last day, never shorter than the months
    # (a start on 08-28 ends on 02-27; on 08-29, 08-30 or 08-31 on 02-28, on 02-29 in a leap year)
    assert decommission.end_of(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert decommission.end_of(dt.date(2026, 8, 28), 6) == dt.date(2027, 2, 27)
    assert decommission.end_of(dt.date(2027, 8, 30), 6) == dt.date(2028, 2, 29)
    assert decommission.end_of(dt.date(2027, 2, 28), 12) == dt.date(2028, 2, 27)
    assert decommission.end_of(dt.date(2028, 2, 29), 12) == dt.date(2029, 2, 28)
    assert decommission.end_of(dt.date(2026, 1, 31), 36) == dt.date(2029, 1, 30)
    assert decommission.end_of(dt.date(2026, 12, 31), 6) == dt.date(2027, 6, 30)
    assert decommission.months_text(18) == "1年6个月"


def test_revision_0027_clears_the_next_review_of_people_out_of_post(empty_db_target):
    """People who left before 下次复审日期 followed the status keep none after the upgrade; those
    in post keep theirs."""
    from sqlalchemy import text

    from mibao_desktop.db.database import Database

    db = Database.open(empty_db_target, migrate=False)
    try:
        db.upgrade(backup_dir=None, target="0026")
        at = dt.datetime(2026, 6, 5, 10, 0)
        people = ((1, "在岗"), (2, "脱密期"), (3, "已脱密"), (4, "调离"), (5, "退休"))
        with db.engine.begin() as conn:
            for rid, status in people:
                conn.execute(text("INSERT INTO records (id, ledger, label, voided) VALUES (:i, 'people', :n, false)"),
                             {"i": rid, "n": f"人{rid}"})
                conn.execute(text("INSERT INTO ledger_people (id, person_number, name, status, next_review, voided, "
                                  "created_at, updated_at, version) VALUES (:i, :p, :n, :s, :d, false, :at, :at, 1)"),
                             {"i": rid, "p": f"RY-{rid:04d}", "n": f"人{rid}", "s": status,
                              "d": dt.date(2027, 1, rid), "at": at})
        db.upgrade(backup_dir=None)
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, next_review FROM ledger_people ORDER BY id")).all()
        assert [(r[0], r[1] if isinstance(r[1], (dt.date, type(None))) else dt.date.fromisoformat(r[1]))
                for r in rows] == [(1, dt.date(2027, 1, 1)), (2, None), (3, None), (4, None), (5, None)]
    finally:
        db.close()


def test_revision_0022_moves_the_people_who_left_to_the_new_statuses(empty_db_target):
    """离职 becomes 调离, or 退休 where the change into it or the 备注 said so: the row, the
    history, the counts by status and the year's tallies of moves."""
    from sqlalchemy import text

    from mibao_desktop.db.database import Database

    db = Database.open(empty_db_target, migrate=False)
    try:
        db.upgrade(backup_dir=None, target="0021")
        at = dt.datetime(2025, 6, 5, 10, 0)
        people = ((1, "RY-0001", "甲", "离职", None), (2, "RY-0002", "乙", "离职", None),
                  (3, "RY-0003", "丙", "离职", "2024年已退休"), (4, "RY-0004", "丁", "在岗", None))
        with db.engine.begin() as conn:
            for rid, number, name, status, remarks in people:
                conn.execute(text("INSERT INTO records (id, ledger, label, voided) VALUES (:i, 'people', :n, false)"),
                             {"i": rid, "n": name})
                conn.execute(text("INSERT INTO ledger_people (id, person_number, name, status, remarks, voided, "
                                  "created_at, updated_at, version) VALUES (:i, :p, :n, :s, :r, false, :at, :at, 1)"),
                             {"i": rid, "p": number, "n": name, "s": status, "r": remarks, "at": at})
            for eid, rid, reason in ((1, 1, "辞职"), (2, 2, "到龄退休")):
                conn.execute(text("INSERT INTO record_events (id, record_id, ledger, at, actor, action, reason) "
                                  "VALUES (:e, :r, 'people', :at, '保密员', 'status', :why)"),
                             {"e": eid, "r": rid, "at": at, "why": reason})
                conn.execute(text("INSERT INTO field_changes (id, event_id, field, old_value, new_value) "
                                  "VALUES (:e, :e, 'status', '在岗', '离职')"), {"e": eid})
            conn.execute(text("INSERT INTO facet_counts (ledger, field, value, count) VALUES "
                              "('people', 'status', '离职', 3), ('people', 'status', '在岗', 1)"))
            conn.execute(text("INSERT INTO event_tallies (ledger, year, action, status, count) VALUES "
                              "('people', 2025, 'status', '离职', 2)"))
        db.upgrade(backup_dir=None, target="0022")
        with db.engine.connect() as conn:
            statuses = conn.execute(text("SELECT id, status FROM ledger_people ORDER BY id")).all()
            changes = conn.execute(text("SELECT event_id, new_value FROM field_changes ORDER BY event_id")).all()
            counts = dict(conn.execute(text("SELECT value, count FROM facet_counts WHERE ledger = 'people' "
                                            "AND field = 'status'")).all())
            tallies = dict(conn.execute(text("SELECT status, count FROM event_tallies WHERE ledger = 'people'")).all())
        assert [tuple(r) for r in statuses] == [(1, "调离"), (2, "退休"), (3, "退休"), (4, "在岗")]
        assert [tuple(r) for r in changes] == [(1, "调离"), (2, "退休")]
        assert counts == {"调离": 1, "退休": 2, "在岗": 1}
        assert tallies == {"调离": 1, "退休": 1}
    finally:
        db.close()


def _pdf_text(path) -> str:
    import subprocess

    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_the_departure_pledge_prints_filled_during_the_procedure_and_after(services, tmp_path):
    who = person(services, post="机要员")
    plan = services.departure.plan(who.id)
    target = tmp_path / "pledge.pdf"
    services.printing.form("departure", None, [who], target,
                           departure=plan.form_facts("脱密期", {**FACTS, "pledge_signed_on": None}))
    text = _pdf_text(target).replace(" ", "")
    assert "离岗保密承诺书" in text and "赵强" in text and "机要员" in text and "核心" in text
    assert "2026年03月02日保密办王主任" in text  # the talk: when and who held it
    assert "3年(2026年03月02日至2029年03月01日)" in text
    assert "脱密期自2026年03月02日至2029年03月01日" in text
    assert "离岗原因调往市档案局工作离岗后脱密期" in text
    services.departure.leave(who.id, "脱密期", FACTS)
    after = tmp_path / "after.pdf"
    services.printing.form("departure", None, [services.ledgers.get(who.id)], after)
    text = _pdf_text(after).replace(" ", "")
    assert "脱密期自2026年03月02日至2029年03月01日" in text and "2026年03月02日保密办王主任" in text
    assert "日期:2026年03月02日" in text  # signed on the day recorded


@pytest.mark.sqlite_only
def test_the_command_line_ends_the_periods_due_and_lists_who_is_within_one(tmp_path, capsys, monkeypatch):
    from mibao_desktop.cli import main
    from mibao_desktop.db.database import Database
    from tests.test_cli import accounts_only

    passwords = accounts_only(tmp_path)
    db = Database.open(tmp_path / "mibao.sqlite")
    services = Services(db, Actor.local_security_admin())
    today = dt.date.today()
    for name, start in (("甲", today - dt.timedelta(days=400)), ("乙", today - dt.timedelta(days=30))):
        who = person(services, name=name, grade="一般")
        services.departure.leave(who.id, "脱密期", {**FACTS, "briefed_on": start, "pledge_signed_on": start,
                                                   "access_revoked_on": start}, effective_date=start)
    db.close()
    monkeypatch.setenv("MIBAO_PASSWORD", passwords["baomi"])
    args = ["--data-dir", str(tmp_path), "--user", "baomi", "decommission-check"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "甲(RY-0001)脱密期已于" in out and "已转为已脱密" in out
    assert "脱密期内的人员 1 人" in out and "乙(RY-0002)" in out
    assert main(args) == 0
    assert "已转为已脱密" not in capsys.readouterr().out
    monkeypatch.setenv("MIBAO_PASSWORD", passwords["shenji"])  # the auditor keeps no ledgers
    assert main(["--data-dir", str(tmp_path), "--user", "shenji", "decommission-check"]) == 2
