"""Correctness gaps of the relational ledgers (issue 9), through the service on a real database
(SQLite file, or PostgreSQL with MIBAO_TEST_DATABASE): undoing an edit puts back the very
records and people it replaced; 机密★20年 typed in a form keeps its period or is refused;
restoring a voided record runs its rules and uniqueness again; a carrier is not destroyed
while copies of it are still held; a parent that does not exist, and a status typed into an
edit, are refused in Chinese."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from mibao_desktop.errors import LifecycleError, NotFound, ValidationFailed
from mibao_desktop.ledgers.levels import LONG_TERM
from mibao_desktop.services.carrier_actions import CarrierActions
from mibao_desktop.services.repository import LedgerQuery
from tests.conftest import computer
from tests.test_relations import people_named, printer
from tests.test_review_relations import carrier


def second_computer(**overrides):
    return computer(asset_number="JM-0002", serial_number="S2", disk_serials="D2",
                    mac_addresses="00-1A-2B-3C-4D-60", **overrides)


def _undo_last_edit(service, record_id):
    return service.revert(record_id, service.history(record_id)[0].id)


# -- 1. undoing an edit ------------------------------------------------------------------------

def test_an_undo_puts_back_the_person_it_replaced_even_renamed_or_with_a_namesake(service):
    a = service.create("computers", computer(user="张伟", responsible_person="李四(科研一处)"))
    zhang, li = a.values["user"], a.values["responsible_person"]
    service.update(a.id, {"user": "王芳", "responsible_person": "王芳"})
    service.update(zhang.id, {"name": "张伟伟"})  # renamed since
    service.create("people", {"name": "李四", "department": "保密办"})  # a namesake in the record's department
    people = service.count("people")
    undone = _undo_last_edit(service, a.id)
    assert undone.values["user"].id == zhang.id and undone.display("user") == "张伟伟"
    assert undone.values["responsible_person"].id == li.id
    assert service.count("people") == people  # nobody added for the old name
    assert [c.label for c in service.history(a.id)[0].changes] == ["使用人", "责任人"]


def test_an_undo_puts_back_the_records_it_replaced_even_renumbered(service):
    one = service.create("computers", computer())
    two = service.create("computers", second_computer())
    device = service.create("office_devices", printer(connected_computers="JM-0001；JM-0002"))
    service.update(device.id, {"connected_computers": "JM-0002"})
    service.update(one.id, {"asset_number": "JM-0100"})  # renumbered since …
    impostor = service.create("computers", computer(serial_number="S3", disk_serials="D3",  # … its number reused
                                                    mac_addresses="00-1A-2B-3C-4D-61"))
    undone = _undo_last_edit(service, device.id)
    assert [r.id for r in undone.values["connected_computers"]] == [one.id, two.id]
    assert undone.display("connected_computers") == "JM-0100；JM-0002"
    assert impostor.id not in [r.id for r in undone.values["connected_computers"]]


def test_an_undo_does_not_name_anew_a_person_voided_since(service):
    a = service.create("computers", computer(user="赵六"))
    zhao = a.values["user"]
    service.update(a.id, {"user": "钱七"})
    service.void(zhao.id, "录入错误")
    with pytest.raises(ValidationFailed, match="赵六.*已作废"):
        _undo_last_edit(service, a.id)
    assert service.get(a.id).display("user") == "钱七"
    assert people_named(service, "赵六") == []  # no second 赵六 in the register


def test_an_undo_of_history_written_before_ids_were_kept_adds_nobody(service, db):
    """History from before revision 0010 holds a person as the name shown: a name nobody has
    any more (renamed) is refused, not registered again as a new person."""
    a = service.create("computers", computer(user="张伟"))
    zhang = a.values["user"]
    service.update(a.id, {"user": "王芳"})
    service.update(zhang.id, {"name": "张伟伟"})
    with db.write() as session:
        session.execute(text("UPDATE field_changes SET old_ids = NULL, new_ids = NULL"))
    people = service.count("people")
    with pytest.raises(ValidationFailed, match="张伟"):
        _undo_last_edit(service, a.id)
    assert service.count("people") == people


def test_an_undo_puts_back_every_other_kind_of_field(service):
    """Not a gap (checked): levels, periods, dates, numbers, choices, text on several lines and
    lists come back from the history's text as they were."""
    c = service.create("carriers", carrier(level="机密★长期", pages=12, scope="全体", received_on="2024-02-03",
                                           remarks="第一行\n第二行"))
    service.update(c.id, {"level": "秘密★5年", "pages": 3, "scope": "", "received_on": "2024-05-05",
                          "remarks": "改", "copies": 4, "form": "光盘", "issuer": "本单位"})
    assert _undo_last_edit(service, c.id).values == c.values
    assert c.values["secrecy_period"] == LONG_TERM and c.values["declassify_on"] is None
    a = service.create("computers", computer(protection="三合一；主机审计", disk_serials="D1；D2", os="自编系统"))
    service.update(a.id, {"protection": "防病毒", "disk_serials": "D3", "network": "涉密网", "os": "Windows 7",
                          "classified_on": "2024-01-02"})
    assert _undo_last_edit(service, a.id).values == a.values


