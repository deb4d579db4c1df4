"""Forms filled from what MiBao knows (issue 12 items 5 and 6): the take-out form prints the
facts of the change into 外出 and names the carrier, warns when the device is in no state to go
out; the maintenance record and the destruction form take 类别, 原因, 申请部门 and dates from
the records and their last status change; the destruction form lists many records; the unit's
name (asked at the first start) and the 经办人's 姓名 are on each. Read back with pdftotext."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pytest

from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import ValidationFailed
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.accounts import AccountService
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.print_service import PrintService
from tests.conftest import computer, today

UNIT = "中国航天科工集团第二研究院七〇六所保密办公室"


PASSWORDS = {Role.SYSTEM_ADMIN: ("xitong", "赵系统", "Qz8#mW2vLp4x"),
             Role.SECURITY_ADMIN: ("baomi", "王保密", "Rt5%nB7kPs3y"),
             Role.AUDITOR: ("shenji", "钱审计", "Hv9@cX6jDf2u")}


@pytest.fixture
def admin(db):
    """The three accounts made at the first start, with the unit's name given there."""
    AccountService(db).setup(PASSWORDS, unit_name=UNIT)
    return Actor("baomi", Role.SECURITY_ADMIN)


@pytest.fixture
def ledgers(db, admin):
    return LedgerService(db, admin)


@pytest.fixture
def printing(db, admin):
    return PrintService(db, admin)


def pdftotext(path) -> str:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.replace(" ", "")


def machines(ledgers, n=3):
    return [ledgers.create("computers", computer(
        asset_number=f"JM-2024-{i:03d}", serial_number=f"SN{i}", disk_serials=f"WD-DISK{i}",
        mac_addresses=f"00-1A-2B-00-00-0{i}", user=person, responsible_person=person, department=department))
        for i, (person, department) in enumerate((("张伟", "保密办"), ("李娜", "科研一处"), ("王强", "科研二处"))[:n], 1)]


def test_the_unit_name_given_at_the_first_start_is_kept_and_audited(db, printing):
    assert printing.unit_name() == UNIT
    with db.session() as s:
        entry = [e for e in s.query(AuditEntry) if e.action == "settings.change"][-1]
    assert entry.actor == "baomi" and entry.detail == {"unit": UNIT}
    with pytest.raises(ValidationFailed, match="单位名称:最多 60 个字"):
        printing.set_unit_name("某" * 61)  # refused, never cut short
    assert printing.unit_name() == UNIT


def test_a_unit_name_too_long_at_the_first_start_makes_no_account(db):
    accounts = AccountService(db)
    with pytest.raises(ValidationFailed, match="单位名称"):
        accounts.setup(PASSWORDS, unit_name="某" * 61)
    assert accounts.needs_setup()


def test_takeout_form_prints_the_trip_the_carrier_the_unit_and_the_handler(ledgers, printing, tmp_path):
    pc = machines(ledgers, 1)[0]
    back = today() + dt.timedelta(days=6)
    ledgers.change_status(pc.id, "外出", facts={"destination": "北京航天城", "trip_purpose": "参加型号方案评审会",
                                                "carried_by": "李娜", "return_by": back})
    out = tmp_path / "takeout.pdf"
    printing.form("takeout", pc.ledger, [ledgers.get(pc.id)], out)
    text = pdftotext(out)
    for word in ("涉密信息设备外出审核表", f"单位:{UNIT}", "经办人:王保密", "外出地点北京航天城", "携带人李娜",
                 "参加型号方案评审会", f"{today():%Y年%m月%d日}至{back:%Y年%m月%d日}", "JM-2024-001", "携带人:"):
        assert word in text, word
    assert "baomi" not in text and "注意" not in text  # the 姓名, not the login; nothing to warn of
    assert printing.form_warnings("takeout", [ledgers.get(pc.id)]) == []


def test_takeout_form_warns_of_a_device_in_no_state_to_go_out(ledgers, printing, tmp_path):
    pc = machines(ledgers, 1)[0]
    ledgers.change_status(pc.id, "维修", facts={"repaired_by": "航天信息维修中心", "escort": "王强",
                                                "storage_removed": "是"})
    record = ledgers.get(pc.id)
    assert printing.form_warnings("takeout", [record]) == ["涉密计算机 JM-2024-001 当前为“维修”,不应外出"]
    out = tmp_path / "takeout.pdf"
    printing.form("takeout", pc.ledger, [record], out)
    text = pdftotext(out)
    assert "注意:涉密计算机JM-2024-001当前为“维修”,不应外出。" in text
    assert "航天信息维修中心" not in text  # a repair's facts are no trip's


