"""变更状态 and 作废: the two lifecycle actions, each with its reason and a confirmation."""

from __future__ import annotations

import datetime as dt
from typing import Sequence

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from mibao_desktop.errors import ServiceError
from mibao_desktop.ledgers.declaration import REASON
from mibao_desktop.ledgers.fields import Ref
from mibao_desktop.ledgers.normalize import FieldError
from mibao_desktop.services.ledger_service import LedgerService, RecordView, StillReferenced
from mibao_desktop.ui import messages
from mibao_desktop.ui.editors import ChoiceEditor, DateEditor, FieldEditor, editor_for
from mibao_desktop.ui.record_dialog import ERROR_STYLE
from mibao_desktop.ui.widgets import DateEdit

VOID_REASONS = ("重复登记", "录入错误", "登记了不属于本台账的设备")
SHOWN_RECORDS = 12  # numbers listed in the void dialog; more go behind “等共 N 条”


def _ask_before_discarding(dialog: QDialog) -> bool:
    """Esc or 取消 on a form with something typed: ask, so that a stray key loses no typing."""
    return messages.confirm(dialog, "放弃修改", "已填写的内容尚未保存,确定放弃吗?", action="放弃修改", cancel="继续编辑")


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
    buttons.rejected.connect(dialog.reject)
    return buttons


class StatusDialog(QDialog):
    """Move a record to its next status (停用、维修、外出、报废、已销毁 …) with its date and the
    facts the lifecycle declares for that status (外出: 外出地点、外出事由、携带人、预计返回日期;
    维修: 维修单位、陪同人员、是否拆除硬盘; 借出: 借用人、应还日期; 报废: 原因): the fields shown
    follow the status chosen, in reading order for Tab, required ones marked with *."""

    def __init__(self, service: LedgerService, record: RecordView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.record = record
        self.saved: RecordView | None = None
        self.people_added: list[str] = []  # names the change added to the 人员名册 (携带人, 借用人 …)
        self.editors: dict[str, FieldEditor] = {}
        self._kept: dict[str, str] = {}  # what was typed into a fact, kept while another status is chosen
        lifecycle = record.ledger.lifecycle
        self.setWindowTitle(f"变更状态 · {record.asset_number}")
        self.status = QComboBox()
        self.status.addItems(list(lifecycle.allowed_next(record.status)))
        self.date = DateEdit(QDate.currentDate())
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setMaximumDate(QDate.currentDate())
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        self.form = QFormLayout()
        self.form.addRow("当前状态", QLabel(record.status))
        self.form.addRow("改为", self.status)
        self.form.addRow("日期", self.date)
        self.buttons = _buttons(self, "确定")
        self.buttons.accepted.connect(self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.warning)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)
        self.status.currentTextChanged.connect(self._status_chosen)
        self._status_chosen(self.status.currentText())
        self.status.setFocus()
        self._initial = self._typed()

    @property
    def reason(self) -> QWidget | None:
        """The 原因 box, when the status chosen asks for one."""
        editor = self.editors.get(REASON)
        return editor.focus_widget() if editor is not None else None

    def _typed(self) -> tuple:
        return (self.status.currentText(), self.date.date(),
                tuple(sorted({**self._kept, **{n: e.text() for n, e in self.editors.items()}}.items())))

    def reject(self) -> None:
        if self.saved is None and self._typed() != self._initial and not _ask_before_discarding(self):
            return
        super().reject()

    def _status_chosen(self, status: str) -> None:
        """Show exactly the facts ``status`` asks for; what was typed into a fact another status
        also asks for stays."""
        for name, editor in self.editors.items():
            self._kept[name] = editor.text()
        while self.form.rowCount() > 3:
            self.form.removeRow(3)
        self.editors = {}
        today = QDate.currentDate()
        for f in self.record.ledger.lifecycle.facts_for(status):
            suggest = (lambda text, name=f.name: self.service.suggestions(self.record.ledger, name, text)) \
                if f.is_reference else None
            editor = editor_for(f, suggest=suggest)
            if isinstance(editor, ChoiceEditor) and editor.combo.findText("") < 0:
                editor.combo.insertItem(0, "")  # 是否拆除硬盘: chosen, never taken by default
                editor.combo.setCurrentIndex(0)
            if isinstance(editor, DateEditor) and not getattr(f.type, "not_future", True):
                editor.calendar.setMaximumDate(today.addYears(10))  # a return date lies ahead
                editor.calendar.setMinimumDate(today.addYears(-1))
            if self._kept.get(f.name):
                editor.set_text(self._kept[f.name])
            self.editors[f.name] = editor
            self.form.addRow(f"{f.label} *" if f.required else f.label, editor)
        # Tab in reading order: status, date, each fact's stops, then 确定 and 取消
        chain = [self.status, self.date] + [w for e in self.editors.values() for w in e.tab_widgets()]
        chain += [self.buttons.button(QDialogButtonBox.StandardButton.Ok),
                  self.buttons.button(QDialogButtonBox.StandardButton.Cancel)]
        for first, second in zip(chain, chain[1:]):
            QWidget.setTabOrder(first, second)
        self._explain(status)

    def _explain(self, status: str) -> None:
        lifecycle = self.record.ledger.lifecycle
        if status in lifecycle.terminal:
            self.warning.setText(f"改为“{status}”后,这条记录将只能查看,不能再修改或变更状态。")
        elif status in lifecycle.closing:
            self.warning.setText(f"改为“{status}”须填写原因;此后只能再改为:"
                                 f"{'、'.join(lifecycle.allowed_next(status))}。")
        elif any(f.required for f in lifecycle.facts_for(status)):
            self.warning.setText("带 * 的为必填项,将随状态变更记入变更记录,并填入打印的审批表。")
        else:
            self.warning.setText("")

    def save(self) -> None:
        status = self.status.currentText()
        missing = [e for e in self.editors.values() if e.field.required and not e.text().strip()]
        if missing:
            self.error.setText("请填写:" + "、".join(e.field.label for e in missing))
            self.error.show()
            missing[0].focus_widget().setFocus()
            return
        if status in self.record.ledger.lifecycle.terminal and not messages.confirm(
            self, "确认", f"确定将 {self.record.asset_number} 改为“{status}”吗?此操作不能撤销。", action=f"改为{status}"
        ):
            return
        qdate = self.date.date()
        facts = {name: editor.value() for name, editor in self.editors.items()}
        new_people = self._new_people()
        change = lambda confirmed: self.service.change_status(  # noqa: E731
            self.record.id, status, facts=facts,
            effective_date=dt.date(qdate.year(), qdate.month(), qdate.day()), confirm_referenced=confirmed)
        self.saved = _referenced_first(self, self.record, f"改为{status}", change, self.error)
        if self.saved is not None:
            self.people_added = new_people
            self.accept()

    def _new_people(self) -> list[str]:
        """Names typed in a person fact that nobody in the 人员名册 has yet: the service adds
        them, and the page says so afterwards (as the record form does)."""
        names = []
        for name, editor in self.editors.items():
            value = editor.value()
            if not editor.field.is_person or isinstance(value, Ref) or not str(value).strip():
                continue
            try:
                typed = editor.field.type.normalise(value)
            except FieldError:
                continue  # the service names the fault
            known = self.service.suggestions(self.record.ledger, name, typed.text)
            if not any(ref.text.casefold() == typed.text.casefold() for ref, _ in known) and typed.text not in names:
                names.append(typed.text)
        return names


