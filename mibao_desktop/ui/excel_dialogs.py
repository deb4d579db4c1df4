"""Excel in and out: the import wizard, the export dialog (to a file or a removable medium),
the annual report and the output register. Work runs through the shared background helper."""

from __future__ import annotations

import datetime as dt
from pathlib import Path


from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from mibao_desktop.excel import default_marking, export_annual_report, export_ledger
from mibao_desktop.excel.export import MARKINGS, marking_text
from mibao_desktop.excel.importer import ImportReport, plan_import, run_import, write_refused
from mibao_desktop.excel.person_holdings import TITLE as HOLDINGS_TITLE, export_person_holdings
from mibao_desktop.excel.reader import SpreadsheetError
from mibao_desktop.removable_drives import removable_drives
from mibao_desktop.errors import Cancelled
from mibao_desktop.services.output_service import OutputService
from mibao_desktop.ui import messages
from mibao_desktop.ui.record_dialog import ERROR_STYLE
from mibao_desktop.ui.tasks import run_in_background
from mibao_desktop.ui.widgets import read_only_table

NOT_IMPORTED = "(不导入)"


# -- import wizard --------------------------------------------------------------------------------


class ImportWizard(QWizard):
    """Choose the file and sheet → check the column mapping → preview every row → import."""

    def __init__(self, service, ledger, parent: QWidget | None = None, *, path: str | Path | None = None) -> None:
        super().__init__(parent)
        self.service, self.ledger = service, ledger
        self.plan = None
        self.preview: ImportReport | None = None
        self.result_: ImportReport | None = None
        self.task = None
        self.setWindowTitle(f"导入{ledger.title}")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setButtonText(QWizard.WizardButton.NextButton, "下一步 >")
        self.setButtonText(QWizard.WizardButton.BackButton, "< 上一步")
        self.setButtonText(QWizard.WizardButton.FinishButton, "完成")
        self.setButtonText(QWizard.WizardButton.CancelButton, "取消")
        self.file_page, self.mapping_page = FilePage(self), MappingPage(self)
        self.preview_page, self.done_page = PreviewPage(self), DonePage(self)
        for page in (self.file_page, self.mapping_page, self.preview_page, self.done_page):
            self.addPage(page)
        self.resize(900, 620)
        if path is not None:
            self.file_page.open_file(path)


class FilePage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 1 步:选择文件和工作表")
        self.setSubTitle("支持 .xlsx 和 .csv(UTF-8 或 GBK)。表头可以在标题行、填报单位行之下。")
        self.path = QLineEdit()
        self.path.setReadOnly(True)
        choose = QPushButton("选择文件…")
        choose.clicked.connect(lambda: self.open_file())
        self.sheet = QComboBox()
        self.sheet.currentIndexChanged.connect(self._sheet_chosen)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.info = QLabel()
        self.info.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(choose)
        form = QFormLayout(self)
        form.addRow("文件", row)
        form.addRow("工作表", self.sheet)
        form.addRow(self.info)
        form.addRow(self.error)

    def open_file(self, path: str | Path | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "选择要导入的台账", "", "Excel 或 csv (*.xlsx *.xlsm *.csv)")
            if not path:
                return
        self.error.clear()
        try:
            self.w.plan = plan_import(self.w.ledger, Path(path), self.w.service.import_mapping(self.w.ledger))
        except SpreadsheetError as exc:
            self.w.plan = None
            self.error.setText(str(exc))
            self.completeChanged.emit()
            return
        self.path.setText(str(path))
        self.sheet.blockSignals(True)
        self.sheet.clear()
        for s in self.w.plan.sheets:
            self.sheet.addItem(f"{s.name}({len(s.rows)} 行)")
        self.sheet.setCurrentIndex(self.w.plan.sheet_index)
        self.sheet.blockSignals(False)
        self._describe()
        self.completeChanged.emit()

    def _sheet_chosen(self, index: int) -> None:
        if self.w.plan is not None and index >= 0:
            self.w.plan.choose_sheet(index, self.w.service.import_mapping(self.w.ledger))
            self._describe()

    def _describe(self) -> None:
        plan = self.w.plan
        self.info.setText(f"表头在第 {plan.header_number} 行,识别出 {len(plan.mapping)} 列;"
                          f"其下有 {len(plan.data_rows)} 行。下一步可核对每一列。")

    def isComplete(self) -> bool:
        return self.w.plan is not None


class MappingPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 2 步:核对列的对应关系")
        self.setSubTitle("左边是表格中的列名,右边选择它对应的台账字段;不需要的列选“(不导入)”。下次导入会记住。")
        self.table = read_only_table(["表格中的列", "示例", "对应的字段"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.missing = QLabel()
        self.missing.setStyleSheet(ERROR_STYLE)
        self.missing.setWordWrap(True)
        self.combos: list[QComboBox] = []
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.missing)

    def initializePage(self) -> None:
        plan = self.w.plan
        headers = plan.headers
        sample = plan.data_rows[0][1] if plan.data_rows else []
        width = max(len(headers), len(sample))
        self.table.setRowCount(width)
        self.combos = []
        for index in range(width):
            self.table.setItem(index, 0, QTableWidgetItem(headers[index] if index < len(headers) else f"第 {index + 1} 列"))
            value = sample[index] if index < len(sample) else ""
            self.table.setItem(index, 1, QTableWidgetItem("" if value is None else str(value)))
            combo = QComboBox()
            combo.addItem(NOT_IMPORTED, None)
            for f in self.w.ledger.form_fields:
                combo.addItem(f.label + (" *" if f.required and f.default is None else ""), f.name)
            combo.setCurrentIndex(max(0, combo.findData(plan.mapping.get(index))))
            combo.currentIndexChanged.connect(lambda _i, col=index: self._changed(col))
            self.table.setCellWidget(index, 2, combo)
            self.combos.append(combo)
        self._show_missing()

    def _changed(self, column: int) -> None:
        self.w.plan.set_column(column, self.combos[column].currentData())
        for index, combo in enumerate(self.combos):  # a field is filled from one column only
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(self.w.plan.mapping.get(index))))
            combo.blockSignals(False)
        self._show_missing()

    def set_column(self, column: int, field_name: str | None) -> None:
        self.combos[column].setCurrentIndex(max(0, self.combos[column].findData(field_name)))

    def _show_missing(self) -> None:
        missing = self.w.plan.missing_required()
        self.missing.setText(f"还缺少必填字段:{'、'.join(missing)}。请为它们指定列。" if missing else "")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.w.plan is not None and not self.w.plan.missing_required() and len(self.w.plan.mapping) >= 2

    def validatePage(self) -> bool:
        self.w.service.save_import_mapping(self.w.ledger, self.w.plan.mapping_to_save())
        return True


class PreviewPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 3 步:预览并检查每一行")
        self.setSubTitle("逐行按台账规则检查,尚未保存任何数据。")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = read_only_table(["行号", "列", "原因"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.good_rows = QRadioButton("导入所有正确的行,有错的行不导入")
        self.nothing = QRadioButton("只要有一行出错,就一行也不导入")
        self.good_rows.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.good_rows)
        group.addButton(self.nothing)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.good_rows)
        layout.addWidget(self.nothing)
        self.setCommitPage(True)  # once imported there is no going back to import again
        self.setButtonText(QWizard.WizardButton.CommitButton, "导入")

    def initializePage(self) -> None:
        try:
            report = run_import(self.w.service, self.w.plan, dry_run=True)
        except SpreadsheetError as exc:
            self.summary.setText(str(exc))
            return
        self.w.preview = report
        self.summary.setText(f"共检查 {report.accepted + report.refused_rows} 行:{report.accepted} 行正确,"
                             f"{report.refused_rows} 行有错" + (f";跳过签字栏等 {len(report.skipped_rows)} 行" if report.skipped_rows else ""))
        self.table.setRowCount(len(report.refused))
        for i, r in enumerate(report.refused):
            for j, text in enumerate((str(r.row), r.column, r.message)):
                self.table.setItem(i, j, QTableWidgetItem(text))

    def validatePage(self) -> bool:
        wizard = self.w

        def work(progress, cancelled):
            return run_import(wizard.service, wizard.plan, all_or_nothing=self.nothing.isChecked(),
                              progress=progress, cancelled=cancelled)

        def done(report):
            wizard.result_ = report
            wizard.next()

        def failed(exc):
            if isinstance(exc, Cancelled):
                messages.inform(wizard, "导入已取消", exc.message)
            else:
                messages.show_error(wizard, "导入失败", exc)

        if wizard.result_ is not None:
            return True
        wizard.task = run_in_background(wizard, "正在导入……", work, on_done=done, on_error=failed)
        return False  # the page turns when the import has finished


