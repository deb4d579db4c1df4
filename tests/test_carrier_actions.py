"""Carriers copy by copy and their lifecycle as recorded actions (issue 13 items 1 and 2), on a
real database: the "Done when" story — a received document of 12 copies registered, distributed,
one lent, one copied with approval, one back late, one missing, the rest destroyed with the
filled forms read back — and the refusals the rules make, each naming its rule."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest

from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import Cancelled, LifecycleError, ServiceError, ValidationFailed
from mibao_desktop.security import Actor, Role
from mibao_desktop.ledgers.carriers import RULE_COPY_TOP
from mibao_desktop.services.carrier_actions import RuleRefused, action_label, within_scope
from mibao_desktop.services.context import Services
from tests.conftest import today


DESTROY = {"approver": "王局长", "supervisor_1": "李娜", "supervisor_2": "赵敏", "contractor": "市保密技术服务中心",
           "contractor_licence": "涉密载体销毁资质 ZJ-2024-017", "destroy_method": "送交承销单位销毁",
           "reason": "已过保存期,经批准销毁"}


def received(**overrides):
    values = dict(carrier_number="SW-2026-001", title="关于做好年度保密检查工作的通知", doc_number="浙保〔2026〕12号",
                  issuer="省保密局", level="机密★10年", classified_on="2026-01-05", form="纸质", copies=12, pages=6,
                  scope="保密办、科研一处", source="接收", received_on=(today() - dt.timedelta(days=30)).isoformat(),
                  keeper="李娜", department="保密办", location="保密办保密柜")
    values.update(overrides)
    return values


@pytest.fixture
def services(db):
    s = Services(db, Actor.local_security_admin())
    for name, dept in (("李娜", "保密办"), ("赵敏", "保密办"), ("张伟", "科研一处"), ("王芳", "科研二处"), ("刘洋", "科研一处")):
        s.ledgers.create("people", {"name": name, "department": dept})
    return s


def _audit(db, action):
    with db.session() as s:
        return [e for e in s.query(AuditEntry).order_by(AuditEntry.id) if e.action == action]


def pdftotext(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_story_of_a_received_document_of_twelve_copies(services, db, tmp_path):
    acts, ledgers = services.carrier_actions, services.ledgers
    carrier = acts.register(received())
    assert (carrier.values["source"], carrier.values["stamp"], carrier.values["level"],
            carrier.values["secrecy_period"]) == ("接收", "收文章", "机密", 10)
    copies = acts.copies(carrier.id)
    assert [c.values["copy_number"] for c in copies] == list(range(1, 13))
    assert {c.status for c in copies} == {"在管"} and {c.display("holder") for c in copies} == {"李娜"}
    assert not any(f.name in ("level", "secrecy_period") for f in copies[0].ledger.fields)  # inherited, never copied
    created = [e for e in _audit(db, "record.create") if e.detail.get("doing") == "接收" and "copies" in e.detail]
    assert created[0].detail["copies"] == 12 and created[0].detail["stamp"] == "收文章"

    # 分发: every copy to a person of the scope, approved
    sent = acts.distribute([c.id for c in copies[:11]], {"recipient": "张伟", "approver": "王局长"},
                           effective_date=today() - dt.timedelta(days=25))  # before copy 6 is found missing
    assert {c.status for c in sent} == {"已分发"} and {c.display("holder") for c in sent} == {"张伟"}
    entry = ledgers.history(copies[0].id)[0]
    assert entry.status_moved == ("在管", "已分发") and entry.fact("approver") == "王局长"
    assert any(c.field == "holder" and (c.old, c.new) == ("李娜", "张伟") for c in entry.changes)

    # 借阅 one, due ten days ago: back late
    lent_on = today() - dt.timedelta(days=20)
    lent = acts.lend([copies[11].id], {"borrower": "刘洋", "due_back": (today() - dt.timedelta(days=10)).isoformat(),
                                       "approver": "王局长"}, effective_date=lent_on)[0]
    assert (lent.status, lent.display("holder"), lent.values["due_on"]) == ("借出", "刘洋", today() - dt.timedelta(days=10))
    back = acts.give_back([lent.id])[0]
    assert (back.status, back.display("holder"), back.values["due_on"]) == ("在管", "李娜", None)
    returned = ledgers.history(lent.id)[0]
    assert "逾期 10 天归还" in returned.fact("return_note")
    assert [action_label(e) for e in ledgers.history(lent.id)] == ["归还", "借阅", "登记"]

    # 复制 one with the approver and the issuer's consent: a carrier of its own, linked and stamped
    made = acts.copy(copies[0].id, {"copy_kind": "复制", "copy_count": 2, "approver": "王局长",
                                    "issuer_consent": "省保密局 2026-03-02 电话同意(记录编号 17)"})
    assert made.number == "SW-2026-001-F1"
    assert (made.values["source"], made.values["stamp"], made.values["level"], made.values["secrecy_period"],
            made.values["source_carrier"].id) == ("复制", "复制戳记", "机密", 10, carrier.id)
    assert len(acts.copies(made.id)) == 2
    copied = ledgers.history(copies[0].id)[0]
    assert copied.action == "copy" and copied.action_label == "复制"
    assert {c.field: c.new for c in copied.changes}["copy_as"] == "SW-2026-001-F1"
    approval = tmp_path / "复制审批表.pdf"
    services.printing.form("copy", copies[0].ledger, [ledgers.get(copies[0].id)], approval)
    text = pdftotext(approval)
    for words in ("国家秘密载体复制审批表", "关于做好年度保密检查工作的通知", "浙保〔2026〕12号", "■ 复制",
                  "电话同意", "SW-2026-001-F1(第 1–2 份,加盖复制戳记)", "批准人:王局长"):
        assert words in text, words

    # 下落不明 one: a status change with its date in the history (the missing clock reads it)
    lost = acts.missing([copies[5].id], {"circumstances": "月核对时发现张伟处缺少第6份"},
                        effective_date=today() - dt.timedelta(days=2))[0]
    assert lost.status == "下落不明"
    marked = ledgers.history(lost.id)[0]
    assert marked.status_moved == ("已分发", "下落不明") and marked.effective_date == today() - dt.timedelta(days=2)

    # the rest come back and are destroyed together, with the filled form and list
    rest = [c.id for c in copies if c.id != copies[5].id]
    acts.give_back([i for i in rest if ledgers.get(i).status != "在管"], {"return_note": "回收待销毁"})
    destroyed = acts.destroy(rest, DESTROY)
    assert {c.status for c in destroyed} == {"已销毁"} and len(destroyed) == 11
    facts = ledgers.history(rest[0])[0]
    inventory = facts.fact("inventory")
    assert inventory.startswith("XH-") and {ledgers.history(i)[0].fact("inventory") for i in rest} == {inventory}
    assert ledgers.get(carrier.id).status == "在管"  # copy 6 is still missing: the carrier stays open

    out = tmp_path / "销毁审批表.pdf"
    services.printing.form("destruction", destroyed[0].ledger, destroyed, out)
    text = pdftotext(out)
    for words in ("涉密载体销毁审批表", "市保密技术服务中心", "李娜", "赵敏", "王局长", "关于做好年度保密检查工作的通知",
                  "SW-2026-001·份号12", "机密", "共 11 件", inventory, "已过保存期"):
        assert words in text, words

    # every step in the audit log, copy by copy
    statuses = _audit(db, "record.status")
    assert sum(1 for e in statuses if e.detail.get("action") == "销毁") == 11
    assert any(e.detail.get("action") == "下落不明" and e.detail["copy"] == "SW-2026-001·份号6" for e in statuses)
    assert any(e.detail.get("action") == "复制" and e.detail["made"] == "SW-2026-001-F1"
               for e in _audit(db, "record.action"))

    # found, then destroyed: the carrier closes with its last copy
    acts.found([copies[5].id], {"found_how": "夹在科研一处的会议材料中"})
    acts.destroy([copies[5].id], DESTROY)
    assert ledgers.get(carrier.id).status == "已销毁"


def test_distribution_sheet_and_borrowing_register_come_out_filled(services, tmp_path):
    acts = services.carrier_actions
    carrier = acts.register(received(copies=3))
    copies = acts.copies(carrier.id)
    sent = acts.distribute([c.id for c in copies], {"recipient_unit": "科研一处", "recipient": "张伟", "approver": "王局长"})
    out = tmp_path / "分发签收单.pdf"
    services.printing.form("distribution", sent[0].ledger, sent, out)
    text = pdftotext(out)
    for words in ("涉密载体分发签收单", "关于做好年度保密检查工作的通知", "浙保〔2026〕12号", "科研一处", "张伟", "王局长",
                  "SW-2026-001·份号3", "签收"):
        assert words in text, words


def test_a_top_secret_copy_is_refused_without_a_recorded_exception(services):
    acts = services.carrier_actions
    carrier = acts.register(received(level="绝密★30年", copies=2))
    one = acts.copies(carrier.id)[0]
    with pytest.raises(ServiceError, match="复制一次办理一份原件"):
        acts.act("copy", [c.id for c in acts.copies(carrier.id)], {"copy_kind": "复制", "copy_count": 1})
    assert acts.rule_for(acts.actions()[3], carrier).startswith(RULE_COPY_TOP[:10])
    with pytest.raises(RuleRefused) as refused:
        acts.copy(one.id, {"copy_kind": "复制", "copy_count": 1, "approver": "王局长"})
    assert "绝密级" in str(refused.value) and "保密工作制度第十二条" in str(refused.value)
    assert "依据" in str(refused.value)
    assert services.ledgers.find("carriers", "SW-2026-001-F1") is None  # nothing made
    assert services.ledgers.history(one.id)[0].action == "create"
    made = acts.copy(one.id, {"copy_kind": "摘录", "copy_count": 1, "approver": "王局长",
                              "top_secret_exception": "原制发机关 2026-04-01 书面批准(绝密复制特批)"})
    assert made.values["level"] == "绝密" and made.values["title"].endswith("(摘录)")


def test_a_secret_copy_needs_the_issuing_units_consent(services):
    acts = services.carrier_actions
    one = acts.copies(acts.register(received(copies=1)).id)[0]
    with pytest.raises(RuleRefused, match="制发机关.*依据:保密管理规定八.*\\(四\\)"):
        acts.copy(one.id, {"copy_kind": "复制", "copy_count": 1, "approver": "王局长"})


def test_a_borrower_outside_the_scope_needs_the_reason_in_the_approval(services):
    acts = services.carrier_actions
    copies = acts.copies(acts.register(received(copies=2)).id)
    loan = {"borrower": "王芳", "due_back": (today() + dt.timedelta(days=7)).isoformat(), "approver": "王局长"}
    with pytest.raises(ValidationFailed) as missing:
        acts.lend([copies[0].id], {"approver": "王局长"})
    assert "借阅必须填写借用人" in str(missing.value) and "借阅必须填写应还日期" in str(missing.value)
    with pytest.raises(ValidationFailed, match="早于变更日期"):
        acts.lend([copies[0].id], {**loan, "borrower": "张伟", "due_back": (today() - dt.timedelta(days=1)).isoformat()})
    with pytest.raises(RuleRefused) as refused:
        acts.lend([copies[0].id], loan)
    assert "王芳(科研二处)不在载体 SW-2026-001 的知悉范围内" in str(refused.value)
    assert "保密工作制度第十条" in str(refused.value)
    assert services.ledgers.get(copies[0].id).status == "在管"
    lent = acts.lend([copies[0].id], {**loan, "beyond_scope": "参加联合检查,经分管领导批准阅看"})[0]
    assert lent.status == "借出"
    assert acts.lend([copies[1].id], {**loan, "borrower": "张伟"})[0].status == "借出"  # 科研一处 is in scope


def test_destruction_needs_two_supervisors_and_a_contractor(services):
    acts = services.carrier_actions
    copies = acts.copies(acts.register(received(copies=2)).id)
    with pytest.raises(ValidationFailed) as missing:
        acts.destroy([copies[0].id], {k: v for k, v in DESTROY.items() if k != "supervisor_2"})
    assert "销毁必须填写监销人(二)" in str(missing.value)
    with pytest.raises(RuleRefused, match="监销人须为两人以上.*2人以上监销"):
        acts.destroy([copies[0].id], {**DESTROY, "supervisor_2": "李娜"})
    with pytest.raises(ValidationFailed, match="承销单位"):
        acts.destroy([copies[0].id], {**DESTROY, "contractor": ""})
    assert {c.status for c in acts.copies(copies[0].parent_id)} == {"在管"}


def test_a_paper_that_must_be_returned_is_not_destroyed_here(services):
    acts = services.carrier_actions
    copies = acts.copies(acts.register(received(copies=2, return_required="是")).id)
    with pytest.raises(RuleRefused, match="须清退的文件,不得自行销毁.*依据:.*须清退的文件不得自行销毁"):
        acts.destroy([c.id for c in copies], DESTROY)
    cleared = acts.clear([c.id for c in copies], {"returned_to": "省保密局", "approver": "王局长",
                                                 "reason": "年终清退"})
    assert {c.status for c in cleared} == {"清退"}
    assert services.ledgers.get(copies[0].parent_id).status == "清退"
    with pytest.raises(RuleRefused, match="当前为“清退”,不能销毁"):
        acts.destroy([copies[0].id], DESTROY)


def test_a_batch_cancelled_halfway_stores_nothing(services):
    acts = services.carrier_actions
    copies = acts.copies(acts.register(received(copies=4)).id)
    seen = []
    with pytest.raises(Cancelled):
        acts.destroy([c.id for c in copies], DESTROY, progress=lambda done, total: seen.append((done, total)),
                     cancelled=lambda: len(seen) >= 2)
    assert seen == [(0, 4), (1, 4)]
    assert {c.status for c in acts.copies(copies[0].parent_id)} == {"在管"}


def test_destruction_only_of_copies_collected_and_in_one_transaction(services):
    acts = services.carrier_actions
    copies = acts.copies(acts.register(received(copies=3)).id)
    acts.distribute([copies[2].id], {"recipient": "张伟", "approver": "王局长"})
    with pytest.raises(RuleRefused, match="份号3 当前为“已分发”,不能销毁.*销毁前须进行清点"):
        acts.destroy([c.id for c in copies], DESTROY)
    assert [c.status for c in acts.copies(copies[0].parent_id)] == ["在管", "在管", "已分发"]  # none destroyed


def test_repair_is_for_media_only_and_with_storage_removed(services):
    acts = services.carrier_actions
    paper = acts.copies(acts.register(received(copies=1)).id)[0]
    repair = {"repaired_by": "省保密技术服务中心", "escort": "李娜", "storage_removed": "是", "approver": "王局长"}
    with pytest.raises(RuleRefused, match="送修只适用于"):
        acts.repair([paper.id], repair)
    disc = acts.copies(acts.register(received(carrier_number="GP-1", form="移动硬盘", copies=1)).id)[0]
    with pytest.raises(RuleRefused, match="拆除信息存储部件"):
        acts.repair([disc.id], {**repair, "storage_removed": "否"})
    assert acts.repair([disc.id], repair)[0].status == "送修"
    assert acts.give_back([disc.id])[0].status == "在管"


def test_a_copy_is_changed_only_through_its_actions_and_only_by_the_security_administrator(services, db):
    acts = services.carrier_actions
    one = acts.copies(acts.register(received(copies=1)).id)[0]
    with pytest.raises(LifecycleError, match="请在“办理”中选择"):
        services.ledgers.change_status(one.id, "已销毁", reason="直接改")
    auditor = Services(db, Actor("shenji", Role.AUDITOR))
    with pytest.raises(ServiceError):
        auditor.carrier_actions.lend([one.id], {"borrower": "张伟", "due_back": today().isoformat(), "approver": "王局长"})
    assert [a.label for a in acts.available(one)] == ["分发", "借阅", "复制", "清退", "移交", "送修", "销毁", "下落不明"]


def test_transfer_gives_the_copy_a_new_holder_and_the_carrier_a_new_keeper(services):
    acts, ledgers = services.carrier_actions, services.ledgers
    carrier = acts.register(received(copies=1))
    one = acts.copies(carrier.id)[0]
    with pytest.raises(ValidationFailed, match="移交必须填写移交给"):
        acts.transfer([one.id], {"approver": "王局长"})
    moved = acts.transfer([one.id], {"new_holder": "赵敏", "approver": "王局长"})[0]
    assert (moved.status, moved.display("holder")) == ("在管", "赵敏")
    entry = ledgers.history(one.id)[0]
    assert entry.action_label == "移交" and entry.fact("approver") == "" and \
        {c.field: c.new for c in entry.changes}["approver"] == "王局长"
    kept = acts.transfer_keeper(carrier.id, "赵敏", approver="王局长")
    assert kept.display("keeper") == "赵敏" and "移交(批准人:王局长)" in ledgers.history(carrier.id)[0].reason


def test_scope_words():
    assert within_scope("保密办、科研一处", "张伟", "科研一处")
    assert within_scope("全体人员", "王芳", None)
    assert within_scope("张伟,李娜", "李娜", "保密办")
    assert not within_scope("科研一处", "王芳", "科研二处")
    assert not within_scope("", "王芳", "科研二处")
    # a department is named whole or as the one above it, never by a part of its name
    assert within_scope("科研一处全体人员", "王芳", "科研一处")
    assert within_scope("科研一处", "王芳", "科研一处一室")
    assert not within_scope("一处", "王芳", "科研一处")
    assert not within_scope("科研一处一室", "王芳", "科研一处")


def test_receipt_must_be_stamped_and_scope_given(services):
    acts = services.carrier_actions
    with pytest.raises(RuleRefused, match="收文章"):
        acts.register(received(stamp="复制戳记"))
    with pytest.raises(ValidationFailed, match="知悉范围"):
        acts.register(received(scope=""))
    made = acts.register(received(carrier_number="ZZ-1", source="制作", copies=3), holders=["张伟", "", "王芳"])
    assert [c.display("holder") for c in acts.copies(made.id)] == ["张伟", "李娜", "王芳"]
    assert made.values["stamp"] is None


def test_the_audit_log_says_each_action_in_chinese(services, db):
    import re

    from mibao_desktop.services import audit_lines

    acts = services.carrier_actions
    copies = acts.copies(acts.register(received(copies=3)).id)
    acts.lend([copies[0].id], {"borrower": "张伟", "due_back": today().isoformat(), "approver": "王局长"})
    acts.transfer([copies[1].id], {"new_holder": "赵敏", "approver": "王局长"})
    acts.copy(copies[2].id, {"copy_kind": "摘录", "copy_count": 1, "approver": "王局长", "issuer_consent": "同意"})
    with db.session() as session:
        rows = [e for e in session.query(AuditEntry).order_by(AuditEntry.id) if e.action.startswith("record.")]
        text = "\n".join(line.full_text for line in audit_lines.describe_all(session, rows))
    for words in ("办理事项:借阅", "持有人:张伟", "移交给:赵敏", "办理事项:移交", "原件:SW-2026-001·份号3",
                  "加盖戳记:复制戳记", "手续:接收", "份号:1-3"):
        assert words in text, words
    assert not re.search(r"^\s*[a-z_]+:", text, re.M), re.findall(r"^\s*[a-z_]+:.*$", text, re.M)


def test_a_carrier_closes_only_with_its_copies(services):
    """清退 is closing though not terminal: a carrier is not 清退 while a copy is still out, and
    its plain 变更状态 does not stand in for its copies' 清退 or 销毁 (which ask for the approver,
    two 监销人 …): it follows them."""
    acts, ledgers = services.carrier_actions, services.ledgers
    carrier = acts.register(received(copies=3))
    copies = acts.copies(carrier.id)
    acts.lend([copies[0].id], {"borrower": "张伟", "due_back": today().isoformat(), "approver": "王局长"})
    with pytest.raises(LifecycleError) as err:
        ledgers.change_status(carrier.id, "清退", reason="退回发文单位")
    assert "份号 1(借出,张伟)" in str(err.value) and "份号 2(在管,李娜)" in str(err.value)
    assert "办理" in str(err.value)
    assert ledgers.get(carrier.id).status == "在管"
    assert [c.status for c in acts.copies(carrier.id)] == ["借出", "在管", "在管"]
    # its copies all given back to the issuer: the carrier follows them, and is not then 已销毁 by hand
    acts.give_back([copies[0].id])
    acts.clear([c.id for c in copies], {"returned_to": "省保密局", "approver": "王局长", "reason": "清退"})
    assert ledgers.get(carrier.id).status == "清退"
    with pytest.raises(LifecycleError, match="清退.*不能改为“已销毁”"):
        ledgers.change_status(carrier.id, "已销毁", reason="直接销毁")
    assert ledgers.get(carrier.id).status == "清退"
    # nor is it taken back to 在管 while every copy stays 清退: the copies' changes go first
    closed = next(e for e in ledgers.history(carrier.id) if e.status_moved == ("在管", "清退"))
    with pytest.raises(LifecycleError, match="份均为“清退”,不能改回“在管”"):
        ledgers.reverse_status(carrier.id, closed.id)
    assert ledgers.get(carrier.id).status == "清退"


def test_an_imported_returned_carrier_comes_with_no_copy_still_held(services):
    result = services.ledgers.create_many("carriers", [
        {**received(carrier_number="QT-1"), "copies": 1, "status": "清退",
         "_children": [{"copy_number": 1, "status": "清退"}]},
        {**received(carrier_number="QT-2"), "copies": 2, "status": "清退",
         "_children": [{"copy_number": 1, "status": "清退"}, {"copy_number": 2, "status": "在管"}]}])
    assert [v.number for v in services.ledgers.get_many(result.created)] == ["QT-1"]
    assert any(r.index == 1 and r.child == 1 and "清退" in r.message and "在管" in r.message for r in result.refused)
    # nor comes a copy still held under a carrier already 清退
    more = services.ledgers.create_many("carrier_copies", [{"_parent": "QT-1", "copy_number": 2}])
    assert not more.created and "清退" in more.refused[0].message


def test_a_status_change_taken_back_puts_the_holder_and_due_date_back(services):
    """撤销 a copy's 归还 or 借阅: the holder and due date changed with the status come back as
    they were before the change taken back, in the reversal's own history event."""
    acts, ledgers = services.carrier_actions, services.ledgers
    a, b = acts.copies(acts.register(received(copies=2)).id)
    due = today() + dt.timedelta(days=7)
    loan = {"borrower": "王芳", "due_back": due.isoformat(), "approver": "王局长", "beyond_scope": "经批准"}
    acts.lend([a.id], loan)
    acts.give_back([a.id])
    back = ledgers.history(a.id)[0]
    again = ledgers.reverse_status(a.id, back.id)  # the 归还 entered too early
    assert (again.status, again.display("holder"), again.values["due_on"]) == ("借出", "王芳", due)
    reversal = ledgers.history(a.id)[0]
    assert any(c.field == "holder" and (c.old, c.new) == ("李娜", "王芳") for c in reversal.changes)
    assert any(c.field == "due_on" and c.new == due.isoformat() for c in reversal.changes)

    acts.lend([b.id], loan)
    lent = ledgers.history(b.id)[0]
    undone = ledgers.reverse_status(b.id, lent.id)  # the 借阅 entered by mistake
    assert (undone.status, undone.display("holder"), undone.values["due_on"]) == ("在管", "李娜", None)
    assert any(c.field == "holder" and (c.old, c.new) == ("王芳", "李娜") for c in ledgers.history(b.id)[0].changes)
    assert ledgers.history(b.id)[0].fact("borrower") == ""  # 在管 was entered with no borrower


