"""涉密人员 (issue 14 item 1): the staff ledger's fields, the ID number with its check digit and
its masking, 下次复审日期 from the review intervals, and each person's file (人员档案).

Service tests on a real database (SQLite file, or PostgreSQL with MIBAO_TEST_DATABASE)."""

from __future__ import annotations

import datetime as dt

import pytest

from mibao_desktop.db.database import Database
from mibao_desktop.errors import PermissionDenied, ValidationFailed
from mibao_desktop.ledgers import people as P
from mibao_desktop.ledgers.normalize import id_check_digit
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.context import Services
from mibao_desktop.services.repository import LedgerQuery

ID_X = "11010519491231002X"  # GB 11643's own example, check digit X
ID_2 = "110105199001011232"


def valid_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


def wrong_check(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:17] + last


@pytest.fixture
def services(db):
    return Services(db, Actor.local_security_admin())


def staff(**overrides):
    values = dict(name="李敏", department="科研一处", sex="女", post="机要员", grade="重要", post_level="秘密",
                  political_status="中共党员", id_number=ID_X, phone="13800000000",
                  became_classified_on="2020-03-01", appointed_on="2021-05-10",
                  vetted_on="2020-02-10", vetting_result="合格", commitment_signed_on="2020-03-01")
    values.update(overrides)
    return values


def test_a_staff_member_is_registered_with_every_field(services):
    person = services.ledgers.create("people", staff())
    v = person.values
    assert (v["sex"], v["grade"], v["political_status"], v["vetting_result"]) == ("女", "重要", "中共党员", "通过")
    assert v["id_number"] == ID_X and v["id_tail"] == "002X"
    assert v["became_classified_on"] == dt.date(2020, 3, 1) and v["commitment_signed_on"] == dt.date(2020, 3, 1)
    # never reviewed again: the first 复审 is due three years (重要) after the 任前审查
    assert v["next_review"] == dt.date(2023, 2, 10)
    edited = services.ledgers.update(person.id, {"last_review": "2023-02-01"})
    assert edited.values["next_review"] == dt.date(2026, 2, 1)
    core = services.ledgers.update(person.id, {"grade": "核心涉密人员"})
    assert core.values["grade"] == "核心" and core.values["next_review"] == dt.date(2024, 2, 1)
    plain = services.ledgers.update(person.id, {"grade": "非涉密人员"})
    assert plain.values["grade"] == P.UNCLASSIFIED and plain.values["next_review"] is None


def test_the_id_numbers_check_digit_is_verified(services):
    with pytest.raises(ValidationFailed, match="校验位不符") as caught:
        services.ledgers.create("people", staff(id_number=wrong_check(ID_X)))
    assert "身份证号" in str(caught.value)
    with pytest.raises(ValidationFailed, match="应为18位"):
        services.ledgers.create("people", staff(id_number="1101051949123100"))
    lower = services.ledgers.create("people", staff(id_number=ID_X.lower()))  # x typed small
    assert lower.values["id_number"] == ID_X


def test_one_id_number_is_one_person(services):
    services.ledgers.create("people", staff())
    with pytest.raises(ValidationFailed, match=ID_X[:6]):
        services.ledgers.create("people", staff(name="李敏"))


def test_the_id_tail_follows_the_full_number_and_still_tells_namesakes_apart(services):
    first = services.ledgers.create("people", staff(name="张伟", id_number=None, id_tail="1234"))
    assert first.values["id_tail"] == "1234"  # typed, with no full number
    second = services.ledgers.create("people", staff(name="张伟", id_number=ID_2, id_tail="9999"))
    assert second.values["id_tail"] == "1232"  # the full number decides
    made = services.ledgers.create("media", {
        "asset_number": "JMU-0009", "media_type": "U盘", "brand_model": "金士顿 DT50", "serial_number": "KS99",
        "level": "秘密", "responsible_person": "张伟(1232)", "department": "科研一处", "start_date": "2024-01-01"})
    assert made.values["responsible_person"].id == second.id


