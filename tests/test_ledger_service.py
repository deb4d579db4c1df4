"""The ledger service on a real SQLite file: validation, normalisation, uniqueness,
history, lifecycle, voiding, querying and batches."""

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import AuditEntry, Record
from mibao_desktop.ledgers import LEDGERS
from mibao_desktop.ledgers.fields import Field, Text
from mibao_desktop.security import Actor, Role
from mibao_desktop.errors import (
    Cancelled, LifecycleError, PermissionDenied, ServiceError, StaleRecord, ValidationFailed,
)
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.repository import LedgerQuery
from tests.conftest import computer, medium


def _counts(db):
    with db.session() as s:
        return (s.scalar(select(func.count(Record.id))), s.scalar(select(func.count(AuditEntry.id))))


# -- create and normalise -------------------------------------------------------------------

def test_create_normalises_every_usual_spelling(service, db_target):
    view = service.create("computers", computer(
        asset_number="ｊｍ－０００１", level="机密级", classified_on="2023年3月5日",
        mac_addresses="00:1a:2b:3c:4d:5e；001a.2b3c.4d5f", disk_serials="wd-1\nwd-2",
    ))
    assert view.asset_number == "JM-0001"
    assert view.values["level"] == "机密"
    assert view.values["classified_on"] == dt.date(2023, 3, 5)
    assert view.values["mac_addresses"] == ["00-1A-2B-3C-4D-5E", "00-1A-2B-3C-4D-5F"]
    assert view.values["disk_serials"] == ["WD-1", "WD-2"]
    assert view.status == "在用"
    assert view.display("mac_addresses") == "00-1A-2B-3C-4D-5E；00-1A-2B-3C-4D-5F"
    # and it is really stored: a fresh service on the same file (or server database) reads it back
    fresh = Database.open(db_target)
    again = LedgerService(fresh, service.actor).get(view.id)
    fresh.close()
    assert again.values == view.values


def test_required_fields_and_bad_values_are_all_named(service, db):
    before = _counts(db)
    with pytest.raises(ValidationFailed) as err:
        service.create("computers", computer(user="", mac_addresses="00-1A-2B-3C-4D", level="高密",
                                             classified_on="2999-01-01", brand_model="X" * 61))
    errors = err.value.errors
    assert errors["user"] == "必填,不能为空"
    assert "MAC" in errors["mac_addresses"]
    assert "密级" in errors["level"]
    assert "晚于今天" in errors["classified_on"]
    assert "最多 60 个字" in errors["brand_model"]
    assert "使用人:必填" in str(err.value)  # the summary names each field by its Chinese label
    assert _counts(db) == before  # nothing written, not even an audit entry


def test_unknown_field_is_refused(service):
    with pytest.raises(ServiceError, match="没有这些字段"):
        service.create("computers", computer(colour="red"))


def test_status_cannot_be_set_on_create(service):
    assert service.create("computers", computer(status="已销毁")).status == "在用"


def test_control_characters_are_refused(service):
    with pytest.raises(ValidationFailed) as err:
        service.create("computers", computer(user="张\x07伟"))
    assert "控制字符" in err.value.errors["user"]


# -- uniqueness ---------------------------------------------------------------------------

def test_duplicate_asset_number_names_the_other_record(service):
    service.create("computers", computer())
    with pytest.raises(ValidationFailed) as err:
        service.create("computers", computer(asset_number="jm-0001", serial_number="OTHER",
                                             disk_serials="D2", mac_addresses="00-1A-2B-3C-4D-60"))
    assert err.value.errors == {"asset_number": "“JM-0001”已登记在涉密计算机 JM-0001(张伟)上,不能重复"}


def test_mac_and_disk_unique_across_classified_and_unclassified(service):
    service.create("computers", computer())
    with pytest.raises(ValidationFailed) as err:
        service.create("unclassified_computers", dict(
            asset_number="FM-1", brand_model="HP", user="李", responsible_person="李", department="办公室",
            disk_serials="x1; wd-wcc6y0123456", mac_addresses="00:1A:2B:3C:4D:5E"))
    assert "JM-0001" in err.value.errors["mac_addresses"]
    assert "WD-WCC6Y0123456" in err.value.errors["disk_serials"]


