"""The missing clock and the watch list (issue 13 item 3; seed 003 泄密事件报告和查处制度 第二条,
第六条, 第八条), on a real database file (and PostgreSQL with MIBAO_TEST_DATABASE), with a
clock the test sets: the days pass by setting it, never by sleeping."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from mibao_desktop.db.models import AuditEntry
from mibao_desktop.security import Actor
from mibao_desktop.services.context import Services
from mibao_desktop.services.repository import LedgerQuery

DAY0 = dt.date(2026, 3, 2)  # the day copies are marked missing (the validation of dates wants the past)


class Clock:
    def __init__(self, day: dt.date) -> None:
        self.now = dt.datetime.combine(day, dt.time(9, 30))

    def __call__(self) -> dt.datetime:
        return self.now

    def day(self, n: int) -> dt.date:
        """Set the clock to ``n`` days after DAY0 (09:30); the date."""
        self.now = dt.datetime.combine(DAY0 + dt.timedelta(days=n), dt.time(9, 30))
        return self.now.date()


@pytest.fixture
def clock():
    return Clock(DAY0)


@pytest.fixture
def services(db, clock):
    return Services(db, Actor.local_security_admin(), clock=clock)


def carrier(services, number="ZT-1", level="机密", copies=3, **extra):
    values = dict(carrier_number=number, title="型号设计图纸", doc_number="保字〔2026〕3号", level=level,
                  classified_on="2026-01-05", copies=copies, keeper="李娜", department="保密办",
                  location="保密办保密柜", scope="科研一处、王芳")
    values.update(extra)
    made = services.ledgers.create("carriers", values)
    copy_ids = [services.ledgers.create("carrier_copies", {"copy_number": n, "holder": "王芳"}, parent_id=made.id).id
                for n in range(1, copies + 1)]
    return made, copy_ids


def mark_missing(services, copy_ids, on: dt.date):
    return services.carrier_actions.missing(copy_ids, {"circumstances": "清点时未找到"}, effective_date=on)


def mark_found(services, copy_ids, on: dt.date):
    return services.carrier_actions.found(copy_ids, {"found_how": "在档案柜夹层找到"}, effective_date=on)


def lend(services, copy_ids, due: dt.date, on: dt.date):
    return services.carrier_actions.lend(copy_ids, {"borrower": "王芳", "due_back": due, "approver": "张处长"},
                                         effective_date=on)


def test_a_top_secret_copy_missing_eleven_days_is_a_major_leak_prefilled_for_the_first_report(services, clock):
    made, (one, *_rest) = carrier(services, level="绝密")
    mark_missing(services, [one], DAY0)
    copy = services.ledgers.get(one)
    assert copy.values["missing_since"] == DAY0
    assert copy.values["search_until"] == DAY0 + dt.timedelta(days=10)
    clock.day(10)  # the tenth day is still within 十日内
    assert services.carrier_watch.open_due_events() == []
    watch = services.carrier_watch.watch()
    assert [(c.copy_number, c.days, c.leak_event) for c in watch.missing] == [(1, 0, None)]

    clock.day(11)
    (event,) = services.carrier_watch.open_due_events()
    v = event.values
    assert v["grade"] == "重大泄密" and v["level"] == "绝密" and v["count"] == 1
    assert v["found_on"] == DAY0 + dt.timedelta(days=11) and v["occurred_on"] == DAY0
    assert "ZT-1 第 1 份" in v["item"] and "型号设计图纸" in v["item"] and "保字〔2026〕3号" in v["item"]
    assert v["carrier"].id == made.id and v["copy_numbers"] == "1"
    assert v["place"] == "保密办保密柜" and v["responsible"].text == "王芳" and v["department"] == "保密办"
    assert "查无下落" in v["account"] and "第二条" in v["account"] and v["measures"]
    assert v["report_by"].startswith("立即报告") and event.status == "待报告"
    # the copy names its event; its history and the audit log say so
    assert services.ledgers.get(one).values["leak_event"].text == event.number
    history = services.ledgers.history(one)
    assert any(c.new == event.number for h in history for c in h.changes)
    with services.db.session() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "record.create",
                                                     AuditEntry.target == f"leak_events:{event.number}")).all()
    assert len(entries) == 1 and entries[0].detail["opened_by"] == "下落不明查找期满"
    assert entries[0].detail["copies"] == [one]
    # the watch list: the copy past its deadline with its event, the event due at once
    watch = services.carrier_watch.watch()
    assert [(c.days, c.leak_event) for c in watch.missing] == [(-1, event.number)]
    (leak,) = watch.leaks
    assert leak.major and leak.report_by == clock.now and not leak.reported


def test_a_secret_copy_counts_sixty_days(services, clock):
    _made, (one, *_rest) = carrier(services, level="机密")
    mark_missing(services, [one], DAY0)
    clock.day(59)
    assert services.carrier_watch.open_due_events() == []
    assert services.carrier_watch.watch().missing[0].days == 1
    clock.day(61)
    (event,) = services.carrier_watch.open_due_events()
    assert event.values["grade"] == "一般泄密" and event.values["count"] == 1
    # an ordinary leak is reported within 24 hours of its opening (第六条)
    (leak,) = services.carrier_watch.watch().leaks
    assert leak.report_by == clock.now + dt.timedelta(hours=24) and not leak.major
    assert leak.hours_left(clock.now + dt.timedelta(hours=20)) == pytest.approx(4)
    assert event.values["report_by"] == f"{clock.now + dt.timedelta(hours=24):%Y-%m-%d %H:%M}前(24小时内)"


def test_a_leak_opened_days_after_the_period_ran_out_counts_its_24_hours_from_then(services, clock):
    """Nobody opened MiBao for a week after the sixty days ended: the leak began the day after
    the period (第二条), and its 24 hours (第六条) ran out long before the administrator came back."""
    _made, (one, *_rest) = carrier(services, level="机密")
    mark_missing(services, [one], DAY0)  # searched for up to and including day 60
    clock.day(68)
    (event,) = services.carrier_watch.open_due_events()
    began = dt.datetime.combine(DAY0 + dt.timedelta(days=61), dt.time.min)
    assert event.values["found_on"] == began.date()
    assert event.values["report_by"] == f"{began + dt.timedelta(hours=24):%Y-%m-%d %H:%M}前(24小时内)"
    (leak,) = services.carrier_watch.watch().leaks
    assert leak.report_by == began + dt.timedelta(hours=24)
    assert leak.deadline_text(clock.now).startswith("已超过报告时限")


def test_two_secret_copies_missing_together_are_one_major_leak(services, clock):
    _made, (one, two, three) = carrier(services, level="机密")
    mark_missing(services, [one, two], DAY0)
    clock.day(61)
    (event,) = services.carrier_watch.open_due_events()
    assert event.values["grade"] == "重大泄密" and event.values["count"] == 2
    assert event.values["copy_numbers"] == "1、2"
    assert services.ledgers.get(three).values["leak_event"] is None


def test_found_before_the_deadline_stops_the_clock(services, clock):
    _made, (one, *_rest) = carrier(services, level="绝密")
    mark_missing(services, [one], DAY0)
    mark_found(services, [one], clock.day(9))
    copy = services.ledgers.get(one)
    assert copy.values["missing_since"] is None and copy.values["search_until"] is None
    clock.day(30)
    assert services.carrier_watch.open_due_events() == []
    assert services.carrier_watch.watch().missing == []


def test_running_the_check_twice_opens_one_event(services, clock):
    _made, (one, *_rest) = carrier(services, level="秘密")
    _other, (four, *_more) = carrier(services, number="ZT-2", level="秘密")
    mark_missing(services, [one], DAY0)
    mark_missing(services, [four], clock.day(1))
    clock.day(61)
    first = services.carrier_watch.open_due_events()
    assert [e.values["copy_numbers"] for e in first] == ["1"]
    clock.day(62)
    second = services.carrier_watch.open_due_events()  # only ZT-2's copy is newly due
    assert [e.values["item"].split()[1] for e in second] == ["ZT-2"]
    assert services.carrier_watch.open_due_events() == []
    assert services.ledgers.count("leak_events") == 2


def test_overdue_and_soon_due_loans_are_listed_with_their_days(services, clock):
    _made, (one, two, three) = carrier(services, level="秘密")
    lend(services, [one], DAY0 + dt.timedelta(days=5), DAY0)
    lend(services, [two], DAY0 + dt.timedelta(days=30), DAY0)
    lend(services, [three], DAY0 + dt.timedelta(days=10), DAY0)
    clock.day(8)
    loans = services.carrier_watch.watch().loans
    # overdue first (by due date), then soon due; ZT-1's third copy is due in 2 days, the second in 22 (not listed)
    assert [(c.copy_number, c.days, c.holder) for c in loans] == [(1, -3, "王芳"), (3, 2, "王芳")]


@pytest.mark.sqlite_only  # the command line on a --data-dir
def test_the_command_line_runs_the_check_once_and_lists_what_is_due(tmp_path, capsys, monkeypatch):
    from mibao_desktop.cli import main
    from mibao_desktop.db.database import Database
    from tests.test_cli import accounts_only

    passwords = accounts_only(tmp_path)
    db = Database.open(tmp_path / "mibao.sqlite")
    services = Services(db, Actor.local_security_admin())
    today = dt.date.today()
    _made, (one, two) = carrier(services, level="绝密", copies=2)
    mark_missing(services, [one], today - dt.timedelta(days=11))
    mark_missing(services, [two], today - dt.timedelta(days=2))
    db.close()
    monkeypatch.setenv("MIBAO_PASSWORD", passwords["baomi"])
    args = ["--data-dir", str(tmp_path), "--user", "baomi", "missing-check"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "已开立泄密事件 XM-0001" in out and "重大泄密" in out and "立即报告" in out
    assert "ZT-1 第 2 份" in out and "剩余 8 天" in out and "未结的泄密事件 1 件" in out
    assert main(args) == 0
    assert "已开立" not in capsys.readouterr().out
    monkeypatch.setenv("MIBAO_PASSWORD", passwords["shenji"])  # the auditor keeps no ledgers
    assert main(["--data-dir", str(tmp_path), "--user", "shenji", "missing-check"]) == 2
    assert "安全保密管理员" in capsys.readouterr().err


def test_a_found_taken_back_resumes_the_clock_and_a_corrected_level_moves_it(services, clock):
    made, (one, *_rest) = carrier(services, level="机密")
    mark_missing(services, [one], DAY0)
    assert services.ledgers.get(one).values["search_until"] == DAY0 + dt.timedelta(days=60)
    mark_found(services, [one], clock.day(3))
    found = services.ledgers.history(one)[0]  # newest first
    assert found.changes[0].new == "在管"
    services.ledgers.reverse_status(one, found.id)  # 找到 entered by mistake
    copy = services.ledgers.get(one)
    assert copy.status == "下落不明" and copy.values["missing_since"] == DAY0  # not the day of the reversal
    services.ledgers.update(made.id, {"level": "绝密"})  # the carrier's 密级 corrected
    assert services.ledgers.get(one).values["search_until"] == DAY0 + dt.timedelta(days=10)
    clock.day(11)
    (event,) = services.carrier_watch.open_due_events()
    assert event.values["grade"] == "重大泄密"


def test_a_copy_imported_as_missing_is_listed_without_a_clock(services, clock):
    made = services.ledgers.create("carriers", dict(carrier_number="ZT-5", title="会议纪要", level="机密",
                                                     classified_on="2026-01-05", copies=1, keeper="李娜",
                                                     department="保密办"))
    result = services.ledgers.create_many("carrier_copies", [{"_parent": "ZT-5", "copy_number": 1,
                                                               "status": "下落不明"}])
    assert not result.refused and made.id
    (listed,) = services.carrier_watch.watch().missing
    assert listed.days is None and listed.days_text == "未记下落不明日期,未计时"
    clock.day(90)
    assert services.carrier_watch.open_due_events() == []



def test_an_exported_missing_copy_imported_again_keeps_its_clock_and_its_leak_event(services, clock, empty_db_target,
                                                                                   tmp_path):
    """Round trip (issue 10 item 5): a copy missing past its deadline, its leak event opened,
    exported and imported into an empty database with the people, carriers and leak events: it
    keeps its 下落不明日期, 查找期限 and 泄密事件 (they were dropped, and the copy was listed as
    未计时 there), so the check there neither forgets it nor opens a second event."""
    from mibao_desktop.db.database import Database
    from mibao_desktop.excel import export_ledger, import_ledger
    from mibao_desktop.ledgers import LEDGERS

    _made, (first, _second) = carrier(services, level="绝密", copies=2)
    mark_missing(services, [first], DAY0)
    clock.day(11)
    (event,) = services.carrier_watch.open_due_events()
    before = services.ledgers.get(first).values
    assert before["leak_event"].id == event.id
    other = Database.open(empty_db_target)
    try:
        there = Services(other, Actor.local_security_admin(), clock=clock)
        for key in ("people", "carriers", "leak_events", "carrier_copies"):  # each after what it names
            path = tmp_path / f"{key}.xlsx"
            export_ledger(services.ledgers, LEDGERS[key], path)
            report = import_ledger(there.ledgers, LEDGERS[key], path)
            assert not report.refused, (key, report.refused)
        (copy,) = [v for v in there.ledgers.query("carrier_copies", LedgerQuery()).rows
                   if v.values["status"] == "下落不明"]
        values = copy.values
        assert (values["missing_since"], values["search_until"]) == (DAY0, DAY0 + dt.timedelta(days=10))
        assert values["leak_event"].text == before["leak_event"].text
        (listed,) = there.carrier_watch.watch().missing
        assert listed.days is not None
        assert there.carrier_watch.open_due_events() == []  # its event came with it: not opened twice
    finally:
        other.close()


def test_a_register_listing_a_copy_missing_since_a_day_starts_its_clock_and_a_day_beside_another_status_is_refused(
        services, clock):
    """A hand-kept register gives 下落不明日期 and no 查找期限: the deadline is worked out from the
    carrier's 密级 (机密: 60 days). A 下落不明日期 beside 在管, or a 查找期限 without a day or
    before it, is a mistake in the file: the row is refused with the reason, not stored halfway."""
    services.ledgers.create("carriers", dict(carrier_number="ZT-7", title="会议纪要", level="机密", classified_on="2026-01-05",
                                             copies=4, keeper="李娜", department="保密办"))
    result = services.ledgers.create_many("carrier_copies", [
        {"_parent": "ZT-7", "copy_number": 1, "status": "下落不明", "missing_since": "2026-03-02"},
        {"_parent": "ZT-7", "copy_number": 2, "status": "在管", "missing_since": "2026-03-02"},
        {"_parent": "ZT-7", "copy_number": 3, "status": "下落不明", "search_until": "2026-05-01"},
        {"_parent": "ZT-7", "copy_number": 4, "status": "下落不明", "missing_since": "2026-03-02",
         "search_until": "2026-03-01"},
    ], row_numbers=[5, 6, 7, 8])
    reasons = {(r.index, r.field): r.message for r in result.refused}
    assert reasons == {
        (1, "下落不明日期"): "状态为“在管”的载体份不记下落不明日期和查找期限(找到、清退时已停止计时),请核对状态或删去该日期",
        (2, "查找期限"): "有查找期限而无下落不明日期,请填写下落不明日期",
        (3, "查找期限"): "查找期限 2026-03-01 早于下落不明日期 2026-03-02,请核对"}
    stored = services.ledgers.get(result.created[0]).values
    assert (stored["missing_since"], stored["search_until"]) == (DAY0, DAY0 + dt.timedelta(days=60))
    clock.day(61)
    (event,) = services.carrier_watch.open_due_events()
    assert services.ledgers.get(result.created[0]).values["leak_event"].id == event.id


def test_a_persons_edit_does_not_read_the_copies_they_hold_for_a_rule_of_their_own_values(services, monkeypatch):
    """The copies' rule reads the copy's own values only: renaming the holder of many copies
    reads none of them to run it (each read was one query per copy)."""
    made, copy_ids = carrier(services, copies=4)
    holder = services.ledgers.get(copy_ids[0]).values["holder"].id
    read = []
    real = type(services.ledgers)._get_view

    def spy(self, session, record_id, *args, **kwargs):
        read.append(record_id)
        return real(self, session, record_id, *args, **kwargs)

    monkeypatch.setattr(type(services.ledgers), "_get_view", spy)
    services.ledgers.update(holder, {"department": "科研二处"})
    assert not set(read) & set(copy_ids)

def test_revision_0016_starts_the_clock_of_copies_already_missing(empty_db_target):
    """A copy 下落不明 before the clock existed takes the day of its change into it from its
    history; one with no such change stays without a clock (listed as such)."""
    from sqlalchemy import text

    from mibao_desktop.db.database import Database

    db = Database.open(empty_db_target, migrate=False)
    try:
        db.upgrade(backup_dir=None, target="0015")
        at = dt.datetime(2026, 3, 5, 10, 0)
        with db.engine.begin() as conn:
            for rid, ledger, label in ((1, "carriers", "ZT-1"), (2, "carrier_copies", "1"), (3, "carrier_copies", "2")):
                conn.execute(text("INSERT INTO records (id, ledger, label, voided) VALUES (:i, :l, :b, false)"),
                             {"i": rid, "l": ledger, "b": label})
            stored = {"at": at}
            conn.execute(text("INSERT INTO ledger_carriers (id, carrier_number, level, copies, status, voided, "
                              "created_at, updated_at, version) VALUES (1, 'ZT-1', '绝密', 2, '在管', false, :at, :at, 1)"),
                         stored)
            for rid, number in ((2, 1), (3, 2)):
                conn.execute(text("INSERT INTO ledger_carrier_copies (id, parent_id, copy_number, status, voided, "
                                  "created_at, updated_at, version) VALUES (:i, 1, :n, '下落不明', false, :at, :at, 1)"),
                             {"i": rid, "n": number, **stored})
            conn.execute(text("INSERT INTO record_events (id, record_id, ledger, at, actor, action, effective_date) "
                              "VALUES (1, 2, 'carrier_copies', :at, '保密员', 'status', :day)"),
                         {**stored, "day": dt.date(2026, 3, 2)})
            conn.execute(text("INSERT INTO field_changes (id, event_id, field, old_value, new_value) "
                              "VALUES (1, 1, 'status', '在管', '下落不明')"))
        db.upgrade(backup_dir=None, target="0016")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, missing_since, search_until, leak_event FROM ledger_carrier_copies "
                                     "ORDER BY id")).all()
        as_date = lambda v: dt.date.fromisoformat(v) if isinstance(v, str) else v  # noqa: E731 (SQLite: text)
        assert [(r[0], as_date(r[1]), as_date(r[2]), r[3]) for r in rows] == [
            (2, dt.date(2026, 3, 2), dt.date(2026, 3, 12), None), (3, None, None, None)]
    finally:
        db.close()


def test_the_reporting_deadline_reads_as_time_passes(services, clock):
    _made, (one, *_rest) = carrier(services, level="秘密")
    mark_missing(services, [one], DAY0)
    clock.day(61)
    services.carrier_watch.open_due_events()
    (leak,) = services.carrier_watch.watch().leaks
    assert leak.deadline_text(clock.now) == "剩余 24 小时 0 分"
    assert leak.deadline_text(clock.now + dt.timedelta(hours=20, minutes=30)) == "剩余 3 小时 30 分"
    assert leak.deadline_text(clock.now + dt.timedelta(hours=26)) == "已超过报告时限 2 小时 0 分"
    services.ledgers.change_status(leak.event_id, "已报告", reason="已报局保密办")
    (reported,) = services.carrier_watch.watch().leaks
    assert reported.reported and reported.deadline_text(clock.now + dt.timedelta(hours=26)) == "已报告"


def test_two_workstations_checking_at_once_open_one_event(services, clock, db_target):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from mibao_desktop.db.database import Database

    _made, (one, *_rest) = carrier(services, level="绝密")
    mark_missing(services, [one], DAY0)
    clock.day(11)
    others = [Database.open(db_target) for _ in range(2)]
    start = threading.Barrier(2)

    def check(db):
        start.wait()
        return Services(db, Actor.local_security_admin(), clock=clock).carrier_watch.open_due_events()

    try:
        with ThreadPoolExecutor(2) as pool:
            opened = [len(events) for events in pool.map(check, others)]
    finally:
        for db in others:
            db.close()
    assert sorted(opened) == [0, 1] and services.ledgers.count("leak_events") == 1


def test_a_leak_registered_by_hand_as_ordinary_is_refused_when_the_rule_makes_it_major(services):
    from mibao_desktop.errors import ValidationFailed

    event = dict(found_on="2026-03-01", item="涉密笔记本遗失", level="机密", count=2, grade="一般泄密",
                 account="出差途中遗失")
    with pytest.raises(ValidationFailed) as refused:
        services.ledgers.create("leak_events", event)
    assert "重大泄密" in str(refused.value) and "第六条" in str(refused.value)
    made = services.ledgers.create("leak_events", {**event, "count": 1})
    assert made.values["grade"] == "一般泄密" and made.number == "XM-0001"


def test_a_missing_copy_of_an_own_level_or_a_level_to_be_added_is_listed_without_a_clock(db, services, clock):
    """第二条 counts days for 绝密, 机密 and 秘密 only: a copy of a carrier at the unit's own
    level managed as 涉密 (涉密专用), or whose 密级 is still 待补充, gets no 查找期限, but it is
    still listed (and counted) among the missing, never dropped."""
    from mibao_desktop.ledgers import levels
    from mibao_desktop.services.settings import SettingsService

    SettingsService(db, Actor.local_security_admin()).add_unit_level("涉密专用", "秘密", classified=True)
    try:
        _own, (own_copy, *_r) = carrier(services, number="ZT-OWN", level="涉密专用", copies=2)
        mark_missing(services, [own_copy], DAY0)
        copy = services.ledgers.get(own_copy)
        assert copy.values["missing_since"] == DAY0 and copy.values["search_until"] is None
        clock.day(100)
        assert services.carrier_watch.open_due_events() == []  # no leak by 第二条: not a state secret
        (listed,) = services.carrier_watch.watch().missing
        assert (listed.copy_number, listed.level, listed.since, listed.days) == (1, "涉密专用", DAY0, None)
        assert listed.days_text == "本单位密级,未计时"
    finally:
        levels.use(levels.UnitLevels())


def test_two_secret_documents_lost_in_one_action_are_one_major_leak(services, clock):
    """一事一报 (第三条): the copies marked 下落不明 together — one action, one 情况说明 — are one
    incident, graded by all its copies (第六条: 两份以上机密件 is 重大泄密), whichever carriers
    they belong to; a copy marked apart, with its own account, is an incident of its own."""
    _a, (a1, *_ra) = carrier(services, number="SW-1", level="机密", copies=2)
    _b, (b1, *_rb) = carrier(services, number="SW-2", level="机密", copies=2)
    _c, (c1, *_rc) = carrier(services, number="SW-3", level="机密", copies=1)
    services.carrier_actions.missing([a1, b1], {"circumstances": "公文包在出差途中遗失"}, effective_date=DAY0)
    services.carrier_actions.missing([c1], {"circumstances": "月核对时未见"}, effective_date=DAY0)
    clock.day(61)
    events = services.carrier_watch.open_due_events()
    by_count = sorted(events, key=lambda e: e.values["count"])
    assert [(e.values["count"], e.values["grade"]) for e in by_count] == [(1, "一般泄密"), (2, "重大泄密")]
    lost = by_count[1].values
    assert lost["level"] == "机密" and "SW-1" in lost["item"] and "SW-2" in lost["item"]
    assert lost["copy_numbers"] == "SW-1 第 1 份、SW-2 第 1 份"
    assert {services.ledgers.get(i).values["leak_event"].text for i in (a1, b1)} == {by_count[1].number}
    (major,) = [e for e in services.carrier_watch.watch().leaks if e.major]
    assert major.count == 2