class DonePage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 4 步:导入结果")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.save_button = QPushButton("保存未导入的行…")
        self.save_button.clicked.connect(lambda: self.save_refused())
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("未导入的行可另存为同样格式的表格(末列注明原因),改正后再次导入;已导入的行不会重复登记。"))
        layout.addWidget(self.save_button)
        layout.addStretch(1)

    def initializePage(self) -> None:
        report = self.w.result_
        self.summary.setText(f"已导入 {report.created} 条,未导入 {report.refused_rows} 行。")
        self.save_button.setEnabled(bool(report.refused))

    def save_refused(self, path: str | Path | None = None) -> Path | None:
        if path is None:
            default = self.w.plan.path.with_name(f"{self.w.plan.path.stem}-未导入.xlsx")
            path, _ = QFileDialog.getSaveFileName(self, "保存未导入的行", str(default), "Excel 工作簿 (*.xlsx)")
            if not path:
                return None
        try:
            count = write_refused(self.w.plan, self.w.result_, Path(path))
        except OSError as exc:
            messages.show_error(self, "保存失败", exc)
            return None
        messages.inform(self, "已保存", f"已保存 {count} 行到\n{path}")
        return Path(path)


# -- export ---------------------------------------------------------------------------------------


class TargetChooser(QWidget):
    """文件 or 移动介质 (a mounted removable drive)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.to_file = QRadioButton("保存为文件")
        self.to_medium = QRadioButton("导出到移动介质")
        self.to_file.setChecked(True)
        self.drives = QComboBox()
        refresh = QPushButton("刷新")
        refresh.clicked.connect(self.refresh)
        row = QHBoxLayout()
        row.addWidget(self.to_medium)
        row.addWidget(self.drives, 1)
        row.addWidget(refresh)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.to_file)
        layout.addLayout(row)
        group = QButtonGroup(self)
        group.addButton(self.to_file)
        group.addButton(self.to_medium)
        self.refresh()

    def refresh(self) -> None:
        self.drives.clear()
        for drive in removable_drives():
            self.drives.addItem(drive.title, str(drive.path))
        if not self.drives.count():
            self.drives.addItem("(未发现移动介质,插入后点“刷新”)", None)

    def medium(self) -> Path | None:
        return Path(self.drives.currentData()) if self.to_medium.isChecked() and self.drives.currentData() else None


class _ExportBase(QDialog):
    def __init__(self, service, outputs: OutputService, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.outputs = outputs  # registers what goes onto a removable medium
        self.task = None
        self.setWindowTitle(title)
        self.marking = QComboBox()
        for level in MARKINGS:
            self.marking.addItem(marking_text(level), level)
        self.target = TargetChooser()
        self.form = QFormLayout()
        self.form.addRow("报表密级标志", self.marking)
        self.form.addRow("导出到", self.target)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.go = QPushButton("导出")
        self.go.clicked.connect(lambda: self.export())
        cancel = QPushButton("关闭")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.go)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.setMinimumWidth(560)

    def file_name(self) -> str:
        raise NotImplementedError

    def what(self) -> str:
        raise NotImplementedError

    def write(self, path: Path, progress, cancelled) -> int:
        raise NotImplementedError

    def export(self, path: str | Path | None = None) -> None:
        """To the chosen medium, or to ``path`` / a file the user picks."""
        medium = self.target.medium()
        marking = self.marking.currentData()
        if medium is None and self.target.to_medium.isChecked():
            self.error.setText("没有可用的移动介质:请插入 U 盘等介质后点“刷新”。")
            return
        if medium is None and path is None:
            path, _ = QFileDialog.getSaveFileName(self, self.windowTitle(), self.file_name(), "Excel 工作簿 (*.xlsx)")
            if not path:
                return
        if medium is not None:
            outputs = self.outputs

            def work(progress, cancelled):
                return outputs.to_medium(lambda p: self.write(p, progress, cancelled), self.file_name(), medium,
                                         what=self.what(), marking=marking)

            def done(result):
                written, count = result
                messages.inform(self, "已导出到移动介质",
                                f"已写入并校验:{written.path}\n记录 {count} 条,{written.size // 1024} KB\n"
                                f"SHA-256:{written.sha256}\n校验文件:{written.manifest.name}")
                self.accept()
        else:
            target = Path(path)

            def work(progress, cancelled):
                return self.write(target, progress, cancelled)

            def done(count):
                messages.inform(self, "导出完成", f"已导出 {count} 条记录到\n{target}")
                self.accept()

        self.task = run_in_background(self, "正在导出……", work, on_done=done,
                                      on_error=lambda e: messages.show_error(self, "导出失败", e))


class ExportDialog(_ExportBase):
    """A ledger, with the table's current filter and columns, to a file or a medium."""

    def __init__(self, service, outputs: OutputService, ledger, query, fields: list[str], unit: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(service, outputs, f"导出{ledger.title}", parent)
        self.ledger, self.query, self.fields, self.unit = ledger, query, fields, unit
        count = service.count(ledger, query)
        self.form.insertRow(0, QLabel(f"将导出 {count} 条记录、{len(fields)} 列(按表格当前的筛选和显示列)。"))
        self.marking.setCurrentIndex(self.marking.findData(default_marking(service, ledger, query)))

    def file_name(self) -> str:
        return f"{self.ledger.title}-{dt.date.today():%Y%m%d}.xlsx"

    def what(self) -> str:
        return self.ledger.title

    def write(self, path: Path, progress, cancelled) -> int:
        return export_ledger(self.service, self.ledger, path, query=self.query, fields=self.fields,
                             marking=self.marking.currentData(), unit=self.unit, progress=progress, cancelled=cancelled)


class AnnualReportDialog(_ExportBase):
    def __init__(self, service, outputs: OutputService, unit: str = "", parent: QWidget | None = None) -> None:
        super().__init__(service, outputs, "年度报表", parent)
        self.unit = unit
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(dt.date.today().year)
        self.form.insertRow(0, "年度", self.year)
        self.marking.setCurrentIndex(self.marking.findData("机密"))

    def file_name(self) -> str:
        return f"{self.year.value()}年度保密台账报表.xlsx"

    def what(self) -> str:
        return f"{self.year.value()} 年度报表"

    def write(self, path: Path, progress, cancelled) -> int:
        return export_annual_report(self.service, self.year.value(), path, marking=self.marking.currentData(),
                                    unit=self.unit, progress=progress, cancelled=cancelled)


class HoldingsExportDialog(_ExportBase):
    """A person's list (人员保管、使用的设备和介质清单) to a file or a medium, marked by default
    with the highest level among the items."""

    def __init__(self, service, outputs: OutputService, holdings, unit: str = "", parent: QWidget | None = None) -> None:
        person = holdings.person
        super().__init__(service, outputs, f"导出 {person.label} 的{HOLDINGS_TITLE}", parent)
        self.holdings, self.unit = holdings, unit
        who = "·".join(p for p in (person.display("department"), person.number) if p)
        self.form.insertRow(0, QLabel(f"{person.label}({who}):{holdings.summary()}。"))
        self.marking.setCurrentIndex(self.marking.findData(holdings.marking))

    def file_name(self) -> str:
        return f"{self.holdings.person.label}-保管使用清单-{dt.date.today():%Y%m%d}.xlsx"

    def what(self) -> str:
        return f"{self.holdings.person.label} {HOLDINGS_TITLE}"

    def write(self, path: Path, progress, cancelled) -> int:
        return export_person_holdings(self.service, self.holdings, path, marking=self.marking.currentData(),
                                      unit=self.unit, progress=progress, cancelled=cancelled)


class OutputRegisterDialog(QDialog):
    """输出登记: what went out on removable media, when, by whom, with its hash."""

    def __init__(self, outputs: OutputService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("输出登记")
        rows = outputs.register()
        self.table = read_only_table(["时间", "操作人", "内容", "文件", "介质/目录", "大小", "记录数", "密级", "SHA-256"])
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            for j, text in enumerate((r.at.strftime("%Y-%m-%d %H:%M"), r.actor, r.what, r.file_name, r.target,
                                      f"{r.size // 1024} KB", str(r.records), marking_text(r.marking), r.sha256)):
                self.table.setItem(i, j, QTableWidgetItem(text))
        if rows:
            self.table.resizeColumnsToContents()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"共 {len(rows)} 次输出到移动介质" if rows else "尚无输出到移动介质的记录"))
        layout.addWidget(self.table)
        self.resize(1100, 500)


__all__ = ["AnnualReportDialog", "ExportDialog", "HoldingsExportDialog", "ImportWizard", "OutputRegisterDialog"]
