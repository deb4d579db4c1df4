"""保密教育培训 in the desktop: a session's attendees (chosen from the 人员名册 with a list that
filters as you type, or imported from a sign-in sheet) and its 培训签到表; the year's list of
who is short of hours, printed. Widgets only: every read and write is ``Services.training``'s,
and the reads that may take long (the register, the year's hours) run through ``ui/tasks.py``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QListWidget, QPushButton, QSpinBox, QTableView, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from mibao_desktop.ledgers.normalize import search_form, search_terms
from mibao_desktop.ui import messages
from mibao_desktop.ui.print_dialog import _PrintDialog
from mibao_desktop.ui.tasks import run_in_background

SHORT_HEADERS = ("人员编号", "姓名", "部门", "涉密等级", "参训次数", "已完成学时", "最低学时", "尚差学时")


def _person_text(p: dict) -> str:
    grade = f"  [{p['grade']}]" if p.get("grade") else ""
    return f"{p['name']}  {p['department'] or '未填部门'}  {p['number']}{grade}"


def _hay(p: dict) -> str:
    """What the filter looks in: the line and the name's 拼音 initials, in the search form the
    ledgers' search box compares in (``normalize.search_form``: NFKC, case folded). Made with the
    reading of the register, off the UI thread: 20,000 distinct names take about 2 s to spell out."""
    from mibao_desktop.ledgers import pinyin

    return search_form(f"{_person_text(p)} {' '.join(pinyin.initials(p['name']))}")


def _register(training, tid: int):
    """The session's attendees, the people to choose from and their filter texts (a worker's)."""
    people = training.people_to_choose()
    return training.attendees(tid), people, [_hay(p) for p in people]


class PeopleModel(QAbstractListModel):
    """The people to choose from, each with a tick box, filtered in memory as one types: a row
    is shown when its text holds every word typed, compared as the ledgers' search box compares
    (``normalize.search_terms``). What is shown is a list of positions, made again at each
    keystroke (from those shown before when the words only grew: typing on); the view (a table
    of one column: rows of one height, none measured) draws only the rows on screen. A
    QListWidget hiding 20,000 items one by one took ~150 ms a keystroke on the UI thread, a
    QListView laying out 20,000 rows after each reset ~100 ms (bench/bench_attendee_filter.py).
    The ticks are kept by person, whatever the filter shows."""

    ticked = Signal(int)  # how many are ticked

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.people: list[dict] = []
        self.hay: list[str] = []
        self.shown: list[int] = []
        self.checked: set[int] = set()
        self.words: list[str] = []

    def reset(self, people: list[dict], hay: list[str]) -> None:
        self.beginResetModel()
        self.people, self.hay = people, hay
        self.checked = set()
        self.shown = self._matching()
        self.endResetModel()
        self.ticked.emit(0)

    def set_filter(self, text: str) -> None:
        old, self.words = self.words, search_terms(text)
        # each word typed on holds the one before it: only the rows shown can still match
        narrower = bool(old) and len(self.words) >= len(old) and all(o in n for o, n in zip(old, self.words))
        self.beginResetModel()
        self.shown = self._matching(self.shown if narrower else None)
        self.endResetModel()

    def _matching(self, among: list[int] | None = None) -> list[int]:
        words, hay = self.words, self.hay
        if not words:
            return list(range(len(self.people)))
        if among is not None:
            return [i for i in among if all(w in hay[i] for w in words)]
        if len(words) == 1:
            w = words[0]
            return [i for i, h in enumerate(hay) if w in h]
        return [i for i, h in enumerate(hay) if all(w in h for w in words)]

    def person(self, row: int) -> dict:
        return self.people[self.shown[row]]

    def shown_names(self) -> list[str]:
        return [self.people[i]["name"] for i in self.shown]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else len(self.shown)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        p = self.person(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return _person_text(p)
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if p["id"] in self.checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.UserRole:
            return p["id"]
        return None

    def flags(self, index):
        return super().flags(index) | Qt.ItemFlag.ItemIsUserCheckable

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):  # noqa: N802
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid():
            return False
        pid = self.person(index.row())["id"]
        if Qt.CheckState(value) == Qt.CheckState.Checked:
            self.checked.add(pid)
        else:
            self.checked.discard(pid)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.ticked.emit(len(self.checked))
        return True

    def tick(self, row: int, on: bool = True) -> None:
        self.setData(self.index(row), (Qt.CheckState.Checked if on else Qt.CheckState.Unchecked).value,
                     Qt.ItemDataRole.CheckStateRole)


def people_view(model: PeopleModel) -> QTableView:
    """The picker's list: a table of one column, rows of one height, so that the 20,000 rows a
    keystroke may show again are not laid out one by one (only those on screen are drawn)."""
    view = QTableView()
    view.setModel(model)
    view.horizontalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.setShowGrid(False)
    view.setTabKeyNavigation(False)  # one column: Tab goes on to the next control
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    return view


class AttendeesDialog(QDialog):
    """参训人员 of one session: who is on it, and people of the register to add, found by typing
    part of a name, a department, a number or the 拼音 initials' first letters of a name."""

    def __init__(self, services, training, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.training = services, training
        self.setWindowTitle(f"参训人员 — {training.display('subject')}({training.display('held_on')})")
        self.task = None
        self.attending = QListWidget()
        self.attending.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.count = QLabel()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("输入姓名、部门或编号筛选")
        self.filter.textChanged.connect(self.apply_filter)
        self.people = PeopleModel(self)
        self.choices = people_view(self.people)
        self.chosen = QLabel("已选 0 人")
        self.people.ticked.connect(self._count_chosen)
        self.add_button = QPushButton("添加所选人员")
        self.add_button.clicked.connect(self.add_chosen)
        self.import_button = QPushButton("从签到表导入…")
        self.import_button.clicked.connect(lambda: self.import_sheet())
        self.print_button = QPushButton("打印签到表…")
        self.print_button.clicked.connect(self.print_sheet)
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)

        left = QVBoxLayout()
        left.addWidget(QLabel("本次参训人员"))
        left.addWidget(self.attending, 1)
        left.addWidget(self.count)
        right = QVBoxLayout()
        right.addWidget(QLabel("从人员名册选择(勾选后添加)"))
        right.addWidget(self.filter)
        right.addWidget(self.choices, 1)
        right.addWidget(self.chosen)
        right.addWidget(self.add_button)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(right, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.print_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addLayout(buttons)
        self.resize(900, 600)
        self.load()

    # -- reads off the UI thread -------------------------------------------------------------

    def load(self) -> None:
        training = self.services.training
        tid = self.training.id
        self.task = run_in_background(self, "正在读取人员名册……",
                                      lambda _p, _c: _register(training, tid),
                                      on_done=self._loaded, on_error=lambda exc: messages.show_error(self, "无法读取", exc))

    def _loaded(self, result) -> None:
        attendees, people, hays = result
        held = {p["id"] for p in attendees}
        self.attending.clear()
        for p in attendees:
            self.attending.addItem(_person_text(p))
        self.count.setText(f"共 {len(attendees)} 人")
        offered = [(p, h) for p, h in zip(people, hays) if p["id"] not in held]
        self.people.words = search_terms(self.filter.text())
        self.people.reset([p for p, _h in offered], [h for _p, h in offered])

    def apply_filter(self, text: str) -> None:
        """Show the people whose line holds every word typed (in memory: no query)."""
        self.people.set_filter(text)

    def checked_ids(self) -> list[int]:
        return sorted(self.people.checked)

    def _count_chosen(self, _n: int = 0) -> None:
        n = len(self.people.checked)
        self.chosen.setText(f"已选 {n} 人")
        self.add_button.setEnabled(n > 0)

    # -- writes -----------------------------------------------------------------------------

    def add_chosen(self) -> None:
        ids = self.checked_ids()
        if not ids:
            return
        training, tid = self.services.training, self.training.id
        self.task = run_in_background(self, "正在登记参训人员……", lambda _p, _c: training.add_attendees(tid, ids),
                                      on_done=lambda _n: self.load(), on_error=lambda exc: messages.show_error(self, "未能添加", exc))

    def import_sheet(self, path: str | Path | None = None) -> None:
        """A sign-in sheet: checked first (nothing stored), the refusals shown by row, then stored."""
        from mibao_desktop.excel.training_sheet import import_sign_in

        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "选择培训签到表", "",
                                                  "表格文件 (*.xlsx *.xlsm *.xls *.et *.ods *.csv);;所有文件 (*)")
            if not path:
                return
        training, tid = self.services.training, self.training.id

        def previewed(result) -> None:
            _sheet, found = result
            lines = [f"可登记 {len(found.matched)} 人" + (f",已在本次培训中 {len(found.already)} 人" if found.already else "")]
            lines += [f"第 {row} 行:{why}" for row, why in found.refused[:30]]
            if len(found.refused) > 30:
                lines.append(f"……另有 {len(found.refused) - 30} 行未能导入")
            if not found.matched:
                messages.inform(self, "签到表", "\n".join(lines))
                return
            if messages.confirm(self, "导入签到表", "\n".join(lines) + "\n\n导入可登记的人员?", action="导入"):
                self.task = run_in_background(self, "正在导入签到表……",
                                              lambda _p, _c: import_sign_in(training, tid, path),
                                              on_done=lambda _r: self.load(),
                                              on_error=lambda exc: messages.show_error(self, "未能导入", exc))

        self.task = run_in_background(self, "正在读取签到表……",
                                      lambda _p, _c: import_sign_in(training, tid, path, dry_run=True),
                                      on_done=previewed, on_error=lambda exc: messages.show_error(self, "无法读取签到表", exc))

    def print_sheet(self) -> None:
        self.print_dialog = SignInPrintDialog(self.services, self.training, self)
        self.print_dialog.open()


