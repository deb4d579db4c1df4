"""Excel in and out: the import wizard, the export dialog (to a file or a removable medium),
the annual report and the output register. Work runs through the shared background helper."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
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
    QTabWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from mibao_desktop.excel import default_marking, export_annual_report, export_ledger
from mibao_desktop.excel.annual import report_marking
from mibao_desktop.excel.export import marking_text, markings
from mibao_desktop.excel.importer import FROM, PENDING, VALUE, Fill, ImportReport, plan_import, run_import, write_refused
from mibao_desktop.excel.person_holdings import TITLE as HOLDINGS_TITLE, export_person_holdings
from mibao_desktop.removable_drives import removable_drives
from mibao_desktop.errors import Cancelled
from mibao_desktop.services.output_service import OutputService
from mibao_desktop.ui import messages
from mibao_desktop.ui.record_dialog import ERROR_STYLE
from mibao_desktop.ui.tasks import run_in_background
from mibao_desktop.ui.widgets import read_only_table

NOT_IMPORTED = "(不导入)"
FILL_CHOICES = ((PENDING, "留空,标为“待补充”"), (VALUE, "每一行都填:"), (FROM, "取自另一列:"))


# -- import wizard --------------------------------------------------------------------------------

FILE_FILTER = "表格文件 (*.xlsx *.xlsm *.xls *.ods *.csv *.txt);;所有文件 (*)"
FORMATS = "Excel(.xlsx .xlsm .xls)、WPS/LibreOffice(.ods)和文本表格(.csv .txt,UTF-8 或 GBK)"
FLAGGED_CHOICE = "也导入有删除线的行和小计/合计行"
SHOWN_NAMES = 8  # people to be added named in the summary line


def _cell_text(value) -> str:
    """A raw cell as the mapping page shows it as an example."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _names(names: list[str], limit: int = SHOWN_NAMES) -> str:
    shown = "、".join(names[:limit])
    return shown + (f" 等 {len(names)} 人" if len(names) > limit else "")


def _fill(table, rows: list[list[str]]) -> None:
    table.setUpdatesEnabled(False)
    table.setRowCount(0)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.setUpdatesEnabled(True)


def _with_children(ledger, report: ImportReport) -> str:
    """(其下载体份 14 份): the copies a carrier book's rows give, beside the carriers."""
    from mibao_desktop.ledgers import children_of

    nouns = "、".join(child.noun for child in children_of(ledger))
    return f"(其下{nouns} {report.children} 份)" if report.children else ""


class ImportWizard(QWizard):
    """Choose the file and sheet → check the column mapping → preview every row → import.

    The file is read, the preview checked and the import run off the UI thread (progress and
    取消); the wizard only shows what the Qt-free importer found and passes on the user's choices.
    """

    def __init__(self, service, ledger, parent: QWidget | None = None, *, path: str | Path | None = None,
                 settings=None) -> None:
        super().__init__(parent)
        self.service, self.ledger = service, ledger
        self.settings = settings  # the unit's settings: a level the file uses may be set as the unit's own
        self.plan = None
        self.preview: ImportReport | None = None
        self.result_: ImportReport | None = None
        self.task = None  # the background task running now (reading, the preview, the import)
        self.importing = False  # the task running is the import itself
        self.setWindowTitle(f"导入{ledger.title}")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setButtonText(QWizard.WizardButton.NextButton, "下一步 >")
        self.setButtonText(QWizard.WizardButton.BackButton, "< 上一步")
        self.setButtonText(QWizard.WizardButton.FinishButton, "完成")
        self.setButtonText(QWizard.WizardButton.CancelButton, "取消")
        # The last page comes after the import: a 取消 beside 完成 there read as undoing it
        # (nothing is undone; Esc still closes the wizard).
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.file_page, self.mapping_page = FilePage(self), MappingPage(self)
        self.preview_page, self.done_page = PreviewPage(self), DonePage(self)
        for page in (self.file_page, self.mapping_page, self.preview_page, self.done_page):
            self.addPage(page)
        self.resize(1000, 660)  # fits a 1366×768 screen with the taskbar
        if path is not None:
            self.file_page.open_file(path)

    @property
    def busy(self) -> bool:
        """Work is running in the background (reading the file, the preview or the import)."""
        return self.task is not None and self.task.running

    def start(self, label: str, work, on_done, on_error, *, importing: bool = False):
        self.importing = importing
        self.task = run_in_background(self, label, work, on_done=on_done, on_error=on_error)
        return self.task

    def reject(self) -> None:
        """取消, Esc or closing the window. Reading and the preview stop without a question; a
        running import is cancelled (nothing of it is kept) only when the user says so, and the
        wizard closes once it has stopped."""
        task = self.task
        if task is None or not task.running:
            super().reject()
            return
        if self.importing and not messages.confirm(
                self, "正在导入", "导入正在进行。要取消导入并关闭吗?(取消后本次导入的数据都不会保存)",
                action="取消导入", cancel="继续导入"):
            return
        task.finished.connect(lambda: QWizard.reject(self))
        task.cancel()