def test_maintenance_record_takes_its_kind_and_facts_from_the_last_change(ledgers, printing, tmp_path):
    pc = machines(ledgers, 1)[0]
    ledgers.change_status(pc.id, "维修", facts={"repaired_by": "航天信息维修中心", "escort": "王强",
                                                "storage_removed": "是"})
    out = tmp_path / "maintenance.pdf"
    printing.form("maintenance", pc.ledger, [ledgers.get(pc.id)], out)
    text = pdftotext(out)
    for word in ("■维护维修", "□淘汰报废", "维护单位/人员航天信息维修中心", "全程监督人王强", "■拆除后留存",
                 "部件名称及序列号:WD-DISK1", "在用→维修", "王保密", f"单位:{UNIT}"):
        assert word in text, word
    assert "baomi" not in text


def test_destruction_form_lists_many_records_with_the_reason_and_date_of_their_retirement(ledgers, printing, tmp_path):
    pcs = machines(ledgers)
    retired_on = today() - dt.timedelta(days=3)
    for pc in pcs[:2]:
        ledgers.change_status(pc.id, "报废", facts={"reason": "超过使用年限,主板损坏"}, effective_date=retired_on)
    records = [ledgers.get(pc.id) for pc in pcs]
    assert printing.form_warnings("destruction", records) == []  # 在用: the approval may come before 报废
    ledgers.change_status(pcs[2].id, "维修", facts={"repaired_by": "信息中心", "escort": "张伟", "storage_removed": "否"})
    records = [ledgers.get(pc.id) for pc in pcs]
    assert printing.form_warnings("destruction", records) == ["涉密计算机 JM-2024-003 当前为“维修”,销毁前应先收回"]
    out = tmp_path / "destruction.pdf"
    printing.form("destruction", pcs[0].ledger, records, out)
    text = pdftotext(out)
    for word in ("涉密载体销毁审批表", f"单位:{UNIT}", f"申请日期:{retired_on:%Y年%m月%d日}", "经办人:王保密",
                 "申请部门保密办、科研一处、科研二处", "共3件",
                 "JM-2024-001", "JM-2024-002", "JM-2024-003", "注意:涉密计算机JM-2024-003当前为“维修”,销毁前应先收回。"):
        assert word in text, word
    assert text.count("超过使用年限,主板损坏") == 3  # 销毁原因, and each retired record's line of the list
    # once destroyed, the destruction date is theirs
    for pc in pcs[:2]:
        ledgers.change_status(pc.id, "已销毁", facts={"reason": "交承销单位销毁"})
    out2 = tmp_path / "destruction2.pdf"
    printing.form("destruction", pcs[0].ledger, [ledgers.get(pc.id) for pc in pcs[:2]], out2)
    text = pdftotext(out2)
    assert f"销毁日期{today():%Y年%m月%d日}" in text and "注意" not in text


def test_every_form_carries_the_unit_name(ledgers, printing, tmp_path):
    from mibao_desktop.printing.templates import FORM_TEMPLATES

    pc = machines(ledgers, 1)[0]
    person = ledgers.get(pc.values["user"].id)
    for key, template in FORM_TEMPLATES.items():
        buffer = io.BytesIO()
        records = [person] if key == "holdings" else [pc]
        printing.form(key, records[0].ledger, records, buffer, record=False)
        path = tmp_path / f"{key}.pdf"
        with open(path, "wb") as f:
            f.write(buffer.getvalue())
        assert f"单位:{UNIT}" in pdftotext(path), key


def test_borrowing_register_fills_the_line_of_a_record_on_loan(ledgers, printing, tmp_path):
    from tests.conftest import medium

    lent, kept = ledgers.create("media", medium()), ledgers.create("media", medium(asset_number="JMU-0002",
                                                                                   serial_number="M2"))
    due = today() + dt.timedelta(days=10)
    ledgers.change_status(lent.id, "借出", facts={"borrower": "赵敏", "due_back": due})
    out = tmp_path / "borrowing.pdf"
    printing.form("borrowing", lent.ledger, [ledgers.get(lent.id), ledgers.get(kept.id)], out)
    lines = [line for line in pdftotext(out).splitlines() if "JMU-000" in line]
    assert "赵敏" in lines[0] and today().isoformat() in lines[0] and due.isoformat() in lines[0]
    assert "赵敏" not in lines[1] and today().isoformat() not in lines[1]  # not lent: left to fill by hand


def test_a_printed_line_never_begins_with_a_closing_mark():
    from mibao_desktop.printing import pdf

    pdf.register_font()
    width = pdf.text_width("一二三四五六七八九十", 10)
    assert pdf.wrap("一二三四五六七八九十。下一句", width, 10) == ["一二三四五六七八九十。", "下一句"]
    assert pdf.wrap("一二三四五六七八九十,下", width, 10)[0].endswith(",")
    assert pdf.wrap("一二三四五六七八九十一", width, 10) == ["一二三四五六七八九十", "一"]
