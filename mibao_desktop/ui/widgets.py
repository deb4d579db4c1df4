"""Small widgets the windows share."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QDateEdit, QTableWidget, QTableWidgetItem, QWidget


def read_only_table(headers: list[str], *, select_rows: bool = True) -> QTableWidget:
    """A list to read (accounts, audit entries, import problems): no editing, striped rows."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    if select_rows:
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def fill_table(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))


def key_on(widget: QWidget, key, slot) -> QShortcut:
    """A key that acts only while ``widget`` has the focus (Enter or Del on a table). The
    context is set apart: PySide6's constructor ignores a ``context=`` keyword, and a window-wide
    Del or Enter would act on the table from any other field."""
    shortcut = QShortcut(QKeySequence(key), widget)
    shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
    shortcut.activated.connect(slot)
    return shortcut


class DateEdit(QDateEdit):
    """A date whose Tab goes to the next field. QDateEdit's own Tab walks year → month → day
    first, so a typist tabbing on from the date never reached the reason (the status was
    saved without it); the arrow keys still move between the parts."""

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: A002,N802 (Qt's names)
        return QWidget.focusNextPrevChild(self, next)
