"""打印标识 and 打印审批表: choose, preview, print to any installed printer or save as PDF.

Both dialogs only collect choices; the PrintService renders the PDF (and records each print),
the preview shows exactly that file, and the printer receives it at 100 %.
"""

from __future__ import annotations

import io
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from mibao_desktop.excel.copy_numbers import CopyNumberError, parse as parse_copy_numbers
from mibao_desktop.ledgers import children_of
from mibao_desktop.printing import carrier_labels as CL, labels as L
from mibao_desktop.printing.templates import FORM_TEMPLATES
from mibao_desktop.errors import ServiceError
from mibao_desktop.services.print_service import PrintService
from mibao_desktop.ui import messages
from mibao_desktop.ui.pdf_output import PdfPreview, print_pdf
from mibao_desktop.ui.record_dialog import ERROR_STYLE

PDF_PRINTER = "PDF"  # offsets for "save as PDF" are kept under this name
CUSTOM = "custom"


class _PrintDialog(QDialog):
    """Controls on the left, the preview on the right, 打印 / 另存为 PDF below."""

    def __init__(self, service: PrintService, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.setWindowTitle(title)
        self.controls = QVBoxLayout()
        self.preview = PdfPreview()
        self.preview.setMinimumWidth(660)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.print_button = QPushButton("打印…")
        self.save_button = QPushButton("另存为 PDF…")
        close = QPushButton("关闭")
        self.print_button.clicked.connect(lambda: self.print_to())
        self.save_button.clicked.connect(lambda: self.save_pdf())
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        for b in (self.print_button, self.save_button, close):
            buttons.addWidget(b)
        side = QWidget()
        side.setLayout(self.controls)
        side.setFixedWidth(360)
        body = QHBoxLayout()
        body.addWidget(side)
        body.addWidget(self.preview, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.pdf: bytes = b""
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(200)
        self._pending.timeout.connect(self.refresh)
        self.resize(1100, 720)

    def changed(self) -> None:
        self._pending.start()  # several quick changes, one preview

    def render(self, target, *, record: bool, printer: str = "", medium: str = "") -> str:
        """Draw into ``target``; returns a one-line summary. Raises ServiceError."""
        raise NotImplementedError

    def refresh(self) -> None:
        self._pending.stop()
        buffer = io.BytesIO()
        try:
            self.summary.setText(self.render(buffer, record=False, printer=self.printer_name()))
        except ServiceError as exc:
            self.error.setText(exc.message)
            self.error.show()
            self.print_button.setEnabled(False)
            self.save_button.setEnabled(False)
            return
        self.error.hide()
        self.print_button.setEnabled(True)
        self.save_button.setEnabled(True)
        self.pdf = buffer.getvalue()
        self.preview.show_pdf(self.pdf)

    def printer_name(self) -> str:
        return PDF_PRINTER

    def may_output(self) -> bool:
        """Asked before anything is printed or saved (a form whose record is in no state for it)."""
        return True

    def _output(self, target, printer: str, medium: str) -> bytes | None:
        buffer = io.BytesIO()
        try:
            self.render(buffer, record=True, printer=printer, medium=medium)
        except ServiceError as exc:
            messages.error(self, "无法打印", exc.message)
            return None
        return buffer.getvalue()

    def save_pdf(self, path: str | Path | None = None) -> Path | None:
        if not self.may_output():
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "另存为 PDF", f"{self.windowTitle()}.pdf", "PDF (*.pdf)")
            if not path:
                return None
        path = Path(path)
        data = self._output(path, PDF_PRINTER if self.printer_name() == PDF_PRINTER else self.printer_name(), str(path))
        if data is None:
            return None
        try:
            temp = path.with_name(path.name + ".part")
            temp.write_bytes(data)
            temp.replace(path)
        except OSError as exc:
            messages.show_error(self, "保存失败", exc)
            return None
        messages.inform(self, "已保存", f"已保存到\n{path}\n打印时请选择“实际大小/100%”,不要“适合页面”。")
        return path

    def print_to(self, printer: QPrinter | None = None) -> bool:
        """打印: the system print dialog, unless a printer is given (tests, a remembered one)."""
        if not self.may_output():
            return False
        if printer is None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            if self.printer_name() != PDF_PRINTER:
                printer.setPrinterName(self.printer_name())
            if QPrintDialog(printer, self).exec() != QDialog.DialogCode.Accepted:
                return False
        name = printer.printerName() or (printer.outputFileName() and "PDF 文件") or "打印机"
        data = self._output(None, printer.printerName() or PDF_PRINTER, f"打印机:{name}")
        if data is None:
            return False
        try:
            pages = print_pdf(data, printer)
        except (OSError, ValueError) as exc:
            messages.show_error(self, "打印失败", exc)
            return False
        messages.inform(self, "已发送打印", f"已发送 {pages} 页到 {name}。")
        return True


class LabelPrintDialog(_PrintDialog):
    def __init__(self, service: PrintService, ledger, records, parent: QWidget | None = None) -> None:
        super().__init__(service, f"打印标识 · {ledger.title}", parent)
        self.ledger, self.records = ledger, list(records)
        self.kind = QComboBox()
        if ledger.label.level_field:
            self.kind.addItem("密级标识", L.LEVEL_LABEL)
        self.kind.addItem("保密提醒标识", L.REMINDER_LABEL)
        # a carrier's copies: a cover or envelope label for each copy (份), not one per carrier
        self.per_copy = any(child.counted_by for child in children_of(ledger))
        if self.per_copy:
            self.kind.addItem("封面标识(每份一张)", CL.COVER_LABEL)
            self.kind.addItem("密封信封标识(每份一张)", CL.ENVELOPE_LABEL)
            self.kind.addItem("密封条(封口、中缝各一张)", CL.SEAL_STRIP)
        self.copy_numbers = QLineEdit()
        self.copy_numbers.setPlaceholderText("不填:在管的各份;或如 1-5、1、3、7")
        self.receiver = QLineEdit()
        self.receiver.setPlaceholderText("不填:按分发记录;没有时留线手写")
        self.sender = QLineEdit()
        self.sender.setPlaceholderText(service.unit_name() or "不填:打印设置中的单位名称")
        self.layout_choice = QComboBox()
        for name, layout in L.PRESETS.items():
            self.layout_choice.addItem(layout.title, name)
        self.layout_choice.addItem("自定义网格…", CUSTOM)
        self.start = QSpinBox()
        self.copies = QSpinBox()
        self.copies.setRange(1, 100)
        form = QFormLayout()
        form.addRow(QLabel(f"已选 {len(self.records)} 条记录"))
        form.addRow("标识种类", self.kind)
        self.copy_rows = []
        for label, widget in (("份号", self.copy_numbers), ("收件单位", self.receiver), ("发件单位", self.sender)):
            form.addRow(label, widget)
            self.copy_rows.append((form, widget))
        form.addRow("版式", self.layout_choice)
        form.addRow("从第几个位置开始", self.start)
        form.addRow("每条打印份数", self.copies)
        unit_name = service.unit_name()
        self.unit = QCheckBox(f"印上“{unit_name}”" if unit_name else "未填写(在“打印设置”中填写)")
        self.unit.setEnabled(bool(unit_name))
        self.unit.setChecked(bool(unit_name))  # the unit's name is on every label sheet unless unticked
        if unit_name:
            # a real unit's name is longer than the panel: cut with … there, whole in the tooltip
            self.unit.setText(self.unit.fontMetrics().elidedText(self.unit.text(), Qt.ElideMiddle, 220))
            self.unit.setToolTip(f"在每张标识上印上“{unit_name}”")
        else:
            self.unit.setToolTip("单位名称在“打印设置”中填写。")
        self.safe_margin = QDoubleSpinBox()
        self.safe_margin.setRange(0, L.MAX_SAFE_MARGIN)
        self.safe_margin.setDecimals(1)
        self.safe_margin.setSingleStep(0.5)
        self.safe_margin.setSuffix(" mm")
        self.safe_margin.setSpecialValueText("无")
        self.safe_margin.setToolTip("打印机印不到纸边时,让标识的文字、色条和二维码离标签四边留出这么多空白。")
        form.addRow("单位名称", self.unit)
        form.addRow("安全边距", self.safe_margin)
        self.controls.addLayout(form)

        self.custom_box = QGroupBox("自定义网格(毫米)")
        grid = QFormLayout(self.custom_box)
        self.custom: dict[str, QSpinBox | QDoubleSpinBox] = {}
        base = L.PRESETS[L.DEFAULT_LAYOUT]
        for name, label, low, high in (("columns", "列数", 1, 10), ("rows", "行数", 1, 20)):
            spin = QSpinBox()
            spin.setRange(low, high)
            spin.setValue(getattr(base, name))
            self.custom[name] = spin
            grid.addRow(label, spin)
        for name, label in (("label_width", "标签宽"), ("label_height", "标签高"), ("margin_left", "左边距"),
                            ("margin_top", "上边距"), ("gap_x", "横向间距"), ("gap_y", "纵向间距")):
            spin = QDoubleSpinBox()
            spin.setRange(0, 297)
            spin.setDecimals(2)
            spin.setSingleStep(0.5)
            spin.setValue(getattr(base, name))
            self.custom[name] = spin
            grid.addRow(label, spin)
        self.controls.addWidget(self.custom_box)

        printer_box = QGroupBox("打印机与进纸偏移")
        pform = QFormLayout(printer_box)
        self.printer = QComboBox()
        self.printer.addItem("PDF 文件 / 默认", PDF_PRINTER)
        for name in QPrinterInfo.availablePrinterNames():
            self.printer.addItem(name, name)
        self.offset_x, self.offset_y = QDoubleSpinBox(), QDoubleSpinBox()
        for spin in (self.offset_x, self.offset_y):
            spin.setRange(-20, 20)
            spin.setDecimals(1)
            spin.setSingleStep(0.5)
            spin.setSuffix(" mm")
        save_offset = QPushButton("记住此打印机的偏移")
        save_offset.clicked.connect(self.save_offset)
        calibrate = QPushButton("打印校准页…")
        calibrate.clicked.connect(lambda: self.calibration())
        pform.addRow("打印机", self.printer)
        pform.addRow("向右偏移 X", self.offset_x)
        pform.addRow("向下偏移 Y", self.offset_y)
        pform.addRow(save_offset)
        pform.addRow(calibrate)
        self.controls.addWidget(printer_box)
        self.controls.addStretch(1)

        for widget in (self.kind, self.layout_choice, self.printer):
            widget.currentIndexChanged.connect(lambda _i: self._choices_changed())
        for widget in (self.start, self.copies, self.safe_margin, *self.custom.values()):
            widget.valueChanged.connect(lambda _v: self.changed())
        self.unit.toggled.connect(lambda _on: self.changed())
        for edit in (self.copy_numbers, self.receiver, self.sender):
            edit.textChanged.connect(lambda _t: self.changed())
        self._choices_changed()
        self.refresh()

    def layout_(self) -> L.LabelLayout:
        name = self.layout_choice.currentData()
        if name != CUSTOM:
            return L.PRESETS[name]
        values = {k: s.value() for k, s in self.custom.items()}
        return L.LabelLayout(CUSTOM, "自定义网格", *L.A4, **values)

    def printer_name(self) -> str:
        return self.printer.currentData() or PDF_PRINTER

    def _choices_changed(self) -> None:
        self.custom_box.setVisible(self.layout_choice.currentData() == CUSTOM)
        kind = self.kind.currentData()
        if kind == CL.SEAL_STRIP and kind != getattr(self, "_kind_shown", None) and self.copies.value() == 1:
            self.copies.setValue(2)  # one for the flap (封口), one for the middle seam (中缝)
        self._kind_shown = kind
        for form, widget in self.copy_rows:  # 份号 for either copy label, 收发件单位 for the envelope
            shown = kind == CL.ENVELOPE_LABEL or (kind in CL.KIND_TITLES and widget is self.copy_numbers)
            form.setRowVisible(widget, shown)
        if self.copy_rows:
            form = self.copy_rows[0][0]
            form.labelForField(self.copies).setText("每份打印张数" if kind in CL.KIND_TITLES else "每条打印份数")
            form.setRowVisible(self.unit, kind not in (CL.ENVELOPE_LABEL, CL.SEAL_STRIP))  # the envelope names its 发件单位
        layout = self.layout_()
        self.start.setRange(1, max(1, layout.per_page))
        dx, dy = self.service.offset(self.printer_name())
        self.offset_x.setValue(dx)
        self.offset_y.setValue(dy)
        self.changed()

    def save_offset(self) -> None:
        try:
            self.service.set_offset(self.printer_name(), self.offset_x.value(), self.offset_y.value())
        except ServiceError as exc:
            messages.error(self, "无法保存偏移", exc.message)
            return
        self.changed()

    def render(self, target, *, record: bool, printer: str = "", medium: str = "") -> str:
        layout = self.layout_()
        try:
            layout.check()
        except L.LayoutError as exc:
            raise ServiceError(str(exc)) from None
        kind = self.kind.currentData()
        if kind in CL.KIND_TITLES:
            try:
                only = parse_copy_numbers(self.copy_numbers.text())
            except CopyNumberError as exc:
                raise ServiceError(f"份号:{exc}") from None
            marks = self.service.copy_marks(self.records, receiver=self.receiver.text(), sender=self.sender.text(),
                                            envelope=kind == CL.ENVELOPE_LABEL, only=only)
            drawn = self.service.copy_labels(self.ledger, marks, target, layout, kind=kind, start=self.start.value(),
                                             copies=self.copies.value(), printer=printer, medium=medium,
                                             record=record, unit=self.unit.isChecked(),
                                             safe_margin=self.safe_margin.value())
        else:
            drawn = self.service.labels(self.ledger, self.records, target, layout, kind=kind,
                                        start=self.start.value(), copies=self.copies.value(), printer=printer,
                                        medium=medium, record=record, unit=self.unit.isChecked(),
                                        safe_margin=self.safe_margin.value())
        first = self.start.value() - 1 + drawn
        sheets = -(-first // layout.per_page)
        return f"共 {drawn} 张标识,{sheets} 页;偏移 X {self.offset_x.value():+.1f} mm,Y {self.offset_y.value():+.1f} mm"

    def calibration(self, path: str | Path | None = None) -> None:
        """The calibration page, to print and measure (as PDF or straight to the printer)."""
        buffer = io.BytesIO()
        self.service.calibration(buffer, self.layout_(), self.printer_name())
        if path is not None:
            Path(path).write_bytes(buffer.getvalue())
            return
        self.preview.show_pdf(buffer.getvalue())
        self.summary.setText("校准页预览:打印后量取刻度,把偏移填入左侧并“记住”。再次更改选项即回到标识预览。")


class FormPrintDialog(_PrintDialog):
    """``forms`` limits the choice (a person's page prints its list); ``holdings`` is that list
    already read, so that the preview does not read it again at each change."""

    def __init__(self, service: PrintService, ledger, records, parent: QWidget | None = None, *,
                 forms: tuple[str, ...] | None = None, holdings=None, departure=None) -> None:
        keys = forms if forms is not None else tuple(ledger.forms)  # the declaration lists its forms
        title = FORM_TEMPLATES[keys[0]].title if forms is not None and len(keys) == 1 else f"打印审批表 · {ledger.title}"
        super().__init__(service, title, parent)
        self.ledger, self.records, self.holdings = ledger, list(records), holdings
        self.departure = departure  # a 离岗离职 under way: what its 离岗保密承诺书 is filled with
        self.form_choice = QComboBox()
        for key in keys:
            self.form_choice.addItem(FORM_TEMPLATES[key].title, key)
        if len(self.records) > 1:  # several rows chosen: start with a form that lists them
            many = [i for i in range(self.form_choice.count())
                    if FORM_TEMPLATES[self.form_choice.itemData(i)].selection == "many"]
            if many:
                self.form_choice.setCurrentIndex(many[0])
        self.form_choice.currentIndexChanged.connect(lambda _i: self.changed())
        form = QFormLayout()
        form.addRow(QLabel(f"已选 {len(self.records)} 条记录"))
        form.addRow("审批表", self.form_choice)
        self.controls.addLayout(form)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.controls.addWidget(self.hint)
        self.warning = QLabel()
        self.warning.setStyleSheet(ERROR_STYLE)
        self.warning.setWordWrap(True)
        self.controls.addWidget(self.warning)
        self.controls.addStretch(1)
        self.refresh()

    def warnings(self) -> list[str]:
        try:
            return self.service.form_warnings(self.form_choice.currentData(), self.records)
        except ServiceError:
            return []

    def may_output(self) -> bool:
        """A form whose records are in no state for it (a device 维修 on the take-out form) says so
        on the paper too; printing it is the administrator's decision, asked once."""
        found = self.warnings()
        if not found:
            return True
        return messages.confirm(self, "请注意", "\n".join(found) + "。\n表上也将注明。仍要输出吗?", action="仍要输出")

    def render(self, target, *, record: bool, printer: str = "", medium: str = "") -> str:
        key = self.form_choice.currentData()
        template = FORM_TEMPLATES[key]
        many = "可列入所选的多条记录,清单附后" if template.selection == "many" else \
            "一次填写一条记录" if template.selection == "one" else "不需要选择记录"
        self.hint.setText(f"此表{many}。外出、维修、报废等内容取自记录及其最近一次状态变更;签字和空白日期栏打印后手写。")
        found = self.warnings()
        self.warning.setText(("注意:" + ";".join(found) + "。") if found else "")
        self.warning.setVisible(bool(found))
        pages = self.service.form(key, self.ledger, self.records, target, printer=printer, medium=medium,
                                  record=record, holdings=self.holdings, departure=self.departure)
        return f"{FORM_TEMPLATES[key].title}:{pages} 页"
