"""批量修改 (one field set on the selected records) and 查找替换 (a value replaced wherever a
field holds it): choose, 预览, read what will change, 确定修改. Both run off the UI thread with
progress and 取消; the work and every check are in ``services/bulk_edit.py``."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mibao_desktop.errors import Cancelled
from mibao_desktop.ledgers import Ledger
from mibao_desktop.services.bulk_edit import BulkEdit, BulkEditService, bulk_fields, part_replaceable, replace_fields
from mibao_desktop.services.repository import LedgerQuery
from mibao_desktop.ui import messages
from mibao_desktop.ui.editors import FieldEditor, editor_for
from mibao_desktop.ui.tasks import BackgroundTask

SHOWN_ROWS = 2000  # the preview lists this many changes; the count says the rest


class BulkEditDialog(QDialog):
    """``record_ids`` given: 批量修改 of those records. None: 查找替换 in the ledger (within
    ``query``, what the table shows). ``suggest(field)`` gives a person field its completion."""

    def __init__(self, bulk: BulkEditService, ledger: Ledger, record_ids: Sequence[int] | None = None, *,
                 query: LedgerQuery | None = None, suggest=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bulk = bulk
        self.ledger = ledger
        self.record_ids = list(record_ids) if record_ids is not None else None
        self.query = query
        self.suggest = suggest
        self.task: BackgroundTask | None = None
        self.previewed: BulkEdit | None = None
        self.result: BulkEdit | None = None
        self.saved = None  # (the ledger page selects a dialog's saved record: many here, none selected)
        self.people_added: list[str] = []
        replacing = self.record_ids is None
        self.setWindowTitle(f"查找替换 · {ledger.title}" if replacing else
                            f"批量修改 · 所选 {len(self.record_ids)} 条{ledger.noun}")
        self.resize(760, 560)

        self.fields = replace_fields(ledger) if replacing else bulk_fields(ledger)
        self.field = QComboBox()
        for f in self.fields:
            self.field.addItem(f.label, f.name)
        self.field.currentIndexChanged.connect(self._field_changed)
        form = QFormLayout()
        form.addRow("字段", self.field)
        self.editors: dict[str, FieldEditor] = {}
        self.value_stack = QStackedWidget()
        self.find = QLineEdit()
        self.replacement = QLineEdit()
        self.part = QCheckBox("只替换文字中的这一部分(如把“科研楼”换成“科技楼”)")
        if replacing:
            form.addRow("查找", self.find)
            form.addRow("替换为", self.replacement)
            form.addRow("", self.part)
            for w in (self.find, self.replacement):
                w.textChanged.connect(self._inputs_changed)
            self.part.toggled.connect(self._inputs_changed)
        else:
            for f in self.fields:
                editor = editor_for(f, self, suggest=suggest(f) if suggest is not None and f.is_reference else None)
                self.editors[f.name] = editor
                self.value_stack.addWidget(editor)
                for child in editor.findChildren(QLineEdit) + editor.findChildren(QComboBox):
                    signal = getattr(child, "textChanged", None) or getattr(child, "currentTextChanged")
                    signal.connect(self._inputs_changed)
            form.addRow("改为", self.value_stack)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("记入每条记录的变更记录(可不填)")
        form.addRow("原因", self.reason)

        self.preview_button = QPushButton("预览(&P)")
        self.preview_button.clicked.connect(self.run_preview)
        self.summary = QLabel("选好字段和新值后,先点“预览”查看将修改哪些记录。")
        self.summary.setWordWrap(True)
        self.changes = _table(["编号", "原值", "新值"])
        self.refused = _table(["编号", "不能修改的原因"])
        self.tabs = QTabWidget()
        self.tabs.addTab(self.changes, "将修改")
        self.tabs.addTab(self.refused, "不能修改")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("确定修改")
        self.ok.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("关闭")
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.buttons)
        self._field_changed()

    # -- input ------------------------------------------------------------------------------

    @property
    def field_name(self) -> str:
        return self.field.currentData()

    def _field_changed(self) -> None:
        plain = part_replaceable(self.ledger.field(self.field_name))
        self.part.setEnabled(plain)  # a date or a choice is replaced whole
        if not plain:
            self.part.setChecked(False)
        if self.editors:
            editor = self.editors[self.field_name]
            self.value_stack.setCurrentWidget(editor)
            # as tall as the editor shown (a stack is as tall as its tallest, the 备注 box)
            self.value_stack.setFixedHeight(editor.sizeHint().height())
        self._inputs_changed()

    def _inputs_changed(self, *_args) -> None:
        """A preview is of what was chosen then: anything changed asks for a new one."""
        if self.previewed is not None:
            self.previewed = None
            self.summary.setText("内容已改动,请重新预览。")
        self.ok.setEnabled(False)

    def _work(self, preview: bool):
        """The preview, or the apply of exactly the changes it listed (a record changed since
        by another workstation is refused, not overwritten)."""
        name, reason = self.field_name, self.reason.text().strip() or None
        previewed = None if preview else self.previewed
        if self.record_ids is not None:
            value = self.editors[name].value()
            return lambda progress, cancelled: self.bulk.set_field(
                self.ledger, self.record_ids, name, value, reason=reason, preview=preview, previewed=previewed,
                progress=progress, cancelled=cancelled)
        find, replacement, whole = self.find.text(), self.replacement.text(), not self.part.isChecked()
        return lambda progress, cancelled: self.bulk.replace_value(
            self.ledger, name, find, replacement, whole=whole, query=self.query, reason=reason, preview=preview,
            previewed=previewed, progress=progress, cancelled=cancelled)

    # -- preview and apply ------------------------------------------------------------------

    def run_preview(self) -> None:
        self._start("正在预览……", self._work(True), self._previewed)

    def _previewed(self, result: BulkEdit) -> None:
        self.previewed = result
        self._show(result)
        self.ok.setEnabled(bool(result.changes))

    def apply(self) -> None:
        if self.previewed is None or not self.previewed.changes:
            return
        n = len(self.previewed.changes)
        if not messages.confirm(self, "批量修改", f"确定把 {n} 条{self.ledger.noun}的“{self.previewed.field.label}”"
                                f"改为预览中的新值吗?\n每条记录的变更记录都会记下这次修改,之后可逐条撤销。",
                                action="确定修改"):
            return
        self._start("正在修改……", self._work(False), self._applied)

    def _applied(self, result: BulkEdit) -> None:
        self.result = result
        self.people_added = result.people_added
        lines = [f"已修改 {len(result.changes)} 条{self.ledger.noun}。"]
        if result.refused:
            lines.append(f"{len(result.refused)} 条未修改(原因见“不能修改”)。")
        self._show(result)
        messages.inform(self, "批量修改", "\n".join(lines))
        self.accept()

    def _start(self, label: str, work, on_done) -> None:
        self.task = BackgroundTask(self, label, work)
        self.task.done.connect(on_done)
        self.task.failed.connect(self._failed)
        self.task.start()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.summary.setText("已取消,没有记录被修改。")
            return
        messages.show_error(self, "批量修改", exc)

    def _show(self, result: BulkEdit) -> None:
        parts = [f"将修改 {len(result.changes)} 条" if not result.applied else f"已修改 {len(result.changes)} 条"]
        if result.unchanged:
            parts.append(f"{len(result.unchanged)} 条已是这个值")
        if result.refused:
            parts.append(f"{len(result.refused)} 条不能修改")
        text = ",".join(parts) + "。"
        if result.people_added:
            text += f"人员名册中将新增:{'、'.join(result.people_added)}。"
        if len(result.changes) > SHOWN_ROWS:
            text += f"(下表列出前 {SHOWN_ROWS} 条)"
        self.summary.setText(text)
        _fill(self.changes, [(c.number, c.old, c.new) for c in result.changes[:SHOWN_ROWS]])
        _fill(self.refused, [(r.number, r.reason) for r in result.refused[:SHOWN_ROWS]])
        self.tabs.setTabText(0, f"将修改({len(result.changes)})")
        self.tabs.setTabText(1, f"不能修改({len(result.refused)})")
        if result.refused and not result.changes:
            self.tabs.setCurrentIndex(1)


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)  # Tab goes on to the buttons, not round the cells
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeColumnsToContents()
