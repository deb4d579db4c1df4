"""The audit log in the domain's words (issue 12 item 9), without a display: ledger names and
record numbers instead of internal keys, 字段: 旧 → 新 for an edit, 撤销 for an undo, entries
written before edits recorded their values, unknown entries, one query for a page of entries,
and the export's marking. What is stored (and hashed) does not change: the chain verifies."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from sqlalchemy import event

from mibao_desktop.errors import ServiceError
from mibao_desktop.excel.audit_export import export_audit
from mibao_desktop.security import Actor, Role
from mibao_desktop.services import audit
from mibao_desktop.services.audit_lines import AuditLine, describe
from mibao_desktop.services.audit_service import AuditFilter, AuditRow, AuditService
from tests.conftest import computer, medium

BAOMI, SHENJI = Actor("baomi", Role.SECURITY_ADMIN), Actor("shenji", Role.AUDITOR)


def marked(ws, mark: str) -> bool:
    """The sheet carries ``mark`` above its table and in every printed page's header and footer
    (whichever part of them the layout puts it in)."""
    above = [c for row in ws.iter_rows(max_row=3, values_only=True) for c in row if c]
    header = [p.text for p in (ws.oddHeader.left, ws.oddHeader.center, ws.oddHeader.right)]
    footer = " ".join(p.text or "" for p in (ws.oddFooter.left, ws.oddFooter.center, ws.oddFooter.right))
    return bool(above) and above[0] == mark and mark in header and mark in footer


@pytest.fixture
def log(db):
    return AuditService(db, SHENJI)


def shown(line: AuditLine) -> str:
    return " ".join([line.action_text, line.target_text, line.detail_text, line.full_text])


def test_entries_name_the_ledger_and_the_record_not_internal_keys(service, log):
    made = service.create("computers", computer())
    service.update(made.id, {"user": "李四", "department": "科研一处"})
    service.change_status(made.id, "停用", reason="暂不使用")
    stick = service.create("media", medium())
    service.void(stick.id, "登记错误")
    lines = log.lines()
    by_action = {}
    for line in reversed(lines):
        by_action.setdefault(line.action, line)
    assert by_action["record.create"].target_text == "人员 RY-0001(张伟)"  # the user, registered first
    assert [l.target_text for l in lines if l.action == "record.create" and "计算机" in l.target_text] \
        == ["涉密计算机 JM-0001"]
    assert by_action["record.update"].target_text == "涉密计算机 JM-0001"
    assert by_action["record.status"].detail_text.startswith("状态:在用 → 停用;原因:暂不使用")
    assert by_action["record.void"].target_text == "移动存储介质 JMU-0001"
    assert by_action["record.void"].detail_text == "原因:登记错误"
    for line in lines:
        text = shown(line)
        assert "record_id" not in text and "computers:" not in text and "media:" not in text, text
        assert "people:" not in text and "=" not in line.detail_text, text


def test_an_edit_shows_each_field_old_and_new_and_an_undo_is_marked(service, log):
    made = service.create("computers", computer())
    service.update(made.id, {"user": "李四", "location": "主楼101"}, reason="调整岗位")
    edit = log.lines(AuditFilter(action="record.update"))[0]
    assert edit.action_text == "修改记录" and not edit.undo
    assert edit.parts == ("使用人:张伟 → 李四", "放置地点:行政楼301 → 主楼101", "原因:调整岗位")
    event_id = next(e.id for e in service.history(made.id) if e.action == "update")
    service.revert(made.id, event_id)
    undo = log.lines(AuditFilter(action="record.update"))[0]
    assert undo.undo and undo.action_text == "撤销修改"
    assert undo.parts[0].startswith("撤销 ") and undo.parts[0].endswith(" 的修改")
    assert undo.parts[1:] == ("使用人:李四 → 张伟", "放置地点:主楼101 → 行政楼301")
    assert "操作:撤销修改" in undo.full_text and "  使用人:李四 → 张伟" in undo.full_text
    service.update(made.id, {"remarks": "新增备注\n第二行"})
    added = log.lines(AuditFilter(action="record.update"))[0]
    assert added.parts == ("备注:(空) → 新增备注\n第二行",)
    assert added.detail_text == "备注:(空) → 新增备注 第二行"  # one line in the table and the export
    # the chained entries still verify: only how they are shown changed
    assert log.verify().ok


def test_entries_written_before_edits_recorded_their_values_stay_readable(service, log, db):
    """An old record.update holds only the fields' labels; an old entry naming a record by id
    only; an entry this version does not know: each still reads, nothing internal shown."""
    made = service.create("computers", computer())
    with db.write() as session:
        audit.append(session, BAOMI, "record.update", f"computers:{made.number}",
                     {"record_id": made.id, "fields": ["使用人", "部门"]})
        audit.append(session, BAOMI, "record.restore", "", {"record_id": made.id})
        audit.append(session, BAOMI, "record.void", "", {"record_id": 999_999, "reason": "x"})
        audit.append(session, BAOMI, "someday.new_thing", "某对象", {"colour": "red", "n": 3, "flag": True})
    unknown, gone, by_id, old = log.lines(limit=4)
    assert old.action_text == "修改记录" and old.target_text == "涉密计算机 JM-0001"
    assert old.parts == ("修改字段:使用人、部门",) and not old.undo
    assert by_id.target_text == "涉密计算机 JM-0001" and by_id.parts == ()
    assert gone.target_text == "" and gone.parts == ("原因:x", "记录:内部编号 999999(已不在记录登记中)")
    assert unknown.action_text == "someday.new_thing" and unknown.target_text == "某对象"
    assert unknown.parts == ("colour:red", "n:3", "flag:是")
    assert log.verify().ok


def test_a_record_renumbered_since_is_named_by_its_number_then_and_now(service, log):
    made = service.create("computers", computer())
    service.update(made.id, {"asset_number": "JM-0100"})
    created = log.lines(AuditFilter(action="record.create"))[0]
    assert created.target_text == "涉密计算机 JM-0001(现编号 JM-0100)" and created.parts == ()
    renumbered = log.lines(AuditFilter(action="record.update"))[0]
    assert renumbered.target_text == "涉密计算机 JM-0100"
    assert renumbered.parts == ("设备编号:JM-0001 → JM-0100",)


def test_a_carriers_copy_is_named_with_its_carrier(service, log):
    from tests.test_relations import carrier

    made = service.create("carriers", carrier(carrier_number="ZT-0007"))
    copy = service.create("carrier_copies", {"copy_number": 2, "holder": "李娜"}, parent_id=made.id)
    service.void(copy.id, "登记错误")
    void = log.lines(AuditFilter(action="record.void"))[0]
    assert void.target_text == "载体份 ZT-0007·份号2" and void.parts == ("原因:登记错误",)


def test_settings_imports_bulk_edits_and_carried_entries_in_words():
    at = dt.datetime(2026, 11, 30, 9, 0)
    policy = describe(AuditRow(1, at, "baomi", "安全保密管理员", "settings.change", "安全策略",
                               {"changed": {"无操作自动锁屏(分钟)": [10, 5]}}))
    assert policy.parts == ("无操作自动锁屏(分钟):10 → 5",)
    imported = describe(AuditRow(2, at, "baomi", "安全保密管理员", "record.import", "computers",
                                 {"ledger": "涉密计算机台账", "created": 2, "refused_rows": 0, "source": "a.xlsx",
                                  "asset_numbers": ["JM-0001", "JM-0002"]}))
    assert imported.target_text == "涉密计算机台账" and not any(p.startswith("台账:") for p in imported.parts)
    assert "编号:JM-0001、JM-0002" in imported.parts and "来源文件:a.xlsx" in imported.parts
    annual = describe(AuditRow(5, at, "baomi", "安全保密管理员", "report.annual", "/tmp/年报.xlsx",
                               {"ledger": "涉密计算机台账", "year": 2026, "marking": "机密", "changes": 17}))
    assert annual.parts == ("台账:涉密计算机台账", "年度:2026", "密级标志:机密", "变更条数:17")
    export = describe(AuditRow(6, at, "baomi", "安全保密管理员", "ledger.export", "/tmp/台账.xlsx",
                               {"ledger": "涉密计算机台账", "count": 3, "search": "",
                                "filters": {"department": "保密办", "status": ["在用", "停用"]}}))
    assert "筛选:部门:保密办;状态:在用、停用" in export.parts and "条数:3" in export.parts
    bulk = describe(AuditRow(3, at, "baomi", "安全保密管理员", "record.bulk_update", "computers:department",
                             {"field": "部门", "records": 12, "refused": 0, "reason": "处室更名"}))
    assert bulk.action_text == "批量修改" and bulk.target_text == "涉密计算机台账 · 部门" and "记录数:12" in bulk.parts and "原因:处室更名" in bulk.parts
    carried = describe(AuditRow(4, at, "baomi", "", "audit.carried", "原第 7 条",
                                {"id": 7, "at": "2026-11-01 10:00:00", "actor": "baomi", "role": "安全保密管理员",
                                 "action": "record.update", "target": "computers:JM-0001",
                                 "detail": {"record_id": 2, "changes": [["部门", "保密办", "科研一处"]]},
                                 "hash": "ab" * 32}))
    assert carried.parts[0] == "原记录:第 7 条,2026-11-01 10:00:00,baomi(安全保密管理员),修改记录 涉密计算机 JM-0001"
    assert "部门:保密办 → 科研一处" in carried.parts and "record_id" not in carried.detail_text


def test_a_page_of_entries_resolves_its_records_in_one_query(service, log, db):
    """200 entries naming 200 different records by id: the records register is asked once."""
    result = service.create_many("computers", [computer(asset_number=f"JM-{i:04d}", serial_number=f"S{i}",
                                                        disk_serials=f"D{i}", mac_addresses=f"00-00-00-00-{i // 256:02X}-{i % 256:02X}")
                                               for i in range(1, 201)])
    assert len(result.created) == 200, result.refused
    with db.write() as session:
        for rid in result.created:
            audit.append(session, BAOMI, "record.restore", "", {"record_id": rid})
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        lines = log.lines(limit=200)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(lines) == 200 and all(l.target_text.startswith("涉密计算机 JM-") for l in lines), [l.target_text for l in lines if not l.target_text.startswith("涉密计算机 JM-")]
    on_records = [s for s in statements if "FROM records" in s]
    assert len(on_records) == 1, statements
    assert len(statements) <= 4, statements


def test_the_export_says_the_entries_in_words_and_carries_the_marking_chosen(service, log, tmp_path, db):
    made = service.create("computers", computer())
    service.update(made.id, {"user": "李四"})
    with db.write() as session:  # an import of 2,000 records names each number: one long cell
        audit.append(session, BAOMI, "record.import", "computers",
                     {"created": 2000, "asset_numbers": [f"JM-{i:04d}" for i in range(2000)]})
    from mibao_desktop.services.context import Services

    Services(db, BAOMI).printing.set_unit_name("第七〇六研究所")
    out = tmp_path / "审计.xlsx"
    export_audit(log, out, marking="秘密")
    ws = openpyxl.load_workbook(out).active
    assert marked(ws, "秘密★")
    assert ws["A3"].value == "填报单位:第七〇六研究所"  # the unit's name, as on every export
    assert ws.column_dimensions["G"].width >= 60  # 详情 reads as a line or two, not a column of words
    imported = next(r for r in ws.iter_rows(min_row=4) if r[4].value == "导入")
    assert "JM-1999" in imported[6].value and ws.row_dimensions[imported[0].row].height <= 409  # Excel's limit
    rows = [r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] is not None]
    update = next(r for r in rows if r[4] == "修改记录")
    assert update[5] == "涉密计算机 JM-0001" and update[6] == "使用人:张伟 → 李四"
    assert not any("record_id" in str(c) for r in rows for c in r)
    recorded = log.lines(AuditFilter(action="audit.export"))
    assert recorded == []  # the auditor's own export is the security administrator's to review
    from mibao_desktop.services.oversight import OversightService

    own = OversightService(log.db, BAOMI).auditor_actions()[0]
    assert own.action == "audit.export" and own.detail["marking"] == "秘密"
    with pytest.raises(ServiceError, match="密级标志"):
        export_audit(log, tmp_path / "b.xlsx", marking="公开")
    assert not (tmp_path / "b.xlsx").exists()


@pytest.mark.sqlite_only  # the command line on a data folder
def test_the_command_line_export_takes_the_marking(tmp_path, capsys, monkeypatch):
    from tests.test_cli import accounts_only, as_user

    passwords = accounts_only(tmp_path)
    out = tmp_path / "audit.xlsx"
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "export", str(out),
                   "--marking", "机密") == 0
    assert marked(openpyxl.load_workbook(out).active, "机密★")
    default = tmp_path / "default.xlsx"
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "export", str(default)) == 0
    assert marked(openpyxl.load_workbook(default).active, "内部")
    capsys.readouterr()
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "export",
                   str(tmp_path / "bad.xlsx"), "--marking", "公开") == 2
    assert "密级标志“公开”不可用" in capsys.readouterr().err and not (tmp_path / "bad.xlsx").exists()


def test_every_action_the_code_writes_has_its_chinese_label():
    """Nothing English in the auditor's window: each action written anywhere (audit.append,
    record_output, the f"{action}_failed" of a login, unlock or password change) is labelled."""
    import re
    from pathlib import Path

    import mibao_desktop
    from mibao_desktop.services.audit_service import ACTION_LABELS

    words = r"(?:auth|account|record|ledger|report|audit|backup|settings)\.[a-z_]+"
    found = {m for path in Path(mibao_desktop.__file__).parent.rglob("*.py")
             for m in re.findall(rf"\"({words})\"", path.read_text(encoding="utf-8"))}
    assert "record.bulk_update" in found and len(found) > 30
    unlabelled = {a for a in found if a not in ACTION_LABELS and f"{a}_failed" not in ACTION_LABELS}
    assert unlabelled == set()


def test_an_account_named_like_a_record_is_shown_as_an_account(service, log, db):
    """Only a record's or a ledger's entry names a ledger or a record: an account may be named
    ``computers:JM-0001`` (only its length is checked), and its entries are that account's,
    not the computer's."""
    from tests.test_security import Clock, NAMES, PASSWORDS
    from mibao_desktop.services.accounts import AccountService, AuthError

    accounts = AccountService(db, clock=Clock())
    accounts.setup({role: (NAMES[role], f"{role.value}甲", PASSWORDS[role]) for role in Role})
    xitong = Actor(NAMES[Role.SYSTEM_ADMIN], Role.SYSTEM_ADMIN)
    service.create("computers", computer())  # the real JM-0001
    accounts.create_account(xitong, "computers:JM-0001", "张三", "GH-1", "Temp-Pass-2026")
    accounts.create_account(xitong, "computers", "李四", "GH-2", "Temp-Pass-2026")
    with pytest.raises(AuthError):
        accounts.login("computers:JM-0001", "wrong-password")
    lines = log.lines()
    said = {(l.action, l.target_text) for l in lines if l.action.startswith(("account.", "auth."))}
    assert ("account.create", "账户 computers:JM-0001") in said and ("account.create", "账户 computers") in said
    assert ("auth.login_failed", "账户 computers:JM-0001") in said
    assert not any("涉密计算机" in target for _a, target in said), said
    assert "涉密计算机 JM-0001" in [l.target_text for l in lines if l.action == "record.create"]  # the real one
