"""Status changes that carry their facts (issue 12 item 5): what each status asks for is
declared with the lifecycle, checked and kept by the service with the change, read back from
the history, audited; a change is reversed by a new, recorded change."""

from __future__ import annotations

import datetime as dt

import pytest

from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import LifecycleError, ValidationFailed
from mibao_desktop.ledgers import LEDGERS
from mibao_desktop.ledgers.declaration import DEVICE_LIFECYCLE, MEDIA_LIFECYCLE
from mibao_desktop.services.ledger_service import LedgerQuery
from tests.conftest import computer, today


def trip() -> dict:
    return {"destination": "北京航天城", "trip_purpose": "型号评审会汇报", "carried_by": "李娜",
            "return_by": (today() + dt.timedelta(days=5)).isoformat()}


def _audit(db, action="record.status"):
    with db.session() as s:
        return [e for e in s.query(AuditEntry).order_by(AuditEntry.id) if e.action == action]


def test_each_status_declares_its_facts():
    names = lambda lc, s: [f.name for f in lc.facts_for(s)]  # noqa: E731
    assert names(DEVICE_LIFECYCLE, "外出") == ["destination", "trip_purpose", "carried_by", "return_by"]
    assert names(DEVICE_LIFECYCLE, "维修") == ["repaired_by", "escort", "storage_removed"]
    assert names(MEDIA_LIFECYCLE, "借出") == ["borrower", "due_back"]
    for lc in (DEVICE_LIFECYCLE, MEDIA_LIFECYCLE):
        for s in ("报废", "已销毁"):
            assert [(f.name, f.required) for f in lc.facts_for(s)] == [("reason", True)]
    assert DEVICE_LIFECYCLE.fact_fields["carried_by"].is_person
    for ledger in LEDGERS.values():  # a fact never shares a name with a field
        assert not set(ledger.lifecycle.fact_fields) & {f.name for f in ledger.fields}


def test_takeout_facts_required_in_chinese(service):
    view = service.create("computers", computer())
    with pytest.raises(ValidationFailed) as refused:
        service.change_status(view.id, "外出", facts={"destination": "北京"})
    message = str(refused.value)
    for label in ("外出事由", "携带人", "预计返回日期"):
        assert f"{label}:改为“外出”必须填写{label}" in message
    assert "外出地点" not in message
    assert service.get(view.id).status == "在用"  # nothing stored
    with pytest.raises(ValidationFailed, match="早于变更日期"):
        service.change_status(view.id, "外出", facts={**trip(), "return_by": "2020-01-01"})
    with pytest.raises(ValidationFailed, match="不填写"):
        service.change_status(view.id, "外出", facts={**trip(), "borrower": "王芳"})


def test_takeout_facts_stored_read_back_and_audited(service, db):
    view = service.create("computers", computer())
    moved = service.change_status(view.id, "外出", facts=trip(), effective_date=today())
    assert moved.status == "外出"
    entry = service.history(view.id)[0]
    assert entry.status_moved == ("在用", "外出")
    assert [(c.label, c.new) for c in entry.facts] == [
        ("外出地点", "北京航天城"), ("外出事由", "型号评审会汇报"), ("携带人", "李娜"),
        ("预计返回日期", trip()["return_by"])]
    assert entry.fact("carried_by") == "李娜" and entry.reason is None
    # the carrier is a person of the register (added, as any person named anew)
    people = service.query("people", LedgerQuery(text="李娜")).rows
    assert [p.label for p in people] == ["李娜"]
    detail = _audit(db)[-1].detail
    assert detail["to"] == "外出" and detail["facts"]["携带人"] == "李娜"
    assert detail["facts"]["外出地点"] == "北京航天城"


def test_carrier_is_the_registered_person_by_id(service):
    view = service.create("computers", computer())
    service.change_status(view.id, "外出", facts=trip())
    person = service.query("people", LedgerQuery(text="李娜")).rows[0]
    service.update(person.id, {"name": "李娜娜"})  # renamed since: the history keeps what it showed
    assert service.history(view.id)[0].fact("carried_by") == "李娜"
    assert len(service.query("people", LedgerQuery()).rows) == 2  # 张伟 and 李娜娜, nobody added


