"""The carriers' registers (收文, 发文, 借阅, 复制登记簿, 销毁清单) for a period and the carriers' year
on the annual report (issue 13 item 6), on a real database: actions recorded through the carrier
actions on both sides of the period, each register read for it, printed (the PDF's text read
back) and exported (the workbook read back), and the annual report's carrier rows read back."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from openpyxl import load_workbook

from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import ServiceError
from mibao_desktop.excel.annual import export_annual_report
from mibao_desktop.excel.registers import export_register
from mibao_desktop.security import Actor
from mibao_desktop.services.context import Services

NOW = dt.datetime(2026, 6, 30, 10, 0)  # the services' clock: every date of the story falls in 2026
TODAY = NOW.date()
START, END = TODAY - dt.timedelta(days=50), TODAY - dt.timedelta(days=5)  # the period read


def day(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


DESTROY = {"approver": "王局长", "supervisor_1": "李娜", "supervisor_2": "赵敏", "contractor": "市保密技术服务中心",
           "contractor_licence": "资质 ZJ-017", "destroy_method": "送交承销单位销毁", "reason": "已过保存期"}


def carrier(number, title, received, **overrides):
    values = dict(carrier_number=number, title=title, doc_number=f"浙保〔2026〕{number[-1]}号", issuer="省保密局",
                  level="机密★10年", classified_on="2026-01-05", form="纸质", copies=10, pages=6, scope="保密办、科研一处",
                  source="接收", received_on=received.isoformat(), keeper="李娜", department="保密办",
                  location="保密办保密柜")
    values.update(overrides)
    return values


@pytest.fixture
def story(db):
    """A, received inside the period; B received before it; M made inside it. Actions inside the
    period and outside it, one taken back."""
    s = Services(db, Actor.local_security_admin(), clock=lambda: NOW)
    for name, dept in (("李娜", "保密办"), ("赵敏", "保密办"), ("张伟", "科研一处"), ("刘洋", "科研一处")):
        s.ledgers.create("people", {"name": name, "department": dept})
    acts = s.carrier_actions
    a = acts.register(carrier("SW-A", "关于做好年度保密检查工作的通知", day(40)))
    b = acts.register(carrier("SW-B", "上年度科研计划", day(100), level="秘密"))
    m = acts.register(carrier("FW-M", "本单位保密工作要点", day(20), source="制作", issuer="本单位", copies=3,
                              scope="各处室负责人", level="绝密"))
    ca, cb = acts.copies(a.id), acts.copies(b.id)
    acts.distribute([c.id for c in ca[:3]], {"recipient": "张伟", "recipient_unit": "科研一处", "approver": "王局长"},
                    effective_date=day(30))
    acts.distribute([cb[3].id], {"recipient_unit": "市档案馆", "approver": "王局长"}, effective_date=day(70))
    acts.lend([ca[4].id], {"borrower": "刘洋", "due_back": day(15).isoformat(), "approver": "王局长"},
              effective_date=day(25))
    acts.give_back([ca[4].id], effective_date=day(10))
    acts.lend([ca[5].id], {"borrower": "张伟", "due_back": day(6).isoformat(), "approver": "王局长"},
              effective_date=day(8))
    acts.lend([cb[0].id], {"borrower": "刘洋", "due_back": day(70).isoformat(), "approver": "王局长"},
              effective_date=day(80))
    acts.copy(ca[6].id, {"copy_kind": "摘录", "copy_count": 2, "approver": "王局长",
                         "issuer_consent": "省保密局 电话同意(记录 17)"}, effective_date=day(12))
    acts.destroy([ca[7].id, ca[8].id], {**DESTROY, "inventory": "XH-2026-07"}, effective_date=day(7))
    acts.destroy([cb[1].id, cb[2].id], {**DESTROY, "inventory": "XH-2026-09"}, effective_date=day(3))
    wrong = acts.distribute([ca[9].id], {"recipient": "刘洋", "approver": "王局长"}, effective_date=day(20))[0]
    s.ledgers.reverse_status(wrong.id, s.ledgers.history(wrong.id)[0].id)
    acts.missing([cb[4].id], {"circumstances": "月核对时未见"}, effective_date=day(9))
    s.printing.set_unit_name("某某市保密局")
    return s, a, b, m


def pdftotext(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def sheet_rows(path):
    ws = load_workbook(path).worksheets[0]
    return [[c for c in row] for row in ws.iter_rows(values_only=True)]


def by_header(rows, header_row: int):
    headers = rows[header_row]
    return [dict(zip(headers, r)) for r in rows[header_row + 1:] if isinstance(r[0], int)]


def test_each_register_holds_the_period_and_reads_back_from_pdf_and_workbook(story, db, tmp_path):
    s, a, b, m = story
    registers = s.carrier_registers

    received = registers.read("received", START, END)
    assert [r["carrier_number"] for r in received.rows] == ["SW-A"]  # B came before the period; M was made
    row = received.rows[0]
    assert (row["_count"], row["_numbers"], row["_level"], row["_period"], row["_keeper"]) == (
        10, "1-10", "机密", "10年", "李娜")

    sent = registers.read("sent", START, END)
    lines = [(r["_doing"], r["carrier_number"], r["_numbers"], r.get("_sent_to")) for r in sent.rows]
    assert lines == [("分发", "SW-A", "1-3", "科研一处、张伟"), ("制作", "FW-M", "1-3", "发放范围:各处室负责人")]
    assert sent.marking == "绝密"  # the highest level it lists
    assert [r["_period"] for r in sent.rows] == ["10年", "30年"]  # none set: the statutory 30 years of 绝密
    assert sent.rows[0]["approver"] == "王局长" and sent.rows[0]["_count"] == 3

    loans = registers.read("loans", START, END)
    assert [(r["_numbers"], r["borrower"], r["_returned_on"], r.get("_overdue")) for r in loans.rows] == [
        ("5", "刘洋", day(10), "逾期 5 天"), ("6", "张伟", "未归还", "逾期未还 6 天")]

    copies = registers.read("copies", START, END)
    assert [(r["copy_kind"], r["_numbers"], r["copy_count"], r["copy_as"], r["_consent"]) for r in copies.rows] == [
        ("摘录", "7", "2", "SW-A-F1", "省保密局 电话同意(记录 17)")]

    destroyed = registers.read("destroyed", START, END)
    assert [(r["inventory"], r["_numbers"], r["_count"], r["_supervisors"], r["_contractor"])
            for r in destroyed.rows] == [
        ("XH-2026-07", "8-9", 2, "李娜、赵敏", "市保密技术服务中心(资质 ZJ-017)")]

    # a wider period takes in what came before and after
    assert len(registers.read("destroyed", START, TODAY).rows) == 2
    assert [r["carrier_number"] for r in registers.read("received", day(120), TODAY).rows] == ["SW-B", "SW-A"]
    with pytest.raises(ServiceError, match="晚于"):
        registers.read("loans", END, START)

    # on paper
    pdf = tmp_path / "借阅登记簿.pdf"
    assert registers.print(loans, pdf) == 1
    text = pdftotext(pdf)
    for words in ("借阅登记簿", "填报单位:某某市保密局", "2026 年 5 月 11 日至 2026 年 6 月 25 日", "序号", "借阅人",
                  "应还日期", "归还日期", "逾期 5 天", "逾期未还 6 天", "未归还", "机密★", "填表人", "审核人",
                  day(10).isoformat(), day(15).isoformat(), "SW-A"):
        assert words in text, words
    assert "SW-B" not in text
    pdf = tmp_path / "销毁清单.pdf"
    registers.print(destroyed, pdf)
    text = pdftotext(pdf)
    for words in ("销毁清单", "XH-2026-07", "李娜、赵敏", "监销人", "承销单位经办人", "8-9"):
        assert words in text, words

    # in the workbook
    path = tmp_path / "发文登记簿.xlsx"
    assert export_register(registers, sent, path) == 2
    rows = sheet_rows(path)
    assert rows[0][0] == "绝密★" and rows[1][0] == "发文登记簿"
    assert rows[2][0].startswith("填报单位:某某市保密局") and any(
        "期间:2026 年 5 月 11 日至 2026 年 6 月 25 日" in str(v) for v in rows[2])
    table = by_header(rows, 3)
    assert [(t["序号"], t["办理"], t["登记编号"], t["份号"], t["份数"]) for t in table] == [
        (1, "分发", "SW-A", "1-3", 3), (2, "制作", "FW-M", "1-3", 3)]
    assert table[0]["日期"].date() == day(30) and table[0]["发往单位/接收人(发放范围)"] == "科研一处、张伟"
    assert any(str(r[0] or "").startswith("填表人") for r in rows[-2:])
    ws = load_workbook(path).worksheets[0]
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert "第 &P 页" in ws.oddFooter.center.text and ws["B5"].font.name == "宋体"

    with db.session() as session:
        outputs = [e for e in session.query(AuditEntry).order_by(AuditEntry.id)
                   if e.action in ("ledger.print", "ledger.export")]
    assert [e.detail["what"] for e in outputs][-3:] == [
        "借阅登记簿(2026 年 5 月 11 日至 2026 年 6 月 25 日)", "销毁清单(2026 年 5 月 11 日至 2026 年 6 月 25 日)",
        "发文登记簿(2026 年 5 月 11 日至 2026 年 6 月 25 日)"]


def test_an_empty_period_prints_and_exports_an_empty_register(story, tmp_path):
    s, *_ = story
    table = s.carrier_registers.read("copies", day(300), day(200))
    assert table.rows == [] and table.marking == "非涉密"
    pdf = tmp_path / "复制登记簿.pdf"
    s.carrier_registers.print(table, pdf)
    assert "本期间内无登记事项" in pdftotext(pdf)
    path = tmp_path / "复制登记簿.xlsx"
    assert export_register(s.carrier_registers, table, path) == 0
    assert sheet_rows(path)[1][0] == "复制登记簿"


def test_the_annual_report_gains_the_carriers_year(story, tmp_path):
    s, *_ = story
    s.ledgers.create("leak_events", {"grade": "一般泄密", "found_on": day(3).isoformat(), "item": "《上年度科研计划》SW-B 第 5 份",
                                     "level": "秘密", "count": 1, "account": "查无下落"})
    year = s.carrier_registers.year(2026)
    assert (year.value("received", "机密"), year.value("received", "秘密"), year.value("received_copies")) == (1, 1, 20)
    assert (year.value("made", "绝密"), year.value("made_copies", "绝密")) == (1, 3)
    assert year.value("copied", "机密") == 2 and year.value("lend") == 3 and year.value("give_back") == 1
    assert (year.value("destroy", "机密"), year.value("destroy", "秘密")) == (2, 2)
    assert year.value("missing", "秘密") == 1 and year.value("leaks", "秘密") == 1

    path = tmp_path / "年度报表.xlsx"
    export_annual_report(s.ledgers, 2026, path)
    wb = load_workbook(path)
    ws = wb["载体年度汇总"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[1][0] == "2026 年度国家秘密载体汇总表"
    headers = [str(h).replace("\n", "") for h in rows[3]]
    body = {r[0]: dict(zip(headers, r)) for r in rows[4:] if r[0] in ("绝密", "机密", "秘密", "合计")}
    assert (body["机密"]["接收(件)"], body["秘密"]["销毁(份)"], body["绝密"]["制作(份)"]) == (1, 2, 3)
    assert (body["合计"]["借阅(份次)"], body["合计"]["归还(份次)"], body["合计"]["下落不明(份)"],
            body["合计"]["复制(份)"], body["合计"]["泄密事件(起)"]) == (3, 1, 1, 2, 1)
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert wb.sheetnames.index("载体年度汇总") == wb.sheetnames.index("汇总") + 1


def test_a_copy_voided_is_in_no_register(story):
    s, a, *_ = story
    lent = s.carrier_actions.copies(a.id)[5]  # 借出 to 张伟, still out
    assert len(s.carrier_registers.read("loans", START, END).rows) == 2
    s.ledgers.void(lent.id, "登记重复")
    assert [r["_numbers"] for r in s.carrier_registers.read("loans", START, END).rows] == ["5"]
    assert s.carrier_registers.year(2026).value("lend") == 2