def test_the_review_interval_is_a_setting_and_the_stored_dates_follow_it(services, db):
    person = services.ledgers.create("people", staff(grade="一般", last_review="2022-06-01"))
    other = services.ledgers.create("people", staff(name="王强", id_number=ID_2, grade="核心", last_review="2025-01-01"))
    assert services.ledgers.get(person.id).values["next_review"] == dt.date(2027, 6, 1)
    assert services.settings.review_intervals() == {"核心": 1, "重要": 3, "一般": 5}
    services.settings.set_review_intervals({"一般": 4})
    assert services.settings.review_intervals() == {"核心": 1, "重要": 3, "一般": 4}
    assert services.ledgers.get(person.id).values["next_review"] == dt.date(2026, 6, 1)  # recomputed when saved
    assert services.ledgers.get(other.id).values["next_review"] == dt.date(2026, 1, 1)  # another grade: as it was
    due = services.ledgers.query("people", LedgerQuery(sort="next_review", limit=None)).rows
    assert [r.id for r in due if r.values["next_review"]] == [other.id, person.id]
    # a record written afterwards computes with the new interval, on any workstation opening it
    db.take_unit_levels()
    later = services.ledgers.create("people", staff(name="赵云", id_number=valid_id("11010519800101001"),
                                                    grade="一般", last_review="2024-01-01"))
    assert later.values["next_review"] == dt.date(2028, 1, 1)
    with pytest.raises(ValidationFailed, match="1 到 10"):
        services.settings.set_review_intervals({"核心": 0})
    auditor = Services(db, Actor("shenji", Role.AUDITOR))
    with pytest.raises(PermissionDenied):
        auditor.settings.set_review_intervals({"核心": 2})


def test_the_auditor_reads_an_id_number_masked_in_the_log(services, db):
    person = services.ledgers.create("people", staff(id_number=None))
    services.ledgers.update(person.id, {"id_number": ID_X})
    from mibao_desktop.services.audit_service import AuditService

    auditor = AuditService(db, Actor("shenji", Role.AUDITOR))
    text = "\n".join(line.detail_text for line in auditor.lines(limit=50))
    assert "1101**********002X" in text
    assert ID_X not in text
    # the security administrator keeps the register: the history holds the number whole, so an
    # edit of it can be taken back (撤销) to the very number, while its audit entry stays masked
    assert any(c.new == ID_X for e in services.ledgers.history(person.id) for c in e.changes)
    services.ledgers.update(person.id, {"id_number": ID_2})
    edit = next(e.id for e in services.ledgers.history(person.id) if any(c.new == ID_2 for c in e.changes))
    assert services.ledgers.revert(person.id, edit).values["id_number"] == ID_X
    text = "\n".join(line.detail_text for line in auditor.lines(limit=50))
    assert ID_2 not in text and ID_X not in text and "1101**********1232" in text


def test_a_persons_file_holds_entries_under_the_person(services):
    person = services.ledgers.create("people", staff())
    vetting = services.ledgers.create("staff_files", {"kind": "政审表", "entry_date": "2020-02-10",
                                                      "outcome": "政审合格"}, parent_id=person.id)
    services.ledgers.create("staff_files", {"kind": "奖惩", "entry_date": "2024-12-20",
                                            "outcome": "年度保密工作先进个人"}, parent_id=person.id)
    assert vetting.values["entry_number"].startswith("DA-")
    entries = services.ledgers.children(person.id, "staff_files")
    assert [e.values["kind"] for e in entries] == ["政审表", "奖惩"]
    with pytest.raises(ValidationFailed, match="不是可选值"):
        services.ledgers.create("staff_files", {"kind": "体检表", "entry_date": "2024-01-01"}, parent_id=person.id)
    # the file is kept, never held: the person may still leave, and the file stays with them
    day = dt.date.today()
    left = services.departure.leave(person.id, "调离", {
        "reason": "调往上级机关", "briefed_on": day, "briefed_by": "保密办 王主任", "pledge_signed_on": day,
        "access_revoked_by": "信息中心 刘工", "access_revoked_on": day})
    assert left.status != "在岗"
    services.ledgers.create("staff_files", {"kind": "保密承诺书", "entry_date": "2026-01-05",
                                            "outcome": "离岗保密承诺书已签订"}, parent_id=person.id)
    assert len(services.ledgers.children(person.id, "staff_files")) == 3