# -- 2. a marking with a period typed in a form ------------------------------------------------

def test_a_marking_typed_in_the_form_keeps_its_period_over_the_one_shown(service):
    c = service.create("carriers", carrier(level="机密★10年"))
    form = {f.name: c.display(f.name) for f in c.ledger.form_fields}  # what the form hands back
    assert form["secrecy_period"] == "10年"
    edited = service.update(c.id, {**form, "level": "机密★20年"})
    assert (edited.values["level"], edited.values["secrecy_period"]) == ("机密", 20)
    assert edited.values["declassify_on"] == dt.date(2044, 1, 2)
    # a period changed in the form to agree is fine; one that disagrees is refused, naming both
    assert service.update(c.id, {**form, "level": "机密★30年", "secrecy_period": "30年"}).values["secrecy_period"] == 30
    with pytest.raises(ValidationFailed, match="5年.*长期|长期.*5年") as err:
        service.update(c.id, {**form, "level": "机密★5年", "secrecy_period": "长期"})
    assert "level" in err.value.errors
    with pytest.raises(ValidationFailed, match="不一致"):
        service.create("carriers", carrier(carrier_number="ZT-2", level="机密★20年", secrecy_period="10年"))
    assert service.create("carriers", carrier(carrier_number="ZT-3", level="机密★20年",
                                              secrecy_period="20年")).values["secrecy_period"] == 20


def test_an_import_refuses_a_row_whose_marking_and_period_disagree(service):
    result = service.create_many("carriers", [carrier(carrier_number="ZT-1", level="机密★20年", secrecy_period="10年"),
                                              carrier(carrier_number="ZT-2", level="机密★10年", secrecy_period="10年")])
    assert [(r.index, r.field) for r in result.refused] == [(0, "密级")] and "不一致" in result.refused[0].message
    assert [v.values["secrecy_period"] for v in service.get_many(result.created)] == [10]


def test_a_period_typed_where_the_ledger_keeps_none_is_refused_not_dropped(service):
    with pytest.raises(ValidationFailed, match="不记保密期限") as err:
        service.create("computers", computer(level="机密★20年"))
    assert "20年" in err.value.errors["level"]
    assert service.count("computers") == 0
    a = service.create("computers", computer(level="机密★"))  # a star alone carries no period
    with pytest.raises(ValidationFailed, match="不记保密期限"):
        service.update(a.id, {"level": "绝密★长期"})
    assert service.get(a.id).values["level"] == "机密"


# -- 3. restoring a voided record ----------------------------------------------------------------

def test_a_restore_is_refused_while_a_rule_of_the_record_would_be_broken(service):
    one = service.create("computers", computer())
    device = service.create("office_devices", printer(connected_computers="JM-0001", level="机密"))
    service.void(device.id, "录入错误")
    service.update(one.id, {"level": "绝密"})  # the voided printer's rule is not asked meanwhile
    with pytest.raises(ValidationFailed, match="DY-0001 不能恢复") as err:
        service.restore(device.id)
    assert "JM-0001" in err.value.errors["level"]
    assert service.get(device.id).voided
    service.update(one.id, {"level": "机密"})
    assert service.restore(device.id).voided is False


def test_a_restore_is_refused_while_its_number_is_held_by_another_record(service):
    a = service.create("computers", computer())
    service.void(a.id, "录入错误")
    service.create("computers", computer(user="王芳", serial_number="S9", disk_serials="D9",
                                         mac_addresses="00-1A-2B-3C-4D-69"))
    with pytest.raises(ValidationFailed, match="不能恢复") as err:
        service.restore(a.id)
    assert err.value.errors["asset_number"] == "“JM-0001”已登记在涉密计算机 JM-0001(王芳)上,不能重复"
    assert "请改正" not in str(err.value)  # a voided record is not edited: nothing to correct in it


# -- 4. a carrier is not destroyed while copies are held -----------------------------------------

