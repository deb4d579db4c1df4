"""盘点: stocktaking of a labelled ledger by scanner or by hand (issue 15 item 2), and the carriers'
checks (载体核对: 月核对, 季检查, 年终清退归档) as the stocktaking of the copies.

Pick the ledger (the page's own when it has labels; 涉密载体份 for a carriers' check, with its
kind and period), the scope (a department, a place, a person for the copies, or all) and 开始盘点
(开始核对); the records that should be there are listed, each with a tick box. A USB barcode
scanner types the label's QR payload and Enter into the scan box, which keeps the focus. Each
code is taken from the box at its Enter and queued: the queue is saved by the service off the
UI thread, a batch at a time, so that a scanner typing 20 codes a second loses none while a save
is under way (the box is free for the next code at once). Each answer sounds and colours the
line above the table: 已盘点 green, 重复 blue, 多出/位置不符 orange (with where the record
belongs), 未登记 red. 完成盘点 asks, then stores the findings; the report is then printed (PDF)
and exported (Excel), and where the subject declares a follow-up (the copies: 标为下落不明) the
records found missing may be chosen for it. Everything is asked of ``services.stocktaking``.
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
from mibao_desktop.services import stocktaking as ST
from mibao_desktop.ui import messages
from mibao_desktop.ui.scan_queue import AGAIN, ELSEWHERE, FOUND, UNKNOWN, ScanQueue, ScanSound
from mibao_desktop.ui.tasks import LatestRead, run_in_background

COLUMNS = ("盘点", "编号", "名称", "密级", "责任人", "部门", "存放位置", "状态", "次数", "说明")
GREEN, BLUE, ORANGE, RED = "#1B6E20", "#1565C0", "#B35C00", "#B00020"
COLOURS = {ST.SEEN: GREEN, ST.AGAIN: BLUE, ST.EXTRA: ORANGE, ST.MISPLACED: ORANGE, ST.UNKNOWN: RED,
           ST.MISSING: RED, "错误": RED}
# the tone each answer sounds (ui/scan_queue.py)
KINDS = {ST.SEEN: FOUND, ST.AGAIN: AGAIN, ST.EXTRA: ELSEWHERE, ST.MISPLACED: ELSEWHERE, ST.UNKNOWN: UNKNOWN,
         "错误": UNKNOWN}


class StocktakeModel(QAbstractTableModel):
    """The lines of a session: while open, the records listed then the extra ones and unknown
    codes seen; when closed, the stored findings."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.lines: list[ST.Line] = []
        self.closed = False
        self.word, self.person_title = ST.DOING, "责任人"
        self.tally: Counter = Counter()
        self._row_of: dict = {}
        self._find = None  # where a line made as it is looked at is (its list's position())

    def reset(self, lines, *, closed: bool, info: ST.StocktakeInfo | None = None) -> None:
        self.beginResetModel()
        self.closed = closed
        if info is not None:
            self.word, self.person_title = info.word, info.person_title
        if hasattr(lines, "position"):
            # made as they are looked at (a carriers' check: services/expected_copies.py): counted
            # and placed by the service, never walked here (a department's 100,000 lines)
            self.lines, self._find = lines, lines.position
            listed = len(lines) - len(lines.added)  # (then the extra records and codes seen)
            self._row_of = {x.key: listed + i for i, x in enumerate(lines.added)}
            self.tally = ST.tally_of(lines)
        else:
            self.lines, self._find = list(lines), None
            self._row_of = {x.key: i for i, x in enumerate(self.lines)}
            self.tally = Counter(map(self._key, self.lines))  # kept as lines change: a scan walks no list
        self.endResetModel()

    def _key(self, x: ST.Line) -> str:
        return x.finding if self.closed else ST.count_key(None, x)

    def counts(self) -> dict[str, int]:
        """The counts by finding, in the session's word (已核对 in a carriers' check)."""
        if self.closed:  # (nothing changes once closed: the duplicates counted here, not kept)
            counts = {**{k: self.tally[k] for k in ST.REPORT_ORDER}, ST.AGAIN: sum(x.times_seen > 1 for x in self.lines)}
        else:
            counts = {k: self.tally[k] for k in ST.COUNTED}
        return {ST.said(self.word, k): v for k, v in counts.items()}

    def row_of(self, key) -> int | None:
        row = self._row_of.get(key)
        if row is None and self._find is not None and isinstance(key, int):
            row = self._row_of[key] = self._find(key)
        return row

    def put(self, line: ST.Line) -> int:
        row = self.row_of(line.key)
        if row is None:
            row = len(self.lines)
            self.beginInsertRows(QModelIndex(), row, row)
            self.lines.append(line)
            self._row_of[line.key] = row
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
            if section == 0:
                return f"{self.word}结果" if self.closed else self.word
            return self.person_title if section == 4 else COLUMNS[section]
        return None

    def finding(self, x: ST.Line) -> str:
        key = self._key(x)
        return "" if key == ST.UNCHECKED else key

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        x, col = self.lines[index.row()], index.column()
        finding = self.finding(x)
        if role == Qt.ItemDataRole.CheckStateRole and col == 0 and not self.closed and x.record_id is not None \
                and x.finding not in (ST.EXTRA, ST.UNKNOWN):
            return Qt.CheckState.Checked if x.seen_how else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DisplayRole:
            note = x.belongs + ("(重复扫描)" if x.times_seen > 1 else "")
            if not x.belongs and x.state() != ST.PRESENT and x.person:  # away: with whom
                note = f"{self.person_title} {x.person}" + note
            return (ST.said(self.word, finding), x.label, x.title, x.level or "", x.person, x.department, x.place,
                    x.status, x.times_seen or "", ";".join(p for p in (note, x.followed) if p))[col]
        if role == Qt.ItemDataRole.ForegroundRole and col in (0, 9) and finding in COLOURS:
            return QBrush(QColor(COLOURS[finding]))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (3, 7, 8):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def flags(self, index):
        base = super().flags(index)
        x = self.lines[index.row()]
        if index.column() == 0 and not self.closed and x.record_id is not None and x.finding not in (ST.EXTRA, ST.UNKNOWN):
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):  # noqa: N802
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != 0:
            return False
        self.ticked(index.row(), Qt.CheckState(value) == Qt.CheckState.Checked)
        return True

    ticked = staticmethod(lambda row, on: None)  # set by the dialog: the service is asked there