def test_media_have_their_own_scope(service):
    service.create("computers", computer(serial_number="SAME"))
    assert service.create("media", medium(serial_number="SAME")).values["serial_number"] == "SAME"


def test_a_record_may_keep_its_own_values_on_edit(service):
    view = service.create("computers", computer())
    edited = service.update(view.id, computer(location="行政楼302"))
    assert edited.values["location"] == "行政楼302"


# -- history ------------------------------------------------------------------------------

def test_every_changed_field_is_in_the_history(service):
    view = service.create("computers", computer())
    service.update(view.id, {"user": "王芳", "mac_addresses": "00-1A-2B-3C-4D-5E, 00-1A-2B-3C-4D-5F"},
                   expected_version=view.version)
    history = service.history(view.id)
    assert [h.action_label for h in history] == ["修改", "登记"]
    changes = {c.label: (c.old, c.new) for c in history[0].changes}
    assert changes == {"使用人": ("张伟", "王芳"),
                       "MAC地址": ("00-1A-2B-3C-4D-5E", "00-1A-2B-3C-4D-5E；00-1A-2B-3C-4D-5F")}
    assert history[0].actor == "安全保密管理员"


def test_an_edit_that_changes_nothing_leaves_no_trace(service, db):
    view = service.create("computers", computer())
    before = _counts(db)
    assert service.update(view.id, {"user": " 张伟 "}).version == view.version
    assert len(service.history(view.id)) == 1
    assert _counts(db) == before


def test_stale_edit_is_refused(service):
    view = service.create("computers", computer())
    service.update(view.id, {"user": "王芳"})
    with pytest.raises(StaleRecord):
        service.update(view.id, {"user": "赵六"}, expected_version=view.version)
    assert service.get(view.id).display("user") == "王芳"


def test_status_is_not_edited_through_the_form(service):
    view = service.create("computers", computer())
    with pytest.raises(LifecycleError, match="变更状态"):
        service.update(view.id, {"status": "报废"})


# -- lifecycle ----------------------------------------------------------------------------

def test_retire_then_destroy_with_reasons_and_dates(service):
    view = service.create("computers", computer())
    with pytest.raises(ValidationFailed, match="原因"):
        service.change_status(view.id, "报废")
    service.change_status(view.id, "报废", reason="硬盘故障,超过使用年限", effective_date=dt.date(2025, 6, 1))
    with pytest.raises(LifecycleError, match="可改为:已销毁"):
        service.change_status(view.id, "在用")
    destroyed = service.change_status(view.id, "已销毁", reason="交承销单位销毁")
    assert destroyed.status == "已销毁"
    with pytest.raises(LifecycleError):
        service.change_status(view.id, "报废", reason="x")
    with pytest.raises(LifecycleError, match="只能查看"):
        service.update(view.id, {"user": "王芳"})
    retired = service.history(view.id)[1]
    assert (retired.action_label, retired.reason, retired.effective_date) == ("状态变更", "硬盘故障,超过使用年限", dt.date(2025, 6, 1))
    assert (retired.changes[0].old, retired.changes[0].new) == ("在用", "报废")


def test_reversible_statuses(service):
    view = service.create("media", medium())
    assert service.change_status(view.id, "借出", facts={"borrower": "李娜", "due_back": dt.date.today()}).status == "借出"
    assert service.change_status(view.id, "在用").status == "在用"
    with pytest.raises(LifecycleError, match="不是移动存储介质的状态"):
        service.change_status(view.id, "维修")


# -- voiding ------------------------------------------------------------------------------

def test_void_keeps_the_record_and_frees_its_numbers(service):
    view = service.create("computers", computer())
    with pytest.raises(ValidationFailed):
        service.void(view.id, "  ")
    service.void(view.id, "重复登记")
    assert service.count("computers") == 0
    shown = service.query("computers", LedgerQuery(include_voided=True))
    assert [(r.asset_number, r.voided, r.void_reason) for r in shown.rows] == [("JM-0001", True, "重复登记")]
    with pytest.raises(LifecycleError):
        service.update(view.id, {"user": "x"})
    again = service.create("computers", computer())  # the same numbers may be entered correctly
    assert again.id != view.id
    with pytest.raises(ValidationFailed, match="JM-0001"):
        service.restore(view.id)  # its numbers are taken now
    service.void(again.id, "录入错误")
    assert service.restore(view.id).voided is False
    assert [h.action_label for h in service.history(view.id)] == ["恢复", "作废", "登记"]


