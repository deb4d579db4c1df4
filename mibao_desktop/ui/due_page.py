"""首页: what is due, the first screen after login (``services/due.py``, the rules in
``services/reminders.py``). Widgets only: the items, their reasons and groups come from the
service.

Shown at once with 正在计算…… while the list is computed off the UI thread (ui/tasks.py), never
blocking the window. For the security administrator it absorbs what 到期提醒 did: at the start of
the session and each new day while the window stays open, the missing clock's check (a
泄密事件 opened for each copy past its search period) and the end of the 脱密期 run first, off
the UI thread, then the list is read. A double click or Enter on an item opens its record (a
copy under its carrier) or the place that settles it (备份, 载体核对 …), told by ``open_place``.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mibao_desktop.security import Role
from mibao_desktop.services.due import FIRST_SCREEN, GROUPS, OVERDUE, WITHIN_7
from mibao_desktop.ui import messages
from mibao_desktop.ui.tasks import LatestRead

TITLE = "首页"
HEADERS = ["到期日", "剩余", "类别", "事项", "原因", "办理"]
COLOURS = {OVERDUE: QColor("#B00000"), WITHIN_7: QColor("#D9480F")}
TICK_MS = 60 * 1000  # the day's turn looked for each minute while the window stays open
ITEM_ROLE = Qt.ItemDataRole.UserRole


class _Tree(QTreeWidget):
    """Enter opens the item chosen, as a double click does."""

    activated_item = Signal(object)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentItem() is not None:
            self.activated_item.emit(self.currentItem())
            return
        super().keyPressEvent(event)


class DuePage(QWidget):
    open_record = Signal(str, int)  # ledger key, record id
    open_place = Signal(str, str)  # services.due.PLACES, and what it opens on (Opens.choice)
    settle = Signal(str, int)  # a rule whose action has a dialog of its own (解密审查), the record
    told = Signal(str)
    opened_events = Signal(int)

    def __init__(self, services, parent: QWidget | None = None, *, now: Callable[[], dt.datetime] | None = None,
                 check_at_start: bool = True) -> None:
        super().__init__(parent)
        self.services = services
        self.now = now or services.clock
        self.ledger_keeper = services.actor.role == Role.SECURITY_ADMIN  # runs the checks of 到期提醒
        self.reader = LatestRead(self)
        self.listed = None
        self.checked_on: dt.date | None = None

        title = QLabel(f"{TITLE}:到期和逾期事项")
        title.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.summary = QLabel("正在计算……")
        self.summary.setWordWrap(True)
        self.check_button = QPushButton("立即检查")
        self.check_button.setToolTip("查找期限已过的下落不明载体开立泄密事件、脱密期满的人员转为已脱密,然后重新计算")
        self.check_button.setVisible(self.ledger_keeper)
        self.settings_button = QPushButton("提醒设置…")
        self.settings_button.setToolTip("本岗位负责的提醒天数(如维修超过多少天、备份间隔)")
        self.settings_button.setVisible(any(r.thresholds and r.owner == services.actor.role
                                            for r in services.due.rules))
        self.settings_button.clicked.connect(self.edit_settings)
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.setToolTip("重新计算到期事项")
        self.check_button.clicked.connect(self.check)
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(self.check_button)
        top.addWidget(self.settings_button)
        top.addWidget(self.refresh_button)

        self.tree = _Tree()
        self.tree.setHeaderLabels(HEADERS)
        self.tree.setRootIsDecorated(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        for column, width in enumerate((122, 86, 82, 150, 560, 150)):  # 到期日 under the tree's indent
            self.tree.setColumnWidth(column, width)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.tree.itemDoubleClicked.connect(lambda item, _c: self._open(item))
        self.tree.activated_item.connect(self._open)
        self.placeholder = QTreeWidgetItem(["", "", "", "正在计算……"])
        self.tree.addTopLevelItem(self.placeholder)
        self.hint = QLabel("双击或按回车打开该记录办理;已逾期的在前,同一天到期的按类别排列。")
        self.hint.setStyleSheet("color: #555;")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.hint)

        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._day_turned)
        self.timer.start()
        if check_at_start and self.ledger_keeper:
            self.check()
        else:
            self.refresh()

    # -- reading (off the UI thread) --------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.reader.pending

    def refresh(self) -> None:
        due = self.services.due
        self.summary.setText("正在计算……")
        self.reader.submit(lambda: (0, due.due(per_rule=FIRST_SCREEN)), self._show, self._failed)

    def check(self) -> None:
        """The checks 到期提醒 ran (the missing clock, the end of the 脱密期), then the list."""
        watch, departure, due = self.services.carrier_watch, self.services.departure, self.services.due

        def work():
            opened = watch.open_due_events()
            departure.end_due()
            return len(opened), due.due(per_rule=FIRST_SCREEN)

        self.checked_on = self.now().date()
        self.summary.setText("正在检查并计算……")
        self.reader.submit(work, self._show, self._failed)

    def edit_settings(self) -> None:
        from mibao_desktop.ui.due_settings_dialog import DueSettingsDialog

        self.dialog = DueSettingsDialog(self.services.due, self)
        self.dialog.accepted.connect(self.refresh)
        self.dialog.open()

    def _day_turned(self) -> None:
        if self.checked_on is not None and self.checked_on != self.now().date() and not self.busy:
            self.check() if self.ledger_keeper else self.refresh()

    def _failed(self, exc: BaseException) -> None:
        _title, text = messages.explain(exc)
        self.summary.setText(f"计算失败:{text}")

    # -- showing ------------------------------------------------------------------------------

    def _show(self, result) -> None:
        opened, listed = result
        self.listed = listed
        today = listed.today
        self.tree.clear()
        counts = listed.counts()
        first = None
        for group in GROUPS:
            items = listed.group(group)
            head = QTreeWidgetItem([group, f"{counts[group]} 项"])
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            head.setFirstColumnSpanned(False)
            if group in COLOURS:
                head.setForeground(0, QBrush(COLOURS[group]))
            self.tree.addTopLevelItem(head)
            for item in items:
                row = QTreeWidgetItem([item.due.isoformat(), item.days_text(today), item.area, item.subject,
                                       item.reason, item.action])
                row.setData(0, ITEM_ROLE, item)
                row.setToolTip(4, item.reason)
                if group in COLOURS:
                    row.setForeground(1, QBrush(COLOURS[group]))
                head.addChild(row)
                first = first or row
            head.setExpanded(True)
        parts = [listed.summary()]
        if opened:
            parts.append(f"本次检查新开立泄密事件 {opened} 件,请补全初次报告并按时报告")
        if listed.failed:
            parts.append("未能读取:" + "、".join(listed.failed))
        self.summary.setText(";".join(parts))
        self.summary.setStyleSheet("color: #B00000; font-weight: bold;" if counts[OVERDUE] or opened else "")
        if first is not None:
            self.tree.setCurrentItem(first)
        if opened:
            self.opened_events.emit(opened)
            self.told.emit(f"已开立泄密事件 {opened} 件")

    def items_shown(self) -> list[QTreeWidgetItem]:
        out = []
        for g in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(g)
            out += [head.child(i) for i in range(head.childCount())]
        return out

    def _open(self, row: QTreeWidgetItem) -> None:
        item = row.data(0, ITEM_ROLE) if row is not None else None
        if item is None:
            return
        if item.opens.record_id is not None:
            self.open_record.emit(item.opens.ledger or "", item.opens.record_id)
            self.settle.emit(item.rule, item.opens.record_id)
        elif item.opens.place:
            self.open_place.emit(item.opens.place, item.opens.choice)


__all__ = ["DuePage", "TITLE"]
