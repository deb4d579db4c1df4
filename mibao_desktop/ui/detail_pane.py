"""The selected record: every field, and its change history with undo of an edit."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mibao_desktop.services.ledger_service import HistoryEntry, LedgerService, RecordView


def describe(entry: HistoryEntry) -> str:
    """One line of what an event did: 部门:保密办 → 科研一处;…"""
    parts = []
    if entry.action == "status" and entry.changes:
        c = entry.changes[0]
        parts.append(f"{c.old} → {c.new}")
    else:
        parts.extend(f"{c.label}:{c.old or '(空)'} → {c.new or '(空)'}" for c in entry.changes)
    if entry.effective_date:
        parts.append(f"日期 {entry.effective_date.isoformat()}")
    if entry.reason:
        parts.append(f"原因:{entry.reason}")
    return ";".join(parts)


class DetailPane(QWidget):
    revert_requested = Signal(int, int)  # record id, event id

    def __init__(self, service: LedgerService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.record: RecordView | None = None
        self.entries: list[HistoryEntry] = []
        self.title = QLabel("未选择记录")
        self.title.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.title.setWordWrap(True)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setVerticalSpacing(3)
        self.history = QTreeWidget()
        self.history.setHeaderHidden(True)
        self.history.setColumnCount(1)
        self.history.setRootIsDecorated(False)
        self.history.setWordWrap(True)
        self.history.setAlternatingRowColors(True)
        self.history.itemSelectionChanged.connect(self._update_buttons)
        self.undo = QPushButton("撤销所选修改")
        self.undo.setToolTip("把所选“修改”改动过的字段恢复为修改前的值(作为一次新的修改记入历史)")
        self.undo.setEnabled(False)
        self.undo.clicked.connect(self._request_revert)
        history_bar = QHBoxLayout()
        history_title = QLabel("变更记录")
        history_title.setStyleSheet("font-weight: bold;")
        history_bar.addWidget(history_title)
        history_bar.addStretch(1)
        history_bar.addWidget(self.undo)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.form_host)
        layout.addLayout(history_bar)
        layout.addWidget(self.history, 1)

    def show_record(self, record: RecordView | None) -> None:
        self.record = record
        while self.form.rowCount():
            self.form.removeRow(0)
        self.history.clear()
        self.entries = []
        if record is None:
            self.title.setText("未选择记录")
            self._update_buttons()
            return
        state = f"已作废({record.void_reason})" if record.voided else record.status
        self.title.setText(f"{record.asset_number} · {record.ledger.noun} · {state}")
        for f in record.ledger.fields:
            value = QLabel(record.display(f.name) or "—")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.form.addRow(f"{f.label}:", value)
        self.entries = self.service.history(record.id)
        for entry in self.entries:
            what = describe(entry)
            head = f"{entry.at.strftime('%Y-%m-%d %H:%M')}  {entry.action_label}  {entry.actor}"
            item = QTreeWidgetItem([head + ("\n" + what.replace(";", "\n") if what else "")])
            item.setToolTip(0, what or head)
            self.history.addTopLevelItem(item)
        self._update_buttons()

    def selected_entry(self) -> HistoryEntry | None:
        row = self.history.indexOfTopLevelItem(self.history.currentItem()) if self.history.currentItem() else -1
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def _update_buttons(self) -> None:
        entry = self.selected_entry()
        editable = (self.record is not None and not self.record.voided
                    and self.record.status not in self.record.ledger.lifecycle.terminal)
        self.undo.setEnabled(bool(entry and entry.revertible and editable))

    def _request_revert(self) -> None:
        entry = self.selected_entry()
        if self.record is not None and entry is not None and entry.revertible:
            self.revert_requested.emit(self.record.id, entry.id)
