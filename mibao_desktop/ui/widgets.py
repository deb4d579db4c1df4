"""Small widgets the windows share."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QStyle,
    QStyleOptionFrame,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QWidget,
)

from mibao_desktop.ui import messages


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


def form_state(root: QWidget) -> list:
    """What can be typed or chosen in a dialog, comparable: the texts of its fields (a spin
    box's and an editable list's too), its choices, ticks, lists and the buttons' texts (a
    colour picked shows there)."""
    state = []
    for widget in root.findChildren(QWidget):
        if isinstance(widget, QLineEdit):
            state.append(widget.text())
        elif isinstance(widget, (QPlainTextEdit, QTextEdit)):
            state.append(widget.toPlainText())
        elif isinstance(widget, QComboBox):
            state.append(widget.currentIndex())
        elif isinstance(widget, QAbstractButton):
            state.append((widget.text(), widget.isChecked()))
        elif isinstance(widget, QListWidget):
            state.append([widget.item(i).text() for i in range(widget.count())])
    return state


class AsksBeforeDiscarding:
    """A dialog (before QDialog in its bases) whose Esc asks first when something was changed
    since it opened, as the record form's does: a stray Esc lost what was typed. Only the key
    asks: 取消 is a choice made, and a close by the app (the idle lock, 注销, the window's end)
    must never wait on a question."""

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if getattr(self, "_state_at_open", None) is None:
            self._state_at_open = form_state(self)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.key() == Qt.Key.Key_Escape and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            opened = getattr(self, "_state_at_open", None)
            if opened is not None and form_state(self) != opened and not messages.confirm(
                    self, "放弃修改", "已填写的内容尚未保存,确定放弃吗?", action="放弃修改", cancel="继续编辑"):
                event.accept()
                return
        super().keyPressEvent(event)
