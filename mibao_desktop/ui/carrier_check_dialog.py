"""载体核对: the 月核对, 季检查 and 年终清退归档 of the carriers' copies (seed 003 第十条).

Pick the kind, period and scope and 开始核对; the copies that should be there are listed, each
with a tick box. A barcode scanner types the QR of a copy's cover or envelope label and presses
Enter into the scan box, which keeps the focus; a number typed there with Enter does the same.
The counts (已核对, 未核对, 多出 …) follow each tick. 完成核对 asks, then stores the findings;
the report is then shown, printed (PDF), exported (Excel), and the copies found missing may be
marked 下落不明. Everything is asked of ``services.carrier_checks``; the list is read off the UI
thread (at a million copies a whole unit's list takes seconds).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QFileDialog, QHBoxLayout, QHeaderView,
                               QInputDialog, QLabel, QLineEdit, QPushButton, QSpinBox, QTableView, QVBoxLayout,
                               QWidget)

from mibao_desktop.errors import ServiceError
from mibao_desktop.services import carrier_checks as CC
from mibao_desktop.ui import messages
from mibao_desktop.ui.scan_queue import AGAIN, ELSEWHERE, FOUND, UNKNOWN, ScanQueue, ScanSound
from mibao_desktop.ui.tasks import LatestRead, run_in_background

COLUMNS = ("核对", "登记编号", "份号", "标题", "密级", "持有人", "存放位置", "状态", "说明")
FINDING_COLOURS = {CC.MISSING: "#B00020", CC.EXTRA: "#B35C00", CC.MISPLACED: "#B35C00", CC.SEEN: "#1B6E20"}


class CheckModel(QAbstractTableModel):
    """The lines of a check: while open, the copies listed then the extra ones seen; when
    closed, the stored findings."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.lines: list[CC.CheckLine] = []
        self.closed = False
        self.tally: Counter = Counter()
        self._row_of: dict[int, int] = {}

    def reset(self, lines, *, closed: bool) -> None:
        self.beginResetModel()
        self.lines, self.closed = list(lines), closed
        self._row_of = {x.copy_id: i for i, x in enumerate(self.lines)}
        # the counts kept as lines change: a scan must not walk a whole unit's million lines
        self.tally = Counter(map(self._key, self.lines))
        self.endResetModel()

    def _key(self, x: CC.CheckLine) -> str:
        return x.finding if self.closed else CC.count_key(x)

    def counts(self) -> dict[str, int]:
        keys = CC.FINDINGS if self.closed else CC.COUNTED
        return {key: self.tally[key] for key in keys}

    def row_of(self, copy_id: int) -> int | None:
        return self._row_of.get(copy_id)

    def put(self, line: CC.CheckLine) -> int:
        """A line seen (or unticked): replaced where it is, or added at the end (多出)."""
        row = self._row_of.get(line.copy_id)
        if row is None:
            row = len(self.lines)
            self.beginInsertRows(QModelIndex(), row, row)
            self.lines.append(line)
            self._row_of[line.copy_id] = row
            self.tally[self._key(line)] += 1
            self.endInsertRows()
        else:
            self.tally[self._key(self.lines[row])] -= 1
            self.tally[self._key(line)] += 1
            self.lines[row] = line
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        return row

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else len(self.lines)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return "核对结果" if section == 0 and self.closed else COLUMNS[section]
        return None

    def finding(self, x: CC.CheckLine) -> str:
        key = self._key(x)
        return "" if key == CC.UNCHECKED else key

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        x, col = self.lines[index.row()], index.column()
        finding = self.finding(x)
        if role == Qt.ItemDataRole.CheckStateRole and col == 0 and not self.closed:
            return Qt.CheckState.Checked if x.seen_how else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DisplayRole:
            note = x.belongs or (f"持有人 {x.holder}" if x.state != CC.PRESENT and x.holder else "")
            return (finding, x.carrier_number, x.copy_number, x.title, x.level or "", x.holder, x.place, x.status,
                    ";".join(p for p in (note, x.followed) if p))[col]
        if role == Qt.ItemDataRole.ForegroundRole and col in (0, 8) and finding in FINDING_COLOURS:
            return QBrush(QColor(FINDING_COLOURS[finding]))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (2, 4, 7):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def flags(self, index):
        base = super().flags(index)
        if index.column() == 0 and not self.closed and self.lines[index.row()].finding != CC.EXTRA:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):  # noqa: N802
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != 0:
            return False
        self.ticked(index.row(), Qt.CheckState(value) == Qt.CheckState.Checked)
        return True

    ticked = staticmethod(lambda row, on: None)  # set by the dialog: the service is asked there