class FilePage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.fields: list[int] = []  # per sheet: how many of the ledger's fields its header names
        self.setTitle("第 1 步:选择文件和工作表")
        self.setSubTitle(f"支持 {FORMATS}。表头可以在标题行、填报单位行之下,也可以是两行表头。")
        self.path = QLineEdit()
        self.path.setReadOnly(True)
        self.path.setPlaceholderText("尚未选择文件")
        self.choose = QPushButton("选择文件…")
        self.choose.clicked.connect(lambda: self.open_file())
        self.sheet = QComboBox()
        self.sheet.currentIndexChanged.connect(self._sheet_chosen)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.choose)
        form = QFormLayout(self)
        form.addRow("文件(&F)", row)
        form.addRow("工作表(&S)", self.sheet)
        form.addRow(self.info)
        form.addRow(self.error)
        self.setTabOrder(self.choose, self.sheet)

    def open_file(self, path: str | Path | None = None) -> None:
        """Read the file in the background (progress, 取消); the page shows what was found."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "选择要导入的台账", self.path.text(), FILE_FILTER)
            if not path:
                return
        path = Path(path)
        ledger, saved = self.w.ledger, self.w.service.import_mapping(self.w.ledger)
        self.error.clear()
        self.info.setText(f"正在读取“{path.name}”……")

        def work(progress, cancelled):
            plan = plan_import(ledger, path, saved, progress=progress, cancelled=cancelled)
            plan.flagged  # noqa: B018 - worked out here (every row, merged cells filled), not on the UI thread
            return plan, [plan.sheet_fields(i) for i in range(len(plan.sheets))]

        def done(result) -> None:
            self._show(path, *result)

        def failed(exc: BaseException) -> None:
            self.w.plan = None
            self.path.clear()
            self.sheet.clear()
            self.info.clear()
            if isinstance(exc, Cancelled):
                self.info.setText("已取消读取文件。")
            else:
                self.error.setText(messages.explain(exc)[0])
            self.completeChanged.emit()

        self.w.plan = None
        self.completeChanged.emit()
        self.w.start(f"正在读取“{path.name}”……", work, done, failed)

    def _show(self, path: Path, plan, fields: list[int]) -> None:
        self.w.plan, self.fields = plan, fields
        self.path.setText(str(path))
        self.sheet.blockSignals(True)
        self.sheet.clear()
        for i, s in enumerate(plan.sheets):
            marks = ("(隐藏)" if s.hidden else "") + ("" if fields[i] >= 2 else "(未识别表头)")
            self.sheet.addItem(f"{s.name}({len(s.rows)} 行){marks}", i)
        self.sheet.setCurrentIndex(plan.sheet_index)
        self.sheet.blockSignals(False)
        self._describe()
        self.completeChanged.emit()

    def _sheet_chosen(self, index: int) -> None:
        """The header found again on the sheet chosen; the rows that may not be records (删除线,
        合计) are looked for in every row, which takes a second at 50,000 rows: off the UI thread."""
        plan = self.w.plan
        if plan is None or index < 0:
            return
        saved = self.w.service.import_mapping(self.w.ledger)
        refocus = self.sheet.hasFocus()
        self.sheet.setEnabled(False)  # one sheet at a time
        self.choose.setEnabled(False)

        def work(_progress, _cancelled):
            plan.choose_sheet(index, saved)
            plan.flagged  # noqa: B018 - worked out here, not on the UI thread

        def ended() -> None:
            self.sheet.setEnabled(True)
            self.choose.setEnabled(True)
            if refocus:
                self.sheet.setFocus()
            self.completeChanged.emit()

        def done(_result) -> None:
            ended()
            self._describe()

        def failed(exc: BaseException) -> None:
            ended()
            self.error.setText(messages.explain(exc)[0])

        self.error.clear()
        self.completeChanged.emit()
        self.w.start("正在查找表头……", work, done, failed)

    def _describe(self) -> None:
        plan = self.w.plan
        sheet = plan.sheets[plan.sheet_index]
        if len(plan.mapping) >= 2:
            lines = [f"表头在第 {plan.header_number} 行,识别出 {len(plan.mapping)} 列;其下有 {len(plan.data_rows)} 行。"
                     "下一步可核对每一列。"]
        else:
            lines = [f"工作表“{sheet.name}”中找不到{self.w.ledger.title}的表头(如“"
                     + "”“".join(label for _n, label, required in plan.choices() if required)
                     + "”)。请选择其他工作表,或在下一步手工对应各列。"]
        if sheet.hidden:
            lines.append("这是一个隐藏的工作表。")
        if plan.flagged:
            lines.append(f"其中 {len(plan.flagged)} 行有删除线或是小计/合计,预览时可选择是否导入。")
        others = plan.other_sheets()
        if others:
            lines.append("另有工作表 " + "、".join(f"“{name}”" for name in others) + f" 也像{self.w.ledger.title},"
                         "这次只导入上面选择的工作表;其余的请导入后再逐个选择导入。")
        self.info.setText("\n".join(lines))

    def isComplete(self) -> bool:
        return self.w.plan is not None and not self.w.busy


class MappingPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 2 步:核对列的对应关系")
        self.setSubTitle("左边是表格中的列名和识别依据,右边可改选它对应的台账字段(* 为必填);不需要的列选“(不导入)”。"
                         "MAC 地址、备注等可由几列合并导入。下次导入会记住。")
        self.table = read_only_table(["表格中的列", "示例(第一行数据)", "识别依据", "对应的字段"], select_rows=False)
        self.table.setTabKeyNavigation(False)  # Tab goes from one field's list to the next
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.gathered = QLabel()
        self.gathered.setWordWrap(True)
        self.missing = QLabel()
        self.missing.setStyleSheet(ERROR_STYLE)
        self.missing.setWordWrap(True)
        self.combos: list[QComboBox] = []
        # the required fields the file has no column for: how each is filled (issue 18)
        self.fills_box = QWidget()
        self.fills_layout = QFormLayout(self.fills_box)
        self.fills_layout.setContentsMargins(0, 0, 0, 0)
        self.fill_widgets: dict[str, tuple[QComboBox, QLineEdit, QComboBox]] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.gathered)
        layout.addWidget(self.missing)
        layout.addWidget(self.fills_box)

    def initializePage(self) -> None:
        plan = self.w.plan
        headers = plan.headers
        sample = plan.data_rows[0][1] if plan.data_rows else []
        width = max(len(headers), len(sample))
        choices = plan.choices()
        reason_column = getattr(getattr(plan, "header", None), "reason_column", None)
        self.table.setRowCount(width)
        self.combos = []
        previous: QWidget = self.table
        for index in range(width):
            self.table.setItem(index, 0, QTableWidgetItem(headers[index].replace("\n", "") if index < len(headers)
                                                          and headers[index] else f"第 {index + 1} 列"))
            self.table.setItem(index, 1, QTableWidgetItem(_cell_text(sample[index]) if index < len(sample) else ""))
            self.table.setItem(index, 2, QTableWidgetItem(plan.understood(index)))
            combo = QComboBox()
            combo.addItem(NOT_IMPORTED, None)
            for name, label, required in choices:
                combo.addItem(label + (" *" if required else ""), name)
            combo.setCurrentIndex(max(0, combo.findData(plan.mapping.get(index))))
            if index == reason_column:
                combo.setEnabled(False)
                combo.setToolTip("上次导入时写下的未导入原因,不导入")
            combo.currentIndexChanged.connect(lambda _i, col=index: self._changed(col))
            self.table.setCellWidget(index, 3, combo)
            self.setTabOrder(previous, combo)
            previous = combo
            self.combos.append(combo)
        self._show_missing()

    def _changed(self, column: int) -> None:
        self.w.plan.set_column(column, self.combos[column].currentData())
        # The plan decides: a field of one value is filled from one column (another column that
        # had it goes back to 不导入); a gathering field (MAC1/MAC2, two 备注) keeps every column.
        for index, combo in enumerate(self.combos):
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(self.w.plan.mapping.get(index))))
            combo.blockSignals(False)
            self.table.item(index, 2).setText(self.w.plan.understood(index))
        self._show_missing()

    def set_column(self, column: int, field_name: str | None) -> None:
        self.combos[column].setCurrentIndex(max(0, self.combos[column].findData(field_name)))

    def _show_missing(self) -> None:
        plan = self.w.plan
        labels = {name: label for name, label, _r in plan.choices()}
        by_field: dict[str, int] = {}
        for name in plan.mapping.values():
            by_field[name] = by_field.get(name, 0) + 1
        several = [f"“{labels.get(n, n)}”由 {k} 列合并导入" for n, k in by_field.items() if k > 1]
        self.gathered.setText(";".join(several) + "。" if several else "")
        must = plan.must_map()
        missing = [name for name in plan.missing_fields() if plan.label_of(name) not in must]
        # red only for what must be done before 下一步; a column never kept is a choice below
        self.missing.setStyleSheet(ERROR_STYLE if must or len(plan.mapping) < 2 else "")
        if must:
            self.missing.setText(f"还缺少必填字段:{'、'.join(must)}。每条记录都要有它,请为它指定列。")
        elif len(plan.mapping) < 2:
            self.missing.setText("请至少为两列指定对应的字段。")
        elif missing:
            self.missing.setText(f"表格中没有这些必填列:{'、'.join(plan.label_of(n) for n in missing)}。"
                                 "可为它们指定列,或在下面选择怎样填写(留空的记录标为“待补充”,导入后可补全):")
        else:
            self.missing.setText("")
        self._show_fills(missing)
        self.completeChanged.emit()

    def _show_fills(self, missing: list[str]) -> None:
        """One line per required field with no column: 留空待补充 / 每一行都填 / 取自另一列."""
        if list(self.fill_widgets) == missing and all(name in self.w.plan.fills for name in missing):
            return  # as shown (another sheet chosen clears the plan's fills: shown anew)
        while self.fills_layout.rowCount():
            self.fills_layout.removeRow(0)
        self.fill_widgets = {}
        plan = self.w.plan
        for name in missing:
            fill = plan.fill_of(name)
            how = QComboBox()
            for key, text in FILL_CHOICES:
                how.addItem(text, key)
            how.setCurrentIndex(max(0, how.findData(fill.how)))
            # a form line above the table may say it once for all (所属部门:物理系): offered
            value = QLineEdit(str(fill.value) if fill.how == VALUE and fill.value is not None
                              else plan.suggested_value(name))
            value.setPlaceholderText("统一的值")
            source = QComboBox()
            for index, text in enumerate(plan.headers):
                if text and index != plan.header.reason_column:
                    source.addItem(text.replace("\n", ""), index)
            if fill.how == FROM:
                source.setCurrentIndex(max(0, source.findData(fill.value)))
            row = QHBoxLayout()
            row.addWidget(how)
            row.addWidget(value, 1)
            row.addWidget(source, 1)
            self.fills_layout.addRow(f"{plan.label_of(name)}:", row)
            self.fill_widgets[name] = (how, value, source)
            how.currentIndexChanged.connect(lambda _i, n=name: self._fill_changed(n))
            value.textChanged.connect(lambda _t, n=name: self._fill_changed(n))
            source.currentIndexChanged.connect(lambda _i, n=name: self._fill_changed(n))
            self._fill_changed(name)

    def _fill_changed(self, name: str) -> None:
        how, value, source = self.fill_widgets[name]
        kind = how.currentData()
        value.setVisible(kind == VALUE)
        source.setVisible(kind == FROM)
        self.w.plan.fills[name] = Fill(kind, value.text().strip() if kind == VALUE else
                                       source.currentData() if kind == FROM else None)
        self.completeChanged.emit()

    def set_fill(self, field_name: str, how: str, value=None) -> None:
        """Choose how a field with no column is filled, as a user would (tests)."""
        combo, line, source = self.fill_widgets[field_name]
        combo.setCurrentIndex(combo.findData(how))
        if how == VALUE:
            line.setText(str(value))
        elif how == FROM:
            source.setCurrentIndex(source.findData(value))

    def isComplete(self) -> bool:
        plan = self.w.plan
        if plan is None or plan.must_map() or len(plan.mapping) < 2:
            return False
        return all(fill.value not in (None, "") for name, fill in plan.fills.items()
                   if fill.how in (VALUE, FROM) and name in plan.missing_fields())

    def validatePage(self) -> bool:
        self.w.service.save_import_mapping(self.w.ledger, self.w.plan.mapping_to_save())
        return True


class PreviewPage(QWizardPage):
    """The dry run: every problem at once, the rows as they will be stored, what was changed on
    the way in, and the rows left out (struck through, 小计/合计) with the choice to take them."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 3 步:预览并检查每一行")
        self.setSubTitle("逐行按台账规则检查(含与已有记录重复),尚未保存任何数据。")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry = QPushButton("重新检查")
        self.retry.clicked.connect(lambda: self.check())
        self.retry.hide()
        self.table = read_only_table(["行号", "列", "原因"])  # the problems
        self.rows = read_only_table(["行号"])  # the rows to be imported, as they will be stored
        self.rows_note = QLabel()
        self.left_out = read_only_table(["行号", "原因"])
        self.notes = read_only_table(["行号", "列", "说明"])
        self.form = read_only_table(["行号", "项目", "内容"])  # what the lines above and below the table say
        for table in (self.table, self.left_out, self.notes, self.form):
            table.setTabKeyNavigation(False)
            table.setWordWrap(True)
            table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.notes.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.rows.setTabKeyNavigation(False)
        rows_tab = QWidget()
        rows_layout = QVBoxLayout(rows_tab)
        rows_layout.setContentsMargins(0, 0, 0, 0)
        rows_layout.addWidget(self.rows_note)
        rows_layout.addWidget(self.rows, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, "问题")
        self.tabs.addTab(rows_tab, "将导入的行")
        self.tabs.addTab(self.left_out, "不导入的行")
        self.tabs.addTab(self.notes, "说明")
        self.tabs.addTab(self.form, "表头上下的文字")
        self.include_flagged = QCheckBox(FLAGGED_CHOICE)
        self.include_flagged.toggled.connect(self._flagged_toggled)
        # a level the unit has not set (涉密专用): its rows are refused, never read as one of the three
        self.unknown_level = QLabel()
        self.unknown_level.setWordWrap(True)
        self.unknown_level.setStyleSheet(ERROR_STYLE)
        self.add_level = QPushButton("设为本单位密级…")
        self.add_level.setToolTip("把文件中的这一密级设为本单位的密级,排在您指定的位置,然后重新检查")
        self.add_level.clicked.connect(lambda: self.offer_level())
        levels_row = QHBoxLayout()
        levels_row.addWidget(self.unknown_level, 1)
        levels_row.addWidget(self.add_level, 0, Qt.AlignmentFlag.AlignTop)
        self.unknown_level.hide()
        self.add_level.hide()
        self.good_rows = QRadioButton("导入所有正确的行,有错的行不导入")
        self.nothing = QRadioButton("只要有一行出错,就一行也不导入")
        self.good_rows.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.good_rows)
        group.addButton(self.nothing)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.retry, 0, Qt.AlignmentFlag.AlignTop)
        choices = QHBoxLayout()
        choices.addWidget(self.good_rows)
        choices.addWidget(self.nothing)
        choices.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(levels_row)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.include_flagged)
        layout.addLayout(choices)
        self.setCommitPage(True)  # once imported there is no going back to import again
        self.setButtonText(QWizard.WizardButton.CommitButton, "导入")

    def initializePage(self) -> None:
        self.include_flagged.blockSignals(True)
        self.include_flagged.setChecked(self.w.plan.include_flagged)
        self.include_flagged.blockSignals(False)
        self.include_flagged.hide()  # shown with the preview when the sheet has such rows
        self.check()

    def _flagged_toggled(self, checked: bool) -> None:
        self.w.plan.include_flagged = checked
        self.check()

    def check(self) -> None:
        """The dry run in the background; the page fills in when it is done."""
        wizard, plan = self.w, self.w.plan
        wizard.preview = None
        self.retry.hide()
        self.summary.setStyleSheet("")
        self.summary.setText("正在检查……")
        for table in (self.table, self.rows, self.left_out, self.notes, self.form):
            table.setRowCount(0)
        self.completeChanged.emit()

        def work(progress, cancelled):
            return run_import(wizard.service, plan, dry_run=True, progress=progress, cancelled=cancelled)

        def failed(exc: BaseException) -> None:
            self.summary.setStyleSheet("" if isinstance(exc, Cancelled) else ERROR_STYLE)
            self.summary.setText("检查已取消,可点“重新检查”。" if isinstance(exc, Cancelled) else messages.explain(exc)[0])
            self.retry.show()
            self.completeChanged.emit()

        wizard.start("正在逐行检查……", work, self._show, failed)

    def _show(self, report: ImportReport) -> None:
        self.w.preview = report
        self.summary.setText(self._summary(report))
        unknown = list(report.unknown_levels.items())
        if unknown:
            word, rows = unknown[0]
            self.unknown_level.setText(
                "、".join(f"“{w}”({len(r)} 行)" for w, r in unknown) + " 不是本单位的密级,这些行不导入"
                "(不会当作绝密、机密、秘密之一)。本单位使用时,可设为本单位的密级后重新检查。")
        self.unknown_level.setVisible(bool(unknown))
        self.add_level.setVisible(bool(unknown) and self.w.settings is not None)
        self.include_flagged.setVisible(bool(report.left_out) or bool(self.w.plan.flagged))  # worked out by the run
        _fill(self.table, [[str(r.row or ""), r.column, r.message] for r in report.refused])
        labels = ["行号", *report.row_labels]
        self.rows.setColumnCount(len(labels))
        self.rows.setHorizontalHeaderLabels(labels)
        _fill(self.rows, [[str(number), *cells] for number, cells in report.rows])
        self.rows.resizeColumnsToContents()
        shown = len(report.rows)
        if not report.accepted:
            self.rows_note.setText("没有可导入的行。")
        elif not shown:
            self.rows_note.setText(f"将导入 {report.accepted} 行。")
        elif report.accepted > shown:
            self.rows_note.setText(f"以下是导入后保存的样子(只显示前 {shown} 行,共 {report.accepted} 行)。")
        else:
            self.rows_note.setText("以下是导入后保存的样子。")
        _fill(self.left_out, [[str(r.row), r.message] for r in report.left_out])
        _fill(self.notes, [[str(r.row) if r.row else "整表", r.column, r.message] for r in report.notes])
        _fill(self.form, [[str(line.row), line.label or "", line.value] for line in report.form_lines])
        for table in (self.table, self.left_out, self.notes, self.form):
            table.resizeRowsToContents()
        self.tabs.setTabText(0, f"问题({len(report.refused)})")
        self.tabs.setTabText(1, f"将导入的行({report.accepted})")
        self.tabs.setTabText(2, f"不导入的行({len(report.left_out)})")
        self.tabs.setTabText(3, f"说明({len(report.notes)})")
        self.tabs.setTabText(4, f"表头上下的文字({len(report.form_lines)})")
        self.tabs.setCurrentIndex(0 if report.refused else 1)
        self.completeChanged.emit()

    def _summary(self, report: ImportReport) -> str:
        title = self.w.ledger.title
        total = report.accepted + report.refused_rows + len(report.left_out)
        parts = [f"共 {total} 行:{report.accepted} 行可导入{_with_children(self.w.ledger, report)},"
                 f"{report.refused_rows} 行有错"]
        if report.left_out:
            parts.append(f"{len(report.left_out)} 行不导入(删除线/合计)")
        elif self.w.plan.include_flagged and self.w.plan.flagged:
            parts.append(f"含删除线/合计的 {len(self.w.plan.flagged)} 行也导入")
        if report.skipped_rows:
            parts.append(f"跳过签字栏等 {len(report.skipped_rows)} 行")
        text = ",".join(parts) + "。"
        if report.pending:
            text += (f"\n其中 {report.pending_records} 条缺少" + "、".join(report.pending)
                     + ",将标为“待补充”,导入后可在台账中筛选“待补充”补全。")
        if report.total_mismatch:
            text += f"\n{report.total_mismatch}。"
        if report.form_lines:
            text += f"\n表头上下的 {len(report.form_lines)} 项文字(填表人、合计、签字等)不作为记录导入,随本次导入记录保存。"
        if report.people_added:
            text += f"\n人员名册中没有的 {len(report.people_added)} 人将加入名册:{_names(report.people_added)}。"
        if report.other_sheets:
            text += ("\n另有工作表 " + "、".join(f"“{s}”" for s in report.other_sheets)
                     + f" 也像{title},这次不导入。")
        if report.refused:
            text += "\n有错的行见“问题”;可只导入正确的行,再把有错的行另存、改正后导入。"
        return text

    def offer_level(self) -> "OwnLevelDialog | None":
        """Set the first level word the unit has not set as its own, ranked where the user says,
        then check again (the dialog is opened, not run: a test answers it)."""
        report = self.w.preview
        if report is None or not report.unknown_levels or self.w.settings is None:
            return None
        word = next(iter(report.unknown_levels))
        dialog = OwnLevelDialog(self.w.settings, word, self)
        dialog.accepted.connect(self.check)
        self.level_dialog = dialog
        dialog.open()
        return dialog

    def isComplete(self) -> bool:
        return self.w.preview is not None and not self.w.busy

    def validatePage(self) -> bool:
        wizard = self.w
        all_or_nothing = self.nothing.isChecked()

        def work(progress, cancelled):
            # the preview's reading of the rows is taken again when nothing changed since it
            return run_import(wizard.service, wizard.plan, all_or_nothing=all_or_nothing,
                              progress=progress, cancelled=cancelled, preview=wizard.preview)

        def done(report):
            wizard.result_ = report
            wizard.next()

        def failed(exc):
            self.completeChanged.emit()
            if isinstance(exc, Cancelled):
                messages.inform(wizard, "导入已取消", exc.message)
            else:
                messages.show_error(wizard, "导入失败", exc)

        if wizard.result_ is not None:
            return True
        wizard.start("正在导入……", work, done, failed, importing=True)
        self.completeChanged.emit()
        return False  # the page turns when the import has finished


