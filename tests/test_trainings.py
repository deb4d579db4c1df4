"""保密教育培训 (issue 14 item 2, the 培训签到表 of item 7, the sign-in sheet of item 8) on a real
database: sessions with their attendees, each person's hours in a year against the minimum of
their grade (settings), the list of who is short printed (the PDF's text read back) and in the
annual report (the workbook read back), a sign-in sheet imported with every refusal by row, and
revision 0020 upgraded and taken back."""

from __future__ import annotations

import datetime as dt
import subprocess
from decimal import Decimal

import pytest
from alembic import command
from openpyxl import Workbook, load_workbook
from sqlalchemy import inspect, select

from mibao_desktop.db.database import Database, alembic_config
from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import PermissionDenied, ServiceError, ValidationFailed
from mibao_desktop.excel.annual import export_annual_report
from mibao_desktop.excel.training_sheet import import_sign_in
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.context import Services

NOW = dt.datetime(2026, 6, 30, 10, 0)
YEAR = NOW.year


def pdftotext(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def s(db):
    return Services(db, Actor.local_security_admin(), clock=lambda: NOW)


@pytest.fixture
def staff(s):
    """Two namesakes 张伟 in two departments, one of each grade, one with no grade, one gone."""
    made = {}
    for key, name, dept, grade in (("core", "张伟", "科研一处", "核心"), ("core2", "张伟", "科研二处", "重要"),
                                   ("important", "李娜", "保密办", "重要"), ("general", "王强", "科研二处", "一般"),
                                   ("none", "赵敏", "办公室", None)):
        made[key] = s.ledgers.create("people", {"name": name, "department": dept, "grade": grade})
    # no longer in the post (a record imported so: the departure procedure is another test's)
    s.ledgers.create_many("people", [{"name": "刘洋", "department": "科研一处", "grade": "一般", "status": "调离"}])
    return made


def session(s, day: str, hours: str, people, **more):
    return s.training.register({"held_on": day, "subject": more.pop("subject", "保密法学习"), "hours": hours,
                                "lecturer": "保密办", "form": "集中培训", **more}, [p.id for p in people])


def test_hours_this_year_are_summed_against_each_grades_minimum(s, staff):
    core, core2, important, general = staff["core"], staff["core2"], staff["important"], staff["general"]
    session(s, f"{YEAR}-02-10", "4", [core, important, general])
    second = session(s, f"{YEAR}-05-20", "1.5", [core, general])
    session(s, f"{YEAR - 1}-12-30", "8", [core2, important])  # last year's: counts for nothing this year
    voided = session(s, f"{YEAR}-03-01", "8", [core2])
    s.training.void(voided.id, "重复登记")
    # 王强 left the second session early: his own 学时 count instead of the session's
    own = next(r for r in s.ledgers.children(second.id) if r.values["person"].id == general.id)
    s.ledgers.update(own.id, {"attended_hours": "0.5"})

    result = s.training.compliance(YEAR, everyone=True)
    by_id = {line.person_id: line for line in result.everyone}
    assert set(by_id) == {core.id, core2.id, important.id, general.id}  # no grade, or 调离: not listed
    assert (by_id[core.id].hours_text, by_id[core.id].short_text, by_id[core.id].sessions) == ("5.5", "2.5", 2)
    assert (by_id[core2.id].tenths, by_id[core2.id].short_text) == (0, "8")  # no training at all: 0, listed
    assert (by_id[important.id].hours_text, by_id[important.id].short_text) == ("4", "4")
    assert (by_id[general.id].hours_text, by_id[general.id].short_by) == ("4.5", 0)  # 4 + 0.5 ≥ 4
    assert [line.name for line in result.short] == ["李娜", "张伟", "张伟"]  # 保密办, 科研一处, 科研二处 (拼音)
    assert result.summary() == "应参训 4 人,未达标 3 人"
    assert result.counts == {"核心": (1, 1), "重要": (2, 2), "一般": (1, 0)}
    assert [line.person_id for line in s.training.compliance(YEAR).short] == [line.person_id for line in result.short]
    assert [h["tenths"] for h in s.training.person_hours(general.id, YEAR)] == [40, 5]


def test_the_minimums_are_the_units_settings(s, staff, db):
    assert s.training.minimums() == {"核心": 80, "重要": 80, "一般": 40}  # seed 002 §六 1
    session(s, f"{YEAR}-02-10", "6", [staff["core"], staff["general"]])
    assert staff["core"].id in {line.person_id for line in s.training.compliance(YEAR).short}
    s.training.set_minimums({"核心": "6", "重要": "8", "一般": "2.5"})
    assert s.training.minimums() == {"核心": 60, "重要": 80, "一般": 25}
    short = {line.person_id: line.minimum_text for line in s.training.compliance(YEAR).short}
    assert staff["core"].id not in short and short[staff["core2"].id] == "8"
    with db.session() as read:
        entry = read.scalars(select(AuditEntry).where(AuditEntry.action == "settings.change")
                             .order_by(AuditEntry.id.desc())).first()
    assert entry.target == "保密教育培训最低学时" and entry.detail["changed"] == {"核心": ["8", "6"], "一般": ["4", "2.5"]}
    with pytest.raises(ValidationFailed, match="1.25"):
        s.training.set_minimums({"核心": "1.25", "重要": "8", "一般": "4"})
    auditor = Services(db, Actor("sj", Role.AUDITOR), clock=lambda: NOW)
    with pytest.raises(PermissionDenied):
        auditor.training.set_minimums({"核心": "1", "重要": "1", "一般": "1"})


def test_a_person_attends_a_session_once(s, staff):
    core, general = staff["core"], staff["general"]
    t = session(s, f"{YEAR}-02-10", "2", [core, core, general])
    assert sorted(p["id"] for p in s.training.attendees(t.id)) == sorted([core.id, general.id])
    assert s.training.add_attendees(t.id, [core.id, staff["important"].id]) == 1
    with pytest.raises(ValidationFailed, match="不能重复"):
        s.ledgers.create("training_attendances", {"person": "张伟(科研一处)"}, parent_id=t.id)
    assert len(s.training.attendees(t.id)) == 3


@pytest.mark.parametrize("typed, stored", [("1.5", 15), ("2学时", 20), ("0.5 小时", 5), (3, 30), (2.5, 25)])
def test_hours_take_one_decimal(s, typed, stored):
    t = s.ledgers.create("trainings", {"held_on": f"{YEAR}-01-05", "subject": "定密培训", "hours": typed})
    assert int(t.values["hours"] * 10) == stored


@pytest.mark.parametrize("typed, why", [("1.55", "一位小数"), ("两小时", "不是数字"), ("0", "之间")])
def test_hours_that_are_no_hours_are_refused_in_chinese(s, typed, why):
    with pytest.raises(ValidationFailed, match=why):
        s.ledgers.create("trainings", {"held_on": f"{YEAR}-01-05", "subject": "定密培训", "hours": typed})


def test_own_hours_are_never_more_than_the_sessions(s, staff):
    """本人学时 is the part attended: 20 typed for 2.0 would make someone look trained enough."""
    held = session(s, f"{YEAR}-02-10", "2", [staff["general"]])
    own = s.ledgers.children(held.id)[0]
    with pytest.raises(ValidationFailed, match=r"本人学时 20 超过培训 .* 的学时 2(\.0)?;"):
        s.ledgers.update(own.id, {"attended_hours": "20"})
    assert s.ledgers.update(own.id, {"attended_hours": "1.5"}).values["attended_hours"] == Decimal("1.5")
    with pytest.raises(ValidationFailed, match="超过培训"):
        s.ledgers.create("training_attendances", {"person": staff["important"].label, "attended_hours": "3"},
                         parent_id=held.id)


def test_a_session_entered_ahead_counts_from_its_day(s, staff):
    session(s, (NOW.date() + dt.timedelta(days=20)).isoformat(), "8", [staff["important"]])
    assert s.training.compliance(YEAR).short[0].tenths == 0  # 李娜, 保密办: not held yet
    later = Services(s.db, s.actor, clock=lambda: NOW + dt.timedelta(days=30))
    assert {l.person_id: l.tenths for l in later.training.compliance(YEAR, everyone=True).everyone}[staff["important"].id] == 80


def _sheet(path, rows, *, header=("序号", "姓名", "部门", "人员编号", "签名")):
    wb = Workbook()
    ws = wb.active
    ws.append(["保密教育培训签到表"])
    ws.append(["培训主题:保密法学习", None, "日期:2026-02-10"])
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    ws.append(["应到 6 人  实到 5 人"])
    wb.save(path)
    return path


def test_a_sign_in_sheet_is_matched_against_the_register_row_by_row(s, staff, tmp_path):
    t = session(s, f"{YEAR}-02-10", "2", [staff["general"]])
    path = _sheet(tmp_path / "签到表.xlsx", [
        (1, "李娜", "保密办", None, "李娜"),          # row 4: one 李娜
        (2, "张伟", "科研二处", None, "张伟"),        # row 5: namesakes told apart by 部门
        (3, "张伟", None, None, "张伟"),              # row 6: namesakes not told apart
        (4, "孙悟空", "科研一处", None, None),        # row 7: nobody of that name
        (5, "王 强", "科研二处", None, None),         # row 8: already attending (spaces lining up the name)
        (6, "李娜", None, None, None),                # row 9: 李娜 twice
        (7, "张伟", None, staff["core"].values["person_number"], None),  # row 10: by 人员编号
    ])
    sheet, preview = import_sign_in(s.training, t.id, path, dry_run=True)
    assert sheet.header_row == 3 and len(sheet.rows) == 7  # 应到 … is no attendee
    assert [(r, pid) for r, pid, _ in preview.matched] == [(4, staff["important"].id), (5, staff["core2"].id),
                                                           (10, staff["core"].id)]
    refused = dict(preview.refused)
    assert "有 2 个“张伟”" in refused[6] and "科研一处" in refused[6] and "科研二处" in refused[6]
    assert "人员名册中没有“孙悟空”" in refused[7]
    assert refused[9] == "与第 4 行是同一人"
    assert preview.already == [(8, "王强")]
    assert len(s.training.attendees(t.id)) == 1  # the preview stored nothing
    people_before = s.ledgers.count("people")

    _sheet_, done = import_sign_in(s.training, t.id, path)
    assert done.stored == 3
    assert {p["id"] for p in s.training.attendees(t.id)} == {staff["general"].id, staff["important"].id,
                                                             staff["core"].id, staff["core2"].id}
    assert s.ledgers.count("people") == people_before  # an unknown name adds nobody


def test_a_sheet_without_a_name_column_is_refused_plainly(s, staff, tmp_path):
    t = session(s, f"{YEAR}-02-10", "2", [])
    path = _sheet(tmp_path / "x.xlsx", [(1, "保密办")], header=("序号", "部门"))
    from mibao_desktop.excel.reader import SpreadsheetError
    with pytest.raises(SpreadsheetError, match="姓名"):
        import_sign_in(s.training, t.id, path)
    with pytest.raises(ServiceError, match="培训"):
        s.training.sign_in(staff["core"].id, [])


def test_the_sign_in_sheet_and_the_list_of_who_is_short_print_filled(s, staff, tmp_path, db):
    t = session(s, f"{YEAR}-02-10", "1.5", [staff["core"], staff["important"]], subject="涉密载体管理专题讲座",
                place="行政楼301室")
    out = tmp_path / "签到表.pdf"
    assert s.training.print_sign_in(t.id, out, unit="某研究所") == 1
    text = pdftotext(out)
    for expected in ("保密教育培训签到表", "单位:某研究所", "涉密载体管理专题讲座", f"{YEAR}-02-10", "1.5", "保密办",
                     "行政楼301室", "李娜", "张伟", "科研一处", "签名", "应到 2 人"):
        assert expected in text, expected
    listed = tmp_path / "名单.pdf"
    assert s.training.print_compliance(s.training.compliance(YEAR), listed, unit="某研究所") == 1
    text = pdftotext(listed)
    assert f"{YEAR}年度保密教育培训学时未达标人员名单" in text and "应参训 4 人,未达标 4 人" in text
    lines = [line.split() for line in text.splitlines() if "RY-" in line]
    assert [(ln[2], ln[3]) for ln in lines] == [("李娜", "保密办"), ("王强", "科研二处"), ("张伟", "科研二处"),
                                                ("张伟", "科研一处")]  # by department, then name, in 拼音 order
    assert lines[0][-3:] == ["1.5", "8", "6.5"]  # 已完成, 最低, 尚差
    with db.session() as read:
        prints = read.scalars(select(AuditEntry).where(AuditEntry.action == "ledger.print")).all()
    assert [p.detail["what"] for p in prints] == ["培训签到表(涉密载体管理专题讲座)",
                                                  f"保密教育培训学时未达标名单({YEAR}年)"]


def test_the_annual_report_lists_who_is_short(s, staff, tmp_path):
    session(s, f"{YEAR}-02-10", "8", [staff["core"], staff["important"]])
    session(s, f"{YEAR}-03-10", "1.5", [staff["general"]])
    path = tmp_path / "年度.xlsx"
    export_annual_report(s.ledgers, YEAR, path, unit="某研究所")
    ws = load_workbook(path)["培训学时"]
    rows = [r for r in ws.iter_rows(values_only=True)]
    assert rows[1][0] == f"{YEAR} 年度保密教育培训学时未达标人员名单"
    assert "一般(最低 4 学时)1 人,未达标 1 人" in rows[2][4]
    listed = [r[1:9] for r in rows if isinstance(r[0], int)]
    assert listed == [(staff["general"].values["person_number"], "王强", "科研二处", "一般", 1, 1.5, 4, 2.5),
                      (staff["core2"].values["person_number"], "张伟", "科研二处", "重要", 0, 0, 8, 8)]


def test_revision_0020_makes_the_tables_and_takes_them_back(empty_db_target):
    db = Database.open(empty_db_target, migrate=False)
    try:
        db.upgrade(backup_dir=None, target="0020")
        names = set(inspect(db.engine).get_table_names())
        assert {"ledger_trainings", "ledger_training_attendances", "ledger_trainings_search"} <= names
        with db.engine.connect() as conn, conn.begin():
            command.downgrade(alembic_config(conn), "0019")
        assert not {"ledger_trainings", "ledger_training_attendances"} & set(inspect(db.engine).get_table_names())
        db.upgrade(backup_dir=None)
        assert {"ledger_trainings", "ledger_training_attendances"} <= set(inspect(db.engine).get_table_names())
    finally:
        db.close()


def test_attendees_imported_with_their_session_are_audited_by_name(s, staff, db):
    t = session(s, f"{YEAR}-02-10", "2", [])
    result = s.ledgers.create_many("training_attendances", [
        {"_parent": t.values["training_number"], "person": "李娜"},
        {"_parent": t.values["training_number"], "person": "王强", "attended_hours": "1.5"},
        {"_parent": t.values["training_number"], "person": "李娜"}])  # the same person twice in one session
    assert len(result.created) == 2 and [r.index for r in result.refused] == [2]
    with db.session() as read:
        entry = read.scalars(select(AuditEntry).where(AuditEntry.action == "record.import")
                             .order_by(AuditEntry.id.desc())).first()
    assert entry.detail["asset_numbers"] == ["李娜", "王强"]
    hours = {line.name: line.hours_text for line in s.training.compliance(YEAR, everyone=True).everyone}
    assert hours["李娜"] == "2" and hours["王强"] == "1.5"


def _id_number(first17: str) -> str:
    """A citizen ID number with its GB 11643 check character."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]


def test_namesakes_on_a_sign_in_sheet_are_told_apart_by_id_number(s, tmp_path):
    one, two = _id_number("11010519850301123"), _id_number("11010519900715456")
    a = s.ledgers.create("people", {"name": "陈静", "department": "科研一处", "grade": "一般", "id_number": one})
    b = s.ledgers.create("people", {"name": "陈静", "department": "科研一处", "grade": "重要", "id_number": two})
    t = session(s, f"{YEAR}-02-10", "2", [])
    path = _sheet(tmp_path / "签到.xlsx", [(1, "陈静", "科研一处", two, None), (2, "陈静", "科研一处", None, None)],
                  header=("序号", "姓名", "部门", "身份证号", "签名"))
    _sheet_, done = import_sign_in(s.training, t.id, path)
    assert [(row, pid) for row, pid, _ in done.matched] == [(4, b.id)]
    assert done.refused[0][0] == 5 and "有 2 个“陈静”" in done.refused[0][1]
    assert a.id not in {p["id"] for p in s.training.attendees(t.id)}


def _recount(db, end: dt.date | None = None) -> dict[tuple[int, int], tuple[int, int]]:
    """(year, person) → (tenths, sessions) summed plainly from the attendances and their sessions
    (to ``end`` when given), as the compliance list summed them before revision 0026."""
    from sqlalchemy import func

    from mibao_desktop.db.schema import table_of
    from mibao_desktop.ledgers.trainings import TRAINING_ATTENDANCES, TRAININGS

    a, t = table_of(TRAINING_ATTENDANCES), table_of(TRAININGS)
    out: dict[tuple[int, int], list[int]] = {}
    with db.session() as read:
        rows = read.execute(select(t.c.held_on, a.c.person, func.coalesce(a.c.attended_hours, t.c.hours))
                            .join(t, t.c.id == a.c.parent_id)
                            .where(a.c.voided.is_(False), t.c.voided.is_(False)))
        for day, person, tenths in rows:
            if end is None or day <= end:
                tally = out.setdefault((day.year, person), [0, 0])
                tally[0] += tenths
                tally[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def _tallied(db) -> dict[tuple[int, int], tuple[int, int]]:
    from mibao_desktop.db.models import TrainingHours

    with db.session() as read:
        return {(h.year, h.person): (h.tenths, h.sessions) for h in read.scalars(select(TrainingHours))
                if h.sessions or h.tenths}


def test_the_hours_tally_is_exact_after_every_kind_of_write(s, staff, db, tmp_path):
    """training_hours (kept by triggers, revision 0026) against a plain recount after each kind of
    write, and the compliance list against the recount to its day (a session ahead of its day)."""
    people = [staff[k] for k in ("core", "core2", "important", "general")]
    core, core2, important, general = people
    # each ledger has one status (已举办, 已参加): there is no status change to make

    def check(what: str) -> None:
        assert _tallied(db) == _recount(db), what
        for today in (NOW.date(), dt.date(YEAR, 12, 31), dt.date(YEAR, 1, 1)):
            listed = Services(db, s.actor, clock=lambda: dt.datetime.combine(today, dt.time(9))).training
            got = {ln.person_id: (ln.tenths, ln.sessions) for ln in listed.compliance(YEAR, everyone=True).everyone}
            plain = _recount(db, today)
            expected = {p.id: plain.get((YEAR, p.id), (0, 0)) for p in people}
            assert got == expected, (what, today)
            minimum = {p.id: {"核心": 80, "重要": 80, "一般": 40}[p.values["grade"]] for p in people}
            short = listed.compliance(YEAR)
            assert {ln.person_id: ln.tenths for ln in short.short} == {
                pid: t for pid, (t, _n) in expected.items() if t < minimum[pid]}, (what, today)
            assert sum(n for _all, n in short.counts.values()) == len(short.short)

    first = session(s, f"{YEAR}-02-10", "4", [core, important])
    check("register with attendees")
    s.training.add_attendees(first.id, [general.id, core.id])
    check("add attendees")
    ahead = session(s, (NOW.date() + dt.timedelta(days=10)).isoformat(), "3", [core, core2])
    check("a session ahead of its day")
    sheet = _sheet(tmp_path / "签到表.xlsx", [("1", "张伟", "科研二处", "", ""), ("2", "王强", "", "", "")])
    second = session(s, f"{YEAR}-04-01", "2.5", [])
    import_sign_in(s.training, second.id, sheet)
    check("sign-in sheet")
    s.ledgers.create_many("training_attendances", [{"_parent": second.values["training_number"], "person": "李娜",
                                                     "attended_hours": "1"}])
    check("generic import of attendances")
    s.ledgers.create_many("trainings", [{"training_number": "PX-IMP", "held_on": f"{YEAR}-05-05", "subject": "定密",
                                         "hours": "2", "_children": [{"person": "李娜"}, {"person": "王强"}]}])
    imported = s.ledgers.find("trainings", "PX-IMP")
    check("generic import of sessions with their attendees")
    mine = next(r for r in s.ledgers.children(first.id) if r.values["person"].id == general.id)
    edited = s.ledgers.update(mine.id, {"attended_hours": "0.5"})
    check("an attendee's own hours")
    s.ledgers.update(edited.id, {"attended_hours": ""})
    check("an attendee's own hours cleared")
    s.ledgers.update(first.id, {"hours": "6"})
    check("a session's hours")
    s.ledgers.update(first.id, {"held_on": f"{YEAR - 1}-12-31"})
    check("a session's day moved to last year")
    s.ledgers.update(first.id, {"held_on": f"{YEAR}-01-01"})
    check("and back across the year")
    event = max((e for e in s.ledgers.history(first.id) if e.action == "update"), key=lambda e: e.id)
    s.ledgers.revert(first.id, event.id)
    check("an edit undone")
    s.ledgers.update(ahead.id, {"held_on": f"{YEAR}-03-03"})
    check("a session ahead moved into the past")
    one = next(r for r in s.ledgers.children(second.id) if r.values["person"].id == important.id)
    s.ledgers.void(one.id, "误录")
    check("an attendee voided")
    s.ledgers.restore(one.id)
    check("an attendee restored")
    s.training.void(imported.id, "重复登记")
    check("a session voided with its attendees")
    s.ledgers.restore(imported.id)
    check("a session restored (its attendees still voided)")
    for child in s.ledgers.children(imported.id, include_voided=True):
        s.ledgers.restore(child.id)
    check("its attendees restored")
    # 李娜: the imported attendance with her own 1 学时 and PX-IMP's 2; the first session's 6 went
    # back to last year when the move to 1 January was undone
    assert _tallied(db)[(YEAR, important.id)] == (10 + 20, 2)
    assert _tallied(db)[(YEAR - 1, important.id)] == (60, 1)