class VoidDialog(QDialog):
    """作废 records entered by mistake (one, or every row selected, with one reason and one
    confirmation that lists them): they stay in the ledger's history and can be restored."""

    def __init__(self, service: LedgerService, records: RecordView | Sequence[RecordView],
                 parent: QWidget | None = None, *, left_out: Sequence[str] = ()) -> None:
        super().__init__(parent)
        self.service = service
        self.records = [records] if isinstance(records, RecordView) else list(records)
        record = self.record = self.records[0]
        self.saved: RecordView | None = None
        self.voided: list[RecordView] = []
        numbers = [r.asset_number for r in self.records]
        if len(numbers) == 1:
            self.setWindowTitle(f"作废 · {record.asset_number}")
            what = f"确定作废{record.ledger.noun} {record.asset_number} 吗?"
        else:
            self.setWindowTitle(f"作废 {len(numbers)} 条记录")
            shown = "、".join(numbers[:SHOWN_RECORDS]) + (f" 等共 {len(numbers)} 条" if len(numbers) > SHOWN_RECORDS else "")
            what = f"确定作废以下 {len(numbers)} 条{record.ledger.noun}记录吗?\n{shown}"
        if left_out:
            what += "\n\n以下记录不能作废,不在此列:\n" + "\n".join(left_out)
        text = QLabel(
            f"{what}\n"
            "作废用于登记错误的记录:记录不会删除,仍可在“显示已作废”中查看并恢复,"
            "其编号、序列号和MAC地址将可重新登记。\n设备报废或销毁请用“变更状态”。")
        text.setWordWrap(True)
        self.text = text
        self.reason = QComboBox()
        self.reason.setEditable(True)
        self.reason.addItems(["", *VOID_REASONS])
        self.reason.lineEdit().setPlaceholderText("请填写或选择作废原因(必填)")
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow("作废原因 *", self.reason)
        self.buttons = _buttons(self, "作废")
        self.buttons.accepted.connect(self.save)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setEnabled(False)
        self.reason.currentTextChanged.connect(lambda t: self.ok.setEnabled(bool(t.strip())))
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(440)
        self.reason.setFocus()

    def reject(self) -> None:
        if self.saved is None and self.reason.currentText().strip() and not _ask_before_discarding(self):
            return
        super().reject()

    def save(self) -> None:
        reason = self.reason.currentText()
        ids = [r.id for r in self.records]
        voided = _referenced_first(
            self, self.record, "作废", lambda confirmed: self.service.void_many(ids, reason,
                                                                               confirm_referenced=confirmed), self.error,
            subject=f"所选的 {len(ids)} 条{self.record.ledger.noun}" if len(ids) > 1 else "")
        if voided:
            self.voided = voided
            self.saved = voided[0]
            self.accept()


def _referenced_first(dialog: QDialog, record: RecordView, doing: str, act, error: QLabel, subject: str = ""):
    """Run ``act(confirm_referenced)``; when other records still refer to this one, the service
    refuses with their list: show it, and only on the user's word do it again, confirmed.
    Cancelling changes nothing. Returns the record as changed, or None."""
    try:
        try:
            return act(False)
        except StillReferenced as exc:
            if not messages.confirm_referenced(dialog, record, exc.referrers, doing, subject=subject):
                return None
            return act(True)
    except ServiceError as exc:
        messages.inline(error, exc)
        return None
