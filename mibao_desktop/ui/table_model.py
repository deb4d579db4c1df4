"""The ledger table: a Qt model over the ledger service, fetched page by page.

Filtering, sorting and counting happen in the database (the service), so 100,000 records
show as fast as 100: the model asks for the page a visible row is on, and keeps a few.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from mibao_desktop.errors import Cancelled
from mibao_desktop.ledgers import Ledger, levels
from mibao_desktop.ledgers.fields import Level
from mibao_desktop.ledgers.pending import PENDING, gap_fields
from mibao_desktop.services.ledger_service import LedgerService, Page, RecordView
from mibao_desktop.services.repository import LedgerQuery

PAGE_SIZE = 200
PAGES_KEPT = 30

_STATUS_COLOURS = {"停用": "#8a6d00", "维修": "#8a6d00", "外出": "#1f5fa8", "借出": "#1f5fa8",
                   "报废": "#a33", "已销毁": "#777"}
_PENDING_COLOUR = "#b35c00"  # 待补充: a required field the imported file never kept

RecordIdRole = Qt.ItemDataRole.UserRole + 1


def read_rows(service: LedgerService, ledger: Ledger, query: LedgerQuery, rows: list[int],
              cancelled=lambda: False) -> list[RecordView]:
    """The records of these rows of ``query`` (a page limit), page by page: plain work for a
    worker thread (copying a long selection)."""
    out: list[RecordView] = []
    pages: dict[int, list[RecordView]] = {}
    for row in rows:
        number = row // query.limit
        if number not in pages:
            if cancelled():
                raise Cancelled()
            pages[number] = service.rows(ledger, replace(query, filters=dict(query.filters), offset=number * query.limit))
        found = pages[number]
        if row % query.limit < len(found):
            out.append(found[row % query.limit])
    return out


class LedgerTableModel(QAbstractTableModel):
    def __init__(self, service: LedgerService, ledger: Ledger, parent=None) -> None:
        super().__init__(parent)
        self.service = service
        self.ledger = ledger
        self.fields = list(ledger.fields)
        self.query = LedgerQuery(limit=PAGE_SIZE)
        self.total = 0
        self.counted = True  # False while a broad search's count is still being read
        self._pages: OrderedDict[int, list[RecordView]] = OrderedDict()
        self._struck = QFont()
        self._struck.setStrikeOut(True)
        self._gaps = frozenset(f.name for f in gap_fields(ledger))

    # -- what is shown --------------------------------------------------------------------

    def set_text(self, text: str) -> None:
        if text != self.query.text:
            self.query.text = text
            self.refresh()

    def set_filter(self, name: str, value: str | None) -> None:
        if value:
            self.query.filters[name] = value
        else:
            self.query.filters.pop(name, None)
        self.refresh()

    def set_include_voided(self, include: bool) -> None:
        self.query.include_voided = include
        self.refresh()

    def set_pending(self, pending: bool) -> None:
        """Only the records 待补充 (a required field the imported file never kept, still empty)."""
        self.query.pending = pending
        self.refresh()

    def current_query(self, *, limit: int | None = None) -> LedgerQuery:
        """The query the table shows (exports use it with no page limit)."""
        q = self.query
        return LedgerQuery(text=q.text, filters=dict(q.filters), include_voided=q.include_voided,
                           parent_id=q.parent_id, sort=q.sort, descending=q.descending, limit=limit,
                           pending=q.pending)

    def read(self, query: LedgerQuery, *, count: bool = True) -> Page:
        """The first page of ``query`` and its count: plain work that may run on a worker
        thread (the search box reads as the user types). With ``count=False`` a broad search
        gives its first page without waiting for the count (``Page.total`` None)."""
        return self.service.query(self.ledger, query, count=count)

    def show(self, query: LedgerQuery, page: Page) -> None:
        """Show what :meth:`read` returned for ``query`` (on the UI thread). Without a count,
        the rows read are shown and :attr:`counted` is False until :meth:`set_total`."""
        self.beginResetModel()
        self.query = query
        self._pages.clear()
        self.counted = page.total is not None or len(page.rows) < PAGE_SIZE  # a short page is all there is
        self.total = page.total if page.total is not None else len(page.rows)
        self._pages[0] = page.rows
        self.endResetModel()

    def set_total(self, total: int) -> None:
        """The count of a search shown without one: the rows past the first page appear."""
        if total > self.total:
            self.beginInsertRows(QModelIndex(), self.total, total - 1)
            self.total = total
            self.endInsertRows()
        self.counted = True

    def refresh(self) -> None:
        """Ask the database again, and wait for the answer (after a change, F5, a filter)."""
        query = self.current_query(limit=PAGE_SIZE)
        self.show(query, self.read(query))

    # -- rows -----------------------------------------------------------------------------

    def _page(self, number: int) -> list[RecordView]:
        if number in self._pages:
            self._pages.move_to_end(number)
            return self._pages[number]
        query = self.current_query(limit=PAGE_SIZE)
        query.offset = number * PAGE_SIZE
        rows = self.service.rows(self.ledger, query)
        self._pages[number] = rows
        while len(self._pages) > PAGES_KEPT:
            self._pages.popitem(last=False)
        return rows

    def record_at(self, row: int) -> RecordView | None:
        if not 0 <= row < self.total:
            return None
        rows = self._page(row // PAGE_SIZE)
        offset = row % PAGE_SIZE
        return rows[offset] if offset < len(rows) else None

    def cached_record(self, row: int) -> RecordView | None:
        """The record of a row already read, or None (nothing is read here)."""
        rows = self._pages.get(row // PAGE_SIZE) if 0 <= row < self.total else None
        offset = row % PAGE_SIZE
        return rows[offset] if rows is not None and offset < len(rows) else None

    def row_of(self, record_id: int) -> int | None:
        """The row of a record among the pages already fetched (after a refresh: page one)."""
        for number, rows in self._pages.items():
            for i, record in enumerate(rows):
                if record.id == record_id:
                    return number * PAGE_SIZE + i
        return None

    def column_of(self, name: str) -> int:
        return next(i for i, f in enumerate(self.fields) if f.name == name)

    # -- Qt model -------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.total

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.fields)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            f = self.fields[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return f.label
            if role == Qt.ItemDataRole.ToolTipRole:
                return f.help or f.label
        elif role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        record = self.record_at(index.row())
        if record is None:
            return None
        f = self.fields[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            text = record.display(f.name)
            return PENDING if not text and f.name in self._gaps and not record.voided else text
        if role == RecordIdRole:
            return record.id
        if role == Qt.ItemDataRole.ForegroundRole:
            if record.voided:
                return QBrush(QColor("#999"))
            if f.name in self._gaps and record.values.get(f.name) is None:
                return QBrush(QColor(_PENDING_COLOUR))
            colour = (_STATUS_COLOURS.get(record.status) if f is self.ledger.status_field
                      else levels.colour(record.values.get(f.name)) if isinstance(f.type, Level) else None)
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.FontRole and record.voided:
            return self._struck
        if role == Qt.ItemDataRole.ToolTipRole:
            if record.voided:
                return f"已作废:{record.void_reason or ''}"
            text = record.display(f.name)
            return text if len(text) > 20 else None
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.fields):
            return
        self.query.sort = self.fields[column].name
        self.query.descending = order == Qt.SortOrder.DescendingOrder
        self.refresh()
