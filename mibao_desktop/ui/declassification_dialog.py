"""解密审查…: record one carrier's yearly declassification review (解密 / 延期 with the new
period / 变更密级) with its approver. Widgets only: the checks, the history entry and the audit
are ``services/declassification.py``'s; a refusal is shown in the dialog, nothing typed lost."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from mibao_desktop.errors import ServiceError
from mibao_desktop.ledgers import levels
from mibao_desktop.services.declassification import EXTEND, OUTCOMES, RELEVEL
from mibao_desktop.ui import messages
from mibao_desktop.ui.widgets import AsksBeforeDiscarding


class DeclassificationDialog(AsksBeforeDiscarding, QDialog):
    def __init__(self, services, carrier_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = services.declassification
        self.carrier = services.ledgers.get(carrier_id)
        self.setWindowTitle("解密审查")
        c = self.carrier
        about = QLabel(f"{c.number} {c.display('title')}\n密级 {c.display('level')},保密期限 "
                       f"{c.display('secrecy_period') or '按法定期限'},解密时间 {c.display('declassify_on')}")
        about.setWordWrap(True)
        self.outcome = QComboBox()
        self.outcome.addItems(OUTCOMES)
        self.period = QLineEdit()
        self.period.setPlaceholderText("如 5年、长期(延期时必填)")
        self.level = QComboBox()
        self.level.addItem("")
        self.level.addItems([lv for lv in levels.unit().ranked if levels.is_classified(lv)])
        self.approver = QLineEdit()
        self.approver.setPlaceholderText("定密责任人")
        self.note = QLineEdit()
        form = QFormLayout()
        form.addRow("审查结论", self.outcome)
        form.addRow("新的保密期限", self.period)
        form.addRow("新的密级", self.level)
        form.addRow("批准人 *", self.approver)
        form.addRow("说明", self.note)
        self.error = QLabel()
        self.error.setStyleSheet("color: #B00000;")
        self.error.setWordWrap(True)
        rule = QLabel("依据定密管理制度:每年至少开展一次解密审查,对保密期限届满的事项作出解密、延长保密期限或变更密级的决定,"
                      "经定密责任人批准。")
        rule.setWordWrap(True)
        rule.setStyleSheet("color: #555;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("保存")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(rule)
        layout.addWidget(about)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.outcome.currentTextChanged.connect(self._fields)
        self._fields(self.outcome.currentText())

    def _fields(self, outcome: str) -> None:
        self.period.setEnabled(outcome in (EXTEND, RELEVEL))
        self.level.setEnabled(outcome == RELEVEL)

    def save(self) -> None:
        outcome = self.outcome.currentText()
        try:
            self.service.review(self.carrier.id, outcome, self.approver.text(),
                                new_period=self.period.text() if self.period.isEnabled() else None,
                                new_level=self.level.currentText() if self.level.isEnabled() else None,
                                note=self.note.text())
        except ServiceError as exc:  # told here in Chinese, naming the field; what was typed kept
            messages.inline(self.error, exc)
            return
        self.accept()


__all__ = ["DeclassificationDialog"]
