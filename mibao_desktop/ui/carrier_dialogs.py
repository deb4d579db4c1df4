"""The carrier copy's recorded actions as forms (分发, 借阅, 归还, 复制, 清退, 移交, 送修, 销毁,
下落不明, 找到): one dialog built from the action's declaration (ledgers/carriers.py), in the
pattern of 变更状态 (ui/lifecycle_dialogs.py): the facts it records in reading order for Tab,
required ones marked *, the rule it follows said above them, Esc asking on a changed form.
Everything is checked and stored by services/carrier_actions.py; a refusal comes back in
Chinese with its rule and is shown in the dialog, nothing lost."""

from __future__ import annotations

import datetime as dt
from typing import Sequence

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from mibao_desktop.errors import ServiceError
from mibao_desktop.ledgers.declaration import Action
from mibao_desktop.services.carrier_actions import CarrierActions, action_label
from mibao_desktop.services.ledger_service import LedgerService, RecordView
from mibao_desktop.ui import messages
from mibao_desktop.ui.editors import ChoiceEditor, DateEditor, FieldEditor, editor_for
from mibao_desktop.ui.lifecycle_dialogs import _ask_before_discarding, _buttons
from mibao_desktop.ui.messages import ERROR_STYLE
from mibao_desktop.ui.tasks import BackgroundTask
from mibao_desktop.ui.widgets import DateEdit

SHOWN_COPIES = 20  # 份号 listed in the dialog's header; more are counted
RULE_STYLE = "color: #555555;"
# what may be printed once an action is done: the paper it asks for (seed 002 §八)
PRINTED_AFTER = {"distribute": "distribution", "destroy": "destruction", "lend": "borrowing"}
CONFIRMED = ("destroy", "clear", "missing")  # done only on a second word: they end or alarm


def _copies_text(copies: Sequence[RecordView]) -> str:
    numbers = [c.display("copy_number") for c in copies]
    shown = "、".join(numbers[:SHOWN_COPIES]) + (f" 等共 {len(numbers)} 份" if len(numbers) > SHOWN_COPIES else "")
    return f"份号 {shown}"


