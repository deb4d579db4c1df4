"""One ledger's page: search, filters, the table, the detail pane and the record actions.

Everything it shows comes from the ledger's declaration; every change goes through the
ledger service, which validates, stores in one transaction and writes the history.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mibao_desktop.ledgers import LEDGERS, PEOPLE, Ledger, children_of
from mibao_desktop.printing.templates import forms_of
from mibao_desktop.errors import ServiceError
from mibao_desktop.services.context import Services
from mibao_desktop.services.ledger_service import RecordView, StillReferenced
from mibao_desktop.services.repository import LedgerQuery
from mibao_desktop.ui import messages
from mibao_desktop.ui.detail_pane import DetailPane
from mibao_desktop.ui.ledger_table import LedgerTableView
from mibao_desktop.ui.lifecycle_dialogs import StatusDialog, VoidDialog
from mibao_desktop.ui.record_dialog import RecordDialog
from mibao_desktop.ui.table_model import PAGE_SIZE, LedgerTableModel, read_rows
from mibao_desktop.ui.tasks import BackgroundTask, LatestRead, run_in_background
from mibao_desktop.ui.travel_dialogs import WATCH_TITLE, DocumentWatchDialog, TravelActionDialog, is_travel
from mibao_desktop.ui.travel_dialogs import creator as travel_creator
from mibao_desktop.ui.widgets import FittingLineEdit, key_on

SEARCH_DELAY_MS = 150  # wait for a pause in typing, so a fast typist is not slowed by each key
ALL = "全部"
VOID_TIP = "Del:作废登记错误的记录(可恢复);可多选"
MAX_VOIDED_AT_ONCE = 200  # a larger selection is more likely a slip of Shift than a batch to void


def _button(text: str, tip: str, slot) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.clicked.connect(lambda _checked=False: slot())
    return button


class LedgerPage(QWidget):
    changed = Signal(object)  # the keys of the ledgers a save changed (their navigation counts follow)
    open_record = Signal(str, int)  # go to a record of any ledger (one that refers to the selected one)
    told = Signal(str)  # a note for the status bar (a person added to the 人员名册 on the way)

    def __init__(self, services: Services, ledger: Ledger, settings: QSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.service = services.ledgers
        service = self.service
        self.ledger = ledger
        self.settings = settings
        self.dialog = None  # the open record/status/void dialog (tests reach it here)
        self.task: BackgroundTask | None = None
        self.model = LedgerTableModel(service, ledger, self)

        words = [f.label for f in ledger.searchable_fields if f.type.editor != "choice"][:6]
        # the box is narrow at 1366×768 beside many filter lists: the longest hint that fits is
        # shown (the pinyin hint is also the tooltip's)
        self.search = FittingLineEdit([f"输入即查找:{'、'.join(words[:2])}……或拼音首字母(Ctrl+F)",
                                       f"输入即查找:{'、'.join(words[:2])}……(Ctrl+F)",
                                       f"查找{'、'.join(words[:2])}……(Ctrl+F)",
                                       f"查找{words[0]}……(Ctrl+F)" if words else "查找(Ctrl+F)",
                                       "查找(Ctrl+F)"])
        self.search.setToolTip("按空格分隔多个词;姓名、部门等可输拼音首字母,如 zw 找张伟、kyyc 找科研一处;"
                               "按 Enter 到表中第一行")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(190)  # the widest page (computers, five lists) fits 1366 px
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.searches = LatestRead(self)
        self.counting = LatestRead(self)  # the count of a broad search, after its first page
        self._ledger_total: dict[bool, int] = {}
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._search_to_table)

        self.filters: dict[str, QComboBox] = {}
        filter_bar = QHBoxLayout()
        filter_bar.addWidget(self.search, 1)
        for f in ledger.facet_fields:  # the declaration says which fields are worth a list
            combo = QComboBox()
            combo.setMinimumWidth(80)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setToolTip(f"按{f.label}筛选")
            combo.currentIndexChanged.connect(lambda _i, n=f.name: self._filter_changed(n))
            self.filters[f.name] = combo
            label = QLabel(f.label)
            label.setBuddy(combo)
            filter_bar.addWidget(label)
            filter_bar.addWidget(combo)
        self.show_voided = QCheckBox("显示已作废")
        self.show_voided.toggled.connect(self._voided_toggled)
        filter_bar.addWidget(self.show_voided)
        self.only_pending = QCheckBox("只看待补充")
        self.only_pending.setToolTip("导入的表格中没有某个必填列(如定密时间)时,记录照样导入并标为“待补充”;"
                                     "勾选后只列出这些记录,逐条补全")
        self.only_pending.toggled.connect(self._pending_toggled)
        filter_bar.addWidget(self.only_pending)
        self.count_label = QLabel()
        self.count_label.setMinimumWidth(110)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        filter_bar.addWidget(self.count_label)

        self.add_button = _button(f"新增{ledger.noun}", "Ctrl+N", self.add_record)
        self.edit_button = _button("修改", "Enter 或双击", self.edit_selected)
        self.status_button = _button("变更状态", "停用、维修、外出、报废、销毁……", self.change_status_selected)
        self.void_button = _button("作废", VOID_TIP, self.void_selected)
        self.restore_button = _button("恢复", "恢复已作废的记录", self.restore_selected)
        self.bulk_button = _button("批量修改…", "为所选的多条记录同时改一个字段(部门更名、一批设备换人……)",
                                   self.bulk_edit_selected)
        self.replace_button = _button("查找替换…", "Ctrl+H:把一个字段中的某个值全部替换,先预览", self.find_replace)
        self.columns_button = QToolButton()
        self.columns_button.setText("显示列")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_button.setMenu(QMenu(self.columns_button))
        self.columns_button.menu().aboutToShow.connect(lambda: self._fill_column_menu(self.columns_button.menu()))
        self.import_button = _button("从Excel导入…", "Ctrl+I:按列名导入手工台账", lambda: self.import_file())
        self.export_button = _button("导出Excel…", "Ctrl+E:按当前筛选和显示列导出", lambda: self.export_file())
        self.labels_button = _button("打印标识…", "Ctrl+P:为所选记录打印密级标识或保密提醒标识", self.print_labels)
        self.forms_button = _button("打印审批表…", "、".join(t.title for t in forms_of(ledger)), self.print_forms)
        self.labels_button.setVisible(ledger.label is not None)
        self.forms_button.setVisible(bool(ledger.forms))
        # the carriers' registers by period (收文、发文、借阅、复制登记簿, 销毁清单): printed or exported
        self.registers_button = _button("登记簿…", "收文、发文、借阅、复制登记簿和销毁清单:按期间打印或导出",
                                        self.carrier_registers)
        self.registers_button.setVisible(ledger.registers)
        # a ledger whose records change by recorded actions (出国(境): 审批, 行前谈话, 回国报告; 出入境证件:
        # 领取, 交回) offers them under 办理 ▸ instead of a bare 变更状态, which the service refuses
        self.act_button = QToolButton()
        self.act_button.setText("办理")
        self.act_button.setToolTip("为所选记录办理:" + "、".join(a.label for a in ledger.lifecycle.actions))
        self.act_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.act_button.setMenu(QMenu(self.act_button))
        self.act_button.menu().aboutToShow.connect(self._fill_record_actions)
        self.act_button.setVisible(is_travel(ledger))
        # a lifecycle of one status (a training held, a file kept) has nowhere to go
        self.status_button.setVisible(not ledger.lifecycle.actions and len(ledger.lifecycle.statuses) > 1)
        action_bar = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.status_button, self.act_button, self.void_button,
                       self.restore_button, self.bulk_button, self.replace_button):
            action_bar.addWidget(button)
        action_bar.addStretch(1)
        for button in (self.labels_button, self.forms_button, self.registers_button, self.columns_button,
                       self.import_button,
                       self.export_button):
            action_bar.addWidget(button)

        self.table = LedgerTableView()
        self.table.setModel(self.model)
        self.table.freeze(self.model.column_of(ledger.key_field))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(True)  # the 序号 (row numbers), as in the paper ledger
        self.table.verticalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        self.table.verticalHeader().setSectionsClickable(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        header.setSortIndicator(self.model.column_of(ledger.default_sort), Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)  # the model sorts in the database
        header.sortIndicatorChanged.connect(lambda _c, _o: self._read_now(lambda: None))  # drop a search in flight
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.selectionModel().selectionChanged.connect(lambda _s, _d: self._update_actions())
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._row_menu)
        self.table.frozen.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.frozen.customContextMenuRequested.connect(self._row_menu)
        # A key held down repeats: the repeats must not open a form (typing would then go into
        # it) or a second void; each action needs a press of its own.
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            key_on(self.table, key, self.edit_selected).setAutoRepeat(False)
        key_on(self.table, QKeySequence.StandardKey.Delete, self.void_selected).setAutoRepeat(False)
        key_on(self.table, QKeySequence.StandardKey.Copy, self.copy_selected)
        self._first_row_wanted = False  # Enter in the search box: select the first row found

        self.detail = DetailPane(service, ledger)
        self.detail.revert_requested.connect(self.revert)
        self.detail.reverse_status_requested.connect(self.reverse_status)
        self.detail.open_requested.connect(self.open_record)
        self.detail.child_add_requested.connect(self.add_child)
        self.detail.child_edit_requested.connect(self.edit_child)
        self.detail.child_action_requested.connect(self.act_on_copies)
        self.detail.child_print_requested.connect(self.print_copies)
        self.detail.child_history_requested.connect(self.copy_history)
        self.detail.print_holdings_requested.connect(self.print_holdings)
        self.detail.export_holdings_requested.connect(self.export_holdings)
        self.detail.departure_requested.connect(self.leave_post)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        # A person's page is read in its detail (what they hold); a device's in its table.
        splitter.setSizes([560, 700] if ledger.key == PEOPLE.key else [900, 360])
        self.splitter = splitter

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(filter_bar)
        layout.addLayout(action_bar)
        layout.addWidget(splitter, 1)

        self._fill_filters()
        self._apply_column_settings()
        # 状态 right after the number: what a record is (在用, 维修, 已销毁) is read with its number.
        header.moveSection(header.visualIndex(self.model.column_of(ledger.status_field.name)), 1)
        self.model.refresh()
        self._fit_columns()
        self._after_refresh(None)

    # -- what the table shows ---------------------------------------------------------------

    def _fill_filters(self) -> None:
        for name, combo in self.filters.items():
            current = combo.currentText()
            f = self.ledger.field(name)
            # A fixed list shows every choice; an open one (部门) the values in use, from the
            # facet counts the service keeps (no scan of the ledger).
            values = list(f.choices) if f.choices else sorted(self.service.facet_counts(self.ledger, name))
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(ALL)
            combo.addItems(values)
            combo.setCurrentText(current if current in values else ALL)
            combo.blockSignals(False)

    def apply_search(self) -> None:
        """Look for what the search box says, off the UI thread: typing never waits on the
        database. A newer keystroke supersedes the search in flight; the first page shows
        as soon as it comes."""
        self._search_timer.stop()
        text = self.search.text()
        if text == self.model.query.text:
            self.searches.cancel()  # typed back to what is shown: nothing to wait for
            return
        query = self.model.current_query(limit=PAGE_SIZE)
        query.text = text
        selected = self.selected_record()
        keep = selected.id if selected else None
        read = self.model.read
        self.counting.cancel()
        self.searches.submit(lambda: read(query, count=False), lambda page: self._searched(query, page, keep),
                             self._search_failed)

    def _searched(self, query: LedgerQuery, page, select_id: int | None) -> None:
        self.model.show(query, page)
        if self._first_row_wanted:  # Enter was pressed in the search box: the first row found
            self._first_row_wanted = False
            select_id = None
        self._after_refresh(select_id)
        if not self.model.counted:  # a broad search: its page is shown, its count follows
            service, ledger = self.service, self.ledger
            self.counting.submit(lambda: service.count(ledger, query), self._counted, self._search_failed)

    def _counted(self, total: int) -> None:
        self.model.set_total(total)
        self._show_count()

    def _search_failed(self, exc: BaseException) -> None:
        self._first_row_wanted = False
        messages.show_error(self, "查找失败", exc)

    def _read_now(self, change) -> None:
        """A change of filter, sort or 显示已作废: read at once, dropping a search in flight
        (it read with the old filter); text typed since is searched again."""
        self.searches.cancel()
        self.counting.cancel()
        change()
        if self.search.text() != self.model.query.text:
            self._search_timer.start()

    def _filter_changed(self, name: str) -> None:
        value = self.filters[name].currentText()
        self._read_now(lambda: self.model.set_filter(name, None if value == ALL else value))
        self._after_refresh(None)

    def _pending_toggled(self, checked: bool) -> None:
        self._read_now(lambda: self.model.set_pending(checked))
        self._after_refresh(None)

    def _voided_toggled(self, checked: bool) -> None:
        self._read_now(lambda: self.model.set_include_voided(checked))
        self._after_refresh(None)

    def refresh(self, select_id: int | None = None) -> None:
        """Read the page again (F5, or after a change): its filter lists, its rows and its
        counts, nothing of other ledgers. The selected record stays selected and the table
        where it was scrolled to, so that a refresh never loses one's place in a long ledger."""
        selected = self.selected_record()
        if select_id is None and selected is not None:
            select_id = selected.id
        was_at = self.table.currentIndex().row() if selected is not None else -1
        vertical, horizontal = self.table.verticalScrollBar(), self.table.horizontalScrollBar()
        scrolled = (vertical.value(), horizontal.value())
        self._fill_filters()
        self._ledger_total.clear()
        self._read_now(self.model.refresh)
        if self.model.total:
            # The page the record was on, read again as scrolling there reads it: an edited
            # record is found where it was (its row, or near it), not only on the first page.
            self.model.record_at(min(max(was_at, 0), self.model.total - 1))
        self.table.updateGeometries()  # the scroll bars' ranges for the rows read, before placing them
        vertical.setValue(scrolled[0])
        horizontal.setValue(scrolled[1])
        self._after_refresh(select_id, keep_place=True)

    def ledger_total(self) -> int:
        """Every record of the ledger (with the voided ones when shown): the “共 N 条” of a
        search. Kept until the ledger changes, so that a keystroke costs no count of its own."""
        voided = self.model.query.include_voided
        if voided not in self._ledger_total:
            self._ledger_total[voided] = self.service.count(self.ledger, LedgerQuery(include_voided=voided))
        return self._ledger_total[voided]

    def _show_count(self) -> None:
        total = self.model.total
        found = f"{total} 条" if self.model.counted else f"{total} 多条,正在计数……"
        if self.model.query.text.strip() or self.model.query.filters or self.model.query.pending:
            self.count_label.setText(f"找到 {found}(共 {self.ledger_total()} 条)")
        else:
            self.count_label.setText(f"共 {found}")

    def _after_refresh(self, select_id: int | None, *, keep_place: bool = False) -> None:
        total = self.model.total
        filtered = bool(self.model.query.text.strip() or self.model.query.filters or self.model.query.pending)
        self._show_count()
        row = self.model.row_of(select_id) if select_id is not None else None
        if row is None and total:
            row = 0 if select_id is None or (filtered and not keep_place) else None
        if row is not None:
            sideways = self.table.horizontalScrollBar().value()
            self._select_row(row)
            self.table.scrollTo(self.model.index(row, self.table.frozen_column))
            self.table.horizontalScrollBar().setValue(sideways)  # the columns scrolled to stay in view
        else:
            self.table.clearSelection()
            self.detail.show_record(None)
        self.table.set_empty_text("" if total else self._empty_text(filtered))
        self._update_actions()

    def _empty_text(self, filtered: bool) -> str:
        """What an empty table means: nothing found (what to change), or no record yet (how to
        enter the first). It was a blank table."""
        if filtered:
            return "没有找到符合条件的记录。请换个词查找,或把筛选改回“全部”。"
        return (f"台账中还没有{self.ledger.noun}。点“{self.add_button.text()}”(Ctrl+N)逐条登记,"
                f"或点“从Excel导入…”(Ctrl+I)导入原有的台账。")

    def _search_to_table(self) -> None:
        """Enter in the search box: to the first row of what was searched for. Until that
        answer comes nothing is selected, so that a second Enter (修改) or Del (作废) cannot
        act on a row of the list shown before."""
        self._first_row_wanted = True
        self.table.clearSelection()
        self.table.setCurrentIndex(QModelIndex())
        self._update_actions()
        self.table.setFocus()
        self.apply_search()
        if not self.searches.pending:  # already showing what the box says: its first row now
            self._first_row_wanted = False
            self._after_refresh(None)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # -- selection --------------------------------------------------------------------------

    def selected_record(self) -> RecordView | None:
        index = self.table.currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row(), QModelIndex()):
            return None
        return self.model.record_at(index.row())

    def select_record(self, record_id: int) -> bool:
        """Select a record in the table (a jump from another page). One not among the rows
        read is looked up by its number, the filters cleared, so that it is always found."""
        row = self.model.row_of(record_id)
        if row is None:
            record = self.service.get(record_id)
            for combo in self.filters.values():
                combo.blockSignals(True)
                combo.setCurrentIndex(0)
                combo.blockSignals(False)
            self.model.query.filters.clear()
            self.show_voided.blockSignals(True)
            self.show_voided.setChecked(self.show_voided.isChecked() or record.voided)
            self.show_voided.blockSignals(False)
            self.model.query.include_voided = self.show_voided.isChecked()
            self.search.blockSignals(True)
            self.search.setText(record.number)
            self.search.blockSignals(False)
            self.model.query.text = record.number
            self.refresh(select_id=record_id)
            row = self.model.row_of(record_id)
        if row is None:
            return False
        self._select_row(row)
        self.table.scrollTo(self.model.index(row, 0))
        self.table.setFocus()
        return True

    def _select_row(self, row: int) -> None:
        """The row made the one current and selected, whatever keys are held: selectRow reads
        the keyboard's modifiers, and with Ctrl down (a shortcut just pressed) it toggled the
        row off, so a jump or a save left nothing selected."""
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().setCurrentIndex(self.model.index(row, 0), flags)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.detail.show_record(self.model.record_at(current.row()) if current.isValid() else None)
        self._update_actions()

    def _open_for_change(self, record: RecordView | None) -> bool:
        """Whether the record may still be edited (the service's rule: not voided, not at the
        end of its life)."""
        return self.service.open_for_change(record)

    def selected_count(self) -> int:
        """How many rows are selected, from the selection's ranges (no row is read)."""
        return sum(r.bottom() - r.top() + 1 for r in self.table.selectionModel().selection())

    def _update_actions(self) -> None:
        record = self.selected_record()
        self.edit_button.setEnabled(self._open_for_change(record))
        self.status_button.setEnabled(self._open_for_change(record))
        # Several rows: the void dialog names those it leaves out; one row: the service says
        # whether it may be voided, and the button tells why not (a destroyed record).
        several = self.selected_count() > 1
        refusal = self.service.void_refusal(record) if record is not None and not several else ""
        self.void_button.setEnabled(record is not None and (several or not refusal))
        self.void_button.setToolTip(refusal if refusal and not record.voided else VOID_TIP)
        self.restore_button.setEnabled(record is not None and record.voided)

    # -- columns ----------------------------------------------------------------------------

    def _settings_key(self) -> str:
        return f"ledgers/{self.ledger.key}/hidden_columns"

    def _always_shown(self) -> set[str]:
        """The number: the column that stays in view, by which every row is known."""
        return {self.ledger.key_field}

    def _apply_column_settings(self) -> None:
        stored = self.settings.value(self._settings_key())
        hidden = set(stored.split(",")) if isinstance(stored, str) else {f.name for f in self.ledger.fields if not f.shown}
        if isinstance(stored, str) and not stored:
            hidden = set()
        if not isinstance(stored, str):
            hidden.discard(self.ledger.status_field.name)  # 状态 is shown unless the user hid it
        hidden -= self._always_shown()
        for i, f in enumerate(self.model.fields):
            self.table.setColumnHidden(i, f.name in hidden)

    def _fit_columns(self) -> None:
        """Size columns to the first page's text, within limits, so more of the record shows."""
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        for i in range(len(self.model.fields)):
            header.resizeSection(i, max(64, min(header.sectionSize(i) + 8, 200)))

    def set_column_visible(self, name: str, visible: bool) -> None:
        if not visible and name in self._always_shown():
            return
        column = self.model.column_of(name)
        if not visible and sum(not self.table.isColumnHidden(i) for i in range(len(self.model.fields))) <= 1:
            return  # keep at least one column
        self.table.setColumnHidden(column, not visible)
        hidden = [f.name for i, f in enumerate(self.model.fields) if self.table.isColumnHidden(i)]
        self.settings.setValue(self._settings_key(), ",".join(hidden))

    def visible_fields(self) -> list[str]:
        """Shown columns in the order the user arranged them (exports follow it)."""
        header = self.table.horizontalHeader()
        columns = sorted((header.visualIndex(i), i) for i in range(len(self.model.fields))
                         if not self.table.isColumnHidden(i))
        return [self.model.fields[i].name for _, i in columns]

    def _fill_column_menu(self, menu: QMenu) -> None:
        menu.clear()
        for i, f in enumerate(self.model.fields):
            action = QAction(f.label, menu)
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(i))
            action.setEnabled(f.name not in self._always_shown())
            action.toggled.connect(lambda on, n=f.name: self.set_column_visible(n, on))
            menu.addAction(action)
        menu.addSeparator()
        reset = menu.addAction("恢复默认列")
        reset.triggered.connect(self._reset_columns)

    def _reset_columns(self) -> None:
        self.settings.remove(self._settings_key())
        self._apply_column_settings()

    def _header_menu(self, pos) -> None:
        menu = QMenu(self)
        self._fill_column_menu(menu)
        menu.exec(self.table.horizontalHeader().mapToGlobal(pos))

    def _row_menu(self, pos) -> None:
        if self.selected_record() is None:
            return
        menu = QMenu(self)
        for button in (self.edit_button, self.status_button, self.void_button, self.restore_button):
            if button.isEnabled():
                menu.addAction(button.text(), button.click)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    # -- record actions -----------------------------------------------------------------------

    def _open(self, dialog) -> None:
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._saved(dialog.saved, getattr(dialog, "people_added", ())))
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        dialog.open()

    def _saved(self, record: RecordView | None, people_added=()) -> None:
        if people_added:
            self.told.emit(f"已将 {'、'.join(people_added)} 新增到人员名册")
        self.changed.emit((self.ledger.key, PEOPLE.key) if people_added else (self.ledger.key,))
        self.refresh(select_id=record.id if record else None)
        if record is None or self.model.row_of(record.id) is not None:
            return
        if record.voided and not self.show_voided.isChecked():
            self.detail.show_record(record)  # voided out of the list: still show what was done
            return
        # Outside the rows read or the filter (a new number sorted far down, another
        # department): looked up by its number, so that it is selected and its actions
        # (修改, 变更状态, 打印标识) act on it, as they would on any record just entered.
        if not self.select_record(record.id):
            self.detail.show_record(record)

    def add_record(self) -> None:
        # a ledger whose children it counts (a carrier's 份数) registers them with it: 接收/制作
        # gives the carrier its copies 1…份数 at once
        if any(child.counted_by for child in children_of(self.ledger)):
            actions = self.services.carrier_actions
            self._open(RecordDialog(self.service, self.ledger, parent=self, create=lambda raw: actions.register(raw),
                                    also_required=actions.REGISTER_REQUIRES))
            return
        self._open(RecordDialog(self.service, self.ledger, parent=self, create=travel_creator(self.ledger, self.services)))

    def _fill_record_actions(self) -> None:
        """办理 ▸ the actions the selected record's status allows (the others shown greyed), and
        for the exit documents the list of those overdue, expiring or never registered."""
        menu = self.act_button.menu()
        menu.clear()
        record = self.selected_record()
        for action in self.ledger.lifecycle.actions:
            entry = menu.addAction(action.label)
            entry.setEnabled(record is not None and not record.voided and record.status in action.from_)
            entry.triggered.connect(lambda _c=False, a=action: self.act_on_record(a))
        if is_travel(self.ledger):
            menu.addSeparator()
            menu.addAction(WATCH_TITLE).triggered.connect(self.show_document_watch)

    def act_on_record(self, action) -> None:
        record = self.selected_record()
        if record is None:
            return
        self._open(TravelActionDialog(self.services, action, self.service.get(record.id), parent=self))

    def show_document_watch(self) -> None:
        self.dialog = DocumentWatchDialog(self.services, parent=self)
        self.dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog.open()

    def act_on_copies(self, key: str, copy_ids: list) -> None:
        """办理 an action (分发, 借阅, 销毁 …) on the copies selected under the carrier shown."""
        from mibao_desktop.services.carrier_actions import ACTIONS
        from mibao_desktop.ui.carrier_dialogs import CarrierActionDialog

        carrier = self.detail.record
        if carrier is None or not copy_ids:
            return
        service = self.service

        def read(progress, cancelled):
            # thousands of copies may be selected (a whole 清退): read off the UI thread
            return service.get(carrier.id), service.get_many(copy_ids)

        def show(read_back) -> None:
            fresh, copies = read_back
            dialog = CarrierActionDialog(self.services.carrier_actions, service, ACTIONS[key], fresh, copies,
                                         parent=self)
            self.dialog = dialog
            dialog.accepted.connect(lambda: self._acted(dialog))
            dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
            dialog.open()

        self.task = run_in_background(self, f"正在读取所选的 {len(copy_ids)} 份……", read, on_done=show,
                                      on_error=lambda exc: messages.show_error(self, "无法办理", exc))

    def _acted(self, dialog) -> None:
        self.changed.emit((self.ledger.key, PEOPLE.key))
        self.refresh(select_id=self.detail.record.id if self.detail.record else None)
        self.detail.reload()
        form = dialog.printed_form
        if form and dialog.action.to is not None:
            self.print_copies([c.id for c in dialog.done_copies], form)

    def copy_history(self, copy_id: int) -> None:
        """变更记录 of one copy of the carrier shown (its own history, not the carrier's)."""
        from mibao_desktop.ui.carrier_dialogs import CopyHistoryDialog

        copy = self.service.get(copy_id)
        self.dialog = CopyHistoryDialog(self.service, copy, self.service.get(copy.parent_id), parent=self)
        self.dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog.open()

    def print_copies(self, copy_ids: list, form: str | None = None) -> None:
        """分发签收单, 销毁审批表(附清单) or 借阅登记簿 for the copies selected (or just handled)."""
        from mibao_desktop.ui.carrier_dialogs import PRINTED_AFTER
        from mibao_desktop.ui.print_dialog import FormPrintDialog

        if not copy_ids:
            return
        copies = self.service.get_many(copy_ids)
        forms = tuple(dict.fromkeys([form] if form else []) | dict.fromkeys(PRINTED_AFTER.values()))
        self.dialog = FormPrintDialog(self.services.printing, copies[0].ledger, copies, self, forms=forms)
        self.dialog.open()

    def edit_selected(self) -> None:
        record = self.selected_record()
        if not self._open_for_change(record):
            return
        self._open(RecordDialog(self.service, self.ledger, self.service.get(record.id), parent=self))

    def add_child(self, ledger_key: str) -> None:
        """新增 a record belonging to the selected one (a child ledger's record)."""
        record = self.selected_record()
        if not self._open_for_change(record):
            return
        self._open_child(RecordDialog(self.service, LEDGERS[ledger_key], parent=self, parent_id=record.id))

    def edit_child(self, record_id: int) -> None:
        child = self.service.get(record_id)
        self._open_child(RecordDialog(self.service, child.ledger, child, parent=self))

    def _open_child(self, dialog) -> None:
        self.dialog = dialog
        dialog.accepted.connect(self.detail.reload)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        dialog.open()

    def change_status_selected(self) -> None:
        record = self.selected_record()
        if not self._open_for_change(record):
            return
        self._open(StatusDialog(self.service, self.service.get(record.id), parent=self))

    def void_selected(self) -> None:
        """作废 every row selected, after one confirmation that lists them (those that may not
        be voided, a destroyed record, are named and left out)."""
        if self.selected_record() is None:
            return
        count = self.selected_count()
        if count > MAX_VOIDED_AT_ONCE:
            messages.inform(self, "作废", f"已选择 {count} 条记录。一次最多作废 {MAX_VOIDED_AT_ONCE} 条,请缩小选择。")
            return
        records = self.selected_records()
        refusals = [why for why in map(self.service.void_refusal, records) if why]
        allowed = [r for r in records if not self.service.void_refusal(r)]
        if not allowed:
            if refusals:
                messages.inform(self, "不能作废", "\n".join(refusals))
            return
        self._open(VoidDialog(self.service, allowed, parent=self, left_out=refusals))

    def copy_selected(self) -> None:
        """Ctrl+C: the selected rows' shown columns, tab-separated as Excel pastes them. Rows
        not read yet (a long Shift selection) are read off the UI thread first."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        if not rows:
            return
        names = self.visible_fields()
        ledger = self.ledger

        def put(records) -> None:
            lines = ["\t".join(r.display(n).replace("\t", " ").replace("\n", " ") for n in names)
                     for r in records if r is not None]
            QGuiApplication.clipboard().setText("\n".join(lines) + "\n")
            self.told.emit(f"已复制 {len(lines)} 行")

        known = [self.model.cached_record(row) for row in rows]
        if all(r is not None for r in known):
            put(known)
            return
        service, query = self.service, self.model.current_query(limit=PAGE_SIZE)
        self.task = run_in_background(
            self, "正在复制……", lambda progress, cancelled: read_rows(service, ledger, query, rows, cancelled),
            on_done=put, on_error=lambda exc: messages.show_error(self, "复制失败", exc))

    def restore_selected(self) -> None:
        record = self.selected_record()
        if record is None or not record.voided:
            return
        if not messages.confirm(self, "恢复记录", f"恢复已作废的 {record.asset_number} 吗?", action="恢复"):
            return
        try:
            restored = self.service.restore(record.id)
        except ServiceError as exc:
            messages.error(self, "无法恢复", exc.message)
            return
        self._saved(restored)

    def bulk_edit_selected(self) -> None:
        """批量修改: one field set on every selected record, after a preview."""
        from mibao_desktop.ui.bulk_edit_dialog import BulkEditDialog

        records = self.selected_records()
        if not records:
            messages.inform(self, "批量修改", "请先在表中选择要修改的记录(可按住 Ctrl 或 Shift 多选)。")
            return
        self._open(BulkEditDialog(self.services.bulk_edit, self.ledger, [r.id for r in records],
                                  suggest=self._suggester, parent=self))

    def find_replace(self) -> None:
        """查找替换 in one field, within what the table shows (its search and filters)."""
        from mibao_desktop.ui.bulk_edit_dialog import BulkEditDialog

        self._open(BulkEditDialog(self.services.bulk_edit, self.ledger, query=self.model.current_query(limit=None),
                                  suggest=self._suggester, parent=self))

    def _suggester(self, f):
        return lambda text: self.service.suggestions(self.ledger, f.name, text)

    def revert(self, record_id: int, event_id: int) -> None:
        entry = next((e for e in self.detail.entries if e.id == event_id), None)
        fields = "、".join(c.label for c in entry.changes) if entry else ""
        if not messages.confirm(self, "撤销修改", f"把{fields}恢复为这次修改之前的值吗?\n撤销本身也会记入变更记录。",
                                action="撤销修改"):
            return
        try:
            record = self.service.revert(record_id, event_id)
        except ServiceError as exc:
            messages.error(self, "无法撤销", exc.message)
            return
        self._saved(record)

    def reverse_status(self, record_id: int, event_id: int) -> None:
        """撤销此状态变更 (from the history): back to the status it left, as a new recorded change."""
        entry = next((e for e in self.detail.entries if e.id == event_id), None)
        moved = entry.status_moved if entry else None
        if moved is None or not messages.confirm(
                self, "撤销状态变更", f"把状态从“{moved[1]}”改回“{moved[0]}”吗?\n"
                                    "撤销本身也会作为一次状态变更记入变更记录,并注明撤销的是哪一次。",
                action="撤销状态变更"):
            return
        record = self.service.get(record_id)
        try:
            try:
                changed = self.service.reverse_status(record_id, event_id)
            except StillReferenced as exc:
                if not messages.confirm_referenced(self, record, exc.referrers, f"改回{moved[0]}"):
                    return
                changed = self.service.reverse_status(record_id, event_id, confirm_referenced=True)
        except ServiceError as exc:
            messages.error(self, "无法撤销", exc.message)
            return
        self._saved(changed)

    # -- printing ---------------------------------------------------------------------------

    def selected_records(self) -> list[RecordView]:
        """Every selected row's record (in table order), voided ones left out."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        records = [self.model.record_at(row) for row in rows]
        return [r for r in records if r is not None and not r.voided]

    def print_labels(self) -> None:
        from mibao_desktop.ui.print_dialog import LabelPrintDialog

        records = self.selected_records()
        if not records:
            messages.inform(self, "打印标识", "请先在表中选择要打印标识的记录(可按住 Ctrl 或 Shift 多选)。")
            return
        self.dialog = LabelPrintDialog(self.services.printing, self.ledger, records, self)
        self.dialog.open()

    def carrier_registers(self) -> None:
        from mibao_desktop.ui.carrier_register_dialog import CarrierRegisterDialog

        self.dialog = CarrierRegisterDialog(self.services, self)
        self.dialog.open()

    def print_forms(self) -> None:
        from mibao_desktop.ui.print_dialog import FormPrintDialog

        if not self.ledger.forms:
            messages.inform(self, "打印审批表", f"{self.ledger.title}没有要打印的审批表。")
            return
        self.dialog = FormPrintDialog(self.services.printing, self.ledger, self.selected_records(), self)
        self.dialog.open()

    # -- a person's holdings (人员保管、使用的设备和介质) ---------------------------------------

    def _with_holdings(self, then) -> None:
        """Read everything the person shown holds or uses (through tasks: a person may hold
        many), then ``then(holdings)``."""
        from mibao_desktop.errors import Cancelled
        from mibao_desktop.services.holdings import collect

        person = self.detail.record
        if person is None or person.ledger.key != PEOPLE.key:
            return
        ledgers = self.service

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, Cancelled):
                messages.show_error(self, "无法整理清单", exc)

        self.task = run_in_background(
            self, "正在整理清单……", lambda progress, cancelled: collect(ledgers, person.id, progress=progress,
                                                                     cancelled=cancelled),
            on_done=then, on_error=failed)

    def print_holdings(self) -> None:
        """打印清单: the person's list (the 离岗清退 check list), previewed, printed or saved as PDF."""
        from mibao_desktop.ui.print_dialog import FormPrintDialog

        def show(holdings) -> None:
            self.dialog = FormPrintDialog(self.services.printing, self.ledger, [holdings.person], self,
                                          forms=("holdings",), holdings=holdings)
            self.dialog.open()

        self._with_holdings(show)

    def leave_post(self) -> None:
        """离岗离职 of the person shown: the guided procedure (ui/departure_dialog.py). What it
        hands over changes other ledgers too (责任人, 保管人, 持有人)."""
        from mibao_desktop.ui.departure_dialog import DepartureDialog

        person = self.detail.record
        if person is None or person.ledger.key != PEOPLE.key:
            return
        self.dialog = DepartureDialog(self.services, person, self)
        self.dialog.finished.connect(lambda _r: (self.changed.emit(tuple(LEDGERS)), self.refresh()))
        self.dialog.open()

    def export_holdings(self, path: str | Path | None = None) -> None:
        """导出Excel: the same list as a workbook, to a file or a removable medium; with ``path``
        it writes that file at once (the dialog's defaults)."""
        from mibao_desktop.ui.excel_dialogs import HoldingsExportDialog

        def show(holdings) -> None:
            dialog = HoldingsExportDialog(self.service, self.services.outputs, holdings,
                                          self.services.printing.unit_name(), self)
            self.dialog = dialog
            dialog.open()
            if path is not None:
                dialog.export(Path(path))
                self.task = dialog.task

        self._with_holdings(show)

    # -- Excel ------------------------------------------------------------------------------

    def import_file(self, path: str | Path | None = None) -> None:
        """The import wizard (file and sheet → columns → preview → import)."""
        from mibao_desktop.ui.excel_dialogs import ImportWizard

        wizard = ImportWizard(self.service, self.ledger, self, path=path, settings=self.services.settings)
        # an import may add people to the register on the way
        wizard.finished.connect(lambda _r: (self.changed.emit((self.ledger.key, PEOPLE.key)), self.refresh())
                                if wizard.result_ else None)
        self.dialog = wizard
        wizard.open()

    def export_file(self, path: str | Path | None = None) -> None:
        """The export dialog, with the table's filter and shown columns; with ``path`` it writes
        that file at once (the dialog's defaults)."""
        from mibao_desktop.ui.excel_dialogs import ExportDialog

        unit = self.services.printing.unit_name()
        dialog = ExportDialog(self.service, self.services.outputs, self.ledger, self.model.current_query(limit=None),
                              self.visible_fields(), unit, self)
        self.dialog = dialog
        dialog.open()
        if path is not None:
            target = Path(path)
            dialog.export(target if target.suffix.lower() == ".xlsx" else target.with_suffix(".xlsx"))
            self.task = dialog.task