def test_two_workstations_acting_on_the_same_copies_in_other_orders_do_not_deadlock(services, db_target):
    """Two workstations lend overlapping copies picked in opposite orders at the same moment:
    each locks the copies in id order, so one waits for the other instead of both waiting for
    each other (PostgreSQL's deadlock, shown raw in English); the second is refused in Chinese."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from mibao_desktop.db.database import Database

    ids = [c.id for c in services.carrier_actions.copies(services.carrier_actions.register(received(copies=40)).id)]
    loan = {"borrower": "张伟", "due_back": today().isoformat(), "approver": "王局长"}
    opened = [Database.open(db_target) for _ in range(2)]
    start = threading.Barrier(2)

    def workstation(database, order):
        start.wait()
        try:
            return Services(database, Actor.local_security_admin()).carrier_actions.lend(order, loan)
        except Exception as exc:
            return exc

    try:
        with ThreadPoolExecutor(2) as pool:
            runs = [pool.submit(workstation, opened[0], ids), pool.submit(workstation, opened[1], ids[::-1])]
            results = [r.result(timeout=120) for r in runs]
    finally:
        for database in opened:
            database.close()
    done = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(done) == 1 and len(done[0]) == 40, results
    assert len(refused) == 1 and isinstance(refused[0], RuleRefused) and "不能借阅" in str(refused[0]), refused
    assert {c.status for c in services.carrier_actions.copies(ids and services.ledgers.get(ids[0]).parent_id)} == {"借出"}


def test_a_database_error_reaches_the_user_in_chinese(services, db):
    """Whatever the database itself refuses (here: the history table gone) is told in Chinese,
    with nothing stored, not as the driver's English."""
    from sqlalchemy import text as sql

    one = services.carrier_actions.copies(services.carrier_actions.register(received(copies=1)).id)[0]
    with db.write() as session:
        session.execute(sql("ALTER TABLE record_events RENAME TO record_events_gone"))
    with pytest.raises(ServiceError) as err:
        services.carrier_actions.lend([one.id], {"borrower": "张伟", "due_back": today().isoformat(), "approver": "王局长"})
    assert "数据库" in str(err.value) and "没有保存" in str(err.value)
    assert not any("a" <= ch.lower() <= "z" for ch in str(err.value).split("(")[0]), str(err.value)


