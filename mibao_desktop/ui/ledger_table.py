"""The ledger's table view: the 序号 and the record's number stay in view while the other
columns scroll sideways, as the frozen first columns of the Excel sheets the administrators kept.

The 序号 is the vertical header (it never scrolls sideways); the number column is covered by a
second view of the same model and selection, showing that column only, laid over the first
column of the table (Qt's "frozen column" arrangement). The number column is kept first.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QWidget


class LedgerTableView(QTableView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frozen_column = 0
        # Tab leaves the table for the record's pane (its history, 撤销, the copies' 办理, a
        # person's 打印清单 and 离岗离职…): it went from cell to cell round a read-only table and
        # never left it, and the arrows already move between cells
        self.setTabKeyNavigation(False)
        self.frozen = QTableView(self)
        self.frozen.setObjectName("frozen")
        self.frozen.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.frozen.verticalHeader().hide()
        self.frozen.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.frozen.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.frozen.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.frozen.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.frozen.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.frozen.setAlternatingRowColors(True)
        self.frozen.setWordWrap(False)
        self.frozen.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.frozen.horizontalHeader().setHighlightSections(False)
        self.frozen.setStyleSheet("QTableView#frozen { border: none; border-right: 1px solid #b8b8b8; }")
        self.viewport().stackUnder(self.frozen)
        # The 序号 title over the row numbers (the corner of a table has no text of its own).
        self.corner = QLabel("序号", self)
        self.corner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.corner.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        # The row numbers' column is at least as wide as its title: sized to its numbers alone,
        # a ledger or a search of fewer than 100 rows cut 序号 to half a character.
        self.verticalHeader().setMinimumWidth(self.corner.sizeHint().width() + 6)
        self.setCornerButtonEnabled(False)
        # What an empty table means (no record yet, or none found), over the blank rows; set by
        # the page, which knows which (ledger_page.LedgerPage._after_refresh).
        self.empty = QLabel(self)
        self.empty.setObjectName("empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("QLabel#empty { color: #666; padding: 24px 12px; }")
        self.empty.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.empty.hide()
        self.horizontalHeader().sectionResized.connect(self._section_resized)
        self.horizontalHeader().sectionMoved.connect(lambda *_a: self._keep_frozen_first())
        self.horizontalHeader().sortIndicatorChanged.connect(
            lambda column, order: self.frozen.horizontalHeader().setSortIndicator(column, order))
        self.verticalHeader().sectionResized.connect(
            lambda row, _old, size: self.frozen.setRowHeight(row, size))
        self.frozen.horizontalHeader().sectionClicked.connect(self._frozen_header_clicked)
        self.frozen.verticalScrollBar().valueChanged.connect(self.verticalScrollBar().setValue)
        self.verticalScrollBar().valueChanged.connect(self.frozen.verticalScrollBar().setValue)
        self.frozen.doubleClicked.connect(self.doubleClicked)
        # A click on a number selects its row in the table and gives the table the keys
        # (Enter, Del, Ctrl+C act on it), as a click on any other cell does.
        self.frozen.pressed.connect(lambda _index: self.setFocus())

    # -- set up -------------------------------------------------------------------------------

    def setModel(self, model) -> None:  # noqa: N802 (Qt's name)
        super().setModel(model)
        self.frozen.setModel(model)
        self.frozen.setSelectionModel(self.selectionModel())  # one selection for both views
        model.modelReset.connect(self._show_frozen_column)
        self._show_frozen_column()

    def freeze(self, column: int) -> None:
        """Keep this (logical) column first and in view."""
        self.frozen_column = column
        self._keep_frozen_first()
        self._show_frozen_column()

    def _show_frozen_column(self) -> None:
        model = self.model()
        if model is None:
            return
        for column in range(model.columnCount()):
            self.frozen.setColumnHidden(column, column != self.frozen_column)
        self.frozen.setColumnWidth(self.frozen_column, self.columnWidth(self.frozen_column))
        self.frozen.verticalHeader().setDefaultSectionSize(self.verticalHeader().defaultSectionSize())
        self.frozen.horizontalHeader().setSortIndicatorShown(self.isSortingEnabled())
        self.frozen.horizontalHeader().setSortIndicator(self.horizontalHeader().sortIndicatorSection(),
                                                        self.horizontalHeader().sortIndicatorOrder())
        self._place_frozen()

    def _keep_frozen_first(self) -> None:
        header = self.horizontalHeader()
        if header.visualIndex(self.frozen_column) != 0:
            header.blockSignals(True)
            header.moveSection(header.visualIndex(self.frozen_column), 0)
            header.blockSignals(False)
            self._place_frozen()

    def _section_resized(self, column: int, _old: int, size: int) -> None:
        if column == self.frozen_column:
            self.frozen.setColumnWidth(column, size)
        self._place_frozen()

    def _frozen_header_clicked(self, column: int) -> None:
        """A click on the number's header sorts as a click on the table's own header does."""
        header = self.horizontalHeader()
        order = Qt.SortOrder.AscendingOrder
        if header.sortIndicatorSection() == column and header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder:
            order = Qt.SortOrder.DescendingOrder
        header.setSortIndicator(column, order)

    # -- geometry -------------------------------------------------------------------------------

    def _place_frozen(self) -> None:
        frame = self.frameWidth()
        left = self.verticalHeader().width() + frame
        self.frozen.setVisible(not self.isColumnHidden(self.frozen_column))
        self.frozen.setGeometry(left, frame, self.columnWidth(self.frozen_column),
                                self.viewport().height() + self.horizontalHeader().height())
        self.frozen.horizontalHeader().setFixedHeight(self.horizontalHeader().height())
        self.corner.setGeometry(frame, frame, self.verticalHeader().width(), self.horizontalHeader().height())
        beside = self.viewport().geometry()  # right of the number's column, which lies over the rows
        if self.frozen.isVisible():
            beside.setLeft(max(beside.left(), self.frozen.geometry().right() + 1))
        self.empty.setGeometry(beside)
        self.empty.raise_()

    def set_empty_text(self, text: str) -> None:
        """Shown over the table while it has no rows; an empty text shows nothing."""
        self.empty.setText(text)
        self.empty.setVisible(bool(text))
        self._place_frozen()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_frozen()

    def updateGeometries(self) -> None:  # noqa: N802
        super().updateGeometries()
        self._place_frozen()

    def moveCursor(self, action, modifiers) -> QModelIndex:  # noqa: N802
        """Moving sideways with the keys never leaves the current cell under the frozen column."""
        current = super().moveCursor(action, modifiers)
        if (action == QAbstractItemView.CursorAction.MoveLeft and current.isValid()
                and current.column() != self.frozen_column
                and self.visualRect(current).left() < self.columnWidth(self.frozen_column)):
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() + self.visualRect(current).left() - self.columnWidth(self.frozen_column))
        return current

    def scrollTo(self, index: QModelIndex, hint=QAbstractItemView.ScrollHint.EnsureVisible) -> None:  # noqa: N802
        """Showing a row of the frozen column scrolls up or down only, never sideways."""
        if index.isValid() and index.column() == self.frozen_column:
            keep = self.horizontalScrollBar().value()
            super().scrollTo(index, hint)
            self.horizontalScrollBar().setValue(keep)
            return
        super().scrollTo(index, hint)
