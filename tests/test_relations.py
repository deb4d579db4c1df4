"""Ledgers that hold relations: people, references, rules over other records, child records,
computed fields and secrecy periods — through the services, on a real database (SQLite file,
or PostgreSQL with MIBAO_TEST_DATABASE)."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from mibao_desktop.errors import LifecycleError, ValidationFailed
from mibao_desktop.excel import import_ledger
from mibao_desktop.services.ledger_service import StillReferenced
from mibao_desktop.services.repository import LedgerQuery
from tests.conftest import computer


def unclassified(**overrides):
    values = computer(asset_number="FM-0001", serial_number="FSN1", disk_serials="FD1",
                      mac_addresses="3C-52-82-00-00-01", network="互联网")
    for name in ("level", "classified_on"):
        values.pop(name)
    values.update(overrides)
    return values


def printer(**overrides):
    values = dict(asset_number="DY-0001", device_type="打印机", brand_model="奔图 P3305DN", serial_number="P1",
                  level="机密", responsible_person="张伟", department="保密办", connected_computers="JM-0001")
    values.update(overrides)
    return values


def people_named(service, name):
    return [p for p in service.query("people", LedgerQuery(limit=None)).rows if p.display("name") == name]


# -- people ----------------------------------------------------------------------------------

def test_a_name_typed_for_a_person_adds_the_person_once(service):
    first = service.create("computers", computer(user="新来的", responsible_person="新来的"))
    service.create("media", {"asset_number": "U-1", "media_type": "U盘", "brand_model": "金士顿", "level": "秘密",
                             "responsible_person": "新来的", "department": "科研一处"})
    people = people_named(service, "新来的")
    assert len(people) == 1
    person = people[0]
    assert person.number.startswith("RY-") and person.display("department") == "保密办"  # the computer's department
    assert first.values["user"].id == first.values["responsible_person"].id == person.id
    assert service.history(person.id)[0].reason == "登记其他台账时新增"
    held = {(r.ledger.key, r.label, r.field_label) for r in service.referrers(person.id)}
    assert held == {("computers", "JM-0001", "使用人"), ("computers", "JM-0001", "责任人"), ("media", "U-1", "责任人")}


def test_two_people_of_one_name_are_told_apart_or_refused_naming_both(service):
    research = service.create("people", {"name": "张伟", "department": "科研一处"})
    finance = service.create("people", {"name": "张伟", "department": "财务处"})
    assert research.number != finance.number  # numbered automatically
    a = service.create("computers", computer(department="科研一处"))  # the record's department decides
    assert a.values["user"].id == research.id
    b = service.create("computers", computer(asset_number="JM-2", serial_number="S2", disk_serials="D2",
                                             mac_addresses="00-1A-2B-3C-4D-60", user="张伟(财务处)",
                                             responsible_person=f"张伟({finance.number})"))
    assert b.values["user"].id == b.values["responsible_person"].id == finance.id
    with pytest.raises(ValidationFailed) as refused:
        service.create("computers", computer(asset_number="JM-3", serial_number="S3", disk_serials="D3",
                                             mac_addresses="00-1A-2B-3C-4D-61", department="保密办"))
    message = refused.value.errors["user"]
    assert "2 位“张伟”" in message and "科研一处" in message and "财务处" in message
    # choosing the person (as the form's completer does) is never ambiguous
    c = service.create("computers", computer(asset_number="JM-3", serial_number="S3", disk_serials="D3",
                                             mac_addresses="00-1A-2B-3C-4D-61", department="保密办",
                                             user=finance.ref(), responsible_person=research.ref()))
    assert (c.values["user"].id, c.values["responsible_person"].id) == (finance.id, research.id)
    offered = service.suggestions("computers", "user", "张")
    assert {shown for _ref, shown in offered} >= {f"张伟(科研一处·{research.number})", f"张伟(财务处·{finance.number})"}


def test_an_import_refuses_an_undecidable_person_and_adds_new_names_once(service, tmp_path):
    service.create("people", {"name": "张伟", "department": "科研一处"})
    service.create("people", {"name": "张伟", "department": "财务处"})
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["设备编号", "品牌型号", "密级", "定密时间", "使用人", "责任人", "部门", "硬盘序列号", "MAC地址"])
    ws.append(["JM-1", "联想", "机密", "2020-01-01", "张伟", "张伟", "保密办", "D1", "00-1A-2B-3C-4D-01"])
    ws.append(["JM-2", "联想", "机密", "2020-01-01", "张伟", "李新", "财务处", "D2", "00-1A-2B-3C-4D-02"])
    ws.append(["JM-3", "联想", "机密", "2020-01-01", "李新", "李新", "档案室", "D3", "00-1A-2B-3C-4D-03"])
    path = tmp_path / "台账.xlsx"
    wb.save(path)
    report = import_ledger(service, service.ledger("computers"), path)
    assert report.created == 2
    refusal = next(r for r in report.refused if r.row == 2)
    assert refusal.column == "使用人" and "科研一处" in refusal.message and "财务处" in refusal.message
    assert len(people_named(service, "李新")) == 1
    assert service.find("computers", "JM-2").values["user"].id == people_named(service, "张伟")[1].id


def test_renaming_a_person_carries_to_what_they_hold(service):
    made = service.create("computers", computer(user="王芳", responsible_person="王芳"))
    person = made.values["user"]
    service.update(person.id, {"name": "王芳芳"})
    assert service.get(made.id).display("user") == "王芳芳"
    assert [r.number for r in service.query("computers", LedgerQuery(text="王芳芳")).rows] == ["JM-0001"]


# -- references and the rules that look at them ----------------------------------------------------

def test_a_printer_refers_to_computers_by_number_and_follows_a_renumbering(service):
    pc = service.create("computers", computer())
    device = service.create("office_devices", printer())
    assert device.values["connected_computers"][0].id == pc.id
    service.update(pc.id, {"asset_number": "JM-0100"})
    assert service.get(device.id).display("connected_computers") == "JM-0100"
    assert [r.number for r in service.query("office_devices", LedgerQuery(text="jm-0100")).rows] == ["DY-0001"]
    assert service.query("office_devices", LedgerQuery(text="jm-0001")).rows == []
    with pytest.raises(ValidationFailed, match="没有编号为“JM-0001”"):
        service.create("office_devices", printer(asset_number="DY-2", serial_number="P2"))


def test_a_printer_may_not_serve_a_classified_and_an_unclassified_computer(service):
    service.create("computers", computer())
    service.create("unclassified_computers", unclassified())
    with pytest.raises(ValidationFailed) as refused:
        service.create("office_devices", printer(connected_computers="JM-0001；FM-0001"))
    message = refused.value.errors["connected_computers"]
    assert "JM-0001" in message and "FM-0001" in message and "共用" in message


def test_a_device_is_classified_at_least_as_high_as_the_computers_it_serves(service):
    pc = service.create("computers", computer(level="机密"))
    with pytest.raises(ValidationFailed, match=r"JM-0001\(机密\)"):
        service.create("office_devices", printer(level="秘密"))
    service.create("office_devices", printer(level="机密"))
    with pytest.raises(ValidationFailed) as refused:  # the computer cannot be raised above its printer
        service.update(pc.id, {"level": "绝密"})
    assert "DY-0001" in refused.value.errors["related"]
    assert service.get(pc.id).values["level"] == "机密"


def test_a_referenced_record_is_voided_or_destroyed_only_once_the_user_was_told(service):
    pc = service.create("computers", computer())
    device = service.create("office_devices", printer())
    with pytest.raises(StillReferenced) as told:
        service.void(pc.id, "录入错误")
    assert [str(r) for r in told.value.referrers] == ["办公自动化设备 DY-0001(连接的计算机)"]
    assert not service.get(pc.id).voided
    with pytest.raises(StillReferenced):  # retiring it: the printer still names it
        service.change_status(pc.id, "报废", reason="老化")
    service.change_status(pc.id, "报废", reason="老化", confirm_referenced=True)
    with pytest.raises(StillReferenced):
        service.change_status(pc.id, "已销毁", reason="送销毁")
    service.change_status(pc.id, "已销毁", reason="送销毁", confirm_referenced=True)
    assert service.get(device.id).display("connected_computers") == "JM-0001"
    other = service.create("computers", computer(asset_number="JM-2", serial_number="S2", disk_serials="D2",
                                                 mac_addresses="00-1A-2B-3C-4D-60"))
    service.update(device.id, {"connected_computers": "JM-2"})
    service.create("office_devices", printer(asset_number="DY-2", serial_number="P2", connected_computers="JM-2"))
    service.void(other.id, "录入错误", confirm_referenced=True)
    assert service.get(device.id).display("connected_computers") == "JM-2(已作废)"


def test_a_person_holding_devices_is_voided_or_leaves_only_once_the_user_was_told(service):
    made = service.create("computers", computer())
    person = made.values["user"]
    with pytest.raises(StillReferenced, match="JM-0001"):
        service.void(person.id, "录入错误")
    # 离岗: not by a bare status change, but by the procedure, which names what they still hold
    with pytest.raises(LifecycleError, match="须办理“离岗离职”"):
        service.change_status(person.id, "调离", reason="调动", confirm_referenced=True)
    from mibao_desktop.services.departure import DepartureService

    departure = DepartureService(service, actions=lambda: None)
    day = dt.date(2026, 3, 2)
    facts = {"reason": "调动", "briefed_on": day, "briefed_by": "王主任", "pledge_signed_on": day,
             "access_revoked_by": "刘工", "access_revoked_on": day}
    with pytest.raises(LifecycleError, match="手中还有 1 件未清退:涉密计算机 JM-0001"):
        departure.leave(person.id, "调离", facts)
    departure.hand_over(person.id, [made.id], "孙丽", approver="王主任")
    assert departure.leave(person.id, "调离", facts).status == "调离"


# -- child records, computed fields, secrecy periods ---------------------------------------------

def carrier(**overrides):
    values = dict(carrier_number="ZT-1", title="年度计划", level="机密", classified_on="2020-03-01", copies=2,
                  keeper="李娜", department="保密办")
    values.update(overrides)
    return values


def test_a_marking_gives_level_and_period_and_the_declassification_date_is_computed(service):
    c = service.create("carriers", carrier(level="机密★10年"))
    assert (c.values["level"], c.values["secrecy_period"]) == ("机密", 10)
    assert c.values["declassify_on"] == dt.date(2030, 3, 1)
    d = service.create("carriers", carrier(carrier_number="ZT-2", level="秘密★长期"))
    assert d.display("secrecy_period") == "长期" and d.values["declassify_on"] is None
    e = service.create("carriers", carrier(carrier_number="ZT-3", level="绝密★"))  # statutory: 30 years
    assert e.values["secrecy_period"] is None and e.values["declassify_on"] == dt.date(2050, 3, 1)
    service.update(e.id, {"secrecy_period": "5年"})
    assert service.get(e.id).values["declassify_on"] == dt.date(2025, 3, 1)
    due = service.query("carriers", LedgerQuery(sort="declassify_on", limit=None)).rows
    # by date (where the undated one goes is the engine's: first on SQLite, last on PostgreSQL)
    assert [r.number for r in due if r.values["declassify_on"]] == ["ZT-3", "ZT-1"]


def test_copies_belong_to_their_carrier_and_their_number_is_unique_within_it(service):
    a = service.create("carriers", carrier())
    b = service.create("carriers", carrier(carrier_number="ZT-2"))
    service.create("carrier_copies", {"copy_number": 1, "holder": "李娜"}, parent_id=a.id)
    service.create("carrier_copies", {"copy_number": 2, "holder": "王芳"}, parent_id=a.id)
    service.create("carrier_copies", {"copy_number": 1, "holder": "王芳"}, parent_id=b.id)
    with pytest.raises(ValidationFailed, match="已登记"):
        service.create("carrier_copies", {"copy_number": 2}, parent_id=a.id)
    assert [(c.number, c.display("holder")) for c in service.children(a.id)] == [(1, "李娜"), (2, "王芳")]
    with pytest.raises(LifecycleError, match="载体份"):  # not voided from under its copies
        service.void(a.id, "录入错误")


def test_a_carrier_sheet_with_a_row_per_copy_imports_carriers_with_their_copies(service, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["国家秘密载体登记表"])
    ws.append(["登记编号", "标题", "密级", "定密时间", "份数", "保管人", "部门", "份号", "持有人"])
    ws.append(["ZT-1", "年度计划", "机密★10年", "2020-03-01", 2, "李娜", "保密办", 1, "李娜"])
    ws.append(["ZT-2", "图纸", "秘密", "2021-01-01", 2, "王芳", "科研一处", 1, "王芳"])
    ws.append([None, None, None, None, None, None, None, 2, "赵强"])  # merged cells: still ZT-1? no: ZT-2
    ws.append(["ZT-1", None, None, None, None, None, None, 2, "赵强"])  # ZT-1 again, further down
    ws.append(["ZT-3", "方案", "绝密", "2022-01-01", 2, "王芳", "科研一处", 1, "王芳"])
    ws.append(["ZT-3", None, None, None, None, None, None, 1, "赵强"])  # 份号 1 twice: ZT-3 refused whole
    path = tmp_path / "载体.xlsx"
    wb.save(path)
    report = import_ledger(service, service.ledger("carriers"), path)
    assert report.created == 2
    assert {r.row for r in report.refused} == {7, 8}
    assert any("份号" == r.column and "重复" in r.message for r in report.refused)
    one = service.find("carriers", "ZT-1")
    assert (one.values["secrecy_period"], one.display("keeper")) == (10, "李娜")
    assert [(c.number, c.display("holder")) for c in service.children(one.id)] == [(1, "李娜"), (2, "赵强")]
    two = service.find("carriers", "ZT-2")
    assert [c.number for c in service.children(two.id)] == [1, 2]
    assert service.find("carriers", "ZT-3") is None
    assert people_named(service, "赵强")  # added once for the copies


def test_a_copy_sheet_names_its_carrier_and_may_list_it_later(service, tmp_path):
    service.create("carriers", carrier())
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["所属载体", "份号", "持有人"])
    ws.append(["ZT-1", 1, "李娜"])
    ws.append(["ZT-9", 1, "李娜"])
    path = tmp_path / "份.xlsx"
    wb.save(path)
    report = import_ledger(service, service.ledger("carrier_copies"), path)
    assert report.created == 1
    assert [r.message for r in report.refused] == ["没有编号为“ZT-9”的涉密载体"]


def test_copies_of_many_carriers_in_one_batch_find_their_carriers_and_their_numbers_clash_only_within_one(service):
    # the parents are looked up together and the 份号 asked for by scope: every fault still named by row
    for n in (1, 2, 3):
        service.create("carriers", carrier(carrier_number=f"ZT-{n}"))
    service.void(service.find("carriers", "ZT-3").id, "登记错误")
    rows = [{"_parent": "ZT-1", "copy_number": 1}, {"_parent": "ZT-1", "copy_number": 2},
            {"_parent": "ZT-2", "copy_number": 1},  # 份号 1 again, in another carrier: allowed
            {"_parent": "ZT-1", "copy_number": 1},  # twice in the file, in the same carrier
            {"_parent": "", "copy_number": 1}, {"_parent": "zt-2", "copy_number": 2},
            {"_parent": "ZT-3", "copy_number": 1}, {"_parent": "ZT-9", "copy_number": 1}]
    result = service.create_many("carrier_copies", rows)
    assert len(result.created) == 4
    refused = {(r.index, r.message) for r in result.refused}
    assert {i for i, _ in refused} == {3, 4, 6, 7}
    assert (4, "须填写所属涉密载体的编号") in refused
    assert (6, "没有编号为“ZT-3”的涉密载体") in refused and (7, "没有编号为“ZT-9”的涉密载体") in refused
    assert any(i == 3 and "重复" in m for i, m in refused)
    two = service.find("carriers", "ZT-2")
    assert [c.number for c in service.children(two.id)] == [1, 2]
    again = service.create_many("carrier_copies", [{"_parent": "ZT-2", "copy_number": 1},
                                                   {"_parent": "ZT-1", "copy_number": 3}])
    assert len(again.created) == 1 and [r.index for r in again.refused] == [0]
    assert "已登记" in again.refused[0].message
