"""Issue 13 item 6 in the desktop: the carriers page's 登记簿… opens the register dialog; the
register and period are chosen, the count read off the UI thread, the print preview drawn and
the workbook exported, read back."""

from __future__ import annotations

import datetime as dt

import openpyxl

from mibao_desktop.ledgers.carriers import CARRIERS
from mibao_desktop.ui.carrier_register_dialog import CarrierRegisterDialog, RegisterPrintDialog


def test_the_borrowing_register_from_the_carriers_page(window, qtbot, services, told, tmp_path):
    for name, dept in (("李娜", "保密办"), ("刘洋", "保密办")):
        services.ledgers.create("people", {"name": name, "department": dept})
    today = dt.date.today()
    acts = services.carrier_actions
    carrier = acts.register({"carrier_number": "SW-7", "title": "年度保密工作要点", "level": "机密★10年", "copies": 2,
                             "scope": "保密办", "keeper": "李娜", "department": "保密办",
                             "received_on": today.replace(day=1).isoformat()})
    copies = acts.copies(carrier.id)
    acts.lend([copies[0].id], {"borrower": "刘洋", "due_back": today.isoformat(), "approver": "王局长"})

    page = window.show_ledger(CARRIERS.key)
    assert page.registers_button.isVisible()
    page.registers_button.click()
    dialog = page.dialog
    assert isinstance(dialog, CarrierRegisterDialog)
    qtbot.waitUntil(lambda: dialog.table is not None, timeout=10000)
    assert dialog.summary.text() == "收文登记簿:共 1 件、2 份。"
    assert dialog.marking.currentData() == "机密"

    dialog.kind.setCurrentIndex(dialog.kind.findData("loans"))
    qtbot.waitUntil(lambda: dialog.table is not None and dialog.table.register.key == "loans", timeout=10000)
    assert "共 1 条" in dialog.summary.text()
    dialog.start.setDate(dialog.end.date().addDays(1))  # a period that ends before it begins
    assert not dialog.go.isEnabled() and "晚于" in dialog.summary.text()
    dialog.set_period(today.replace(day=1), today)
    qtbot.waitUntil(lambda: dialog.table is not None and dialog.go.isEnabled(), timeout=10000)

    dialog.print_button.click()
    preview = dialog.print_dialog
    assert isinstance(preview, RegisterPrintDialog)
    assert preview.pdf.startswith(b"%PDF") and preview.summary.text() == "共 1 页"
    preview.close()

    out = tmp_path / "借阅登记簿.xlsx"
    dialog.export(out)
    qtbot.waitUntil(lambda: not dialog.task.running, timeout=10000)
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert ws["A1"].value == "机密★" and ws["A2"].value == "借阅登记簿"
    assert [c.value for c in ws[5]][:7] == [1, dt.datetime.combine(today, dt.time()), "SW-7", "年度保密工作要点", "机密",
                                            "1", "刘洋"]
    assert ("inform", "导出完成", f"已导出 1 条记录到\n{out}") in told