# -- querying -----------------------------------------------------------------------------

@pytest.fixture
def three(service):
    a = service.create("computers", computer())
    b = service.create("computers", computer(asset_number="JM-0002", user="李娜", responsible_person="李娜",
                                             department="科研一处", serial_number="S2", disk_serials="D2",
                                             mac_addresses="AA-BB-CC-00-00-02", level="秘密", brand_model="华为 擎云"))
    c = service.create("computers", computer(asset_number="JM-0003", user="王芳", responsible_person="王芳",
                                             department="科研一处", serial_number="S3", disk_serials="D3",
                                             mac_addresses="AA-BB-CC-00-00-03", level="绝密", brand_model="浪潮 英信"))
    return a, b, c


def numbers(page):
    return [r.asset_number for r in page.rows]


def test_search_across_searchable_fields(service, three):
    assert numbers(service.query("computers", LedgerQuery(text="李娜"))) == ["JM-0002"]
    assert numbers(service.query("computers", LedgerQuery(text="aabbcc000003"))) == ["JM-0003"]
    assert numbers(service.query("computers", LedgerQuery(text="aa:bb:cc:00:00:02"))) == ["JM-0002"]
    assert numbers(service.query("computers", LedgerQuery(text="科研一处 王"))) == ["JM-0003"]
    assert numbers(service.query("computers", LedgerQuery(text="jm-000"))) == ["JM-0001", "JM-0002", "JM-0003"]
    assert service.query("computers", LedgerQuery(text="%")).total == 0  # LIKE wildcards are literal
    assert service.query("computers", LedgerQuery(text="不存在")).total == 0


def test_filters_sort_and_pages(service, three):
    page = service.query("computers", LedgerQuery(filters={"department": "科研一处"}, sort="user", descending=True))
    assert (numbers(page), page.total) == (["JM-0003", "JM-0002"], 2)  # 王 before 李, descending
    assert numbers(service.query("computers", LedgerQuery(filters={"level": "绝密"}))) == ["JM-0003"]
    assert numbers(service.query("computers", LedgerQuery(sort="brand_model"))) == ["JM-0002", "JM-0003", "JM-0001"]
    second = service.query("computers", LedgerQuery(offset=1, limit=1))
    assert (numbers(second), second.total) == (["JM-0002"], 3)
    service.change_status(three[0].id, "维修", facts={"repaired_by": "信息中心", "escort": "张伟", "storage_removed": "否"})
    assert numbers(service.query("computers", LedgerQuery(filters={"status": "维修"}))) == ["JM-0001"]
    assert service.distinct_values("computers", "department") == ["保密办", "科研一处"]


# -- batches ------------------------------------------------------------------------------

def test_batch_stores_good_rows_and_names_bad_ones(service):
    service.create("computers", computer())
    rows = [
        computer(asset_number="JM-0100", serial_number="B1", disk_serials="B1", mac_addresses="AA-00-00-00-00-01"),
        computer(asset_number="JM-0101", serial_number="B2", disk_serials="B2", mac_addresses="AA-00-00-00-00-01"),
        computer(asset_number="JM-0001", serial_number="B3", disk_serials="B3", mac_addresses="AA-00-00-00-00-03"),
        computer(asset_number="JM-0103", serial_number="B4", disk_serials="B4", mac_addresses="bad"),
    ]
    result = service.create_many("computers", rows, source="旧台账.xlsx")
    assert len(result.created) == 1
    refused = {(r.index, r.field): r.message for r in result.refused}
    assert refused[(1, "MAC地址")] == "与本批第 1 条重复"
    assert "JM-0001" in refused[(2, "设备编号")]
    assert "MAC" in refused[(3, "MAC地址")]
    assert service.count("computers") == 2
    assert service.history(result.created[0])[0].reason == "旧台账.xlsx"


