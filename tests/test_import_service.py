"""Issue 10, the service side of an import that keeps what the unit wrote: the status a file
gives, the period in 机密★10年, every fault of a row in one pass, the file's own row numbers,
notes of what cells were read as, text kept as typed (identifiers folded), 20190305 as a date."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from mibao_desktop.ledgers import LEDGERS
from mibao_desktop.ledgers.declaration import DEVICE_LIFECYCLE, MEDIA_LIFECYCLE, PEOPLE_LIFECYCLE
from mibao_desktop.ledgers.fields import Level
from mibao_desktop.ledgers.levels import LONG_TERM
from mibao_desktop.ledgers.normalize import FieldError, clean_text, normalise_date
from mibao_desktop.services.ledger_service import _RowNames
from mibao_desktop.services.repository import LedgerQuery
from tests.conftest import computer
from tests.test_review_relations import carrier, check_derived


def nth(n: int, **overrides):
    """The n-th of a set of computers that clash in nothing."""
    values = dict(asset_number=f"JM-{n:04d}", serial_number=f"SN{n}", disk_serials=f"D{n}",
                  mac_addresses=f"00-1A-2B-3C-4D-{n:02X}")
    return computer(**{**values, **overrides})


def refusals(result):
    return {(r.index, r.field): r.message for r in result.refused}


# -- 1. the status a file gives ----------------------------------------------------------------

def test_the_status_a_file_gives_is_kept_in_the_record_its_history_and_the_counts(service, db):
    words = ["维修", "停用 ", "已销毁", "已报废", "", None, "使用中"]
    result = service.create_many("computers", [nth(i + 1, status=w) for i, w in enumerate(words)], source="台账.xlsx")
    assert not result.refused and len(result.created) == 7
    views = service.get_many(result.created)
    assert [v.status for v in views] == ["维修", "停用", "已销毁", "报废", "在用", "在用", "在用"]
    repaired = service.history(result.created[0])
    assert [(h.action, h.reason) for h in repaired] == [("import", "导入,状态 维修(台账.xlsx)")]
    assert [(c.field, c.label, c.old, c.new) for c in repaired[0].changes] == [("status", "状态", "", "维修")]
    plain = service.history(result.created[4])
    assert [(h.action, h.reason, h.changes) for h in plain] == [("import", "台账.xlsx", ())]
    assert service.facet_counts("computers", "status") == {"维修": 1, "停用": 1, "已销毁": 1, "报废": 1, "在用": 3}
    year = dt.date.today().year
    assert service.year_counts("computers", year) == {("import", ""): 7}
    notes = {(n.index, n.field): n.message for n in result.notes}
    assert notes == {(3, "状态"): "状态“已报废”读作 报废", (6, "状态"): "状态“使用中”读作 在用"}
    check_derived(service, db)


def test_a_closing_status_needs_no_reason_and_without_a_source_the_reason_is_the_status(service):
    result = service.create_many("computers", [nth(1, status="已销毁")])
    assert not result.refused
    [event] = service.history(result.created[0])
    assert event.reason == "导入,状态 已销毁"


def test_a_status_the_lifecycle_does_not_know_refuses_the_row(service):
    result = service.create_many("computers", [nth(1, status="坏了"), nth(2, status="维修")], dry_run=True)
    assert refusals(result) == {(0, "状态"): "“坏了”不是涉密计算机的状态,应为:在用、停用、维修、外出、报废、已销毁"}
    assert result.accepted == 1 and [i for i, _ in result.rows] == [1]


def test_each_lifecycle_reads_its_own_words(service):
    assert DEVICE_LIFECYCLE.status_of("封存") == "停用" and DEVICE_LIFECYCLE.status_of("维修中") == "维修"
    assert DEVICE_LIFECYCLE.status_of("销毁") == DEVICE_LIFECYCLE.status_of("已销") == "已销毁"
    assert MEDIA_LIFECYCLE.status_of("借用") == "借出" and MEDIA_LIFECYCLE.status_of("封存") is None
    assert PEOPLE_LIFECYCLE.status_of("在职") == "在岗" and PEOPLE_LIFECYCLE.status_of("已离职") == "调离"
    assert PEOPLE_LIFECYCLE.status_of("退休") == "退休" and PEOPLE_LIFECYCLE.status_of("脱密期满") == "已脱密"
    assert LEDGERS["carriers"].lifecycle.status_of("已清退") == "清退"  # the common words serve every lifecycle
    result = service.create_many("people", [{"name": "甲", "status": "在职"}, {"name": "乙", "status": "已调离"},
                                            {"name": "丙", "status": "已离职"}])
    assert [v.status for v in service.get_many(result.created)] == ["在岗", "调离", "调离"]
    result = service.create_many("media", [{"asset_number": "U-1", "media_type": "U盘", "brand_model": "金士顿",
                                            "level": "秘密", "responsible_person": "甲", "department": "保密办",
                                            "status": "借用"}])
    assert service.get(result.created[0]).status == "借出"


def test_a_copy_brought_with_its_carrier_keeps_its_status(service, db):
    result = service.create_many("carriers", [{**carrier(), "_children": [
        {"copy_number": 1, "status": "借出"}, {"copy_number": 2}]}], source="载体.xlsx")
    assert not result.refused
    copies = service.children(result.created[0])
    assert [(c.values["copy_number"], c.status) for c in copies] == [(1, "借出"), (2, "在管")]
    assert service.history(copies[0].id)[0].reason == "导入,状态 借出(载体.xlsx)"
    check_derived(service, db)


# -- 2. the period in the level ----------------------------------------------------------------

@pytest.mark.parametrize("ledger", [l for l in LEDGERS.values()
                                    if l.level_field is not None and l.level_field.type.period_field])
def test_a_marking_fills_the_period_of_every_ledger_that_has_one(service, ledger):
    period = ledger.level_field.type.period_field
    assert ledger.key == "carriers"  # the one such ledger today; a new one must pass the same
    rows = [carrier(carrier_number="ZT-1", level="机密★10年"), carrier(carrier_number="ZT-2", level="秘密★长期"),
            carrier(carrier_number="ZT-3", level="机密★"), carrier(carrier_number="ZT-4", level="绝密")]
    result = service.create_many(ledger, rows)
    assert not result.refused
    views = service.get_many(result.created)
    assert [(v.values["level"], v.values[period]) for v in views] == [
        ("机密", 10), ("秘密", LONG_TERM), ("机密", None), ("绝密", None)]
    assert views[0].values["declassify_on"] == dt.date(2034, 1, 2)  # 2024-01-02 plus ten years
    assert views[1].values["declassify_on"] is None  # 长期
    assert views[2].values["declassify_on"] == dt.date(2044, 1, 2)  # 机密 without a period: twenty years
    notes = {n.index: n.message for n in result.notes}
    assert notes == {0: "密级“机密★10年”读作 机密,保密期限 10 年", 1: "密级“秘密★长期”读作 秘密,保密期限 长期"}


# -- 3. every fault of a row in one pass ----------------------------------------------------------

def test_a_row_reports_its_field_faults_and_its_clashes_at_once(service):
    service.create("computers", nth(1))
    rows = [
        nth(1, classified_on="明天"),  # a bad date, and the number, serial, disk and MAC of the stored JM-0001
        nth(2, level="很机密", mac_addresses="00-1A-2B-3C-4D-09"),  # a bad level; its MAC also in the next row
        nth(3, mac_addresses="00-1A-2B-3C-4D-09", user=""),  # that MAC again, and no user
    ]
    result = service.create_many("computers", rows, row_numbers=[5, 6, 7])
    found = refusals(result)
    assert found[(0, "定密时间")].startswith("“明天”不是可识别的日期")
    assert found[(0, "设备编号")] == "“JM-0001”已登记在涉密计算机 JM-0001(张伟)上,不能重复"
    assert found[(0, "MAC地址")].startswith("“00-1A-2B-3C-4D-01”已登记在涉密计算机 JM-0001")
    assert {k for k in found if k[0] == 0} == {(0, "定密时间"), (0, "设备编号"), (0, "机器序列号"), (0, "硬盘序列号"),
                                               (0, "MAC地址")}
    assert set(k for k in found if k[0] == 1) == {(1, "密级")}
    assert found[(2, "MAC地址")] == "与第 6 行重复" and found[(2, "使用人")] == "必填,不能为空"
    assert result.created == [] and result.rows == []


def test_a_reference_is_checked_beside_the_faults_of_the_other_fields(service):
    service.create("computers", nth(1))
    device = {"asset_number": "DY-0001", "device_type": "打印机", "brand_model": "奔图", "serial_number": "P1",
              "level": "很机密", "responsible_person": "张伟", "department": "保密办", "connected_computers": "JM-9999"}
    found = refusals(service.create_many("office_devices", [device]))
    assert set(found) == {(0, "密级"), (0, "连接的计算机")}
    assert "JM-9999" in found[(0, "连接的计算机")]


def test_without_row_numbers_a_duplicate_is_named_by_its_place_in_the_batch(service):
    found = refusals(service.create_many("computers", [nth(1), nth(2, asset_number="JM-0001")]))
    assert found == {(1, "设备编号"): "与本批第 1 条重复"}


def test_a_row_refused_is_named_by_its_row_number_when_another_refers_to_it():
    names = _RowNames([5, 7])
    assert names.refused("JM-01", 1) == "引用的“JM-01”在第 7 行,该行未能导入"
    assert names.duplicate(0) == "与第 5 行重复"
    assert _RowNames(None).refused("JM-01", 1) == "引用的“JM-01”在本批第 2 条,该条未能导入"


def test_rows_may_come_from_a_generator(service):
    result = service.create_many("computers", (nth(i) for i in range(1, 4)), total=3, row_numbers=[2, 3, 4])
    assert len(result.created) == 3 and [i for i, _ in result.rows] == [0, 1, 2]


# -- 5. notes and the rows that will be stored ------------------------------------------------

def test_a_dry_run_gives_the_rows_it_would_store_with_their_status(service):
    result = service.create_many("computers", [nth(1, status="维修"), nth(2, level="机密★10年")], dry_run=True)
    assert result.created == [] and service.count("computers") == 0
    assert [(i, v["asset_number"], v["status"], v["level"]) for i, v in result.rows] == [
        (0, "JM-0001", "维修", "机密"), (1, "JM-0002", "在用", "机密")]
    # computers keep no period: 机密★10年 is stored as 机密, and the preview says the period is not kept
    assert [(n.index, n.field) for n in result.notes] == [(1, "密级")] and "不记保密期限" in result.notes[0].message


# -- 6. text as typed, identifiers folded ---------------------------------------------------------

def test_free_text_is_kept_as_typed_and_identifiers_are_folded(service):
    view = service.create("computers", nth(1, asset_number="ＪＭ－０００１", brand_model="联想Ⅱ型", location="３０１室",
                                           remarks="②号机,面积 12㎡,室温 20℃"))
    assert view.number == "JM-0001"
    assert (view.values["brand_model"], view.values["location"]) == ("联想Ⅱ型", "３０１室")
    assert view.values["remarks"] == "②号机,面积 12㎡,室温 20℃"
    for word in ("301", "３０１", "联想II", "jm-0001", "ＪＭ－０００１"):  # the search still folds
        assert [r.id for r in service.query("computers", LedgerQuery(text=word)).rows] == [view.id], word
    result = service.create_many("computers", [nth(2, location="２号楼", department="科研１处")])
    stored = service.get(result.created[0])
    assert (stored.values["location"], stored.values["department"]) == ("２号楼", "科研１处")


def test_invisible_characters_are_removed_from_identifiers_before_uniqueness(service):
    service.create("computers", nth(1))
    result = service.create_many("computers", [
        nth(2, asset_number="JM-0001\u200b"), nth(3, asset_number="\ufeffJM-0005"), nth(4, asset_number="JM-0005\u00ad")],
        row_numbers=[2, 3, 4])
    found = refusals(result)
    assert found[(0, "设备编号")].startswith("“JM-0001”已登记在涉密计算机 JM-0001")
    assert found[(2, "设备编号")] == "与第 3 行重复"
    notes = {(n.index, n.field): n.message for n in result.notes}
    assert notes == {(0, "设备编号"): "设备编号中的不可见字符(零宽空格)已去除",
                     (1, "设备编号"): "设备编号中的不可见字符(BOM字符)已去除",
                     (2, "设备编号"): "设备编号中的不可见字符(软连字符)已去除"}



def test_a_no_break_space_in_an_identifier_is_removed_and_said_so(service):
    """A number copied from a web page carries &nbsp;: 'JM-00\u00a006' is JM-0006, a duplicate
    of the JM-0006 above it, and the preview says the no-break space was removed (it was read
    as a plain space before: JM-00 06, a number of its own). Free text keeps it as a space."""
    result = service.create_many("computers", [
        nth(5, asset_number="JM-0006"), nth(6, asset_number="JM-00\u00a006"),
        nth(7, asset_number="\u00a0JM-0007", serial_number="SN\u00a07007", location="综合楼\u00a0301室")],
        row_numbers=[5, 6, 7])
    assert refusals(result) == {(1, "设备编号"): "与第 5 行重复"}
    notes = {(n.index, n.field): n.message for n in result.notes}
    assert notes[(1, "设备编号")] == "设备编号中的不可见字符(不换行空格)已去除"
    assert notes[(2, "机器序列号")] == "机器序列号中的不可见字符(不换行空格)已去除"
    stored = service.get(result.created[1]).values
    assert (stored["asset_number"], stored["serial_number"], stored["location"]) == ("JM-0007", "SN7007", "综合楼 301室")
    assert clean_text("JM-1\u3000 2") == "JM-1 2"  # the ideographic space, which a person types, is a space


def test_a_no_break_space_in_a_name_or_a_listed_word_stays_a_space():
    """Only an identifier loses the no-break space (985b65d took it from every folded text: the
    unit's name 'Beijing Institute' became 'BeijingInstitute', Windows 10 read as Windows10)."""
    from mibao_desktop.ledgers import LEDGERS
    from mibao_desktop.services.settings import clean_unit_name

    assert clean_unit_name("Beijing\u00a0Institute 某所") == "Beijing Institute 某所"
    assert clean_text("Windows\u00a010") == "Windows 10" and clean_text("JM-00\u00a006", identifier=True) == "JM-0006"
    os_field = LEDGERS["computers"].field("os")
    assert os_field.normalise("Windows\u00a010") == os_field.normalise("Windows 10")

def test_clean_text_folds_only_when_asked():
    assert clean_text("②Ⅱ㎡℃ ＡＢ") == "2IIm2°C AB"
    assert clean_text("②Ⅱ㎡℃\u3000ＡＢ", fold=False) == "②Ⅱ㎡℃ ＡＢ"  # the ideographic space is a space
    assert clean_text("JM-1\u200b", fold=True) == "JM-1"
    with pytest.raises(FieldError):
        clean_text("a\x07b", fold=False)


def test_a_name_qualified_in_full_width_brackets_tells_namesakes_apart(service):
    service.create_many("people", [{"name": "张伟", "department": "科研一处"}, {"name": "张伟", "department": "财务处"}])
    view = service.create("computers", nth(1, user="张伟（财务处）", responsible_person="张伟(科研一处)"))
    assert view.values["user"].text == "张伟" and view.values["user"] != view.values["responsible_person"]


# -- 7. 20190305 as a number ---------------------------------------------------------------------

def test_a_date_typed_as_a_number_is_a_date():
    assert normalise_date(20190305) == dt.date(2019, 3, 5)
    assert normalise_date(20190305.0) == dt.date(2019, 3, 5)
    assert normalise_date(43531) == dt.date(2019, 3, 7)  # an Excel serial stays a serial
    with pytest.raises(FieldError, match="不是存在的日期"):
        normalise_date(20191345)
    with pytest.raises(FieldError):
        normalise_date(3000000)


def test_a_date_typed_as_a_number_is_imported(service):
    result = service.create_many("computers", [nth(1, classified_on=20190305)])
    assert service.get(result.created[0]).values["classified_on"] == dt.date(2019, 3, 5)


def test_people_added_by_an_import_are_numbered_recorded_and_audited_once(service, db):
    from sqlalchemy import select

    from mibao_desktop.db.models import AuditEntry

    rows = [nth(i, user=f"新人{i}", responsible_person=f"新人{i % 3}") for i in range(1, 7)]
    result = service.create_many("computers", rows)
    assert len(result.created) == 6 and sorted(result.people_added) == sorted(f"新人{i}" for i in range(7))
    people = service.query("people", LedgerQuery(limit=None)).rows
    assert sorted(p.number for p in people) == [f"RY-{i:04d}" for i in range(1, 8)]
    assert all(service.history(p.id)[0].reason == "登记其他台账时新增" for p in people)
    with db.session() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["record.create", "record.import"]
    assert entries[0].detail["count"] == 7 and len(entries[0].detail["people"]) == 7
    assert Counter(v.status for v in service.get_many(result.created)) == {"在用": 6}
    check_derived(service, db)


def test_a_carrier_refused_for_its_copies_refuses_the_rows_that_copy_it(service):
    # ZT-1 is refused for a copy given twice, after the rows naming a refused row were dropped:
    # ZT-2 (its 复制来源) was stored naming an id never stored, and the whole import failed
    # on the foreign key (数据库未能完成…), its preview saying every other row would be imported
    rows = [{**carrier(carrier_number="ZT-1"), "_children": [{"copy_number": 1}, {"copy_number": 1}]},
            {**carrier(carrier_number="ZT-2", copies=1), "source_carrier": "ZT-1", "_children": [{"copy_number": 1}]},
            {**carrier(carrier_number="ZT-3", copies=1), "_children": [{"copy_number": 1}]}]
    for dry_run in (True, False):
        result = service.create_many("carriers", [dict(r) for r in rows], dry_run=dry_run)
        assert result.accepted == 1 and [index for index, _v in result.rows] == [2]
        assert (1, "复制来源", "引用的“ZT-1”在本批第 1 条,该条未能导入") in [(r.index, r.field, r.message)
                                                                         for r in result.refused]
    assert [service.find("carriers", n) is not None for n in ("ZT-1", "ZT-2", "ZT-3")] == [False, False, True]
    assert len(service.children(service.find("carriers", "ZT-3").id)) == 1
