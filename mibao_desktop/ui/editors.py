"""One input widget per declared field, chosen by the field's type.

Each editor gives and takes the raw text a user types; the core normalises and validates it,
so the form accepts exactly what an Excel import accepts (``2019年3月5日``, ``00:1a:…``, ``机密级``).
A reference or person field (引用、人员) completes from the records as the user types and keeps
the record chosen (its id), so that two people of the same name are never confused.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable

from PySide6.QtCore import QDate, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCalendarWidget,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from mibao_desktop.ledgers.fields import Field, Ref
from mibao_desktop.ledgers.normalize import FieldError, normalise_date
from mibao_desktop.ui.tasks import LatestRead


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

    def value(self) -> Any:
        """What goes to the service: the text, or the record chosen from a completion."""
        return self.text()

    def set_value(self, value: Any) -> None:
        """Show a stored value (the form of a record being changed)."""
        self.set_text(self.field.display(value))

    def focus_widget(self) -> QWidget:
        return self

    def tab_widgets(self) -> list[QWidget]:
        """What Tab stops at in this editor, in order (the form chains them field by field)."""
        return [self.focus_widget()]


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
        self.pick.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        # Not a Tab stop between two fields (a date is typed); Alt+↓ in the date opens it, as
        # it opens a drop-down list.
        self.pick.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.pick.setToolTip("从日历中选择日期(Alt+↓)")
        open_calendar = QShortcut(QKeySequence(Qt.KeyboardModifier.AltModifier | Qt.Key.Key_Down), self.line)
        open_calendar.setContext(Qt.ShortcutContext.WidgetShortcut)
        open_calendar.activated.connect(self.pick.showMenu)
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


Suggest = Callable[[str], list[tuple[Ref, str]]]  # text typed → (record, text shown in the list)
SUGGEST_DELAY_MS = 150  # a pause in typing, so that a fast typist is not slowed by each key
RefRole = Qt.ItemDataRole.UserRole + 1
_SEPARATOR = re.compile(r"[;；,，、\n]")


class ReferenceEditor(LineEditor):
    """A person (责任人、使用人) or a record number (连接的计算机): typed, with a list of the
    records that match what is typed so far, people shown with department and number
    (张伟(科研一处·RY-0012)). Choosing one keeps that record; a name nobody has yet is
    allowed and added to the 人员名册 on saving. A ``many`` field completes the item after
    the last “；”."""

    def __init__(self, field: Field, suggest: Suggest | None, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.suggest = suggest
        self.chosen: tuple[Ref, str] | None = None  # the record picked, and the text it was shown by
        self.items = QStandardItemModel(self)
        self.completer = QCompleter(self.items, self)
        self.completer.setWidget(self.line)  # not setCompleter: the line's text is set here
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)  # RY-0012 finds 张伟(科研一处·RY-0012)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setMaxVisibleItems(12)
        self.completer.activated[QModelIndex].connect(self._picked)
        self.reads = LatestRead(self)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SUGGEST_DELAY_MS)
        self.timer.timeout.connect(self._ask)
        self.line.textEdited.connect(self._typed)
        if not field.many:
            self.line.setPlaceholderText("输入姓名可选择人员名册中的人;新的姓名保存时加入名册" if field.is_person
                                         else "输入编号可从已登记的记录中选择")

    # -- values -------------------------------------------------------------------------------

    def value(self) -> Any:
        text = self.text()
        if self.field.many:
            return text  # numbers resolve on their own: they are unique in the target ledgers
        if self.chosen is not None and self.chosen[1] == text:
            return self.chosen[0]
        return text

    def set_value(self, value: Any) -> None:
        super().set_value(value)
        # The stored record is kept as it is, so that saving other changes never asks again
        # which of two namesakes was meant.
        self.chosen = (value, self.text()) if isinstance(value, Ref) and value.id is not None else None

    def set_text(self, text: str) -> None:
        self.chosen = None
        super().set_text(text)

    # -- completion ---------------------------------------------------------------------------

    def segment(self) -> str:
        """What is being completed: the whole text, or the item after the last separator."""
        text = self.text()
        return _SEPARATOR.split(text)[-1].strip() if self.field.many else text.strip()

    def _typed(self, _text: str) -> None:
        if self.chosen is not None and self.chosen[1] != self.text():
            self.chosen = None  # changed by hand: no longer the record picked
        self.timer.start()

    def _ask(self) -> None:
        wanted = self.segment()
        if self.suggest is None or not wanted:
            self.reads.cancel()
            self.completer.popup().hide()
            return
        self.reads.submit(lambda: self.suggest(wanted), lambda found: self._offer(wanted, found))

    def _offer(self, wanted: str, found: list[tuple[Ref, str]]) -> None:
        self.items.clear()
        for ref, shown in found:
            item = QStandardItem(shown)
            item.setData(ref, RefRole)
            item.setToolTip(shown)
            self.items.appendRow(item)
        if not found or not self.line.hasFocus() or wanted != self.segment():
            self.completer.popup().hide()
            return
        self.completer.setCompletionPrefix(wanted)
        self.completer.complete()

    def offered(self) -> list[str]:
        """The texts in the list last offered (tests and the screen reader read them)."""
        return [self.items.item(i).text() for i in range(self.items.rowCount())]

    def _picked(self, index: QModelIndex) -> None:
        ref: Ref = index.data(RefRole)
        shown = index.data(Qt.ItemDataRole.DisplayRole)
        if ref is None:
            return
        if self.field.many:
            # Replace the item being typed by the number chosen, ready for the next one.
            text = self.text()
            cut = max((m.end() for m in _SEPARATOR.finditer(text)), default=0)
            self.line.setText(text[:cut] + ref.text + "；")
            self.chosen = None
        else:
            self.line.setText(shown)
            self.chosen = (ref, shown)
        self.timer.stop()
        self.edited.emit()

    def choose(self, shown: str) -> None:
        """Pick the offered entry with this text, as a click in the list does."""
        for row in range(self.items.rowCount()):
            if self.items.item(row).text() == shown:
                self._picked(self.items.index(row, 0))
                return
        raise KeyError(shown)


def editor_for(field: Field, parent: QWidget | None = None, *, suggest: Suggest | None = None) -> FieldEditor:
    kind = field.type.editor
    if field.is_reference:
        return ReferenceEditor(field, suggest, parent)
    if field.many:
        return LineEditor(field, parent)
    if kind == "choice":
        return ChoiceEditor(field, parent)
    if kind == "date":
        return DateEditor(field, parent)
    if kind == "text":
        return TextEditor(field, parent)
    return LineEditor(field, parent)


__all__ = ["FieldEditor", "ReferenceEditor", "editor_for"]
