"""安全策略: the password policy, lockout, idle lock and backup rotation, as one form."""

from __future__ import annotations

from dataclasses import fields

from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from mibao_desktop.security.passwords import SecurityPolicy
from mibao_desktop.errors import ServiceError
from mibao_desktop.services.settings import SettingsService
from mibao_desktop.ui import messages
from mibao_desktop.ui.login import _buttons, _error_label


class SettingsDialog(QDialog):
    def __init__(self, settings: SettingsService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("安全策略")
        policy = settings.security_policy()
        self.spins: dict[str, QSpinBox] = {}
        form = QFormLayout()
        for f in fields(SecurityPolicy):
            spin = QSpinBox()
            low, high = SecurityPolicy.LIMITS[f.name]
            spin.setRange(low, high)
            spin.setValue(getattr(policy, f.name))
            form.addRow(SecurityPolicy.LABELS[f.name], spin)
            self.spins[f.name] = spin
        self.error = _error_label()
        note = QLabel("默认值依据保密管理制度:口令不少于10位、三种以上字符、每周更换;连续5次错误锁定30分钟。")
        note.setWordWrap(True)
        # the floors come from the policy itself, so that what is said is what is enforced
        self.floors = QLabel("下限:" + SecurityPolicy.FLOORS)
        self.floors.setWordWrap(True)
        self.floors.setStyleSheet("font-weight: bold;")
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.floors)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "保存", self.save))

    def save(self) -> None:
        try:
            self.settings.set_security_policy(SecurityPolicy(**{k: s.value() for k, s in self.spins.items()}))
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()


class PrintSettingsDialog(QDialog):
    """打印设置: the unit's name on forms, and the colour of each level on labels."""

    def __init__(self, printing, parent: QWidget | None = None) -> None:
        from PySide6.QtWidgets import QColorDialog, QLineEdit, QPushButton

        super().__init__(parent)
        self.printing = printing
        self.setWindowTitle("打印设置")
        self.unit = QLineEdit(printing.unit_name())
        self.unit.setPlaceholderText("如:中国航天科工集团第二研究院七〇六所保密办公室")
        self.unit.setToolTip("印在审批表、标识和导出的报表上")
        self.unit.setMinimumWidth(self.unit.fontMetrics().horizontalAdvance("中" * 26))
        self.colours = dict(printing.colours())
        self.buttons: dict[str, QPushButton] = {}
        form = QFormLayout()
        form.addRow("单位名称", self.unit)
        for level in self.colours:
            button = QPushButton(self.colours[level])
            button.clicked.connect(lambda _c=False, lv=level: self._pick(lv, QColorDialog))
            self.buttons[level] = button
            form.addRow(f"{level}标识颜色", button)
        self._paint()
        self.error = _error_label()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "保存", self.save))

    def _paint(self) -> None:
        for level, button in self.buttons.items():
            button.setText(self.colours[level])
            button.setStyleSheet(f"background: {self.colours[level]}; color: white; font-weight: bold;")

    def _pick(self, level: str, dialog) -> None:
        from PySide6.QtGui import QColor

        chosen = dialog.getColor(QColor(self.colours[level]), self, f"{level}标识颜色")
        if chosen.isValid():
            self.set_colour(level, chosen.name())

    def set_colour(self, level: str, colour: str) -> None:
        self.colours[level] = colour.upper()
        self._paint()

    def save(self) -> None:
        try:
            if self.unit.text().strip() != self.printing.unit_name():
                self.printing.set_unit_name(self.unit.text())
            current = self.printing.colours()
            for level, colour in self.colours.items():
                if current.get(level) != colour:
                    self.printing.set_colour(level, colour)
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()