def test_batch_all_or_nothing_and_cancel_store_nothing(service, db):
    before = _counts(db)
    good = computer()
    bad = computer(asset_number="JM-2", serial_number="X", disk_serials="X", mac_addresses="zz")
    result = service.create_many("computers", [good, bad], all_or_nothing=True)
    assert result.created == [] and result.refused
    with pytest.raises(Cancelled):
        service.create_many("computers", [good], cancelled=lambda: True)
    assert _counts(db) == before


# -- roles and audit ----------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.AUDITOR])
def test_only_the_security_administrator_keeps_ledgers(db, role):
    other = LedgerService(db, Actor("某人", role))
    with pytest.raises(PermissionDenied, match="无权"):
        other.create("computers", computer())
    with pytest.raises(PermissionDenied):
        other.query("computers", LedgerQuery())


def test_every_write_is_audited_in_a_hash_chain(service, db):
    view = service.create("computers", computer())
    service.update(view.id, {"user": "王芳"})
    service.void(view.id, "测试")
    with db.session() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    # 张伟 and 王芳 were new names: each was added to the people register on the way
    assert [(e.action, e.target.split(":")[0]) for e in entries] == [
        ("record.create", "people"), ("record.create", "computers"), ("record.create", "people"),
        ("record.update", "computers"), ("record.void", "computers")]
    assert entries[3].detail["fields"] == ["使用人"]
    assert entries[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:]))


# -- the declaration drives storage -------------------------------------------------------

