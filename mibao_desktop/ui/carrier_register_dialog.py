"""登记簿: the carriers' registers (收文, 发文, 借阅, 复制登记簿, 销毁清单) for a period, printed
or exported to Excel (to a file or a removable medium). The dialog only collects the choice:
the register is read by ``Services.carrier_registers`` off the UI thread (``ui/tasks.py``),
drawn by the core and recorded as an output there."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QComboBox, QDateEdit, QHBoxLayout, QLabel, QPushButton, QWidget

from mibao_desktop.excel.registers import export_register
from mibao_desktop.ui import messages
from mibao_desktop.ui.excel_dialogs import _ExportBase
from mibao_desktop.ui.print_dialog import _PrintDialog
from mibao_desktop.ui.tasks import LatestRead, run_in_background


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _day(edit: QDateEdit) -> dt.date:
    d = edit.date()
    return dt.date(d.year(), d.month(), d.day())


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


class CarrierRegisterDialog(_ExportBase):
    """Choose a register and its period; 打印… previews it as the paper book, 导出 writes the
    workbook. Each change reads the register again (quietly, off the UI thread) to show how
    many entries it holds and to mark it with the highest level it lists."""

    def __init__(self, services, parent: QWidget | None = None, *, register: str | None = None) -> None:
        super().__init__(services.ledgers, services.outputs, "登记簿", parent)
        self.services = services
        self.registers = services.carrier_registers
        self.table = None  # the register last read, for the choice it was read for
        self.print_dialog = None
        self.reading = LatestRead(self)
        self.kind = QComboBox()
        for r in self.registers.registers():
            self.kind.addItem(r.title, r.key)
        if register is not None:
            self.kind.setCurrentIndex(max(0, self.kind.findData(register)))
        today = services.clock().date()
        self.start, self.end = QDateEdit(), QDateEdit()
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.start.setDate(_qdate(today.replace(day=1)))
        self.end.setDate(_qdate(today))
        period = QHBoxLayout()
        period.addWidget(self.start)
        period.addWidget(QLabel("至"))
        period.addWidget(self.end)
        for text, first in (("本月", today.replace(day=1)), ("本季度", quarter_start(today)),
                            ("本年", dt.date(today.year, 1, 1))):
            button = QPushButton(text)
            button.setToolTip(f"{first.isoformat()} 至 {today.isoformat()}")
            button.clicked.connect(lambda _c=False, d=first: self.set_period(d, today))
            period.addWidget(button)
        self.summary = QLabel("正在读取……")
        self.summary.setWordWrap(True)
        self.form.insertRow(0, "登记簿", self.kind)
        self.form.insertRow(1, "期间", period)
        self.form.insertRow(2, "", self.summary)
        self.print_button = QPushButton("打印…")
        self.print_button.setToolTip("预览纸质登记簿,打印或另存为 PDF")
        self.print_button.clicked.connect(lambda: self.print_register())
        # beside 导出, in the dialog's last row of buttons
        self.layout().itemAt(self.layout().count() - 1).layout().insertWidget(1, self.print_button)
        self.kind.currentIndexChanged.connect(lambda _i: self.refresh())
        self.start.dateChanged.connect(lambda _d: self.refresh())
        self.end.dateChanged.connect(lambda _d: self.refresh())
        self.refresh()

    # -- the choice and its reading ----------------------------------------------------------

    def choice(self) -> tuple[str, dt.date, dt.date]:
        return self.kind.currentData(), _day(self.start), _day(self.end)

    def set_period(self, start: dt.date, end: dt.date) -> None:
        self.start.setDate(_qdate(start))
        self.end.setDate(_qdate(end))

    def refresh(self) -> None:
        key, start, end = self.choice()
        self.table = None
        if start > end:
            self.reading.cancel()
            self.summary.setText("起始日期晚于截止日期,请重新选择期间。")
            self.go.setEnabled(False)
            self.print_button.setEnabled(False)
            return
        self.summary.setText("正在读取……")
        registers = self.registers
        self.reading.submit(lambda: (key, start, end, registers.read(key, start, end)), self._read,
                            lambda exc: self.summary.setText(f"无法读取:{getattr(exc, 'message', exc)}"))

    def _read(self, result) -> None:
        key, start, end, table = result
        if (key, start, end) != self.choice():
            return
        self.table = table
        self.summary.setText(f"{table.register.title}:{table.summary()}。")
        self.marking.setCurrentIndex(max(0, self.marking.findData(table.marking)))
        self.go.setEnabled(True)
        self.print_button.setEnabled(True)

    def _with_table(self, then) -> None:
        """``then(table)`` with the register read for the choice shown (read now if it is not)."""
        key, start, end = self.choice()
        if self.table is not None and (self.table.register.key, self.table.start, self.table.end) == (key, start, end):
            then(self.table)
            return
        registers = self.registers
        self.task = run_in_background(self, "正在读取登记簿……", lambda _p, _c: registers.read(key, start, end),
                                      on_done=then, on_error=lambda e: messages.show_error(self, "无法读取登记簿", e))

    # -- printing ----------------------------------------------------------------------------

    def print_register(self) -> None:
        marking = self.marking.currentData()

        def show(table) -> None:
            self.print_dialog = RegisterPrintDialog(self.services, table, marking, self)
            self.print_dialog.open()

        self._with_table(show)

    # -- export (the base dialog runs ``write`` off the UI thread) --------------------------------

    def file_name(self) -> str:
        key, start, end = self.choice()
        return f"{self.kind.currentText()}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"

    def what(self) -> str:
        _key, start, end = self.choice()
        return f"{self.kind.currentText()}({start.isoformat()} 至 {end.isoformat()})"

    def export(self, path: str | Path | None = None) -> None:
        self._chosen = (*self.choice(), self.marking.currentData(), self.table)  # read here, used on the worker
        super().export(path)

    def write(self, path: Path, progress, cancelled) -> int:
        key, start, end, marking, table = self._chosen
        if table is None or (table.register.key, table.start, table.end) != (key, start, end):
            table = self.registers.read(key, start, end)
        return export_register(self.registers, table, path, marking=marking, progress=progress, cancelled=cancelled)


class RegisterPrintDialog(_PrintDialog):
    """The register as it will be printed (the PDF the core draws), 打印… or 另存为 PDF."""

    def __init__(self, services, table, marking: str, parent: QWidget | None = None) -> None:
        super().__init__(services.printing, f"{table.register.title}({table.period})", parent)
        self.registers, self.table, self.marking = services.carrier_registers, table, marking
        self.controls.addWidget(QLabel(f"{table.register.title}\n期间:{table.period}\n{table.summary()}"))
        self.controls.addStretch(1)
        self.refresh()

    def render(self, target, *, record: bool, printer: str = "", medium: str = "") -> str:
        pages = self.registers.print(self.table, target, marking=self.marking, record=record, printer=printer,
                                     medium=medium)
        return f"共 {pages} 页"
