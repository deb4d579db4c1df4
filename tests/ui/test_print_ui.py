"""Select rows → 打印标识 / 打印审批表: the preview shows the PDF, printing reaches a printer."""

from __future__ import annotations

from pypdf import PdfReader
from pypdf.generic import ContentStream
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtPrintSupport import QPrinter

from mibao_desktop.security import Actor, Role
from mibao_desktop.services.repository import LedgerQuery
from mibao_desktop.services.audit_service import AuditFilter, AuditService
from tests.conftest import computer


def select_rows(page, rows):
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in rows:
        page.table.selectionModel().select(page.model.index(row, 0), flags)


def seed(service, n=4):
    for i in range(n):
        service.create("computers", computer(asset_number=f"JM-{i:03d}", serial_number=f"S{i}", disk_serials=f"D{i}",
                                             mac_addresses=f"00-00-00-00-01-{i:02X}"))


def test_label_preview_then_print_to_a_pdf_printer(window, qtbot, service, tmp_path, told):
    seed(service)
    page = window.current_page()
    page.refresh()
    select_rows(page, [0, 2, 3])
    page.print_labels()
    dialog = page.dialog
    assert dialog.preview.page_count == 1 and dialog.preview.page_labels
    assert "共 3 张标识" in dialog.summary.text()
    pixmap = dialog.preview.page_labels[0].pixmap()
    image = pixmap.toImage()
    assert image.pixelColor(2, 2).name() == "#ffffff"  # painted on white, not transparent
    dialog.start.setValue(23)  # a partly used sheet: 2 places left, the third label on page 2
    dialog.refresh()
    assert dialog.preview.page_count == 2 and "2 页" in dialog.summary.text()
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    assert dialog.print_to(printer)
    reader = PdfReader(out)
    assert len(reader.pages) == 2
    assert round(float(reader.pages[0].mediabox.width) * 25.4 / 72) == 210  # A4 at 100 %
    entries = AuditService(service.db, Actor("shenji", Role.AUDITOR)).entries(AuditFilter(action="ledger.print"))
    assert len(entries) == 1 and entries[0].detail["count"] == 3  # previews are not recorded
    assert told[-1][:2] == ("inform", "已发送打印")


def test_custom_grid_offset_and_calibration(window, qtbot, service, tmp_path, told):
    seed(service, 2)
    page = window.current_page()
    page.refresh()
    select_rows(page, [0, 1])
    page.print_labels()
    dialog = page.dialog
    dialog.layout_choice.setCurrentIndex(dialog.layout_choice.findData("custom"))
    assert dialog.custom_box.isVisibleTo(dialog)
    dialog.custom["columns"].setValue(4)  # 4 × 70 mm does not fit on A4
    dialog.refresh()
    assert "超出纸宽" in dialog.error.text() and not dialog.print_button.isEnabled()
    dialog.custom["columns"].setValue(2)
    dialog.refresh()
    assert dialog.print_button.isEnabled()
    dialog.offset_x.setValue(1.5)
    dialog.save_offset()
    from mibao_desktop.services.print_service import PrintService

    assert PrintService(service.db, service.actor).offset("PDF") == (1.5, 0.0)
    saved = dialog.save_pdf(tmp_path / "labels.pdf")
    assert saved and saved.exists() and PdfReader(saved).pages
    dialog.calibration(tmp_path / "cal.pdf")
    assert (tmp_path / "cal.pdf").exists()


def test_form_dialog_fills_the_chosen_form(window, qtbot, service, tmp_path, told):
    seed(service, 3)
    page = window.current_page()
    page.refresh()
    select_rows(page, [0, 1, 2])
    page.print_forms()
    dialog = page.dialog
    assert dialog.form_choice.currentData() == "destruction"  # several rows: a form that lists them
    assert "1 页" in dialog.summary.text()
    dialog.form_choice.setCurrentIndex(dialog.form_choice.findData("takeout"))
    dialog.refresh()
    assert "一次填写一条记录" in dialog.error.text()
    page.table.clearSelection()
    select_rows(page, [1])
    page.print_forms()
    dialog = page.dialog
    dialog.form_choice.setCurrentIndex(dialog.form_choice.findData("takeout"))
    dialog.refresh()
    assert dialog.print_button.isEnabled()
    out = dialog.save_pdf(tmp_path / "takeout.pdf")
    import subprocess

    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert "JM-001" in text and "外出审核表" in text


def test_print_settings_unit_name_and_level_colours(window, qtbot, service, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialogButtonBox

    from mibao_desktop.printing import labels as L
    from mibao_desktop.services.print_service import PrintService

    window.edit_print_settings()
    dialog = window.dialog
    dialog.unit.setText("某某研究所")
    dialog.set_colour("机密", "#800080")
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    printing = PrintService(service.db, service.actor)
    assert printing.unit_name() == "某某研究所" and printing.colours()["机密"] == "#800080"
    seed(service, 1)
    record = service.query("computers", LedgerQuery()).rows[0]
    out = tmp_path / "l.pdf"
    printing.labels(record.ledger, [record], out, L.PRESETS["roll-60x40"])
    page = PdfReader(out).pages[0]
    fills = {tuple(round(float(v), 3) for v in operands)
             for operands, operator in ContentStream(page.get_contents(), page.pdf).operations if operator == b"rg"}
    assert (0.502, 0.0, 0.502) in fills  # the 机密 band in the chosen purple


def test_label_dialog_prints_the_unit_name_and_a_safe_margin(window, qtbot, service, tmp_path, told):
    import subprocess

    from mibao_desktop.printing import labels as L
    from mibao_desktop.services.print_service import PrintService

    seed(service, 1)
    page = window.current_page()
    page.refresh()
    select_rows(page, [0])
    page.print_labels()
    assert not page.dialog.unit.isEnabled()  # no unit name yet: nothing to print
    PrintService(service.db, service.actor).set_unit_name("某某市某某研究所")
    page.print_labels()
    dialog = page.dialog
    assert dialog.unit.isEnabled() and "某某市某某研究所" in dialog.unit.text()
    dialog.layout_choice.setCurrentIndex(dialog.layout_choice.findData("a4-3x8"))
    dialog.unit.setChecked(True)
    dialog.safe_margin.setValue(4)
    dialog.refresh()
    out = dialog.save_pdf(tmp_path / "labels.pdf")
    layout = L.PRESETS["a4-3x8"]
    text = subprocess.run(["pdftotext", "-r", "72", "-x", "0", "-y", "0", "-W", str(int(layout.label_width * 72 / 25.4)),
                           "-H", str(int(layout.label_height * 72 / 25.4)), str(out), "-"],
                          capture_output=True, text=True).stdout.replace(" ", "")
    assert "某某市某某研究所" in text and text.count("JM-000") == 1
    html = subprocess.run(["pdftotext", "-bbox", str(out), "-"], capture_output=True, text=True).stdout
    import re

    lefts = [float(v) for v in re.findall(r'<word xMin="([\d.]+)"', html)]
    assert lefts and min(lefts) >= 4 * 72 / 25.4 - 0.5  # nothing within 4 mm of the sheet's left edge
    entries = AuditService(service.db, Actor("shenji", Role.AUDITOR)).entries(AuditFilter(action="ledger.print"))
    assert entries[0].detail["unit"] == "某某市某某研究所" and entries[0].detail["safe_margin_mm"] == 4