def test_repair_and_loan_and_closing_facts(service):
    pc = service.create("computers", computer())
    with pytest.raises(ValidationFailed, match="维修单位"):
        service.change_status(pc.id, "维修")
    with pytest.raises(ValidationFailed, match="不是可选值"):
        service.change_status(pc.id, "维修", facts={"repaired_by": "某公司", "escort": "王芳", "storage_removed": "也许"})
    service.change_status(pc.id, "维修", facts={"repaired_by": "航天信息维修中心", "escort": "王芳",
                                                "storage_removed": "是"})
    assert [c.new for c in service.history(pc.id)[0].facts] == ["航天信息维修中心", "王芳", "是"]
    with pytest.raises(ValidationFailed, match="原因:改为“报废”必须填写原因"):
        service.change_status(pc.id, "报废")
    service.change_status(pc.id, "报废", facts={"reason": "主板损坏,无维修价值"})
    assert service.history(pc.id)[0].reason == "主板损坏,无维修价值"
    medium = service.create("media", {"asset_number": "U-1", "media_type": "U盘", "brand_model": "金士顿",
                                      "level": "秘密", "responsible_person": "张伟", "department": "保密办"})
    with pytest.raises(ValidationFailed, match="借用人"):
        service.change_status(medium.id, "借出")
    service.change_status(medium.id, "借出", facts={"borrower": "赵强", "due_back": today() + dt.timedelta(days=3)})
    assert service.history(medium.id)[0].fact("due_back") == (today() + dt.timedelta(days=3)).isoformat()


def test_reversal_is_a_new_recorded_change(service, db):
    view = service.create("computers", computer())
    service.change_status(view.id, "外出", facts=trip())
    out = service.history(view.id)[0]
    assert out.reversible
    back = service.reverse_status(view.id, out.id)
    assert back.status == "在用"
    history = service.history(view.id)
    undo, original = history[0], history[1]
    assert undo.action_label == "撤销状态变更" and undo.reverses == original.id
    assert undo.status_moved == ("外出", "在用")
    assert "撤销" in undo.reason and "在用 → 外出" in undo.reason
    assert original.reversed_by == undo.id
    assert not undo.reversible and not original.reversible  # neither is offered again
    with pytest.raises(LifecycleError, match="本身是一次撤销"):
        service.reverse_status(view.id, undo.id)
    with pytest.raises(LifecycleError, match="最近一次"):
        service.reverse_status(view.id, original.id)
    detail = _audit(db)[-1].detail
    assert detail["reverses"]["event_id"] == original.id and detail["to"] == "在用"


def test_reversal_of_a_return_brings_back_the_trip_facts(service):
    view = service.create("computers", computer())
    service.change_status(view.id, "外出", facts=trip())
    service.change_status(view.id, "在用")  # came back, entered too early
    back = service.reverse_status(view.id, service.history(view.id)[0].id)
    assert back.status == "外出"
    assert service.history(view.id)[0].fact("destination") == "北京航天城"
    assert service.history(view.id)[0].fact("carried_by") == "李娜"


def test_reversal_of_a_scrapping_by_mistake_but_never_of_a_destruction(service):
    view = service.create("computers", computer())
    service.change_status(view.id, "报废", facts={"reason": "误操作"})
    assert service.reverse_status(view.id, service.history(view.id)[0].id).status == "在用"
    service.change_status(view.id, "报废", facts={"reason": "超期"})
    service.change_status(view.id, "已销毁", facts={"reason": "交承销单位"})
    last = service.history(view.id)[0]
    assert not last.reversible
    with pytest.raises(LifecycleError, match="只能查看"):
        service.reverse_status(view.id, last.id)


def test_only_status_changes_are_reversed(service):
    view = service.create("computers", computer())
    with pytest.raises(LifecycleError, match="状态变更"):
        service.reverse_status(view.id, service.history(view.id)[0].id)
