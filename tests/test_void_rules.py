"""作废 and the lifecycle (issue 12 item 1), in the core, on SQLite and PostgreSQL alike: a
record whose lifecycle has ended (已销毁) cannot be voided; several records are voided in one
transaction, all or none."""

from __future__ import annotations

import pytest

from mibao_desktop.errors import LifecycleError
from mibao_desktop.services.ledger_service import StillReferenced
from tests.conftest import computer


def three(service):
    return [service.create("computers", computer(asset_number=f"JM-000{i}", serial_number=f"S{i}",
                                                 disk_serials=f"D{i}", mac_addresses=f"00-00-00-00-00-0{i}"))
            for i in (1, 2, 3)]


def test_a_destroyed_record_cannot_be_voided_and_keeps_its_number(service):
    one, _two, _three = three(service)
    service.change_status(one.id, "报废", reason="老化")
    destroyed = service.change_status(one.id, "已销毁", reason="统一销毁")
    assert service.void_refusal(destroyed) == "JM-0001 为“已销毁”,记录只能查看,不能作废。"
    with pytest.raises(LifecycleError, match="已销毁"):
        service.void(one.id, "录入错误")
    assert not service.get(one.id).voided
    with pytest.raises(Exception):  # its number is still taken
        service.create("computers", computer(asset_number="JM-0001", serial_number="S9", disk_serials="D9",
                                             mac_addresses="00-00-00-00-00-09"))


def test_the_rule_comes_from_the_lifecycle(service):
    one, two, _three = three(service)
    service.change_status(two.id, "报废", reason="老化")  # closing but not terminal: may still be voided
    assert service.void_refusal(service.get(two.id)) == ""
    assert service.open_for_change(service.get(one.id))
    service.change_status(one.id, "报废", reason="老化")
    service.change_status(one.id, "已销毁", reason="统一销毁")
    assert not service.open_for_change(service.get(one.id))


def test_several_records_are_voided_together_or_not_at_all(service):
    one, two, three_ = three(service)
    service.change_status(three_.id, "报废", reason="老化")
    service.change_status(three_.id, "已销毁", reason="统一销毁")
    with pytest.raises(LifecycleError, match="JM-0003"):
        service.void_many([one.id, two.id, three_.id], "重复登记")
    assert service.count("computers") == 3  # nothing voided
    voided = service.void_many([one.id, two.id], "重复登记")
    assert [v.number for v in voided] == ["JM-0001", "JM-0002"] and all(v.voided for v in voided)
    assert [h.action for h in service.history(one.id)][0] == "void"


def test_voiding_several_names_every_record_still_referring_to_them(service):
    one, two, _three = three(service)
    printer = service.create("office_devices", {"asset_number": "BG-0001", "device_type": "打印机",
                                                "brand_model": "惠普 M403", "level": "机密",
                                                "responsible_person": "张伟", "department": "保密办",
                                                "connected_computers": "JM-0001"})
    with pytest.raises(StillReferenced) as refused:
        service.void_many([one.id, two.id], "重复登记")
    assert [r.label for r in refused.value.referrers] == ["BG-0001"]
    assert service.count("computers") == 3
    # voided together with the record referring to it: nobody is left to show it
    service.void_many([printer.id, one.id], "重复登记")
    assert service.get(one.id).voided


def test_two_workstations_voiding_overlapping_selections_do_not_deadlock(service, monkeypatch):
    """Selections made in opposite orders are locked in id order: one voids both, the other
    is told they are voided already (found in review: a PostgreSQL deadlock before)."""
    import threading
    import time

    from mibao_desktop.errors import ServiceError
    from mibao_desktop.ledgers.computers import computer_rows
    from mibao_desktop.services.ledger_service import LedgerService

    ids = service.create_many("computers", list(computer_rows(2, seed=3))).created
    real = LedgerService._view

    def slow(self, session, ledger, row):  # widens the window between the two locks
        time.sleep(0.3)
        return real(self, session, ledger, row)

    monkeypatch.setattr(LedgerService, "_view", slow)
    out = {}

    def run(name, order):
        try:
            out[name] = [v.id for v in service.void_many(order, "重复登记")]
        except ServiceError as exc:
            out[name] = exc
        except Exception as exc:  # a deadlock or anything else unexpected
            out[name] = ("unexpected", exc)

    threads = [threading.Thread(target=run, args=("A", ids)), threading.Thread(target=run, args=("B", ids[::-1]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kinds = sorted(type(v).__name__ for v in out.values())
    assert kinds in (["LifecycleError", "list"], ["Busy", "list"]), out


def test_a_carrier_is_voided_with_its_copies_selected_with_it(service):
    """A carrier entered by mistake is voided together with its copies in one selection; alone,
    it is still refused while its copies are in the ledger (found in review)."""
    from mibao_desktop.errors import LifecycleError

    carrier = service.create("carriers", dict(carrier_number="ZT-9", title="误登记", level="秘密",
                                              classified_on="2024-01-02", copies=2, keeper="李娜",
                                              department="保密办"))
    copies = [service.create("carrier_copies", {"copy_number": n, "holder": "李娜"}, parent_id=carrier.id)
              for n in (1, 2)]
    with pytest.raises(LifecycleError, match="载体份"):
        service.void_many([carrier.id, copies[0].id], "重复登记")  # the second copy is left
    voided = service.void_many([carrier.id, *[c.id for c in copies]], "重复登记")
    assert [v.voided for v in voided] == [True, True, True]