class SignInPrintDialog(_PrintDialog):
    """培训签到表 of one session as it will be printed."""

    def __init__(self, services, training, parent: QWidget | None = None) -> None:
        super().__init__(services.printing, f"培训签到表({training.display('subject')})", parent)
        self.training_service, self.training, self.unit = services.training, training, services.printing.unit_name()
        self.controls.addWidget(QLabel(f"培训主题:{training.display('subject')}\n培训日期:{training.display('held_on')}"
                                       f"\n学时:{training.display('hours')}"))
        self.controls.addStretch(1)
        self.refresh()

    def render(self, target, *, record: bool, printer: str = "", medium: str = "") -> str:
        pages = self.training_service.print_sign_in(self.training.id, target, unit=self.unit, record=record,
                                                    printer=printer, medium=medium)
        return f"共 {pages} 页"


class ComplianceDialog(QDialog):
    """学时未达标名单: who of the 涉密人员 in post is short of the year's minimum, by how much."""

    def __init__(self, services, parent: QWidget | None = None, *, year: int | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("保密教育培训学时")
        self.compliance = None
        self.task = None
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(year or dt.date.today().year)
        self.year.setSuffix(" 年")
        self.year.valueChanged.connect(lambda _v: self.load())
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(SHORT_HEADERS))
        self.table.setHorizontalHeaderLabels(SHORT_HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab goes on to the buttons, not round the cells
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.print_button = QPushButton("打印名单…")
        self.print_button.clicked.connect(self.print_list)
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)
        top = QHBoxLayout()
        top.addWidget(QLabel("年度"))
        top.addWidget(self.year)
        top.addWidget(self.summary, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.print_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.resize(900, 600)
        self.load()

    def load(self) -> None:
        """The year's hours off the UI thread: 20,000 people's are summed in a few hundred ms."""
        training, year = self.services.training, self.year.value()
        self.print_button.setEnabled(False)
        self.summary.setText("正在统计……")
        self.task = run_in_background(self, "正在统计培训学时……", lambda _p, _c: training.compliance(year),
                                      on_done=self._show, on_error=lambda exc: messages.show_error(self, "无法统计", exc))

    def _show(self, compliance) -> None:
        from mibao_desktop.excel.training_year import by_grade

        self.compliance = compliance
        self.summary.setText(f"{compliance.summary()}。{by_grade(compliance)}")
        self.table.setRowCount(len(compliance.short))
        for row, ln in enumerate(compliance.short):
            values = (ln.number, ln.name, ln.department, ln.grade, str(ln.sessions), ln.hours_text, ln.minimum_text,
                      ln.short_text)
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(row, col, item)
        self.print_button.setEnabled(True)

    def print_list(self) -> None:
        if self.compliance is None:
            return
        self.print_dialog = CompliancePrintDialog(self.services, self.compliance, self)
        self.print_dialog.open()


class CompliancePrintDialog(_PrintDialog):
    def __init__(self, services, compliance, parent: QWidget | None = None) -> None:
        super().__init__(services.printing, f"{compliance.year}年度保密教育培训学时未达标人员名单", parent)
        self.training, self.compliance, self.unit = services.training, compliance, services.printing.unit_name()
        self.controls.addWidget(QLabel(compliance.summary()))
        self.controls.addStretch(1)
        self.refresh()

    def render(self, target, *, record: bool, printer: str = "", medium: str = "") -> str:
        pages = self.training.print_compliance(self.compliance, target, unit=self.unit, record=record, printer=printer,
                                               medium=medium)
        return f"共 {pages} 页"
