"""Issue 14's "Done when", as one administrator's months with the staff ledger, on a real database
(and PostgreSQL with MIBAO_TEST_DATABASE), through the services the desktop uses, with a clock
the test moves and every form read back from its PDF.

A new 重要 staff member is registered with the 任前审查 and the commitment; two training sessions
are recorded and the list says who is short; a passport goes out for an approved trip after the
briefing and shows as overdue when it does not come back in time; a 核心 person leaves: what they
hold is returned or handed over, the 脱密期 is computed, the forms print filled.
"""

from __future__ import annotations

import datetime as dt

import pytest

from mibao_desktop.errors import LifecycleError
from mibao_desktop.security import Actor
from mibao_desktop.services.carrier_actions import RuleRefused
from mibao_desktop.services import holdings
from mibao_desktop.services.context import Services
from tests.conftest import computer
from tests.test_printing import pdftotext

START = dt.date(2024, 3, 2)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.combine(START, dt.time(9, 0))

    def __call__(self) -> dt.datetime:
        return self.now

    def to(self, day: dt.date) -> dt.date:
        self.now = dt.datetime.combine(day, dt.time(9, 0))
        return day


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def s(db, clock):
    return Services(db, Actor.local_security_admin(), clock=clock)


def text_of(path) -> str:
    return pdftotext(path).replace(" ", "")


def test_a_year_of_the_staff_ledger(s, clock, tmp_path):
    s.printing.set_unit_name("某研究所")
    # -- a new 重要 staff member, with the 任前审查 and the signed commitment --------------------
    li = s.ledgers.create("people", {
        "name": "李娜", "sex": "女", "department": "科研一处", "post": "型号设计员", "grade": "重要",
        "id_number": "11010519491231002X", "political_status": "中共党员", "became_classified_on": "2024-03-01",
        "appointed_on": "2024-03-01", "vetted_on": "2024-02-20", "vetting_result": "通过",
        "commitment_signed_on": "2024-03-02"})
    assert li.status == "在岗" and li.values["id_tail"] == "002X"
    assert li.values["next_review"] == dt.date(2027, 2, 20)  # 重要: every 3 years from the 任前审查
    commitment = tmp_path / "commitment.pdf"
    s.printing.form("commitment", li.ledger, [li], commitment)
    said = text_of(commitment)
    for word in ("保密承诺书", "某研究所", "李娜", "科研一处", "型号设计员", "重要", "11010519491231002X",
                 "2024年03月02日"):
        assert word in said, word

    # -- two sessions of training; who is short of the year's hours ---------------------------
    zhao = s.ledgers.create("people", {"name": "赵强", "department": "机要室", "post": "机要员", "grade": "核心",
                                       "id_number": "110105198001010032", "vetted_on": "2023-01-10",
                                       "vetting_result": "通过"})
    wang = s.ledgers.create("people", {"name": "王芳", "department": "科研一处", "grade": "一般"})
    first = s.training.register({"held_on": "2024-03-10", "subject": "保密法学习", "hours": "4",
                                 "lecturer": "保密办", "form": "集中培训"}, [li.id, zhao.id, wang.id])
    s.training.register({"held_on": "2024-04-15", "subject": "涉密载体管理", "hours": "2",
                         "lecturer": "保密办", "form": "集中培训"}, [li.id, zhao.id])
    clock.to(dt.date(2024, 11, 30))
    short = s.training.compliance(2024).short
    # 重要 and 核心 need 8 hours (seed 002 §六), 一般 4: 王芳's 4 are enough
    assert [(line.name, line.hours_text, line.short_text) for line in short] == [("赵强", "6", "2"), ("李娜", "6", "2")]  # 机要室 before 科研一处 (拼音)
    sheet = tmp_path / "sign-in.pdf"
    s.training.print_sign_in(first.id, sheet, unit="某研究所")
    said = text_of(sheet)
    assert "培训签到表" in said and "保密法学习" in said and all(n in said for n in ("李娜", "赵强", "王芳"))

    # -- a passport lent for an approved trip, after the briefing; overdue when not back ---------
    passport = s.ledgers.create("exit_documents", {
        "document_number": "E12345678", "holder": li.label, "kind": "护照", "issued_on": "2020-05-01",
        "expires_on": "2030-04-30", "location": "人事处证件柜"})
    trip = s.travel.apply({"traveller": li.label, "kind": "因私", "destinations": "日本",
                           "leave_on": "2024-12-10", "return_on": "2024-12-17", "purpose": "旅游",
                           "applied_on": "2024-11-30"})
    s.travel.approve(trip.id, {"approver": "张副所长"})
    with pytest.raises(RuleRefused, match="尚未进行行前保密提醒谈话"):
        s.travel.collect(passport.id, trip.id, {"collector": "李娜", "handler": "人事处 王敏"})
    s.travel.brief(trip.id, {"briefed_by": "保密办 刘洋", "briefing_notes": "政治纪律、外事纪律、保密纪律"})
    lent = s.travel.collect(passport.id, trip.id, {"collector": "李娜", "handler": "人事处 王敏"})
    assert lent.status == "已领取" and lent.values["due_on"] == dt.date(2024, 12, 27)  # back + 10 days
    assert s.travel.overdue(dt.date(2024, 12, 27)) == []
    late = s.travel.overdue(dt.date(2025, 1, 4))
    assert [(line.number, line.holder, line.days) for line in late] == [("E12345678", "李娜", 8)]

    # -- a 核心 person leaves: everything they hold comes back, the 脱密期 is computed ---------
    clock.to(dt.date(2025, 1, 5))
    pc = s.ledgers.create("computers", computer(responsible_person=zhao.label, user=zhao.label))
    # their page lists what they hold or use, not the trainings they attended
    page = holdings.collect(s.ledgers, zhao.id)
    assert [(h.number, h.roles) for h in page.items] == [(pc.number, ("使用人", "责任人"))]
    plan = s.departure.plan(zhao.id)
    facts = {"reason": "调往市档案局工作", "briefed_on": dt.date(2025, 1, 5), "briefed_by": "保密办 王主任",
             "pledge_signed_on": dt.date(2025, 1, 5), "access_revoked_by": "信息中心 刘工",
             "access_revoked_on": dt.date(2025, 1, 5)}
    with pytest.raises(LifecycleError, match=f"手中还有 1 件未清退:涉密计算机 {pc.number}"):
        s.departure.leave(zhao.id, "脱密期", facts)
    s.departure.hand_over(zhao.id, [pc.id], "王芳", approver="王主任")
    assert s.departure.holdings(zhao.id) == []
    assert s.ledgers.get(pc.id).display("user") == "王芳"
    pledge = tmp_path / "departure.pdf"
    s.printing.form("departure", None, [zhao], pledge, departure=plan.form_facts("脱密期", facts))
    left = s.departure.leave(zhao.id, "脱密期", facts)
    assert left.status == "脱密期"
    assert (left.values["decommission_from"], left.values["decommission_until"]) == (
        dt.date(2025, 1, 5), dt.date(2028, 1, 4))  # 核心: three years by default (seed 003 第七条: 6 个月至 3 年)
    said = text_of(pledge)
    for word in ("离岗保密承诺书", "某研究所", "赵强", "机要员", "核心", "调往市档案局工作",
                 "脱密期自2025年01月05日至2028年01月04日"):
        assert word in said, word