def test_a_field_added_to_a_declaration_is_a_column_its_revision_must_add(db):
    """A new field is one line in the declaration; the generated table then differs from the
    database by exactly that column, which is what the Alembic revision for it adds."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import MetaData

    from mibao_desktop.db.schema import build_table

    ledger = LEDGERS["media"]
    extended = dataclasses.replace(ledger, fields=ledger.fields + (
        Field("seal_number", "封条编号", Text(max_length=20), searchable=True),))
    from mibao_desktop.db.models import Record

    metadata = MetaData()
    Record.__table__.to_metadata(metadata)
    build_table(extended, metadata)
    only = {"include_object": lambda obj, name, type_, reflected, compare_to:
            type_ != "table" or name == extended.table_name}
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=only), metadata)
    added = [d for d in diff if d[0] == "add_column"]
    assert [(d[2], d[3].name, str(d[3].type)) for d in added] == [("ledger_media", "seal_number", "VARCHAR(20)")]
    assert [d[1].name for d in diff if d[0] == "add_index"] == ["ix_ledger_media_seal_number"]


def test_a_sub_ledger_is_a_declaration_too(service, monkeypatch):
    """Carriers per copy (份号) and staff sub-records are sub-ledgers: a declaration with a
    parent, stored and queried by the same code."""
    from mibao_desktop.ledgers.declaration import Ledger, Lifecycle
    from mibao_desktop.ledgers.fields import Choice, Integer

    copies = Ledger(
        key="test_media_seals", title="封存记录", noun="封存记录", parent="media",
        lifecycle=Lifecycle(("有效", "已拆封"), "有效"),
        fields=(Field("asset_number", "封条号", Text(max_length=20), required=True, unique=True, searchable=True),
                Field("copy_number", "份号", Integer(minimum=1), required=True),
                Field("status", "状态", Choice(("有效", "已拆封")), editable=False)),
    )
    from mibao_desktop.db import schema, search_index

    monkeypatch.setitem(LEDGERS, copies.key, copies)
    tables = (schema.build_table(copies, schema.Base.metadata), schema.build_search_table(copies, schema.Base.metadata))
    monkeypatch.setitem(schema.TABLES, copies.key, tables[0])
    monkeypatch.setitem(schema.SEARCH_TABLES, copies.key, tables[1])
    with service.db.engine.begin() as conn:  # what the revision adding such a ledger does
        for t in tables:
            t.create(conn)
        search_index.create(conn, tables[1].name)
    for t in tables:
        schema.Base.metadata.remove(t)
    owner = service.create("media", medium())
    other = service.create("media", medium(asset_number="JMU-2", serial_number="K2"))
    with pytest.raises(ServiceError, match="必须属于一条移动存储介质记录"):
        service.create(copies, {"asset_number": "F-1", "copy_number": 1})
    service.create(copies, {"asset_number": "F-1", "copy_number": "1"}, parent_id=owner.id)
    service.create(copies, {"asset_number": "F-2", "copy_number": 2}, parent_id=owner.id)
    service.create(copies, {"asset_number": "F-3", "copy_number": 1}, parent_id=other.id)
    page = service.query(copies, LedgerQuery(parent_id=owner.id, sort="copy_number", descending=True))
    assert [(r.asset_number, r.values["copy_number"]) for r in page.rows] == [("F-2", 2), ("F-1", 1)]
    # unique within its parent: F-1 again under the same parent is refused, under another one it is not
    with pytest.raises(ValidationFailed, match="F-1"):
        service.create(copies, {"asset_number": "F-1", "copy_number": 3}, parent_id=owner.id)
    service.create(copies, {"asset_number": "F-1", "copy_number": 2}, parent_id=other.id)
    assert [c.asset_number for c in service.children(other.id, copies)] == ["F-1", "F-3"]


def test_an_edit_can_be_undone_and_the_undo_is_history_too(service):
    view = service.create("computers", computer())
    service.update(view.id, {"user": "王芳", "mac_addresses": "00-1A-2B-3C-4D-5E；AA-BB-CC-DD-EE-01",
                             "classified_on": "2024-01-02"})
    mistake = service.history(view.id)[0]
    assert mistake.revertible
    restored = service.revert(view.id, mistake.id)
    assert restored.display("user") == "张伟"
    assert restored.values["mac_addresses"] == ["00-1A-2B-3C-4D-5E"]
    assert restored.values["classified_on"] == dt.date(2023, 3, 5)
    undo = service.history(view.id)[0]
    assert undo.reason.startswith("撤销") and {c.label for c in undo.changes} == {"使用人", "MAC地址", "定密时间"}
    # the freed MAC can be used elsewhere again
    service.create("computers", computer(asset_number="JM-9", serial_number="S9", disk_serials="D9",
                                         mac_addresses="AA-BB-CC-DD-EE-01"))
    with pytest.raises(LifecycleError):
        service.revert(view.id, service.history(view.id)[-1].id)  # 登记 is not an edit


@pytest.mark.parametrize("driver_max, sparse", [(20_000, 1000), (0, 1000), (20_000, 2), (3, 2)])
def test_every_search_plan_finds_the_same_records(service, monkeypatch, driver_max, sparse):
    """The FTS-driven plan, the gathering scan and the broad scan must agree with a plain
    substring test, in the same order and with the same count."""
    from mibao_desktop.services.repository import RecordRepository

    monkeypatch.setattr(RecordRepository, "DRIVER_MAX", driver_max)
    monkeypatch.setattr(RecordRepository, "SPARSE", sparse)
    people = ["张伟", "李娜", "王强", "王芳", "赵磊"]
    for i in range(12):
        service.create("computers", computer(
            asset_number=f"JM-{i:04d}", user=people[i % 5], department=["保密办", "科研一处"][i % 2],
            serial_number=f"SN{i:03d}", disk_serials=f"DISK{i:03d}", mac_addresses=f"00-1A-2B-00-00-{i:02X}"))
    service.void(service.find("computers", "JM-0003").id, "录入错误")
    everyone = service.query("computers", LedgerQuery(limit=None)).rows
    for text in ["王", "科研一处", "jm-000", "00:1a:2b:00:00:0a", "王 科研", "sn00", "disk011", "不存在", "jm-0003"]:
        words = text.casefold().replace(":", "-").split()
        expected = [r.asset_number for r in everyone
                    if all(any(w in v.casefold() for v in _searchable(r)) for w in words)]
        for descending in (False, True):
            page = service.query("computers", LedgerQuery(text=text, limit=4, descending=descending))
            wanted = sorted(expected, reverse=descending)
            assert page.total == len(wanted), text
            assert [r.asset_number for r in page.rows] == wanted[:4], text
        rest = service.query("computers", LedgerQuery(text=text, offset=4, limit=100))
        assert [r.asset_number for r in rest.rows] == sorted(expected)[4:], text


def _searchable(record):
    return [record.display(f.name) for f in record.ledger.searchable_fields]