class CarrierCheckDialog(QDialog):
    def __init__(self, services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("载体核对(月核对、季检查、年终清退归档)")
        self.checks = services.carrier_checks
        self.today = services.clock().date()
        self.check: CC.CheckInfo | None = None
        self.task = None
        self.resize(1200, 700)
        # each code taken from the box at its Enter and saved off the UI thread, in order, with a
        # tone per answer (ui/scan_queue.py, shared with 盘点): a scanner types faster than a save
        self.sound = ScanSound(self)
        self.queue = ScanQueue(self, self._save_jobs)
        self.queue.answered.connect(self._saved)
        self.queue.refused.connect(lambda exc: (self._say(f"保存失败,{self.queue.waiting} 条待保存(下次扫描时重试):{exc}",
                                                          error=True), self.sound.play(UNKNOWN, "错误")))

        self.kind = QComboBox()
        self.kind.addItems(CC.KINDS)
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(self.today.year)
        self.year.setSuffix(" 年")
        self.part = QComboBox()
        self.scope = QComboBox()
        self.scope.addItems(CC.SCOPES)
        self.value = QComboBox()
        self.value.setEditable(True)
        self.value.setMinimumWidth(200)
        self.value.lineEdit().setPlaceholderText("部门、存放位置或人员姓名")
        self.start_button = QPushButton("开始核对")
        self.start_button.clicked.connect(self.start)
        pick = QHBoxLayout()
        for label, widget in (("核对类别", self.kind), ("期间", self.year), (None, self.part), ("范围", self.scope),
                              (None, self.value)):
            if label:
                pick.addWidget(QLabel(label))
            pick.addWidget(widget)
        pick.addWidget(self.start_button)
        pick.addStretch(1)
        # the checks already made: one left unfinished is taken up, a finished one's report reprinted
        self.history = QComboBox()
        self.history.setMinimumWidth(330)
        self.history_button = QPushButton("打开")
        self.history_button.clicked.connect(self.open_existing)
        again = QHBoxLayout()
        again.addWidget(QLabel("已有的核对"))
        again.addWidget(self.history, 1)
        again.addWidget(self.history_button)
        again.addStretch(1)

        self.title = QLabel("请选择核对类别、期间和范围,然后点“开始核对”。")
        self.title.setStyleSheet("font-weight: bold;")
        self.scan_box = QLineEdit()
        self.scan_box.setPlaceholderText("扫描封面或信封标签上的二维码,或输入登记编号和份号(如 ZT-2024-001 3)后按回车")
        self.scan_box.returnPressed.connect(self.scanned)
        self.said = QLabel("")
        scan = QHBoxLayout()
        scan.addWidget(QLabel("扫描或输入"))
        scan.addWidget(self.scan_box, 2)
        scan.addWidget(self.said, 3)
        self.counts = QLabel("")
        self.counts.setStyleSheet("font-size: 15px; font-weight: bold;")  # read from arm's length while scanning

        self.model = CheckModel(self)
        self.model.ticked = self.ticked
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for col, width in enumerate((80, 130, 50, 230, 60, 90, 150, 70)):
            self.table.setColumnWidth(col, width)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)

        self.checkers = QLineEdit()
        self.checkers.setPlaceholderText("核对人姓名(两人以上用空格分开)")
        self.finish_button = QPushButton("完成核对")
        self.finish_button.clicked.connect(self.finish)
        self.print_button = QPushButton("打印报告…")
        self.print_button.clicked.connect(self.print_report)
        self.export_button = QPushButton("导出Excel…")
        self.export_button.clicked.connect(self.export_report)
        self.missing_button = QPushButton("缺失的标为下落不明…")
        self.missing_button.clicked.connect(self.mark_missing)
        close = QPushButton("关闭")
        close.clicked.connect(self.reject)
        foot = QHBoxLayout()
        foot.addWidget(QLabel("核对人"))
        foot.addWidget(self.checkers, 1)
        for b in (self.finish_button, self.print_button, self.export_button, self.missing_button):
            foot.addWidget(b)
        foot.addStretch(1)
        foot.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(pick)
        layout.addLayout(again)
        layout.addWidget(self.title)
        layout.addLayout(scan)
        layout.addWidget(self.counts)
        layout.addWidget(self.table, 1)
        layout.addLayout(foot)

        self.values_read = LatestRead(self)
        self.kind.currentTextChanged.connect(self._parts)
        self.scope.currentTextChanged.connect(self._values)
        # a scanner ends each code with Enter: it belongs to the scan box, never to a button of the dialog
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)
        self._parts()
        self._values()
        self._history()
        self._enable()

    # -- choosing -------------------------------------------------------------------------

    def _parts(self) -> None:
        kind = self.kind.currentText()
        self.part.clear()
        if kind == CC.MONTHLY:
            self.part.addItems([f"{m} 月" for m in range(1, 13)])
            self.part.setCurrentIndex(self.today.month - 1)
        elif kind == CC.QUARTERLY:
            self.part.addItems(CC.QUARTERS)
            self.part.setCurrentIndex((self.today.month - 1) // 3)
        self.part.setVisible(kind != CC.YEARLY)

    def _values(self) -> None:
        scope = self.scope.currentText()
        self.value.clear()
        self.value.setEnabled(scope != CC.ALL)
        if scope in (CC.DEPARTMENT, CC.PLACE):  # (the places of a million copies: off the UI thread)
            checks = self.checks
            self.values_read.submit(lambda: checks.scope_values(scope), lambda values: self._fill(scope, values),
                                    lambda exc: messages.error(self, "载体核对", str(exc)))

    def _fill(self, scope: str, values: list[str]) -> None:
        if scope != self.scope.currentText():
            return
        typed = self.value.currentText()  # what was typed while they were read stays
        self.value.clear()
        self.value.addItems(values)
        if typed:
            self.value.setCurrentText(typed)

    def _history(self) -> None:
        self.history.clear()
        try:
            checks = self.checks.checks(limit=100)
        except ServiceError as exc:
            messages.error(self, "载体核对", str(exc))
            return
        for c in checks:
            self.history.addItem(f"第 {c.id} 号 {c.title}({'已完成' if c.closed else '未完成'})", c.id)
        self.history_button.setEnabled(bool(checks))

    def open_existing(self) -> None:
        check_id = self.history.currentData()
        if check_id is None:
            return
        try:
            self.check = self.checks.get(check_id)
        except ServiceError as exc:
            messages.error(self, "载体核对", str(exc))
            return
        self.load()

    def _enable(self) -> None:
        open_ = self.check is not None and not self.check.closed
        closed = self.check is not None and self.check.closed
        self.scan_box.setEnabled(open_)
        self.finish_button.setEnabled(open_)
        self.checkers.setEnabled(open_)
        for b in (self.print_button, self.export_button, self.missing_button):
            b.setEnabled(closed)

    # -- opening and reading --------------------------------------------------------------------

    def start(self) -> None:
        kind = self.kind.currentText()
        try:
            period = CC.period_text(kind, self.year.value(), self.part.currentIndex() + 1)
            self.check = self.checks.open(kind, period, self.scope.currentText(), self.value.currentText())
        except ServiceError as exc:
            messages.error(self, "不能开始核对", str(exc))
            return
        self._history()
        self.load()

    def load(self) -> None:
        """Read the list (or the report) off the UI thread."""
        check = self.check
        for widget in (self.scan_box, self.finish_button, self.print_button, self.export_button, self.missing_button):
            widget.setEnabled(False)  # until the list is shown: a scan now would be lost in the list read before it
        self.title.setText(f"第 {check.id} 号 {check.title}" + ("(已完成)" if check.closed else "(正在核对)"))
        work = (lambda _p, _c: self.checks.report(check.id)) if check.closed else \
            (lambda _p, _c: self.checks.check_list(check.id))
        self.task = run_in_background(self, "正在读取核对清单……", work, on_done=self._loaded,
                                      on_error=lambda exc: messages.error(self, "载体核对", str(exc)))

    def _loaded(self, result) -> None:
        if isinstance(result, CC.CheckReport):
            self.model.reset(result.lines, closed=True)
        else:
            self.model.reset([*result.lines, *result.extra], closed=False)
        self._count()
        self._enable()
        if self.check and not self.check.closed:
            self.scan_box.setFocus()

    def _count(self) -> None:
        self.counts.setText("    ".join(f"{k} {v}" for k, v in self.model.counts().items()))

    # -- ticking and scanning -------------------------------------------------------------------

    def ticked(self, row: int, on: bool) -> None:
        self.queue.push(("tick" if on else "untick", self.model.lines[row].copy_id, self.check.id))
        self.scan_box.setFocus()

    def scanned(self) -> None:
        text = self.scan_box.text()
        self.scan_box.clear()  # ready for the next label; the focus stays here
        self.scan_box.setFocus()
        if text.strip() and self.check is not None:
            self.queue.push(("scan", text, self.check.id))

    def _save_jobs(self, jobs):
        """On the queue's worker thread: each job its own transaction, answered in order."""
        answers = []
        for kind, what, check_id in jobs:
            try:
                if kind == "scan":
                    answers.append(self.checks.scan(check_id, what))
                elif kind == "tick":
                    answers.append(self.checks.mark(check_id, what, CC.TICKED))
                else:
                    self.checks.unmark(check_id, what)
                    answers.append(None)
            except ServiceError as exc:
                answers.append(exc)
        return answers

    def _saved(self, answers) -> None:
        for (kind, what, _check), answer in answers:
            if isinstance(answer, Exception):
                self._say(str(answer), error=True)
                self.sound.play(UNKNOWN, "错误")
            elif kind == "untick":
                row = self.model.row_of(what)
                if row is not None:
                    self.model.put(replace(self.model.lines[row], seen_how=None))
            else:
                self._seen(answer)
        self._count()

    def _seen(self, result: CC.ScanResult) -> None:
        row = self.model.row_of(result.line.copy_id)
        line = result.line if row is None else replace(self.model.lines[row], seen_how=result.line.seen_how)
        row = self.model.put(line)
        self.table.scrollTo(self.model.index(row, 0))
        self._say(result.message, error=result.finding != CC.SEEN and not result.again)
        self.sound.play(AGAIN if result.again else FOUND if result.finding == CC.SEEN else ELSEWHERE,
                        "重复" if result.again else result.finding)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.said.setText(text)
        self.said.setStyleSheet(messages.ERROR_STYLE if error else "color: #1b6e20;")

    # -- closing and the report -------------------------------------------------------------------

    def finish(self) -> None:
        if self.queue.busy:
            messages.error(self, "完成核对", f"还有 {self.queue.waiting} 条扫描正在保存,请稍候再完成核对。")
            return
        counts = self.counts.text()
        if not messages.confirm(self, "完成核对", f"{self.check.title}\n{counts}\n\n完成后核对结果存档,不能再修改。"
                                "未核对的载体份将记为“缺失”。确定完成核对吗?", action="完成核对"):
            return
        check_id, checkers = self.check.id, self.checkers.text()
        self.task = run_in_background(self, "正在保存核对结果……",
                                      lambda _p, _c: self.checks.close(check_id, checkers=checkers),
                                      on_done=self._finished,
                                      on_error=lambda exc: messages.error(self, "不能完成核对", str(exc)))

    def _finished(self, report: CC.CheckReport) -> None:
        self.check = report.check
        self.title.setText(f"第 {self.check.id} 号 {self.check.title}(已完成)")
        self.model.reset(report.lines, closed=True)
        self._history()
        self._say("")
        self._count()
        self._enable()
        counts = report.counts()
        messages.inform(self, "核对已完成", f"缺失 {counts[CC.MISSING]} 份,多出 {counts[CC.EXTRA]} 份,"
                        f"位置不符 {counts[CC.MISPLACED]} 份。可打印或导出核对报告。")

    def _save_path(self, title: str, suffix: str, kind: str) -> str:
        default = f"载体{self.check.kind}_{self.check.period}_{dt.date.today():%Y%m%d}.{suffix}"
        path, _ = QFileDialog.getSaveFileName(self, title, default, kind)
        return path

    def print_report(self) -> None:
        path = self._save_path("打印核对报告(另存为 PDF)", "pdf", "PDF (*.pdf)")
        if not path:
            return
        try:
            pages = self.checks.print_report(self.check.id, path)
        except ServiceError as exc:
            messages.error(self, "不能生成核对报告", str(exc))
            return
        self._say(f"核对报告已保存(共 {pages} 页):{path}")

    def export_report(self) -> None:
        from mibao_desktop.excel.check_report import export_check_report

        path = self._save_path("导出核对报告", "xlsx", "Excel 工作簿 (*.xlsx)")
        if not path:
            return
        try:
            rows = export_check_report(self.checks, self.check.id, path)
        except ServiceError as exc:
            messages.error(self, "不能导出核对报告", str(exc))
            return
        self._say(f"已导出 {rows} 行:{path}")

    def mark_missing(self) -> None:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        chosen = [self.model.lines[r] for r in sorted(rows) if self.model.lines[r].finding == CC.MISSING
                  and not self.model.lines[r].followed]
        if not chosen:
            messages.error(self, "标为下落不明", "请先在表中选择核对结果为“缺失”且尚未处理的载体份。")
            return
        why, ok = QInputDialog.getText(self, "标为下落不明",
                                       f"{len(chosen)} 份载体标为下落不明,开始计算查找期限。\n情况说明(何处未见、最后由谁保管):")
        if not ok:
            return
        try:
            self.checks.mark_missing(self.check.id, [x.copy_id for x in chosen], why)
        except ServiceError as exc:
            messages.error(self, "不能标为下落不明", str(exc))
            return
        self.load()