class CarrierActionDialog(QDialog):
    """One action on one or more copies of a carrier."""

    def __init__(self, actions: CarrierActions, ledgers: LedgerService, action: Action, carrier: RecordView,
                 copies: Sequence[RecordView], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actions, self.ledgers, self.action = actions, ledgers, action
        self.carrier, self.copies = carrier, list(copies)
        self.saved: RecordView | None = None  # the first copy as it is after (the page selects it)
        self.done_copies: list[RecordView] = []
        self.task: BackgroundTask | None = None
        self.editors: dict[str, FieldEditor] = {}
        self.setWindowTitle(f"{action.label} · {carrier.number}")
        marking = carrier.display("level") + (f"★{carrier.display('secrecy_period')}"
                                              if carrier.values.get("secrecy_period") else "")
        head = QLabel(f"{carrier.number}《{carrier.display('title')}》 {marking}\n{_copies_text(self.copies)}"
                      + (f"\n知悉范围:{carrier.display('scope') or '未注明'}" if action.key == "lend" else ""))
        head.setWordWrap(True)
        head.setStyleSheet("font-weight: bold;")
        followed = actions.rule_for(action, carrier)
        self.rule = rule = QLabel(f"依据:{followed}" if followed else "")
        rule.setWordWrap(True)
        rule.setStyleSheet(RULE_STYLE)
        self.date = DateEdit(QDate.currentDate())
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setMaximumDate(QDate.currentDate())
        self.form = QFormLayout()
        self.form.addRow("日期", self.date)
        today = QDate.currentDate()
        for f in action.facts:
            suggest = (lambda text, name=f.name: self.ledgers.suggestions(self.copies[0].ledger, name, text)) \
                if f.is_reference else None
            editor = editor_for(f, suggest=suggest)
            if isinstance(editor, ChoiceEditor) and editor.combo.findText("") < 0:
                editor.combo.insertItem(0, "")  # chosen, never taken by default
                editor.combo.setCurrentIndex(0)
            if isinstance(editor, DateEditor) and not getattr(f.type, "not_future", True):
                editor.calendar.setMaximumDate(today.addYears(10))  # a due date lies ahead
                editor.calendar.setMinimumDate(today.addYears(-1))
            if f.help:
                editor.focus_widget().setToolTip(f.help)
            self.editors[f.name] = editor
            self.form.addRow(f"{f.label} *" if f.required else f.label, editor)
        if action.key == "clear" and carrier.values.get("issuer"):
            self.editors["returned_to"].set_text(carrier.display("issuer"))  # back to the issuer
        self.print_after = QCheckBox(f"完成后打印{_PRINTED_TITLES.get(action.key, '')}")
        self.print_after.setChecked(action.key in ("distribute", "destroy"))
        self.print_after.setVisible(action.key in PRINTED_AFTER)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = _buttons(self, action.label)
        self.buttons.accepted.connect(self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(rule)
        layout.addLayout(self.form)
        layout.addWidget(self.print_after)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)
        # Tab in reading order: the date, each fact's stops, the print box, then the buttons
        chain = [self.date] + [w for e in self.editors.values() for w in e.tab_widgets()]
        chain += [self.print_after, self.buttons.button(QDialogButtonBox.StandardButton.Ok),
                  self.buttons.button(QDialogButtonBox.StandardButton.Cancel)]
        for first, second in zip(chain, chain[1:]):
            QWidget.setTabOrder(first, second)
        first_fact = next(iter(self.editors.values()), None)
        (first_fact.focus_widget() if first_fact is not None else self.date).setFocus()
        self._initial = self._typed()

    @property
    def printed_form(self) -> str | None:
        """The form to print for the copies once done (分发签收单, 销毁审批表), if asked for."""
        return PRINTED_AFTER.get(self.action.key) if self.print_after.isChecked() else None

    def _typed(self) -> tuple:
        return self.date.date(), tuple((n, e.text()) for n, e in self.editors.items())

    def reject(self) -> None:
        if self.busy:  # Esc while it runs: the progress dialog's 取消 stops it, nothing is closed under it
            return
        if self.saved is None and self._typed() != self._initial and not _ask_before_discarding(self):
            return
        super().reject()

    def save(self) -> None:
        missing = [e for e in self.editors.values() if e.field.required and not e.text().strip()]
        if missing:
            self.error.setText("请填写:" + "、".join(e.field.label for e in missing))
            self.error.show()
            missing[0].focus_widget().setFocus()
            return
        if self.action.key in CONFIRMED and not messages.confirm(
                self, "确认", f"确定对{self.carrier.number} {_copies_text(self.copies)}办理“{self.action.label}”吗?"
                + ("此后这些载体份只能查看。" if self.action.to in self.copies[0].ledger.lifecycle.terminal else ""),
                action=self.action.label):
            return
        qdate = self.date.date()
        facts = {name: editor.value() for name, editor in self.editors.items()}
        day = dt.date(qdate.year(), qdate.month(), qdate.day())
        ids = [c.id for c in self.copies]
        # off the UI thread: 销毁 of a few hundred copies takes a while, with progress and 取消
        self.task = BackgroundTask(self, f"正在办理{self.action.label}……", lambda progress, cancelled: self.actions.act(
            self.action.key, ids, facts, effective_date=day, progress=progress, cancelled=cancelled))
        self.task.done.connect(self._done)
        self.task.failed.connect(self._failed)
        self.buttons.setEnabled(False)
        self.error.hide()
        self.task.start()

    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def _done(self, copies: list[RecordView]) -> None:
        self.task = None
        self.done_copies = copies
        self.saved = copies[0] if copies else None
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.buttons.setEnabled(True)
        if isinstance(exc, ServiceError):  # a refusal, named with its rule; Cancelled says nothing was stored
            messages.inline(self.error, exc)
        else:
            messages.show_error(self, self.action.label, exc)


_PRINTED_TITLES = {"distribute": "分发签收单", "destroy": "销毁审批表(附清单)", "lend": "借阅登记簿"}


class CopyHistoryDialog(QDialog):
    """变更记录 of one copy: every action done to it (登记, 分发, 借阅 with its facts …), newest
    first, as the record page shows a record's history."""

    def __init__(self, ledgers: LedgerService, copy: RecordView, carrier: RecordView,
                 parent: QWidget | None = None) -> None:
        from mibao_desktop.ui.detail_pane import describe  # the record page's words for an event

        super().__init__(parent)
        number = f"{carrier.number}·份号{copy.display('copy_number')}"
        self.setWindowTitle(f"变更记录 · {number}")
        head = QLabel(f"{number}《{carrier.display('title')}》 当前:{copy.status}"
                      + (f",持有人 {copy.display('holder')}" if copy.values.get("holder") else ""))
        head.setWordWrap(True)
        self.entries = ledgers.history(copy.id)
        self.list = QTreeWidget()
        self.list.setHeaderHidden(True)
        self.list.setRootIsDecorated(False)
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        for entry in self.entries:
            what = describe(entry)
            text = f"{entry.at:%Y-%m-%d %H:%M}  {action_label(entry)}  {entry.actor}"
            item = QTreeWidgetItem([text + ("\n" + what.replace(";", "\n") if what else "")])
            item.setToolTip(0, what or text)
            self.list.addTopLevelItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(560, 520)
