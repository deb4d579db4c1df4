"""打印标识 on the carriers' page offers a label for each copy (issue 13 item 5): the cover label
and the sealed-envelope label, with the 份号 to print and the envelope's 收件单位/发件单位."""

from __future__ import annotations

from mibao_desktop.printing import carrier_labels as CL, labels as L
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.audit_service import AuditFilter, AuditService
from tests.test_labels_layout import label_text
from tests.ui.test_print_ui import select_rows


def test_the_label_dialog_prints_cover_and_envelope_labels_for_each_copy(window, qtbot, service, tmp_path, told):
    made = service.create_many("carriers", [{
        "carrier_number": "ZT-2024-001", "title": "关于加强涉密载体管理工作的通知", "level": "机密★10年", "copies": 4,
        "keeper": "李娜", "department": "保密办", "_children": [{"copy_number": n} for n in range(1, 5)]}])
    assert not made.refused
    page = window.show_ledger("carriers")
    page.refresh()
    select_rows(page, [0])
    page.print_labels()
    dialog = page.dialog
    kinds = [dialog.kind.itemText(i) for i in range(dialog.kind.count())]
    assert kinds == ["密级标识", "保密提醒标识", "封面标识(每份一张)", "密封信封标识(每份一张)", "密封条(封口、中缝各一张)"]
    assert not dialog.copy_numbers.isVisibleTo(dialog)  # a carrier's own label: no 份号 to choose
    dialog.layout_choice.setCurrentIndex(dialog.layout_choice.findData("a4-2x5"))
    dialog.kind.setCurrentIndex(dialog.kind.findData(CL.COVER_LABEL))
    dialog.refresh()
    assert dialog.copy_numbers.isVisibleTo(dialog) and not dialog.receiver.isVisibleTo(dialog)
    assert "共 4 张标识" in dialog.summary.text()
    dialog.copy_numbers.setText("3-1")
    dialog.refresh()
    assert "前大后小" in dialog.error.text() and not dialog.print_button.isEnabled()
    dialog.copy_numbers.setText("2、4")
    dialog.kind.setCurrentIndex(dialog.kind.findData(CL.ENVELOPE_LABEL))
    dialog.receiver.setText("某某研究院保密办")
    dialog.sender.setText("本单位机要室")
    dialog.refresh()
    assert dialog.receiver.isVisibleTo(dialog) and "共 2 张标识" in dialog.summary.text()
    out = dialog.save_pdf(tmp_path / "信封.pdf")
    layout = L.PRESETS["a4-2x5"]
    lines = label_text(str(out), layout, 1)
    assert lines[0] == "机密密封" and "编号:ZT-2024-001第4份" in lines
    assert "收件单位:某某研究院保密办" in lines and "发件单位:本单位机要室" in lines
    dialog.kind.setCurrentIndex(dialog.kind.findData(CL.SEAL_STRIP))  # two strips a copy: flap and seam
    dialog.refresh()
    assert dialog.copies.value() == 2 and not dialog.receiver.isVisibleTo(dialog)
    assert "共 4 张标识" in dialog.summary.text()  # copies 2 and 4, two strips each
    entries = AuditService(service.db, Actor("shenji", Role.AUDITOR)).entries(AuditFilter(action="ledger.print"))
    assert entries[0].detail["what"] == "密封信封标识"
    assert entries[0].detail["copies"] == ["ZT-2024-001#2", "ZT-2024-001#4"]
