"""The selected record: every field; its change history with undo of an edit; the records that
refer to it (被引用 — for a person, everything they hold or use, with the list to print or
export for the 离岗 check); and the records that belong to it (a child ledger's records).

What lies beyond the record's own row (history, referrers, child records) is read off the UI
thread, the newest selection superseding: arrowing down the table never waits on it.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mibao_desktop.services.holdings import PersonHoldings, child_number, collect
from mibao_desktop.ledgers import PEOPLE, Ledger, children_of, levels, references_to
from mibao_desktop.ledgers.pending import PENDING, gaps
from mibao_desktop.services.ledger_service import HistoryEntry, LedgerService, RecordView, Referrer
from mibao_desktop.services.carrier_actions import SINGLE
from mibao_desktop.services.views import RECORDED_ACTIONS
from mibao_desktop.ui.tasks import LatestRead
from mibao_desktop.ui.widgets import fill_table, key_on, read_only_table

TargetRole = Qt.ItemDataRole.UserRole + 1  # (ledger key, record id) of a referring record


def describe(entry: HistoryEntry) -> str:
    """One line of what an event did: 部门:保密办 → 科研一处;…"""
    parts = []
    moved = entry.status_moved
    if moved is not None:  # the status, then what the change recorded (外出地点:北京 …)
        parts.append(f"{moved[0]} → {moved[1]}" + ("(已撤销)" if entry.reversed_by is not None else ""))
        # a fact has no old value; a field changed with the status (a copy's 持有人) shows both
        parts.extend(f"{c.label}:{c.old} → {c.new}" if c.old else f"{c.label}:{c.new}" for c in entry.facts if c.new)
    elif entry.action == "status" and entry.changes:
        c = entry.changes[0]
        parts.append(f"{c.old} → {c.new}")
    elif entry.action in RECORDED_ACTIONS:  # 复制, 移交: what they recorded, then what they changed
        parts.extend(f"{c.label}:{c.old} → {c.new}" if c.old else f"{c.label}:{c.new}" for c in entry.changes if c.new)
    else:
        parts.extend(f"{c.label}:{c.old or '(空)'} → {c.new or '(空)'}" for c in entry.changes)
    if entry.effective_date:
        parts.append(f"日期 {entry.effective_date.isoformat()}")
    if entry.reason:
        parts.append(f"原因:{entry.reason}")
    return ";".join(parts)


@dataclass(frozen=True)
class ReferringRecord:
    """One record that refers to the shown one, however many of its fields do (a computer
    whose 使用人 and 责任人 are the same person is listed once, as 使用人、责任人)."""

    ledger: Ledger
    id: int
    label: str
    fields: tuple[str, ...]
    status: str


def group_referrers(referrers: list[Referrer], labels: dict[int, str] | None = None
                    ) -> OrderedDict[str, list[ReferringRecord]]:
    """Referrers by ledger (in the registry's order, as the service lists them), each record
    once; ``labels`` names some of them better (a copy by its carrier's number and its own)."""
    merged: OrderedDict[int, ReferringRecord] = OrderedDict()
    for r in referrers:
        known = merged.get(r.id)
        fields = (*known.fields, r.field_label) if known else (r.field_label,)
        merged[r.id] = ReferringRecord(r.ledger, r.id, (labels or {}).get(r.id, r.label), tuple(dict.fromkeys(fields)),
                                       r.status)
    groups: OrderedDict[str, list[ReferringRecord]] = OrderedDict()
    for record in merged.values():
        groups.setdefault(record.ledger.key, []).append(record)
    for rows in groups.values():
        rows.sort(key=lambda r: r.label)
    return groups


@dataclass(frozen=True)
class _Around:
    """What the pane reads beyond the record itself."""

    record_id: int
    history: list[HistoryEntry]
    referrers: list[Referrer]
    children: dict[str, list[RecordView]]
    labels: dict[int, str]  # referrers of a child ledger, named with their parent's number
    holdings: PersonHoldings | None  # a person's: the records that name them, read whole


def _child_labels(service: LedgerService, referrers: list[Referrer]) -> dict[int, str]:
    kids = service.get_many(list(dict.fromkeys(r.id for r in referrers if r.ledger.parent is not None)))
    if not kids:
        return {}
    parents = {p.id: p for p in service.get_many(list(dict.fromkeys(k.parent_id for k in kids)))}
    return {k.id: child_number(k, parents.get(k.parent_id)) for k in kids}


class ChildSection(QWidget):
    """The records of one child ledger that belong to the shown record, with 新增 and 修改."""

    def __init__(self, ledger: Ledger, pane: "DetailPane") -> None:
        super().__init__()
        self.ledger = ledger
        self.fields = [f for f in ledger.fields if f.shown]
        self.rows: list[RecordView] = []
        self.open_for_change = False  # the parent record can still change (not voided, not destroyed)
        self.table = read_only_table([f.label for f in self.fields])
        # a carrier's copies are handled several at once (分发 a batch, 销毁 the rest)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if ledger.lifecycle.actions
                                    else QAbstractItemView.SelectionMode.SingleSelection)
        self.add_button = QPushButton(f"新增{ledger.noun}")
        self.edit_button = QPushButton("修改")
        self.add_button.clicked.connect(lambda: pane.child_add_requested.emit(ledger.key))
        self.edit_button.clicked.connect(self._edit)
        self.table.doubleClicked.connect(lambda _i: self._edit())
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            key_on(self.table, key, self._edit)
        self.table.itemSelectionChanged.connect(self._update)
        self.pane = pane
        bar = QHBoxLayout()
        bar.addStretch(1)
        self.act_button = self.print_button = None
        if ledger.lifecycle.actions:  # the copy's recorded actions: 办理 ▸ 分发, 借阅 … (ui/carrier_dialogs.py)
            self.act_button = QToolButton()
            self.act_button.setText("办理")
            self.act_button.setToolTip("为所选载体份办理:" + "、".join(a.label for a in ledger.lifecycle.actions))
            self.act_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            self.act_button.setMenu(QMenu(self.act_button))
            self.act_button.menu().aboutToShow.connect(self._fill_actions)
            self.history_button = QPushButton("变更记录…")
            self.history_button.setToolTip("所选载体份的每一次手续:登记、分发、借阅、归还……")
            self.history_button.clicked.connect(self._history)
            bar.addWidget(self.history_button)
            self.print_button = QPushButton("打印…")
            self.print_button.setToolTip("为所选载体份打印分发签收单、销毁审批表或借阅登记簿")
            self.print_button.clicked.connect(
                lambda: pane.child_print_requested.emit([r.id for r in self.selected_rows()]))
            bar.addWidget(self.act_button)
            bar.addWidget(self.print_button)
        bar.addWidget(self.add_button)
        bar.addWidget(self.edit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(bar)

    def show_rows(self, rows: list[RecordView], open_for_change: bool) -> None:
        self.rows = rows
        fill_table(self.table, [[r.display(f.name) for f in self.fields] for r in rows])
        self.table.resizeColumnsToContents()
        self.open_for_change = open_for_change
        self.add_button.setEnabled(open_for_change)
        self._update()

    def selected(self) -> RecordView | None:
        row = self.table.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) and self.table.selectionModel().hasSelection() else None

    def selected_rows(self) -> list[RecordView]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.rows[r] for r in rows if 0 <= r < len(self.rows)]

    def _fill_actions(self) -> None:
        """One entry per action; those the selected copies' statuses do not allow are greyed,
        with the statuses they start from in the tooltip."""
        menu = self.act_button.menu()
        menu.clear()
        chosen = [r for r in self.selected_rows() if not r.voided]
        for action in self.ledger.lifecycle.actions:
            entry = menu.addAction(action.label)
            allowed = bool(chosen) and self.open_for_change and all(r.status in action.from_ for r in chosen) \
                and (action.key not in SINGLE or len(chosen) == 1)  # 复制: one original at a time
            entry.setEnabled(allowed)
            entry.setToolTip(f"适用于{'、'.join(action.from_)}的载体份")
            entry.triggered.connect(lambda _c=False, key=action.key: self.pane.child_action_requested.emit(
                key, [r.id for r in self.selected_rows()]))
        menu.setToolTipsVisible(True)

    def _update(self) -> None:
        chosen = self.selected()
        self.edit_button.setEnabled(bool(self.open_for_change and chosen is not None
                                         and not chosen.voided
                                         and chosen.status not in self.ledger.lifecycle.terminal))
        if self.act_button is not None:
            self.act_button.setEnabled(bool(self.selected_rows()))
            self.print_button.setEnabled(bool(self.selected_rows()))
            self.history_button.setEnabled(len(self.selected_rows()) == 1)

    def _history(self) -> None:
        chosen = self.selected_rows()
        if len(chosen) == 1:
            self.pane.child_history_requested.emit(chosen[0].id)

    def _edit(self) -> None:
        chosen = self.selected()
        if chosen is not None and self.edit_button.isEnabled():
            self.pane.child_edit_requested.emit(chosen.id)


