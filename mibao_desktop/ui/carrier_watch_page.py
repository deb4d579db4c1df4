"""到期提醒: the carrier copies missing with the days left before they count as a leak, the
loans overdue or soon due back, and the leak events not yet closed with their reporting
deadline (``services/carrier_watch.py``). Widgets only: the lists, the days and the texts come
from the service; the check that opens a leak event is the service's too.

The page runs the check (then reads the lists) off the UI thread when it is built — the
security administrator's window builds it at the start of each session — and again when the
day has turned while the window stays open (a timer looks each minute, and keeps the hours left
to report current), and on 立即检查.
刷新 (F5 on the page) reads the lists again. A double click opens the copy under its carrier, or
the leak event, in its ledger's page.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mibao_desktop.ledgers import carriers, leak_events, levels
from mibao_desktop.ui import messages
from mibao_desktop.ui.tasks import LatestRead
from mibao_desktop.ui.widgets import read_only_table

MISSING_HEADERS = ["载体份", "标题", "密级", "持有人", "下落不明日期", "查找期限", "剩余天数", "泄密事件"]
LOAN_HEADERS = ["载体份", "标题", "密级", "借用人", "应归还日期", "剩余天数"]
LEAK_HEADERS = ["事件编号", "事件等级", "泄密事项", "密级", "数量", "状态", "开立时间", "报告时限", "剩余时间"]
URGENT = QColor("#B00000")
SOON = QColor("#D9480F")
TICK_MS = 60 * 1000  # the reporting deadlines' 剩余 N 小时 N 分 kept current; the day's turn looked for


class _Item(QTableWidgetItem):
    """A cell sorting by its key (days as numbers, dates as dates), not by its text."""

    def __init__(self, text: str, key=None) -> None:
        super().__init__(text)
        self.key = text if key is None else key

    def __lt__(self, other: QTableWidgetItem) -> bool:  # noqa: D105
        mine, theirs = self.key, getattr(other, "key", other.text())
        try:
            return mine < theirs
        except TypeError:
            return str(mine) < str(theirs)


def _sortable(headers: list[str], by: str) -> QTableWidget:
    """A list the user sorts by any column (a click on its header), first by ``by``: the most
    urgent first."""
    table = read_only_table(headers)
    table.setSortingEnabled(True)
    table.sortByColumn(headers.index(by), Qt.SortOrder.AscendingOrder)
    table.horizontalHeader().setStretchLastSection(False)
    return table


def _put(table: QTableWidget, rows: list[tuple[list[tuple[str, object]], object, QColor | None]]) -> None:
    """Fill a table with rows of (text, sort key) cells, each row carrying what a double click
    opens and its colour; the sort the user chose is kept."""
    column = table.horizontalHeader().sortIndicatorSection()
    order = table.horizontalHeader().sortIndicatorOrder()
    table.setSortingEnabled(False)
    table.setRowCount(len(rows))
    for r, (cells, target, colour) in enumerate(rows):
        for c, (text, key) in enumerate(cells):
            item = _Item(text, key)
            if len(text) > 16:  # a long 泄密事项 or title is cut in its column: whole in its tooltip
                item.setToolTip(text)
            if c == 0:
                item.setData(Qt.ItemDataRole.UserRole, target)
            if colour is not None:
                item.setForeground(QBrush(colour))
            table.setItem(r, c, item)
    table.setSortingEnabled(True)
    if column >= 0:
        table.sortItems(column, order)
    table.resizeColumnsToContents()
    for c in range(table.columnCount()):
        table.setColumnWidth(c, min(table.columnWidth(c), 320))


class CarrierWatchPage(QWidget):
    """到期提醒, one of the navigation's pages."""

    open_record = Signal(str, int)  # ledger key, record id
    told = Signal(str)
    opened_events = Signal(int)  # how many leak events the last check opened

    def __init__(self, services, parent: QWidget | None = None, *, check_at_start: bool = True,
                 now: Callable[[], dt.datetime] | None = None) -> None:
        super().__init__(parent)
        self.watch_service = services.carrier_watch
        self.departure_service = services.departure  # 脱密期满 → 已脱密 runs with the check
        self.now = now or services.clock
        self.reader = LatestRead(self)  # 刷新: a newer read supersedes one in flight
        self.checker = LatestRead(self)  # the check: never superseded (it writes), shows the lists too
        self.checked_on: dt.date | None = None
        self.watch = None

        title = QLabel("到期提醒:下落不明的载体、借出到期和未结的泄密事件")
        title.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.summary = QLabel("正在读取……")
        self.summary.setWordWrap(True)
        self.rule = QLabel("依据《泄密事件报告和查处制度》:自发现下落不明之日起,绝密级十日内、机密和秘密级六十日内查无下落的,"
                           "按泄密事件处理(第二条);一般泄密事件须二十四小时内报告,重大泄密事件(一份绝密件或两份以上机密件)"
                           "须立即报告(第六条)。")
        self.rule.setWordWrap(True)
        self.rule.setStyleSheet("color: #555;")
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.setToolTip("重新读取三张清单(F5)")
        self.check_button = QPushButton("立即检查")
        self.check_button.setToolTip("查找期限已过、尚未按泄密事件处理的载体份,立即开立泄密事件")
        self.refresh_button.clicked.connect(self.refresh)
        self.check_button.clicked.connect(self.check)
        buttons = QHBoxLayout()
        buttons.addWidget(title, 1)
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.refresh_button)

        self.missing_table = _sortable(MISSING_HEADERS, "剩余天数")
        self.loan_table = _sortable(LOAN_HEADERS, "剩余天数")
        self.leak_table = _sortable(LEAK_HEADERS, "剩余时间")
        self.missing_box = self._box("下落不明的载体", self.missing_table)
        self.loan_box = self._box("借出到期和逾期未还的载体", self.loan_table)
        self.leak_box = self._box("未结的泄密事件", self.leak_table)
        for table in (self.missing_table, self.loan_table, self.leak_table):
            table.cellDoubleClicked.connect(lambda row, _col, t=table: self._open(t, row))
        splitter = QSplitter(Qt.Orientation.Vertical)
        for box in (self.leak_box, self.missing_box, self.loan_box):
            splitter.addWidget(box)
        splitter.setSizes([190, 260, 170])  # the missing copies, the longest list, get the most room

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.rule)

        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._day_turned)
        self.timer.start()
        if check_at_start:
            self.check()
        else:
            self.refresh()

    @staticmethod
    def _box(title: str, table: QTableWidget) -> QGroupBox:
        box = QGroupBox(title)
        inner = QVBoxLayout(box)
        inner.setContentsMargins(4, 4, 4, 4)
        inner.addWidget(table)
        return box

    # -- reading and checking (off the UI thread) --------------------------------------------

    @property
    def busy(self) -> bool:
        return self.reader.pending or self.checker.pending

    def refresh(self) -> None:
        if self.checker.pending:
            return  # the check in flight reads the lists when it is done
        self.summary.setText("正在读取……")
        self.reader.submit(lambda: (0, self.watch_service.watch()), self._show, self._failed)

    def check(self) -> None:
        """Open the leak events now due, then read the lists (a write of a few rows at most)."""
        self.summary.setText("正在检查查找期限……")
        service, departure = self.watch_service, self.departure_service

        def work():
            opened = service.open_due_events()
            departure.end_due()  # the people whose 脱密期 ended become 已脱密, at each start and new day
            return len(opened), service.watch()

        if self.checker.pending:
            return
        self.checked_on = self.now().date()
        self.reader.cancel()  # an older read would show the lists as they were before the check
        self.checker.submit(work, self._show, self._failed)

    def _day_turned(self) -> None:
        if self.checked_on != self.now().date():
            self.check()
        elif self.watch is not None and not self.busy:  # the hours left to report, as of now
            now = self.now()
            _put(self.leak_table, [self._leak_row(e, now) for e in self.watch.leaks])

    def _failed(self, exc: BaseException) -> None:
        title, text = messages.explain(exc)
        self.summary.setText(f"读取失败:{text}")

    # -- showing -----------------------------------------------------------------------------

    def _show(self, result) -> None:
        opened, watch = result
        self.watch = watch
        now = self.now()
        _put(self.missing_table, [self._missing_row(c) for c in watch.missing])
        _put(self.loan_table, [self._loan_row(c) for c in watch.loans])
        _put(self.leak_table, [self._leak_row(e, now) for e in watch.leaks])
        counting = [c for c in watch.missing if c.days is not None and c.days >= 0]
        overdue = [c for c in watch.loans if c.days is not None and c.days < 0]
        unreported = [e for e in watch.leaks if not e.reported]
        major = [e for e in unreported if e.major]
        self.missing_box.setTitle(f"下落不明的载体({len(watch.missing)} 份,其中 {len(counting)} 份仍在查找期限内)")
        self.loan_box.setTitle(f"借出到期和逾期未还的载体({len(watch.loans)} 份,其中逾期 {len(overdue)} 份)")
        self.leak_box.setTitle(f"未结的泄密事件({len(watch.leaks)} 件,待报告 {len(unreported)} 件)")
        parts = [f"截至 {watch.today.isoformat()}"]
        if opened:
            parts.append(f"本次检查新开立泄密事件 {opened} 件,请补全初次报告并按时报告")
        if major:
            parts.append(f"重大泄密事件 {len(major)} 件须立即向领导和上级保密部门报告")
        if not (watch.missing or watch.loans or watch.leaks):
            parts.append("没有下落不明、到期未还的载体,也没有未结的泄密事件")
        self.summary.setText(";".join(parts) + "。")
        self.summary.setStyleSheet("color: #B00000; font-weight: bold;" if (opened or major) else "")
        if opened:
            self.opened_events.emit(opened)
            self.told.emit(f"已开立泄密事件 {opened} 件")

    @staticmethod
    def _level(level: str | None) -> tuple[str, object]:
        return (level or "", -levels.rank(level))

    def _missing_row(self, c):
        colour = URGENT if (c.leak_event or (c.days is not None and c.days <= 3)) else SOON
        days_key = c.days if c.days is not None else 10**6
        cells = [(c.copy_text, (c.carrier_number, c.copy_number)), (c.title, None), self._level(c.level),
                 (c.holder, None), (_date(c.since), _date(c.since)), (_date(c.due), _date(c.due)),
                 (c.days_text, days_key), (c.leak_event or "", None)]
        return cells, (carriers.CARRIER_COPIES.key, c.copy_id), colour

    def _loan_row(self, c):
        colour = URGENT if c.days < 0 else None
        cells = [(c.copy_text, (c.carrier_number, c.copy_number)), (c.title, None), self._level(c.level),
                 (c.holder, None), (_date(c.due), _date(c.due)), (c.days_text, c.days)]
        return cells, (carriers.CARRIER_COPIES.key, c.copy_id), colour

    def _leak_row(self, e, now: dt.datetime):
        colour = URGENT if not e.reported and (e.major or e.report_by <= now) else None
        left = 0 if e.major else e.hours_left(now)
        cells = [(e.number, None), (e.grade, e.grade != leak_events.MAJOR), (e.item, None), self._level(e.level),
                 (str(e.count or ""), e.count or 0), (e.status, e.reported),
                 (f"{e.opened_at:%Y-%m-%d %H:%M}", e.opened_at), (f"{e.report_by:%Y-%m-%d %H:%M}", e.report_by),
                 (e.deadline_text(now), (e.reported, left))]
        return cells, (leak_events.LEAK_EVENTS.key, e.event_id), colour

    def _open(self, table: QTableWidget, row: int) -> None:
        item = table.item(row, 0)
        target = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if target:
            self.open_record.emit(*target)


def _date(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


__all__ = ["CarrierWatchPage"]
