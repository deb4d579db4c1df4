"""出国(境) and the exit documents in the desktop: the 办理 forms (审批同意, 不予批准, 行前保密提醒
谈话, 回国报告, 撤销申请; 领取, 交回, 注销), one dialog built from the action's declaration
(ledgers/trips.py, ledgers/exit_documents.py) in the pattern of the carrier copies' forms
(ui/carrier_dialogs.py): the rule it follows said above the fields, required ones marked *, a
refusal shown in the dialog with its rule, nothing typed lost. And the watch list of documents
overdue, expiring and 涉密人员 with no document on file, read off the UI thread.

Everything is checked and stored by services/travel.py."""

from __future__ import annotations

import datetime as dt
from typing import Callable

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QTabWidget, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from mibao_desktop.errors import ServiceError
from mibao_desktop.ledgers import exit_documents as X
from mibao_desktop.ledgers import trips as T
from mibao_desktop.ledgers.declaration import Action, Ledger
from mibao_desktop.services.views import RecordView
from mibao_desktop.ui import messages
from mibao_desktop.ui.carrier_dialogs import RULE_STYLE
from mibao_desktop.ui.editors import FieldEditor, editor_for
from mibao_desktop.ui.lifecycle_dialogs import _ask_before_discarding, _buttons
from mibao_desktop.ui.messages import ERROR_STYLE
from mibao_desktop.ui.tasks import run_in_background
from mibao_desktop.ui.widgets import DateEdit

WATCH_TITLE = "证件逾期、到期与未登记…"


def is_travel(ledger: Ledger) -> bool:
    """A ledger of its own whose records change by recorded actions (出国(境), 出入境证件), read
    from the declaration; a carrier's copies have theirs under the carrier (detail pane)."""
    return bool(ledger.lifecycle.actions) and ledger.parent is None


def creator(ledger: Ledger, services) -> Callable | None:
    """How the 新增 form stores a record of this ledger when it is not a plain 登记, as its
    lifecycle declares (``Lifecycle.registered_by``: a trip's 申请, which marks it 限制情形),
    through the travel service, which carries the actions of such ledgers (``is_travel``)."""
    key = ledger.lifecycle.registered_by
    return getattr(services.travel, key) if key and is_travel(ledger) else None


