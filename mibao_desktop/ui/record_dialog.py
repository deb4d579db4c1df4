"""新增 / 修改 dialog, generated from the ledger's declaration.

Each field is checked as the user leaves it (the same normaliser an import uses) and its
message shown right under it; on 保存 the service validates again, uniqueness included,
and any field it refuses gets its message the same way. Nothing is stored until all is right.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from mibao_desktop.ledgers import Ledger
from mibao_desktop.ledgers.fields import MacAddress, Ref
from mibao_desktop.ledgers.normalize import FieldError
from mibao_desktop.errors import ServiceError, ValidationFailed
from mibao_desktop.services.ledger_service import LedgerService, RecordView
from mibao_desktop.ui import messages
from mibao_desktop.ui.editors import FieldEditor, editor_for

from mibao_desktop.ui.messages import ERROR_STYLE  # noqa: E402 (kept importable from here)


def form_hint(ledger: Ledger) -> str:
    """The line over a form: what is required, and which of its fields take any usual spelling.
    Only the kinds the form has: it said “日期、MAC地址、密级” over every form, a MAC address
    over a carrier's or a person's, and 密级, which is chosen from a list, not typed."""
    typed = [kind for kind, present in (
        ("日期", any(f.type.editor == "date" for f in ledger.form_fields)),
        ("MAC地址", any(isinstance(f.type, MacAddress) for f in ledger.form_fields))) if present]
    hint = "带 * 的为必填项。"
    if typed:
        hint += f"{'、'.join(typed)}可按常见写法填写,保存时自动规范。"
    return hint


class RecordDialog(QDialog):
    def __init__(self, service: LedgerService, ledger: Ledger, record: RecordView | None = None,
                 parent: QWidget | None = None, *, parent_id: int | None = None, create=None,
                 also_required: tuple[str, ...] = ()) -> None:
        super().__init__(parent)
        self.also_required = frozenset(also_required)  # what that way of storing needs besides the declaration's
        self.service = service
        # how a new record is stored: the service's 登记, or a registration of its own (a
        # carrier received or made comes with its copies 1…份数, services/carrier_actions.py)
        self._create = create or (lambda raw: service.create(ledger, raw, parent_id=parent_id))
        self.ledger = ledger
        self.record = record
        self.parent_id = parent_id
        self.saved: RecordView | None = None
        self.editors: dict[str, FieldEditor] = {}
        self.error_labels: dict[str, QLabel] = {}
        self.setWindowTitle(f"修改{ledger.noun} {record.asset_number}" if record else f"新增{ledger.noun}")
        self.setMinimumWidth(760)

        # Two columns of fields, long text across the bottom: the whole record fits on a
        # 1366×768 screen without scrolling.
        form_host = QWidget()
        grid = QGridLayout(form_host)
        grid.setHorizontalSpacing(18)
        columns = (QFormLayout(), QFormLayout())
        for column in columns:
            column.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            column.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        wide = QFormLayout()
        wide.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        short = [f for f in ledger.form_fields if f.type.editor != "text"]
        half = (len(short) + 1) // 2
        for f in ledger.form_fields:
            editor = editor_for(f, suggest=self._suggester(f) if f.is_reference else None)
            editor.set_value(record.values.get(f.name) if record else f.default)
            editor.edited.connect(lambda name=f.name: self.check_field(name))
            error = QLabel()
            error.setStyleSheet(ERROR_STYLE)
            error.setWordWrap(True)
            error.hide()
            cell = QWidget()
            cell_layout = QVBoxLayout(cell)
            cell_layout.setContentsMargins(0, 0, 0, 0)
            cell_layout.setSpacing(2)
            cell_layout.addWidget(editor)
            cell_layout.addWidget(error)
            label = QLabel(f"{f.label}{' *' if self._required(f) else ''}")
            label.setBuddy(editor.focus_widget())
            if self._required(f):
                label.setToolTip("必填")
            target = wide if f not in short else columns[0 if short.index(f) < half else 1]
            target.addRow(label, cell)
            self.editors[f.name] = editor
            self.error_labels[f.name] = error
        grid.addLayout(columns[0], 0, 0)
        grid.addLayout(columns[1], 0, 1)
        grid.addLayout(wide, 1, 0, 1, 2)
        grid.setRowStretch(2, 1)
        # Tab walks down the first column, then the second, then the long texts across the
        # bottom, as the eye reads; a date's 日历 button right after its date.
        self.reading_order = short + [f for f in ledger.form_fields if f not in short]
        order = [w for f in self.reading_order for w in self.editors[f.name].tab_widgets()]
        for before, after in zip(order, order[1:]):
            QWidget.setTabOrder(before, after)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form_host)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # not a stop of its own between 取消 and the first field

        self.reason = QLineEdit()
        self.reason.setPlaceholderText("修改原因(选填,记入变更记录)")
        self.banner = QLabel()
        self.banner.setStyleSheet(ERROR_STYLE + " font-weight: bold;")
        self.banner.setWordWrap(True)
        self.banner.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("保存")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)

        layout = QVBoxLayout(self)
        hint = QLabel(form_hint(ledger))
        hint.setStyleSheet("color: #555;")
        layout.addWidget(hint)
        layout.addWidget(scroll, 1)
        if record is not None:
            layout.addWidget(self.reason)
        layout.addWidget(self.banner)
        layout.addWidget(buttons)
        last = order[-1]
        if record is not None:
            QWidget.setTabOrder(last, self.reason)
            last = self.reason
        QWidget.setTabOrder(last, self.save_button)
        QWidget.setTabOrder(self.save_button, buttons.button(QDialogButtonBox.StandardButton.Cancel))
        first = ledger.form_fields[0].name
        self.editors[first].focus_widget().setFocus()
        # As tall as the fields need (up to what a 1366×768 screen has room for), no blank band.
        self.resize(900, min(700, form_host.sizeHint().height() + hint.sizeHint().height()
                             + buttons.sizeHint().height() + (self.reason.sizeHint().height() if record else 0) + 60))
        self.people_added: list[str] = []  # names the save added to the 人员名册
        self._initial = self.raw_values()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """The form opens with the cursor after the first field's text, nothing selected: a
        number shown selected was overwritten by the first key typed (an Enter meant for the
        search box opened the form, and the next keys replaced 设备编号)."""
        super().showEvent(event)
        QTimer.singleShot(0, self._nothing_selected)

    def _nothing_selected(self) -> None:
        widget = self.focusWidget()
        if isinstance(widget, QLineEdit) and widget.hasSelectedText():
            widget.deselect()
            widget.end(False)

    def _required(self, f) -> bool:
        """Required, unless the service numbers it when left empty (人员编号 RY-0001 …)."""
        return (f.required or f.name in self.also_required) and not (
            f.name == self.ledger.key_field and self.ledger.auto_number)

    def _suggester(self, f):
        return lambda text: self.service.suggestions(self.ledger, f.name, text)

    # -- checking -------------------------------------------------------------------------

    def raw_values(self) -> dict[str, Any]:
        return {name: editor.value() for name, editor in self.editors.items()}

    def changed(self) -> bool:
        return self.raw_values() != self._initial

    def reject(self) -> None:
        """Esc or 取消: a form with changes asks first, so that a stray key loses no typing."""
        if self.saved is None and self.changed() and not messages.confirm(
                self, "放弃修改", "表单中的修改尚未保存,确定放弃吗?", action="放弃修改", cancel="继续编辑"):
            return
        super().reject()

    def show_error(self, name: str, message: str) -> None:
        label = self.error_labels[name]
        label.setText(message)
        label.setVisible(bool(message))

    def check_field(self, name: str) -> bool:
        """Check one field as the user leaves it; True when it is acceptable."""
        f = self.ledger.field(name)
        try:
            value = f.normalise(self.editors[name].value())
        except FieldError as exc:
            self.show_error(name, str(exc))
            return False
        if value is None and self._required(f):
            self.show_error(name, "必填,不能为空")
            return False
        self.show_error(name, "")
        return True

    def save(self) -> None:
        self.banner.hide()
        bad = [name for name in self.editors if not self.check_field(name)]
        if bad:
            self._report(bad)
            return
        try:
            new_people = self._new_people()
            if self.record is None:
                self.saved = self._create(self.raw_values())
            else:
                self.saved = self.service.update(self.record.id, self.raw_values(),
                                                 expected_version=self.record.version,
                                                 reason=self.reason.text().strip() or None)
        except ValidationFailed as exc:
            for name, message in exc.errors.items():
                if name in self.error_labels:
                    self.show_error(name, message)
            # A fault found in another record (a printer whose rule the change would break)
            # belongs to no field of this form: it goes in the general error area.
            others = [f"{exc.labels.get(k, k)}:{m}" for k, m in exc.errors.items() if k not in self.editors]
            self._report([n for n in exc.errors if n in self.editors], ";".join(others))
            return
        except ServiceError as exc:
            self.banner.setText(exc.message)
            self.banner.show()
            return
        self.people_added = new_people
        self.accept()

    def _new_people(self) -> list[str]:
        """The names typed in person fields that nobody in the 人员名册 has yet: the service
        adds them on saving, and the user is told so afterwards."""
        names = []
        for name, editor in self.editors.items():
            f = self.ledger.field(name)
            value = editor.value()
            if not f.is_person or isinstance(value, Ref) or not str(value).strip():
                continue
            typed = f.type.normalise(value)
            known = self.service.suggestions(self.ledger, name, typed.text)
            if not any(ref.text.casefold() == typed.text.casefold() for ref, _ in known) and typed.text not in names:
                names.append(typed.text)
        return names

    def _report(self, names: list[str], other: str = "") -> None:
        labels = "、".join(self.ledger.field(n).label for n in names)
        parts = ([f"请改正标红的项目:{labels}"] if names else []) + ([other] if other else [])
        self.banner.setText("\n".join(parts))
        self.banner.show()
        if names:
            self.editors[names[0]].focus_widget().setFocus()