def test_the_latest_commitment_in_the_file_is_the_persons_signing_date(services):
    """A 保密承诺书 filed dates the person's 保密承诺书签订日期 (the latest one filed; an older
    one filed late does not take it back), an entry's date corrected or voided moves it back to
    the latest left, and a date typed on the person makes no file entry (the file lists paper
    the unit holds)."""
    person = services.ledgers.create("people", staff(commitment_signed_on=None))
    renewed = services.ledgers.create("staff_files", {"kind": "保密承诺书", "entry_date": "2024-03-01",
                                                      "outcome": "已签订"}, parent_id=person.id)
    assert services.ledgers.get(person.id).values["commitment_signed_on"] == dt.date(2024, 3, 1)
    entry = services.ledgers.history(person.id)[0]
    assert [(c.old, c.new) for c in entry.changes if c.field == "commitment_signed_on"] == [("", "2024-03-01")]
    services.ledgers.create("staff_files", {"kind": "保密承诺书", "entry_date": "2020-03-01"}, parent_id=person.id)
    services.ledgers.create("staff_files", {"kind": "奖惩", "entry_date": "2025-01-01"}, parent_id=person.id)
    assert services.ledgers.get(person.id).values["commitment_signed_on"] == dt.date(2024, 3, 1)
    services.ledgers.update(renewed.id, {"entry_date": "2023-03-01"})
    assert services.ledgers.get(person.id).values["commitment_signed_on"] == dt.date(2023, 3, 1)
    services.ledgers.void(renewed.id, "录入错误")
    assert services.ledgers.get(person.id).values["commitment_signed_on"] == dt.date(2020, 3, 1)
    services.ledgers.restore(renewed.id)
    assert services.ledgers.get(person.id).values["commitment_signed_on"] == dt.date(2023, 3, 1)
    # imported on their own, naming the person
    result = services.ledgers.create_many("staff_files", [
        {"_parent": person.values["person_number"], "kind": "保密承诺书", "entry_date": "2025-06-01"}])
    assert result.created and services.ledgers.get(person.id).values["commitment_signed_on"] == dt.date(2025, 6, 1)
    other = services.ledgers.create("people", staff(name="王强", id_number=ID_2, commitment_signed_on="2022-01-01"))
    assert services.ledgers.children(other.id, "staff_files") == []


def test_revision_0021_adds_the_staff_fields_and_the_file_to_a_register_in_use(empty_db_target):
    """People registered before 0021 keep every value and get the new columns empty; the file's
    table is made, with its search index, and takes entries at once."""
    from sqlalchemy import text

    db = Database.open(empty_db_target, migrate=False)
    try:
        db.upgrade(backup_dir=None, target="0020")
        at = dt.datetime(2026, 3, 5, 10, 0)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO records (id, ledger, label, voided) VALUES (1, 'people', '张伟', false)"))
            conn.execute(text("INSERT INTO ledger_people (id, person_number, name, department, grade, id_tail, status, "
                              "voided, created_at, updated_at, version) VALUES "
                              "(1, 'RY-0001', '张伟', '科研一处', '核心', '1234', '在岗', false, :at, :at, 1)"), {"at": at})
        db.upgrade(backup_dir=None, target="0021")
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT name, grade, id_tail, id_number, sex, next_review FROM ledger_people")).one()
            assert tuple(row) == ("张伟", "核心", "1234", None, None, None)
            assert conn.execute(text("SELECT count(*) FROM ledger_staff_files")).scalar() == 0
    finally:
        db.close()


def test_a_decommission_period_ending_before_it_starts_is_refused(services):
    """脱密期截止 typed (or imported) before 脱密期开始 was stored: the person was moved to 已脱密
    the next morning, a period never served."""
    with pytest.raises(ValidationFailed, match="脱密期截止") as refused:
        services.ledgers.create("people", staff(id_number=None, decommission_from="2026-03-01",
                                                decommission_until="2025-08-31"))
    assert "decommission_until" in refused.value.errors
    person = services.ledgers.create("people", staff(id_number=None, decommission_from="2026-03-01",
                                                     decommission_until="2026-08-31"))
    with pytest.raises(ValidationFailed, match="早于脱密期开始"):
        services.ledgers.update(person.id, {"decommission_until": "2026-02-28"})
    assert services.ledgers.get(person.id).values["decommission_until"] == dt.date(2026, 8, 31)