class TravelActionDialog(QDialog):
    """One action on one trip or one exit document."""

    def __init__(self, services, action: Action, record: RecordView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.action, self.record = services, action, record
        self.travel = services.travel
        self.saved: RecordView | None = None
        self.editors: dict[str, FieldEditor] = {}
        self.trip_choice: QComboBox | None = None
        self.trips: list[RecordView] = []
        ledger = record.ledger
        self.setWindowTitle(f"{action.label} · {record.number}")
        head = QLabel(self._head())
        head.setWordWrap(True)
        head.setStyleSheet("font-weight: bold;")
        rule = T.rule_of(record.values.get(T.RESTRICTION)) if action.key == "approve" else action.rule
        self.rule = QLabel(f"依据:{rule}")
        self.rule.setWordWrap(True)
        self.rule.setStyleSheet(RULE_STYLE)
        self.date = DateEdit(QDate.currentDate())
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setMaximumDate(QDate.currentDate())
        self.form = QFormLayout()
        self.form.addRow("日期", self.date)
        if action.key == "collect":
            self.trip_choice = QComboBox()
            self.trips = self.travel.trips_for(record.id)
            for trip in self.trips:
                self.trip_choice.addItem(f"{trip.number} {trip.display(T.KIND)} {trip.display('destinations')} "
                                         f"{trip.display(T.LEAVE_ON)} 至 {trip.display(T.RETURN_ON)}"
                                         + ("" if trip.values.get(T.BRIEFED_ON) else "(未进行行前谈话)"))
            if not self.trips:
                self.trip_choice.addItem("(持证人没有已批准的出国(境))")
            self.form.addRow("出国(境) *", self.trip_choice)
        asked = [ledger.field(n) for n in T.ACTION_FIELDS.get(action.key, (None, ()))[1]] if ledger is T.TRIPS else []
        required = {T.APPROVER, T.BRIEFED_BY, T.REPORT}
        mark = record.values.get(T.RESTRICTION) if ledger is T.TRIPS else None
        for f in [*asked, *action.facts]:
            suggest = (lambda text, name=f.name: self.services.ledgers.suggestions(ledger, name, text)) \
                if f.is_person else None
            editor = editor_for(f, suggest=suggest)
            if f.help:
                editor.focus_widget().setToolTip(f.help)
            self.editors[f.name] = editor
            needed = f.required or f.name in required or (f.name == T.EXCEPTION and bool(mark))
            self.form.addRow(f"{f.label} *" if needed else f.label, editor)
        for name in ("collector", "returner"):  # the holder, by default: it is theirs
            if name in self.editors and record.values.get(X.HOLDER) is not None:
                self.editors[name].set_text(record.display(X.HOLDER))
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = _buttons(self, action.label)
        self.buttons.accepted.connect(self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(self.rule)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)
        self._initial = self._typed()

    def _head(self) -> str:
        r = self.record
        if r.ledger is T.TRIPS:
            text = (f"{r.number} {r.display(T.TRAVELLER)} {r.display(T.KIND)}出国(境) {r.display('destinations')}\n"
                    f"{r.display(T.LEAVE_ON)} 至 {r.display(T.RETURN_ON)}  当前:{r.status}")
            mark = r.values.get(T.RESTRICTION)
            return text + (f"\n限制情形:{mark}" if mark else "")
        return (f"{r.display(X.KIND)} {r.number}  持证人 {r.display(X.HOLDER)}  有效期至 {r.display(X.EXPIRES_ON)}\n"
                f"当前:{r.status}" + (f",应交回 {r.display(X.DUE_ON)}" if r.values.get(X.DUE_ON) else ""))

    def _typed(self) -> tuple:
        return (self.date.date(), tuple((n, e.text()) for n, e in self.editors.items()),
                self.trip_choice.currentIndex() if self.trip_choice is not None else None)

    def reject(self) -> None:
        if self.saved is None and self._typed() != self._initial and not _ask_before_discarding(self):
            return
        super().reject()

    def save(self) -> None:
        qdate = self.date.date()
        day = dt.date(qdate.year(), qdate.month(), qdate.day())
        values = {name: editor.value() for name, editor in self.editors.items()}
        key, travel = self.action.key, self.travel
        try:
            if self.record.ledger is T.TRIPS:
                self.saved = travel.act_on_trip(key, self.record.id, values, effective_date=day)
            elif key == "collect":
                if not self.trips:
                    raise ServiceError(f"{self.record.display(X.HOLDER)} 没有已批准的出国(境),证件只为已批准的出国(境)领取。")
                trip = self.trips[self.trip_choice.currentIndex()]
                self.saved = travel.collect(self.record.id, trip.id, values, effective_date=day)
            elif key == "hand_back":
                self.saved = travel.hand_back(self.record.id, values, effective_date=day)
            else:
                self.saved = travel.cancel(self.record.id, values.get("reason") or "", effective_date=day)
        except ServiceError as exc:  # a refusal, named with its rule: shown here, what was typed kept
            messages.inline(self.error, exc)
            return
        self.accept()


class DocumentWatchDialog(QDialog):
    """逾期未交回, 即将到期 and 未登记证件的涉密人员, read in one snapshot off the UI thread."""

    def __init__(self, services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.watch = None
        self.setWindowTitle("出入境证件:逾期、到期与未登记")
        self.summary = QLabel("正在读取……")
        self.summary.setWordWrap(True)
        self.tabs = QTabWidget()
        self.overdue = self._list(["证件号码", "证件类别", "持证人", "部门", "出国(境)", "应交回日期", "情况"])
        self.expiring = self._list(["证件号码", "证件类别", "持证人", "部门", "有效期至", "情况"])
        self.without = self._list(["人员编号", "姓名", "部门", "涉密等级", "状态", "情况"])
        self.tabs.addTab(self.overdue, "逾期未交回")
        self.tabs.addTab(self.expiring, "即将到期")
        self.tabs.addTab(self.without, "未登记证件")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        self.resize(900, 520)
        travel = services.travel
        self.task = run_in_background(self, "正在读取出入境证件……", lambda progress, cancelled: travel.watch(),
                                      on_done=self._show, on_error=lambda exc: messages.show_error(self, "无法读取", exc))

    @staticmethod
    def _list(headers: list[str]) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setHeaderLabels(headers)
        tree.setRootIsDecorated(False)
        tree.setAlternatingRowColors(True)
        return tree

    def _show(self, watch) -> None:
        self.watch = watch
        for line in watch.overdue:
            self.overdue.addTopLevelItem(QTreeWidgetItem([line.number, line.kind, line.holder, line.department,
                                                          line.trip, line.due_on.isoformat(), line.note]))
        for line in watch.expiring:
            self.expiring.addTopLevelItem(QTreeWidgetItem([line.number, line.kind, line.holder, line.department,
                                                           line.expires_on.isoformat(), line.note]))
        for p in watch.without_document:
            self.without.addTopLevelItem(QTreeWidgetItem([p.number, p.name, p.department, p.grade, p.status,
                                                          "未登记出入境证件"]))
        for tree in (self.overdue, self.expiring, self.without):
            for i in range(tree.columnCount()):
                tree.resizeColumnToContents(i)
        self.tabs.setTabText(0, f"逾期未交回({len(watch.overdue)})")
        self.tabs.setTabText(1, f"即将到期({len(watch.expiring)})")
        self.tabs.setTabText(2, f"未登记证件({len(watch.without_document)})")
        self.summary.setText(f"截至 {watch.today.isoformat()}:回国(境)后 {watch.return_days} 天内交回,"
                             f"{watch.expiry_days} 天内到期的列出;未登记证件的涉密人员单列,不视为合规。")
