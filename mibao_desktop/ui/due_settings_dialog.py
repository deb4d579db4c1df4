"""提醒设置: the thresholds of the 首页's rules whose job is the person's (维修 over N days, no
backup for N days, the audit log's verification interval …). Widgets only: the rules, bounds
and the audited save are the service's (``DueService.set_threshold``)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from mibao_desktop.ui import messages
from mibao_desktop.ui.widgets import AsksBeforeDiscarding


class DueSettingsDialog(AsksBeforeDiscarding, QDialog):
    def __init__(self, due, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.due = due
        self.setWindowTitle("提醒设置")
        values = due.thresholds()
        self.boxes: dict[tuple[str, str], QSpinBox] = {}
        form = QFormLayout()
        for rule in due.rules:
            if rule.owner != due.actor.role:
                continue
            for t in rule.thresholds:
                box = QSpinBox()
                box.setRange(t.minimum, t.maximum)
                box.setValue(values[rule.key][t.name])
                box.setSuffix(f" {t.unit}")
                box.setToolTip(rule.cite or rule.title)
                form.addRow(f"{rule.title}:{t.label}", box)
                self.boxes[(rule.key, t.name)] = box
        self.values = values
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("保存")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("修改后首页按新的天数提醒;每项修改记入审计日志。"))
        layout.addLayout(form)
        layout.addWidget(buttons)

    def save(self) -> None:
        try:
            for (rule, name), box in self.boxes.items():
                if box.value() != self.values[rule][name]:
                    self.due.set_threshold(rule, name, box.value())
        except Exception as exc:  # noqa: BLE001 - told in Chinese, the dialog stays open
            messages.show_error(self, "提醒设置未保存", exc)
            return
        self.accept()


__all__ = ["DueSettingsDialog"]