class StocktakeDialog(QDialog):
    def __init__(self, services, parent: QWidget | None = None, *, ledger_key: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("盘点与载体核对(扫描标识二维码或逐项勾选)")
        self.stocktaking = services.stocktaking
        self.today = services.clock().date()
        self.take: ST.StocktakeInfo | None = None
        self.task = None
        self.sound = ScanSound(self)
        # codes and ticks taken from the box, saved off the UI thread: what queued while the last
        # save ran goes in one transaction (a scanner types faster than a commit each)
        self.queue = ScanQueue(self, lambda jobs: self.stocktaking.save_many(self.take.id, jobs))
        self.queue.answered.connect(self._saved)
        self.queue.refused.connect(self._save_failed)
        self.queue.changed.connect(lambda n: self.queue_label.setText(f"正在保存 {n} 条" if n else ""))
        self.resize(1200, 700)

        self.ledger = QComboBox()
        for subject in ST.subjects():
            self.ledger.addItem(subject.choice_text, subject.key)
        if ledger_key:
            i = self.ledger.findData(ledger_key)
            if i >= 0:
                self.ledger.setCurrentIndex(i)
        # a carriers' check has a kind and a period (月核对 of a month, 季检查 of a quarter, 年终清退归档)
        self.kind = QComboBox()
        self.kind.addItems(CC.KINDS)
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(self.today.year)
        self.year.setSuffix(" 年")
        self.part = QComboBox()
        self.kind_label = QLabel("类别")
        self.scope = QComboBox()
        self.value = QComboBox()
        self.value.setEditable(True)
        self.value.setMinimumWidth(200)
        self.start_button = QPushButton("开始盘点")
        self.start_button.clicked.connect(self.start)
        pick = QHBoxLayout()
        for label, widget in (("台账", self.ledger), (self.kind_label, self.kind), (None, self.year),
                              (None, self.part), ("范围", self.scope), (None, self.value)):
            if label:
                pick.addWidget(QLabel(label) if isinstance(label, str) else label)
            pick.addWidget(widget)
        pick.addWidget(self.start_button)
        pick.addStretch(1)
        # the sessions already made: one left unfinished is taken up, a finished one's report reprinted
        self.history = QComboBox()
        self.history.setMinimumWidth(330)
        self.history_button = QPushButton("打开")
        self.history_button.clicked.connect(self.open_existing)
        self.history_label = QLabel("已有的盘点")
        again = QHBoxLayout()
        again.addWidget(self.history_label)
        again.addWidget(self.history, 1)
        again.addWidget(self.history_button)
        again.addStretch(1)

        self.title = QLabel("请选择台账和范围,然后点“开始盘点”。")
        self.title.setStyleSheet("font-weight: bold;")
        self.scan_box = QLineEdit()
        self.scan_box.setPlaceholderText("用扫描枪扫描标识上的二维码,或输入编号后按回车")
        self.scan_box.returnPressed.connect(self.scanned)
        self.said = QLabel("")
        self.said.setMinimumHeight(34)
        self.said.setStyleSheet("font-size: 15px; padding: 4px;")
        scan = QHBoxLayout()
        scan.addWidget(QLabel("扫描或输入"))
        scan.addWidget(self.scan_box, 2)
        scan.addWidget(self.said, 3)
        self.counts = QLabel("")
        self.counts.setStyleSheet("font-size: 15px; font-weight: bold;")  # read from arm's length while scanning
        self.queue_label = QLabel("")

        self.model = StocktakeModel(self)
        self.model.ticked = self.ticked
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.table.verticalHeader().setVisible(False)
        for col, width in enumerate((96, 120, 200, 56, 80, 100, 140, 56, 44)):
            self.table.setColumnWidth(col, width)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)

        self.checkers = QLineEdit()
        self.finish_button = QPushButton("完成盘点")
        self.finish_button.clicked.connect(self.finish)
        self.print_button = QPushButton("打印报告…")
        self.print_button.clicked.connect(self.print_report)
        self.export_button = QPushButton("导出Excel…")
        self.export_button.clicked.connect(self.export_report)
        self.missing_button = QPushButton("缺失的标为下落不明…")  # (shown where the subject declares it)
        self.missing_button.clicked.connect(self.mark_missing)
        close = QPushButton("关闭")
        close.clicked.connect(self.reject)
        foot = QHBoxLayout()
        self.checkers_label = QLabel("盘点人")
        foot.addWidget(self.checkers_label)
        foot.addWidget(self.checkers, 1)
        for b in (self.finish_button, self.print_button, self.export_button, self.missing_button):
            foot.addWidget(b)
        foot.addStretch(1)
        foot.addWidget(close)

        counts = QHBoxLayout()
        counts.addWidget(self.counts, 1)
        counts.addWidget(self.queue_label)
        layout = QVBoxLayout(self)
        layout.addLayout(pick)
        layout.addLayout(again)
        layout.addWidget(self.title)
        layout.addLayout(scan)
        layout.addLayout(counts)
        layout.addWidget(self.table, 1)
        layout.addLayout(foot)

        self.values_read = LatestRead(self)
        self.ledger.currentIndexChanged.connect(self._subject)
        self.ledger.currentIndexChanged.connect(self._history)
        self.kind.currentTextChanged.connect(self._parts)
        self.scope.currentTextChanged.connect(self._values)
        # a scanner ends each code with Enter: it belongs to the scan box, never to a button of the dialog
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)
        self._subject()
        self._history()
        self._enable()

    # -- choosing -------------------------------------------------------------------------

    @property
    def subject(self) -> ST.Subject:
        return ST.subject_of(self.ledger.currentData())

    def _subject(self) -> None:
        """What the chosen subject asks: a kind and period for the copies, its scopes, its words."""
        subject = self.subject
        word = subject.word
        for widget in (self.kind_label, self.kind, self.year, self.part):
            widget.setVisible(bool(subject.kinds))
        self._parts()
        scope = self.scope.currentText()
        self.scope.blockSignals(True)
        self.scope.clear()
        self.scope.addItems(subject.scopes)
        if scope in subject.scopes:
            self.scope.setCurrentText(scope)
        self.scope.blockSignals(False)
        self.value.lineEdit().setPlaceholderText("部门、存放位置或人员姓名" if ST.PERSON in subject.scopes
                                                 else "部门或存放位置")
        self.start_button.setText(f"开始{word}")
        self.finish_button.setText(f"完成{word}")
        self.history_label.setText(f"已有的{word}")
        self.checkers_label.setText(f"{word}人")
        self.checkers.setPlaceholderText(f"{word}人姓名(两人以上用空格分开)")
        self.scan_box.setPlaceholderText("扫描封面或信封标签上的二维码,或输入登记编号和份号(如 ZT-2024-001 3)后按回车"
                                         if subject.has_parts else "用扫描枪扫描标识上的二维码,或输入编号后按回车")
        self.table.setColumnWidth(1, 170 if subject.has_parts else 120)  # 编号 with its 第 N 份
        self.missing_button.setVisible(subject.missing_action is not None)
        if subject.missing_action:
            self.missing_button.setText(f"缺失的{subject.missing_action}…")
        if self.take is None:
            self.title.setText(f"请选择{'类别、期间和' if subject.kinds else '台账和'}范围,然后点“开始{word}”。")
        self._values()

    def _parts(self) -> None:
        kind = self.kind.currentText()
        self.part.clear()
        if kind == CC.MONTHLY:
            self.part.addItems([f"{m} 月" for m in range(1, 13)])
            self.part.setCurrentIndex(self.today.month - 1)
        elif kind == CC.QUARTERLY:
            self.part.addItems(CC.QUARTERS)
            self.part.setCurrentIndex((self.today.month - 1) // 3)
        self.part.setVisible(bool(self.subject.kinds) and kind != CC.YEARLY)

    def _values(self) -> None:
        scope, key = self.scope.currentText(), self.ledger.currentData()
        self.value.clear()
        self.value.setEnabled(scope != ST.ALL)
        if scope != ST.ALL:
            stocktaking = self.stocktaking
            self.values_read.submit(lambda: stocktaking.scope_values(key, scope),
                                    lambda values: self._fill(key, scope, values),
                                    lambda exc: messages.error(self, "盘点", str(exc)))

    def _fill(self, key: str, scope: str, values: list[str]) -> None:
        if (key, scope) != (self.ledger.currentData(), self.scope.currentText()):
            return
        typed = self.value.currentText()  # what was typed while they were read stays
        self.value.clear()
        self.value.addItems(values)
        if typed:
            self.value.setCurrentText(typed)

    def _history(self) -> None:
        self.history.clear()
        try:
            sessions = self.stocktaking.sessions(ledger_key=self.ledger.currentData(), limit=100)
        except ServiceError as exc:
            messages.error(self, self.subject.word, str(exc))
            return
        for c in sessions:
            self.history.addItem(f"第 {c.id} 号 {c.title}({'已完成' if c.closed else '未完成'})", c.id)
        self.history_button.setEnabled(bool(sessions))

    def open_existing(self) -> None:
        take_id = self.history.currentData()
        if take_id is None or self._saving_yet():
            return
        try:
            self.take = self.stocktaking.get(take_id)
        except ServiceError as exc:
            messages.error(self, "盘点", str(exc))
            return
        self.load()

    def _enable(self) -> None:
        open_ = self.take is not None and not self.take.closed
        closed = self.take is not None and self.take.closed
        self.scan_box.setEnabled(open_)
        self.finish_button.setEnabled(open_)
        self.checkers.setEnabled(open_)
        for b in (self.print_button, self.export_button, self.missing_button):
            b.setEnabled(closed)

    # -- opening and reading --------------------------------------------------------------------

    def _saving_yet(self) -> bool:
        """Codes still queued belong to the session shown: another is opened after they are saved."""
        if self.busy:
            self._say(f"还有 {self.queue.waiting} 条扫描正在保存,请稍候。", "错误")
        return self.busy

    def start(self) -> None:
        if self._saving_yet():
            return
        subject = self.subject
        try:
            kind = period = None
            if subject.kinds:
                kind = self.kind.currentText()
                period = CC.period_text(kind, self.year.value(), self.part.currentIndex() + 1)
            self.take = self.stocktaking.open(subject.key, self.scope.currentText(), self.value.currentText(),
                                              kind=kind, period=period)
        except ServiceError as exc:
            messages.error(self, f"不能开始{subject.word}", str(exc))
            return
        self._history()
        self.load()

    def load(self) -> None:
        """Read the list (or the report) off the UI thread."""
        take = self.take
        for widget in (self.scan_box, self.finish_button, self.print_button, self.export_button, self.missing_button):
            widget.setEnabled(False)  # until the list is shown: a scan now would be lost in the list read before it
        self.title.setText(f"第 {take.id} 号 {take.title}" + ("(已完成)" if take.closed else f"(正在{take.word})"))
        work = (lambda _p, _c: self.stocktaking.report(take.id)) if take.closed else \
            (lambda _p, _c: self.stocktaking.listing(take.id))
        self.task = run_in_background(self, f"正在读取{take.word}清单……", work, on_done=self._loaded,
                                      on_error=lambda exc: messages.error(self, take.word, str(exc)))

    def _loaded(self, result) -> None:
        self.model.reset(result.lines, closed=isinstance(result, ST.StocktakeReport), info=self.take)
        self._count()
        self._enable()
        if self.take and not self.take.closed:
            self.scan_box.setFocus()

    def _count(self) -> None:
        self.counts.setText("    ".join(f"{k} {v}" for k, v in self.model.counts().items()))

    # -- ticking and scanning: a queue saved off the UI thread -----------------------------------

    def scanned(self) -> None:
        text = self.scan_box.text()
        self.scan_box.clear()  # ready for the next label at once; the focus stays here
        self.scan_box.setFocus()
        if text.strip() and self.take is not None:
            self._queue(("scan", text))

    def ticked(self, row: int, on: bool) -> None:
        x = self.model.lines[row]
        self._queue(("tick" if on else "untick", x.record_id))
        self.scan_box.setFocus()

    def _queue(self, job) -> None:
        self.queue.push(job)

    def _saved(self, answers) -> None:
        for (kind, what), answer in answers:
            if isinstance(answer, Exception):
                self._say(str(answer), "错误")
                self.sound.play(UNKNOWN, "错误")
            elif kind == "untick":
                row = self.model.row_of(what)
                if row is not None:
                    self.model.put(replace(self.model.lines[row], seen_how=None, times_seen=0))
            else:
                self._seen(answer)
        self._count()

    def _save_failed(self, exc) -> None:
        """The whole batch refused: its codes wait in the queue for the next scan (said)."""
        self._say(f"保存失败,{self.queue.waiting} 条扫描待保存(下次扫描时重试):{exc}", "错误")
        self.sound.play(UNKNOWN, "错误")

    def _seen(self, result: ST.ScanResult) -> None:
        line = result.line
        row = self.model.row_of(line.key)
        if row is not None and result.finding != ST.EXTRA and line.finding != ST.UNKNOWN:
            # counted as the scan found it (its finding), not as the list's read had it: a copy
            # given back since is 已核对, as stored
            line = replace(self.model.lines[row], seen_how=line.seen_how, times_seen=line.times_seen,
                           belongs=line.belongs, counted=line.state())
        row = self.model.put(line)
        self.table.scrollTo(self.model.index(row, 0))
        self._say(result.message, result.finding)
        self.sound.play(KINDS.get(result.finding, UNKNOWN), ST.said(self.model.word, result.finding))

    def _say(self, text: str, answer: str = "") -> None:
        colour = COLOURS.get(answer)
        self.said.setText(text)
        self.said.setStyleSheet("font-size: 15px; padding: 4px; " +
                                (f"color: white; background: {colour};" if colour else ""))

    @property
    def busy(self) -> bool:
        return self.queue.busy

    # -- closing and the report -------------------------------------------------------------------

    def finish(self) -> None:
        word = self.take.word
        if self.busy:
            messages.error(self, f"完成{word}", f"还有 {self.queue.waiting} 条扫描正在保存,请稍候再完成{word}。")
            return
        counts = self.counts.text()
        if not messages.confirm(self, f"完成{word}", f"{self.take.title}\n{counts}\n\n完成后{word}结果存档,不能再修改。"
                                f"未{word}到的记录将记为“缺失”。确定完成{word}吗?", action=f"完成{word}"):
            return
        take_id, checkers = self.take.id, self.checkers.text()
        self.task = run_in_background(self, f"正在保存{word}结果……",
                                      lambda _p, _c: self.stocktaking.close(take_id, checkers=checkers),
                                      on_done=self._finished,
                                      on_error=lambda exc: messages.error(self, f"不能完成{word}", str(exc)),
                                      cancellable=False)

    def _finished(self, report: ST.StocktakeReport) -> None:
        self.take = report.info
        word, each = self.take.word, self.take.unit
        self.title.setText(f"第 {self.take.id} 号 {self.take.title}(已完成)")
        self.model.reset(report.lines, closed=True, info=self.take)
        self._history()
        self._say("")
        self._count()
        self._enable()
        counts = report.counts()
        messages.inform(self, f"{word}已完成", f"缺失 {counts[ST.MISSING]} {each},多出 {counts[ST.EXTRA]} {each},"
                        f"位置不符 {counts[ST.MISPLACED]} {each},未登记 {counts[ST.UNKNOWN]} 项,"
                        f"重复 {counts[ST.AGAIN]} 项。可打印或导出{word}报告。")

    def _save_path(self, title: str, suffix: str, kind: str) -> str:
        take = self.take
        what = f"载体{take.kind}_{take.period}" if take.kind else f"{take.noun}盘点"
        default = f"{what}_{take.scope_value or '全部'}_{dt.date.today():%Y%m%d}.{suffix}"
        path, _ = QFileDialog.getSaveFileName(self, title, default, kind)
        return path

    def print_report(self) -> None:
        word = self.take.word
        path = self._save_path(f"打印{word}报告(另存为 PDF)", "pdf", "PDF (*.pdf)")
        if not path:
            return
        take_id = self.take.id  # a department's report runs to thousands of lines: off the UI thread
        self.task = run_in_background(self, f"正在生成{word}报告……",
                                      lambda _p, _c: self.stocktaking.print_report(take_id, path),
                                      on_done=lambda pages: self._say(f"{word}报告已保存(共 {pages} 页):{path}"),
                                      on_error=lambda exc: messages.show_error(self, f"不能生成{word}报告", exc),
                                      cancellable=False)

    def export_report(self) -> None:
        from mibao_desktop.excel.stocktake_report import export_stocktake_report

        word = self.take.word
        path = self._save_path(f"导出{word}报告", "xlsx", "Excel 工作簿 (*.xlsx)")
        if not path:
            return
        take_id = self.take.id
        self.task = run_in_background(self, f"正在导出{word}报告……",
                                      lambda _p, _c: export_stocktake_report(self.stocktaking, take_id, path),
                                      on_done=lambda rows: self._say(f"已导出 {rows} 行:{path}"),
                                      on_error=lambda exc: messages.show_error(self, f"不能导出{word}报告", exc),
                                      cancellable=False)

    def mark_missing(self) -> None:
        """What the subject starts for the records found missing (the copies: 标为下落不明)."""
        action = self.take.subject.missing_action
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        chosen = [self.model.lines[r] for r in sorted(rows) if self.model.lines[r].finding == ST.MISSING
                  and not self.model.lines[r].followed]
        if not chosen:
            messages.error(self, action, f"请先在表中选择{self.take.word}结果为“缺失”且尚未处理的记录。")
            return
        why, ok = QInputDialog.getText(self, action, f"{len(chosen)} {self.take.unit}{action},开始计算查找期限。\n"
                                       "情况说明(何处未见、最后由谁保管):")
        if not ok:
            return
        take_id, ids = self.take.id, [x.record_id for x in chosen]  # each copy is a recorded action: off the UI thread
        self.task = run_in_background(self, f"正在将 {len(ids)} {self.take.unit}{action}……",
                                      lambda _p, _c: self.stocktaking.mark_missing(take_id, ids, why),
                                      on_done=lambda _ids: self.load(),
                                      on_error=lambda exc: (messages.show_error(self, f"不能{action}", exc),
                                                            self.load()),  # what was marked before the failure shows
                                      cancellable=False)

    def reject(self) -> None:
        if self.task is not None and self.task.running:  # a read, report or follow-up under way: it ends first
            self._say("正在处理,请稍候再关闭。", "错误")
            return
        if self.queue.saving is not None:  # the last scans are saved before the window goes: nothing is lost
            self._say("还有扫描正在保存,请稍候再关闭。", "错误")
            return
        if self.queue.pending and not messages.confirm(self, "关闭盘点", f"有 {len(self.queue.pending)} 条扫描未能保存,"
                                                 "关闭后需重新扫描。仍要关闭吗?", action="关闭"):
            return
        super().reject()
