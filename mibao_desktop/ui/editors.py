"""One input widget per declared field, chosen by the field's type.

Each editor gives and takes the raw text a user types; the core normalises and validates it,
so the form accepts exactly what an Excel import accepts (``2019年3月5日``, ``00:1a:…``, ``机密级``).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCalendarWidget,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from mibao_desktop.ledgers.fields import Field
from mibao_desktop.ledgers.normalize import FieldError, normalise_date


class FieldEditor(QWidget):
    """The common face of every editor: ``text()``, ``set_text()`` and ``edited``."""

    edited = Signal()  # the user finished changing the value (check it now)

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._layout = layout

    def text(self) -> str:
        raise NotImplementedError

    def set_text(self, text: str) -> None:
        raise NotImplementedError

    def focus_widget(self) -> QWidget:
        return self


class LineEditor(FieldEditor):
    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.line = QLineEdit()
        limit = getattr(field.type, "max_length", None)
        if limit and not field.many:
            self.line.setMaxLength(limit + 20)  # let an over-long paste through, to be named
        if field.many:
            self.line.setPlaceholderText("可填多个,用“；”或“,”分隔")
        elif field.help:
            self.line.setPlaceholderText(field.help)
        self.line.editingFinished.connect(self.edited)
        self._layout.addWidget(self.line)

    def text(self) -> str:
        return self.line.text()

    def set_text(self, text: str) -> None:
        self.line.setText(text)

    def focus_widget(self) -> QWidget:
        return self.line


class TextEditor(FieldEditor):
    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.box = QPlainTextEdit()
        self.box.setTabChangesFocus(True)
        self.box.setFixedHeight(64)
        self.box.textChanged.connect(self.edited)
        self._layout.addWidget(self.box)

    def text(self) -> str:
        return self.box.toPlainText()

    def set_text(self, text: str) -> None:
        self.box.setPlainText(text)

    def focus_widget(self) -> QWidget:
        return self.box


class ChoiceEditor(FieldEditor):
    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.combo = QComboBox()
        self.combo.setEditable(bool(getattr(field.type, "open_list", False)))
        if not field.required:
            self.combo.addItem("")
        self.combo.addItems(list(field.choices))
        self.combo.currentTextChanged.connect(lambda _t: self.edited.emit())
        self._layout.addWidget(self.combo)

    def text(self) -> str:
        return self.combo.currentText()

    def set_text(self, text: str) -> None:
        if self.combo.findText(text) < 0:
            self.combo.addItem(text)
        self.combo.setCurrentText(text)

    def focus_widget(self) -> QWidget:
        return self.combo


class DateEditor(LineEditor):
    """A date typed in any usual spelling, or picked from a calendar."""

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.line.setPlaceholderText("如 2023-03-05 或 2023年3月5日")
        self.pick = QToolButton()
        self.pick.setText("日历")
        self.pick.setToolTip("从日历中选择日期")
        self.pick.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.pick)
        self.calendar = QCalendarWidget()
        self.calendar.setMaximumDate(QDate.currentDate())
        action = QWidgetAction(menu)
        action.setDefaultWidget(self.calendar)
        menu.addAction(action)
        menu.aboutToShow.connect(self._show_current)
        self.calendar.clicked.connect(lambda date: (self._picked(date), menu.close()))
        self.pick.setMenu(menu)
        self._layout.addWidget(self.pick)

    def _show_current(self) -> None:
        try:
            value = normalise_date(self.text())
        except FieldError:
            value = dt.date.today()
        self.calendar.setSelectedDate(QDate(value.year, value.month, value.day))

    def _picked(self, date: QDate) -> None:
        self.set_text(date.toString("yyyy-MM-dd"))
        self.edited.emit()


def editor_for(field: Field, parent: QWidget | None = None) -> FieldEditor:
    kind = field.type.editor
    if field.many:
        return LineEditor(field, parent)
    if kind == "choice":
        return ChoiceEditor(field, parent)
    if kind == "date":
        return DateEditor(field, parent)
    if kind == "text":
        return TextEditor(field, parent)
    return LineEditor(field, parent)


__all__ = ["FieldEditor", "editor_for"]