class OwnLevelDialog(QDialog):
    """设为本单位密级: a level word a file uses (涉密专用), ranked under the level chosen and
    managed as 涉密 or not; saved through the settings service (the security administrator's)."""

    def __init__(self, settings, word: str, parent: QWidget | None = None) -> None:
        from mibao_desktop.ui.login import _buttons, _error_label

        super().__init__(parent)
        self.settings, self.word = settings, word
        self.setWindowTitle("设为本单位密级")
        order = settings.unit_levels().order
        self.below = QComboBox()
        self.below.addItems(list(order[:-1]))
        self.below.setCurrentIndex(len(order) - 2)  # just above 非涉密 unless told otherwise
        self.classified = QCheckBox("按涉密管理(可用于涉密计算机、国家秘密载体等台账)")
        self.error = _error_label()
        form = QFormLayout()
        form.addRow("密级", QLabel(word))
        form.addRow("排在……之下", self.below)
        form.addRow("", self.classified)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "设为本单位密级", self.save))

    def save(self) -> None:
        from mibao_desktop.errors import ServiceError

        try:
            self.settings.add_unit_level(self.word, self.below.currentText(), classified=self.classified.isChecked())
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()


class DonePage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 4 步:导入结果")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_button = QPushButton("保存未导入的行…")
        self.save_button.clicked.connect(lambda: self.save_refused())
        hint = QLabel("未导入的行可另存为同样格式的表格(保留标题行和表头,末列注明未导入原因),改正后再次导入;"
                      "已导入的行不会重复登记。")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(hint)
        layout.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)

    def initializePage(self) -> None:
        report = self.w.result_
        text = f"已导入 {report.created} 条{_with_children(self.w.ledger, report)},未导入 {report.not_imported} 行"
        why = []
        if report.refused_rows:
            why.append(f"有错 {report.refused_rows} 行")
        if report.left_out:
            why.append(f"删除线/合计 {len(report.left_out)} 行")
        text += f"({','.join(why)})。" if why else "。"
        if report.refused and not report.created and report.accepted:
            text += f"\n按所选“只要有一行出错,就一行也不导入”,正确的 {report.accepted} 行也没有导入。"
        if report.pending_records and report.created:
            text += (f"\n其中 {report.pending_records} 条标为“待补充”(缺少" + "、".join(report.pending)
                     + "),可在台账页勾选“只看待补充”逐条补全。")
        if report.people_added:
            text += f"\n已在人员名册中新增 {len(report.people_added)} 人:{_names(report.people_added)}。"
        self.summary.setText(text)
        self.save_button.setEnabled(bool(report.refused))  # the rows with errors (those left out were the user's choice)

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
        for level in markings():
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
        # marked as a ledger export is: the highest level among the records it lists
        self.marking.setCurrentIndex(self.marking.findData(report_marking(service)))

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
        # 审计链头: the head the copy carries, for the auditor's 核对凭证 even when the copy is gone
        self.table = read_only_table(["时间", "操作人", "内容", "文件", "介质/目录", "大小", "记录数", "密级", "SHA-256",
                                      "审计链头"])
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            for j, text in enumerate((r.at.strftime("%Y-%m-%d %H:%M"), r.actor, r.what, r.file_name, r.target,
                                      f"{r.size // 1024} KB", str(r.records), marking_text(r.marking), r.sha256,
                                      r.anchor or "—")):
                self.table.setItem(i, j, QTableWidgetItem(text))
        if rows:
            self.table.resizeColumnsToContents()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"共 {len(rows)} 次输出到移动介质" if rows else "尚无输出到移动介质的记录"))
        layout.addWidget(self.table)
        self.resize(1100, 500)


__all__ = ["AnnualReportDialog", "ExportDialog", "HoldingsExportDialog", "ImportWizard", "OutputRegisterDialog"]