def test_an_action_is_not_dated_before_the_copys_latest_status_change(services):
    """A 归还 dated before its 借阅 would put the copy's history out of order (the registers read
    it by the day each change took effect): refused, naming the earlier change. A change taken
    back does not count: the 借阅 entered again with its true, earlier date is accepted."""
    acts, ledgers = services.carrier_actions, services.ledgers
    one = acts.copies(acts.register(received(copies=1)).id)[0]
    loan = {"borrower": "张伟", "due_back": today().isoformat(), "approver": "王局长"}
    acts.lend([one.id], loan, effective_date=today() - dt.timedelta(days=5))
    with pytest.raises(ServiceError, match="不能早于") as err:
        acts.give_back([one.id], effective_date=today() - dt.timedelta(days=6))
    assert "借阅" in str(err.value) and (today() - dt.timedelta(days=5)).isoformat() in str(err.value)
    assert ledgers.get(one.id).status == "借出"
    assert acts.give_back([one.id], effective_date=today() - dt.timedelta(days=5))[0].status == "在管"  # the same day may
    acts.lend([one.id], loan, effective_date=today() - dt.timedelta(days=2))
    ledgers.reverse_status(one.id, ledgers.history(one.id)[0].id)  # entered by mistake, today
    assert acts.lend([one.id], loan, effective_date=today() - dt.timedelta(days=3))[0].status == "借出"