def test_a_carrier_is_not_destroyed_while_any_copy_of_it_is_still_held(service):
    acts = CarrierActions(service)  # a copy moves only through its recorded actions (issue 13 item 2)
    c = service.create("carriers", carrier(copies=4))
    copies = [service.create("carrier_copies", {"copy_number": n, "holder": "李娜"}, parent_id=c.id) for n in (1, 2, 3, 4)]
    acts.lend([copies[1].id], {"borrower": "王芳", "due_back": dt.date.today(), "approver": "王局长",
                               "beyond_scope": "载体未注明知悉范围,经批准"})
    acts.clear([copies[2].id], {"returned_to": "发文单位", "approver": "王局长", "reason": "退回发文单位"})
    service.void(copies[3].id, "录入错误")  # a voided copy holds nothing back
    with pytest.raises(LifecycleError) as err:
        service.change_status(c.id, "已销毁", reason="经批准销毁")
    assert "份号 1(在管,李娜)、份号 2(借出,王芳)" in str(err.value)
    assert "份号 3" not in str(err.value) and "份号 4" not in str(err.value)
    assert service.get(c.id).status == "在管"
    destroy = {"approver": "王局长", "supervisor_1": "李娜", "supervisor_2": "赵敏", "contractor": "保密技术服务中心",
               "contractor_licence": "ZJ-01", "destroy_method": "粉碎", "reason": "经批准销毁"}
    acts.destroy([copies[0].id], destroy)
    acts.give_back([copies[1].id])
    acts.destroy([copies[1].id], destroy)
    assert service.get(c.id).status == "已销毁"  # its last copy closed: the carrier ends with it
    # nothing held can come under it afterwards: a new copy, a restored one, a copy sheet
    with pytest.raises(LifecycleError, match="ZT-0001.*已销毁"):
        service.create("carrier_copies", {"copy_number": 5}, parent_id=c.id)
    with pytest.raises(LifecycleError, match="ZT-0001.*已销毁"):
        service.restore(copies[3].id)
    result = service.create_many("carrier_copies", [{"_parent": "ZT-0001", "copy_number": 6}])
    assert not result.created and "已销毁" in result.refused[0].message


def test_an_imported_destroyed_carrier_comes_with_no_copy_still_held(service):
    result = service.create_many("carriers", [
        {**carrier(carrier_number="ZT-1"), "status": "已销毁", "_children": [{"copy_number": 1, "status": "已销毁"}]},
        {**carrier(carrier_number="ZT-2"), "status": "已销毁", "_children": [{"copy_number": 1, "status": "已销毁"},
                                                                             {"copy_number": 2}]}])
    assert [v.number for v in service.get_many(result.created)] == ["ZT-1"]
    assert any(r.index == 1 and r.child == 1 and "在管" in r.message for r in result.refused)


# -- 5. the child records of a parent that does not exist -----------------------------------------

def test_the_children_of_a_record_that_does_not_exist_are_refused_in_chinese(service):
    with pytest.raises(NotFound, match="找不到"):
        service.children(987654)
    with pytest.raises(NotFound, match="找不到"):
        service.children(987654, "carrier_copies")


# -- 6. a status typed into an edit --------------------------------------------------------------

@pytest.mark.parametrize("status", ["不存在的状态", "报废"])
def test_a_status_given_to_an_edit_is_refused_pointing_to_the_status_action(service, status):
    a = service.create("computers", computer())
    with pytest.raises(LifecycleError, match="请使用“变更状态”"):
        service.update(a.id, {"status": status, "location": "新楼"})
    assert service.get(a.id).values["location"] == "行政楼301"
    assert service.update(a.id, {"status": "在用", "location": "新楼"}).values["location"] == "新楼"  # as it is: fine


def test_get_many_reads_records_of_several_ledgers_together_in_the_order_asked(service):
    # the print service and the forms read a selection this way (500 copies and their carriers)
    pc = service.create("computers", computer())
    card = CarrierActions(service).register(carrier(copies=2, scope="保密办"))
    copies = service.children(card.id)
    person = people_named(service, "张伟")[0]
    ids = [copies[1].id, pc.id, card.id, person.id, copies[0].id, pc.id]
    got = service.get_many(ids)
    assert [v.id for v in got] == ids
    assert [v.ledger.key for v in got] == ["carrier_copies", "computers", "carriers", "people", "carrier_copies",
                                           "computers"]
    assert got[0].parent_id == card.id and got[0].number == 2 and got[1].display("user") == "张伟"
    assert got[0].values == service.get(copies[1].id).values
    with pytest.raises(NotFound):
        service.get_many([pc.id, 987654])