class DetailPane(QWidget):
    revert_requested = Signal(int, int)  # record id, event id
    reverse_status_requested = Signal(int, int)  # record id, event id of the status change to reverse
    open_requested = Signal(str, int)  # ledger key ("" when not known), record id: go to that record
    child_add_requested = Signal(str)  # child ledger key: a new record belonging to the shown one
    child_edit_requested = Signal(int)  # child record id
    child_action_requested = Signal(str, list)  # a carrier copy's action key, the copies' ids
    child_print_requested = Signal(list)  # the copies' ids: their forms (分发签收单, 销毁审批表)
    child_history_requested = Signal(int)  # a copy's id: its own 变更记录
    print_holdings_requested = Signal()  # a person's list: 打印清单
    export_holdings_requested = Signal()  # a person's list: 导出Excel
    departure_requested = Signal()  # a person's 离岗离职 (ui/departure_dialog.py)

    def __init__(self, service: LedgerService, ledger: Ledger, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.ledger = ledger
        self.record: RecordView | None = None
        self.entries: list[HistoryEntry] = []
        self.referrers: list[Referrer] = []
        self.children: dict[str, list[RecordView]] = {}
        self.labels: dict[int, str] = {}
        self.holdings: PersonHoldings | None = None
        self._wanted_child: tuple[str, int] | None = None  # a child record to select once read
        self.reads = LatestRead(self)
        self.is_person = ledger.key == PEOPLE.key

        self.title = QLabel("未选择记录")
        self.title.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.title.setWordWrap(True)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 4, 0)
        self.form.setVerticalSpacing(3)
        fields = QScrollArea()
        fields.setWidgetResizable(True)
        fields.setFrameShape(QScrollArea.Shape.NoFrame)
        fields.setWidget(self.form_host)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        # A person's page opens on what they hold; any other record on its history.
        if self.is_person:
            self.holdings_tab = self._referrers_tab()
            self.history_tab = self._history_tab()
        else:
            self.history_tab = self._history_tab()
            self.holdings_tab = self._referrers_tab() if references_to(ledger) else None
        self.child_sections = {child.key: ChildSection(child, self) for child in children_of(ledger)}
        for section in self.child_sections.values():
            self.tabs.addTab(section, section.ledger.noun)
        self._label_tabs()

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(fields)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        # A person's holdings are what their page is for; a device's own fields come first.
        splitter.setSizes([180, 460] if self.is_person else [380, 260])
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(splitter, 1)

    # -- building ---------------------------------------------------------------------------

    def _referrers_tab(self) -> QWidget:
        host = QWidget()
        self.referrer_note = QLabel()
        self.referrer_note.setWordWrap(True)
        self.referrer_tree = QTreeWidget()
        headers = ["编号", "名称/型号", "密级", "责任关系", "状态"] if self.is_person else ["编号", "引用字段", "状态"]
        self.referrer_tree.setColumnCount(len(headers))
        self.referrer_tree.setHeaderLabels(headers)
        self.referrer_tree.setAlternatingRowColors(True)
        self.referrer_tree.setToolTip("双击或按 Enter 转到该记录")
        self.referrer_tree.itemActivated.connect(self._activated)
        layout = QVBoxLayout(host)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.referrer_note)
        layout.addWidget(self.referrer_tree, 1)
        if self.is_person:
            self.print_button = QPushButton("打印清单…")
            self.print_button.setToolTip("人员保管、使用的设备和介质清单(可作离岗清退核对单),打印或另存为 PDF")
            self.print_button.clicked.connect(self.print_holdings_requested.emit)
            self.export_button = QPushButton("导出Excel…")
            self.export_button.setToolTip("同一清单导出为 Excel,按清单中最高密级标注")
            self.export_button.clicked.connect(self.export_holdings_requested.emit)
            self.departure_button = QPushButton("离岗离职…")
            self.departure_button.setToolTip("保密提醒谈话、离岗保密承诺书、逐件清退、取消权限,并确定脱密期")
            self.departure_button.clicked.connect(self.departure_requested.emit)
            bar = QHBoxLayout()
            bar.addWidget(self.departure_button)
            bar.addStretch(1)
            bar.addWidget(self.print_button)
            bar.addWidget(self.export_button)
            layout.addLayout(bar)
        self.tabs.addTab(host, "")
        return host

    def _history_tab(self) -> QWidget:
        host = QWidget()
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
        self.undo_status = QPushButton("撤销此状态变更")
        self.undo_status.setToolTip("把记录改回这次状态变更之前的状态(作为一次新的状态变更记入历史,注明撤销的是哪一次);"
                                    "只能撤销最近一次状态变更")
        self.undo_status.setEnabled(False)
        self.undo_status.clicked.connect(self._request_reverse_status)
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(self.undo_status)
        bar.addWidget(self.undo)
        layout = QVBoxLayout(host)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.history, 1)
        layout.addLayout(bar)
        self.tabs.addTab(host, "变更记录")
        return host

    def _label_tabs(self) -> None:
        """Tab captions carry their counts, so that a record others refer to is seen to be one."""
        loaded = self.record is not None and not self.reads.pending
        if self.holdings_tab is not None:
            word = "保管、使用" if self.is_person else "被引用"
            count = len(self.holdings.items) if self.holdings is not None else len({r.id for r in self.referrers})
            self.tabs.setTabText(self.tabs.indexOf(self.holdings_tab), f"{word}({count})" if loaded else word)
        self.tabs.setTabText(self.tabs.indexOf(self.history_tab),
                             f"变更记录({len(self.entries)})" if loaded else "变更记录")
        for key, section in self.child_sections.items():
            rows = self.children.get(key, [])
            self.tabs.setTabText(self.tabs.indexOf(section),
                                 f"{section.ledger.noun}({len(rows)})" if loaded else section.ledger.noun)

    # -- showing a record ---------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self.reads.pending

    def show_record(self, record: RecordView | None) -> None:
        self.record = record
        while self.form.rowCount():
            self.form.removeRow(0)
        self.history.clear()
        self.entries, self.referrers, self.children, self.labels, self.holdings = [], [], {}, {}, None
        self._wanted_child = None
        if self.holdings_tab is not None:
            self.referrer_tree.clear()
            self.referrer_note.setText("")
        if record is None:
            self.reads.cancel()
            self.title.setText("未选择记录")
            self._show_children()
            self._label_tabs()
            self._update_buttons()
            return
        state = f"已作废({record.void_reason})" if record.voided else record.status
        self.title.setText(f"{record.number} · {record.label} · {record.ledger.noun} · {state}" if self.is_person
                           else f"{record.number} · {record.ledger.noun} · {state}")
        waiting = {f.name for f in gaps(record.ledger, record.values)}  # 待补充: a column the import never had
        for f in record.ledger.fields:
            refs = [r for r in f.refs(record.values.get(f.name)) if r.id is not None]
            if refs:  # a person or a record it refers to: a link that goes there
                value = QLabel("；".join(f'<a href="{r.id}">{html.escape(str(r))}</a>' for r in refs))
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
                value.linkActivated.connect(lambda target: self.open_requested.emit("", int(target)))
                value.setToolTip("单击转到该记录")
            else:
                value = QLabel(record.display(f.name) or (PENDING if f.name in waiting else "—"))
                if f.name in waiting:
                    value.setToolTip("导入的表格中没有这一列,请点“修改”补全")
                value.setTextFormat(Qt.TextFormat.PlainText)
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            self.form.addRow(f"{f.label}:", value)
        service, record_id = self.service, record.id
        wants_referrers = self.holdings_tab is not None and not self.is_person
        person, child_keys = self.is_person, list(self.child_sections)

        def read() -> _Around:
            referrers = service.referrers(record_id) if wants_referrers else []
            return _Around(record_id, service.history(record_id), referrers,
                           {key: service.children(record_id, key) for key in child_keys},
                           _child_labels(service, referrers), collect(service, record_id) if person else None)

        self.reads.submit(read, self._loaded)
        self._label_tabs()
        self._update_buttons()

    def reload(self) -> None:
        """Read again what surrounds the shown record (after a child record was saved)."""
        if self.record is not None:
            self.show_record(self.service.get(self.record.id))

    def _loaded(self, around: _Around) -> None:
        if self.record is None or around.record_id != self.record.id:
            return
        self.entries, self.referrers, self.children = around.history, around.referrers, around.children
        self.labels, self.holdings = around.labels, around.holdings
        for entry in self.entries:
            what = describe(entry)
            head = f"{entry.at.strftime('%Y-%m-%d %H:%M')}  {entry.action_label}  {entry.actor}"
            item = QTreeWidgetItem([head + ("\n" + what.replace(";", "\n") if what else "")])
            item.setToolTip(0, what or head)
            self.history.addTopLevelItem(item)
        if self.holdings_tab is not None:
            self._show_referrers()
        self._show_children()
        self._label_tabs()
        self._update_buttons()
        if self._wanted_child is not None:
            self.focus_child(*self._wanted_child)

    def focus_child(self, ledger_key: str, record_id: int) -> None:
        """Show one of the record's child records, selected (a jump to a copy someone holds);
        if the pane is still reading, as soon as it has read."""
        self._wanted_child = (ledger_key, record_id)
        if self.loading or ledger_key not in self.child_sections:
            return
        self._wanted_child = None
        section = self.child_sections[ledger_key]
        row = next((i for i, r in enumerate(section.rows) if r.id == record_id), None)
        self.tabs.setCurrentWidget(section)
        if row is not None:
            section.table.selectRow(row)
            section.table.setFocus()

    def _show_referrers(self) -> None:
        if self.holdings is not None:
            self._show_holdings()
            return
        groups = group_referrers(self.referrers, self.labels)
        total = sum(len(rows) for rows in groups.values())
        self.referrer_note.setText(f"以下 {total} 条记录引用了 {self.record.number};双击可转到该记录。" if total
                                   else "没有记录引用它。")
        for rows in groups.values():
            group = self._group(rows[0].ledger, len(rows))
            for r in rows:
                self._add(group, r.ledger, r.id, [r.label, "、".join(r.fields), r.status])
        self._fit_tree()

    def _show_holdings(self) -> None:
        """A person's page: what they hold or use, by ledger, with what each item is."""
        items = self.holdings.items
        self.referrer_note.setText(f"{self.record.label} 名下{self.holdings.summary()}(责任人、使用人或持有人)。"
                                   "离岗时逐件清点交回;双击可转到该记录。" if items
                                   else f"{self.record.label} 名下没有登记设备、介质或载体。")
        self.print_button.setEnabled(bool(items))
        self.export_button.setEnabled(bool(items))
        groups: OrderedDict[str, list] = OrderedDict()
        for h in items:
            groups.setdefault(h.record.ledger.key, []).append(h)
        for rows in groups.values():
            group = self._group(rows[0].record.ledger, len(rows))
            for h in rows:
                item = self._add(group, h.record.ledger, h.record.id,
                                 [h.number, " ".join(p for p in (h.kind, h.name) if p), h.level or "—",
                                  "、".join(h.roles), h.record.status])
                if levels.colour(h.level):
                    item.setForeground(2, QColor(levels.colour(h.level)))
        self._fit_tree()

    def _group(self, ledger: Ledger, count: int) -> QTreeWidgetItem:
        group = QTreeWidgetItem([f"{ledger.noun}({count})"])
        group.setFlags(group.flags() & ~Qt.ItemFlag.ItemIsSelectable)
        font = group.font(0)
        font.setBold(True)
        group.setFont(0, font)
        group.setFirstColumnSpanned(True)
        self.referrer_tree.addTopLevelItem(group)
        group.setExpanded(True)
        return group

    def _add(self, group: QTreeWidgetItem, ledger: Ledger, record_id: int, texts: list[str]) -> QTreeWidgetItem:
        item = QTreeWidgetItem(texts)
        item.setData(0, TargetRole, (ledger.key, record_id))
        item.setToolTip(0, f"{ledger.noun} {texts[0]}:双击转到该记录")
        group.addChild(item)
        return item

    def _fit_tree(self) -> None:
        for column in range(self.referrer_tree.columnCount() - 1):
            self.referrer_tree.resizeColumnToContents(column)

    def _show_children(self) -> None:
        editable = self._open_for_change()
        for key, section in self.child_sections.items():
            section.show_rows(self.children.get(key, []), editable)

    def referrer_items(self) -> list[QTreeWidgetItem]:
        """The records listed under 被引用 / 保管、使用 (group headings left out)."""
        if self.holdings_tab is None:
            return []
        tree = self.referrer_tree
        return [tree.topLevelItem(g).child(c) for g in range(tree.topLevelItemCount())
                for c in range(tree.topLevelItem(g).childCount())]

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        target = item.data(0, TargetRole)
        if target:
            self.open_requested.emit(*target)

    # -- history ------------------------------------------------------------------------------

    def selected_entry(self) -> HistoryEntry | None:
        row = self.history.indexOfTopLevelItem(self.history.currentItem()) if self.history.currentItem() else -1
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def _open_for_change(self) -> bool:
        return (self.record is not None and not self.record.voided
                and self.record.status not in self.record.ledger.lifecycle.terminal)

    def _update_buttons(self) -> None:
        entry = self.selected_entry()
        self.undo.setEnabled(bool(entry and entry.revertible and self._open_for_change()))
        self.undo_status.setEnabled(bool(entry and entry.reversible and self._open_for_change()))
        if self.is_person and self.holdings_tab is not None:  # 离岗离职 starts from a person in post
            record = self.record
            self.departure_button.setEnabled(bool(record is not None and not record.voided
                                                  and record.status in record.ledger.lifecycle.procedures))

    def _request_reverse_status(self) -> None:
        entry = self.selected_entry()
        if self.record is not None and entry is not None and entry.reversible:
            self.reverse_status_requested.emit(self.record.id, entry.id)

    def _request_revert(self) -> None:
        entry = self.selected_entry()
        if self.record is not None and entry is not None and entry.revertible:
            self.revert_requested.emit(self.record.id, entry.id)


__all__ = ["DetailPane", "ReferringRecord", "describe", "group_referrers"]
