"""安全策略: the password policy, lockout, idle lock and backup rotation, as one form."""

from __future__ import annotations

from dataclasses import fields

from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from mibao_desktop.passwords import SecurityPolicy
from mibao_desktop.services.errors import ServiceError
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
        layout = QVBoxLayout(self)
        layout.addWidget(note)
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
