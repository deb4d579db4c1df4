"""Small widgets the windows share."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QLineEdit,
    QStyle,
    QStyleOptionFrame,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)


def read_only_table(headers: list[str], *, select_rows: bool = True) -> QTableWidget:
    """A list to read (accounts, audit entries, import problems): no editing, striped rows."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    if select_rows:
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)  # Tab goes on to the next control, as from any list; the arrows move in it
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


class FittingLineEdit(QLineEdit):
    """A line edit whose placeholder is the longest of several, longest first, that fits its
    width: Qt cuts one too long with “…” (the search box at 1366×768 is narrow beside a
    ledger's filter lists, and showed 输入即查找:设备编号、品牌型号…)."""

    def __init__(self, placeholders: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.placeholders = placeholders
        self.setPlaceholderText(placeholders[0])

    def placeholder_room(self) -> int:
        """The width the placeholder is drawn in: the contents less the text margins and Qt's
        two pixels each side (a clear button takes no room while the box is empty)."""
        option = QStyleOptionFrame()
        self.initStyleOption(option)
        contents = self.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, self)
        margins = self.textMargins()
        return contents.width() - margins.left() - margins.right() - 4

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        room, metrics = self.placeholder_room(), self.fontMetrics()
        fits = [text for text in self.placeholders if metrics.horizontalAdvance(text) <= room]
        self.setPlaceholderText(fits[0] if fits else self.placeholders[-1])
