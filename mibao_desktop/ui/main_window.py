"""The main window: the list of ledgers on the left, the chosen ledger's page on the right."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QVBoxLayout,
    QWidget,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QStackedWidget,
)

from mibao_desktop.ledgers import LEDGERS, Ledger, top_level
from mibao_desktop.services.context import Services
from mibao_desktop.ui import messages
from mibao_desktop.ui.due_page import TITLE as HOME, DuePage
from mibao_desktop.ui.ledger_page import LedgerPage

# 首页 (what is due) absorbed 到期提醒 (the carriers' watch lists and its checks): one page of
# everything due, first in the navigation and shown at login


class MainWindow(QMainWindow):
    """The security administrator's window (安全保密管理员)."""

    logout_requested = Signal()
    change_password_requested = Signal()
    restore_requested = Signal(object, bool)  # the backup file chosen; True when not in the backup register

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services  # acting as the person logged in, with the data folder
        self.service = services.ledgers
        self.data_dir = Path(services.data_dir)
        # Window preferences (columns shown, sizes) live beside the data, not in the registry.
        self.settings = QSettings(str(self.data_dir / "mibao-ui.ini"), QSettings.Format.IniFormat)
        self.setWindowTitle("密保 · 保密台账管理")
        self.pages: dict[str, LedgerPage] = {}
        self.ledgers = top_level()  # a child ledger shows inside its parent's record, not here

        self.navigation = QListWidget()
        self.navigation.setIconSize(QSize(0, 0))
        self.navigation.setMinimumWidth(150)
        self.navigation.setMaximumWidth(220)
        self.navigation.setStyleSheet("QListWidget { font-size: 14px; } QListWidget::item { padding: 8px 6px; }")
        for ledger in self.ledgers:
            item = QListWidgetItem(ledger.noun)
            item.setData(Qt.ItemDataRole.UserRole, ledger.key)
            item.setToolTip(ledger.title)
            self.navigation.addItem(item)
        # 首页 heads the navigation in a list of its own, so that the ledgers' rows stay the
        # ledgers' indexes; choosing one list clears the other's choice
        self.home_nav = QListWidget()
        self.home_nav.setStyleSheet(self.navigation.styleSheet())
        home_item = QListWidgetItem(HOME)
        home_item.setToolTip("到期和逾期事项:载体、人员、设备和介质、定密、系统")
        self.home_nav.addItem(home_item)
        self.home_nav.setFixedHeight(self.home_nav.sizeHintForRow(0) + 2 * self.home_nav.frameWidth() + 4)
        self.home_nav.setMaximumWidth(220)
        self.home_nav.itemPressed.connect(lambda _i: self.show_home())
        self.home_nav.itemActivated.connect(lambda _i: self.show_home())
        nav_host = QWidget()
        nav_layout = QVBoxLayout(nav_host)
        nav_layout.setContentsMargins(0, 0, 0, 0)
        nav_layout.setSpacing(0)
        nav_layout.addWidget(self.home_nav)
        nav_layout.addWidget(self.navigation, 1)
        nav_host.setMaximumWidth(220)
        self._ledger_row = 0  # the ledger page the 记录 and 文件 menus act on while 首页 is shown
        self.stack = QStackedWidget()
        splitter = QSplitter()
        splitter.addWidget(nav_host)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([170, 1190])
        self.setCentralWidget(splitter)
        self.navigation.currentRowChanged.connect(self._ledger_chosen)
        # built at once, shown first: it runs the missing clock's check at the start of the session
        self.home_page = DuePage(services, self)
        self.home_page.open_record.connect(self.open_record)
        self.home_page.open_place.connect(self.open_place)
        self.home_page.settle.connect(self.settle)
        self.home_page.told.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self.home_page.opened_events.connect(lambda _n: self.refresh_counts())
        self.stack.addWidget(self.home_page)

        self._build_menus()
        actor = services.actor
        self.location = QLabel(f"当前用户:{actor.name}({actor.role.value})  数据文件:{services.db.path}")
        self.statusBar().addPermanentWidget(self.location)
        self.refresh_counts()
        # the first ledger's page is built at the start as before the 首页: the 文件 and 记录 menus
        # act on it while the 首页 is shown
        self.page(self.ledgers[self._ledger_row].key)
        self.show_home()

    # -- ledgers --------------------------------------------------------------------------

    def page(self, key: str) -> LedgerPage:
        """The page of a ledger, built the first time it is shown."""
        if key not in self.pages:
            ledger = next(l for l in self.ledgers if l.key == key)
            page = LedgerPage(self.services, ledger, self.settings, self)
            page.changed.connect(self.refresh_counts)
            page.told.connect(lambda text: self.statusBar().showMessage(text, 15000))
            page.open_record.connect(self.open_record)
            self.pages[key] = page
            self.stack.addWidget(page)
        return self.pages[key]

    def show_ledger(self, key: str) -> LedgerPage:
        row = next(i for i, l in enumerate(self.ledgers) if l.key == key)
        self.navigation.setCurrentRow(row)
        return self.current_page()

    def open_record(self, ledger_key: str, record_id: int) -> LedgerPage:
        """Go to a record in its ledger's page, selected (from a 被引用 list, or a link to a
        person or a record in the detail pane). A child ledger's record (a copy) is shown in
        its parent's detail, the parent selected in its page."""
        ledger = LEDGERS[ledger_key] if ledger_key else self.service.get(record_id).ledger  # a link says no ledger
        if ledger.parent is None:
            page = self.show_ledger(ledger.key)
            page.select_record(record_id)
            return page
        child = self.service.get(record_id)
        page = self.show_ledger(ledger.parent)
        page.select_record(child.parent_id)
        page.detail.focus_child(ledger.key, record_id)
        return page

    def current_page(self) -> LedgerPage:
        row = self.navigation.currentRow()
        return self.page(self.ledgers[row if 0 <= row < len(self.ledgers) else self._ledger_row].key)

    def show_home(self) -> DuePage:
        self.navigation.setCurrentRow(-1)
        self.home_nav.setCurrentRow(0)
        self.stack.setCurrentWidget(self.home_page)
        self._keep_focus(self.home_page.tree)
        return self.home_page

    def _keep_focus(self, widget) -> None:
        """The keyboard stays in the window when the page that held it is hidden (the 首页 at
        the start, before a ledger is chosen): Ctrl+N and the other shortcuts still reach it."""
        focused = QApplication.focusWidget()
        if focused is None or not focused.isVisible():
            widget.setFocus()

    def settle(self, rule: str, record_id: int) -> None:
        """An item whose action is a dialog of its own opens it over the record just opened."""
        if rule == "declassification":
            from mibao_desktop.ui.declassification_dialog import DeclassificationDialog

            self.dialog = DeclassificationDialog(self.services, record_id, self)
            self.dialog.accepted.connect(self.home_page.refresh)
            self.dialog.accepted.connect(lambda: self.current_page().refresh())
            self.dialog.open()

    def open_place(self, place: str, choice: str = "") -> None:
        """An item of the 首页 that settles elsewhere than in a record (``choice``: what the
        place opens on, e.g. the 季检查 the item is about)."""
        if place == "carrier_check":
            self.carrier_checks(choice)
            return
        actions = {"backup": self.backup_now, "training": self.training_compliance,
                   "password": self.change_password_requested.emit}
        if place in actions:
            actions[place]()

    def current_ledger(self) -> Ledger:
        return self.current_page().ledger

    def _ledger_chosen(self, row: int) -> None:
        if row < 0:
            return
        self.home_nav.setCurrentRow(-1)
        self._ledger_row = row
        page = self.page(self.ledgers[row].key)
        self.stack.setCurrentWidget(page)
        self._keep_focus(page.table)
        self.statusBar().showMessage(page.ledger.title, 3000)

    def refresh_counts(self, keys=None) -> None:
        """The navigation's counts (from the facet counts: no scan); after a save, only those
        of the ledgers it changed."""
        for i, ledger in enumerate(self.ledgers):
            if keys is None or ledger.key in keys:
                self.navigation.item(i).setText(f"{ledger.noun}  {self.service.count(ledger)}")

    def refresh_all(self) -> None:
        """F5: read the page again, and every count (others may have changed other ledgers)."""
        if self.stack.currentWidget() is self.home_page:
            self.home_page.refresh()
        else:
            self.current_page().refresh()
        self.refresh_counts()

    # -- menus ----------------------------------------------------------------------------

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("文件(&F)")
        self._action(file_menu, "从Excel导入…", lambda: self.current_page().import_file(), "Ctrl+I",
                     "按列名把手工台账导入当前台账")
        self._action(file_menu, "导出Excel…", lambda: self.current_page().export_file(), "Ctrl+E",
                     "按当前筛选和显示列导出")
        self._action(file_menu, "年度报表…", self.annual_report, tip="全部台账、本年变更和汇总,可导出到移动介质")
        self._action(file_menu, "载体登记簿…", self.carrier_registers,
                     tip="收文、发文、借阅、复制登记簿和销毁清单:按期间打印或导出")
        self._action(file_menu, "输出登记", self.output_register, tip="导出到移动介质的记录")
        file_menu.addSeparator()
        self._action(file_menu, "打印标识…", lambda: self.current_page().print_labels(), "Ctrl+P",
                     "为所选记录打印密级标识或保密提醒标识")
        self._action(file_menu, "打印审批表…", lambda: self.current_page().print_forms())
        file_menu.addSeparator()
        self._action(file_menu, "退出", self.close, QKeySequence.StandardKey.Quit)
        records = bar.addMenu("记录(&R)")
        self.new_action = self._action(records, "新增…", lambda: self.current_page().add_record(), "Ctrl+N")
        self._action(records, "修改…\tEnter", lambda: self.current_page().edit_selected())
        self._action(records, "变更状态…", lambda: self.current_page().change_status_selected(), "Ctrl+T")
        self._action(records, "作废…\tDel", lambda: self.current_page().void_selected())
        self._action(records, "恢复", lambda: self.current_page().restore_selected())
        records.addSeparator()
        self._action(records, "批量修改…", lambda: self.current_page().bulk_edit_selected())
        self._action(records, "查找替换…", lambda: self.current_page().find_replace(), "Ctrl+H")
        self._action(records, "载体核对…", self.carrier_checks,
                     tip="月核对、季检查、年终清退归档:逐份清点涉密载体,扫描封面二维码")
        self._action(records, "盘点…", self.stocktake,
                     tip="按部门或存放位置盘点本台账:用扫描枪扫描标识二维码或逐项勾选,生成盘点报告")
        self._action(records, "参训人员…", self.training_attendees,
                     tip="为所选培训从人员名册选择参训人员、导入签到表、打印签到表")
        self._action(records, "培训学时…", self.training_compliance,
                     tip="涉密人员本年度保密教育培训学时与最低学时,未达标名单可打印")
        records.addSeparator()
        self.find_action = self._action(records, "查找", lambda: self.current_page().focus_search(), "Ctrl+F")
        self._action(records, "刷新", self.refresh_all, "F5")
        system = bar.addMenu("系统(&S)")
        self._action(system, "安全策略…", self.edit_policy)
        self._action(system, "账户授权…", self.grant_accounts, tip="为系统管理员新建的账户核对本人、授予角色并启用")
        self._action(system, "安全审计员操作记录…", self.auditor_actions, tip="审查安全审计员本人的操作")
        self._action(system, "打印设置…", self.edit_print_settings)
        self._action(system, "本单位密级…", self.edit_unit_levels,
                     tip="三级之外本单位使用的密级(如涉密专用、内部)及其排列位置")
        self._action(system, "复审周期…", self.edit_review_intervals,
                     tip="核心、重要、一般涉密人员的复审周期(年),下次复审日期据此算出")
        self._action(system, "脱密期…", self.edit_decommission,
                     tip="核心、重要、一般涉密人员离岗后的脱密期(6个月至3年),离岗离职时据此算出截止日期")
        self._action(system, "出入境证件期限…", self.edit_exit_document_periods,
                     tip="回国(境)后交回出入境证件的期限(默认10天)和证件到期提醒的天数")
        self._action(system, "培训最低学时…", self.edit_training_minimums,
                     tip="核心、重要、一般涉密人员每年保密教育培训的最低学时(默认8、8、4学时)")
        self._action(system, "立即备份", self.backup_now)
        self._action(system, "从备份恢复…", self.choose_backup)
        system.addSeparator()
        self._action(system, "修改口令…", self.change_password_requested.emit)
        self._action(system, "退出登录", self.logout_requested.emit, "Ctrl+L")
        help_menu = bar.addMenu("帮助(&H)")
        self._action(help_menu, "快捷键", self._show_shortcuts)
        self._action(help_menu, "关于密保", self._about)

    # -- system -----------------------------------------------------------------------------

    def edit_policy(self) -> None:
        from mibao_desktop.ui.settings_dialog import SettingsDialog

        self.dialog = SettingsDialog(self.services.settings, self)
        self.dialog.open()

    def grant_accounts(self) -> None:
        from mibao_desktop.ui.role_windows import GrantDialog

        self.dialog = GrantDialog(self.services.accounts, self.services.actor, self)
        self.dialog.open()

    def auditor_actions(self) -> None:
        from mibao_desktop.ui.role_windows import AuditorActionsDialog

        self.dialog = AuditorActionsDialog(self.services.oversight, self)
        self.dialog.open()

    def annual_report(self) -> None:
        from mibao_desktop.ui.excel_dialogs import AnnualReportDialog

        self.dialog = AnnualReportDialog(self.service, self.services.outputs, self.services.printing.unit_name(), self)
        self.dialog.open()

    def carrier_registers(self, register: str | None = None) -> None:
        from mibao_desktop.ui.carrier_register_dialog import CarrierRegisterDialog

        self.dialog = CarrierRegisterDialog(self.services, self, register=register)
        self.dialog.open()

    def output_register(self) -> None:
        from mibao_desktop.ui.excel_dialogs import OutputRegisterDialog

        self.dialog = OutputRegisterDialog(self.services.outputs, self)
        self.dialog.open()

    def carrier_checks(self, kind: str = "") -> None:
        """载体核对: the stocktaking of the carriers' copies (月核对, 季检查, 年终清退归档), on
        ``kind`` when the 首页's item names one."""
        from mibao_desktop.services.carrier_checks import COPIES
        from mibao_desktop.ui.stocktake_dialog import StocktakeDialog

        self.dialog = StocktakeDialog(self.services, self, ledger_key=COPIES.key)
        if isinstance(kind, str) and kind:  # (a menu's triggered passes its checked flag)
            self.dialog.kind.setCurrentText(kind)
        self.dialog.open()

    def stocktake(self) -> None:
        """盘点 of the page's ledger (or the first labelled one, from a page without labels)."""
        from mibao_desktop.ui.stocktake_dialog import StocktakeDialog

        self.dialog = StocktakeDialog(self.services, self, ledger_key=self.current_page().ledger.key)
        self.dialog.open()

    def training_attendees(self) -> None:
        from mibao_desktop.ledgers.trainings import TRAININGS
        from mibao_desktop.ui.training_dialogs import AttendeesDialog

        page = self.current_page()
        record = page.selected_record() if page.ledger is TRAININGS else None
        if record is None:
            self.show_ledger(TRAININGS.key)
            messages.inform(self, "参训人员", f"请先在“{TRAININGS.title}”中选择一次培训。")
            return
        self.dialog = AttendeesDialog(self.services, record, self)
        self.dialog.open()

    def training_compliance(self) -> None:
        from mibao_desktop.ui.training_dialogs import ComplianceDialog

        self.dialog = ComplianceDialog(self.services, self)
        self.dialog.open()

    def edit_print_settings(self) -> None:
        from mibao_desktop.ui.settings_dialog import PrintSettingsDialog

        self.dialog = PrintSettingsDialog(self.services.printing, self)
        self.dialog.open()

    def edit_unit_levels(self) -> None:
        from mibao_desktop.ui.settings_dialog import UnitLevelsDialog

        self.dialog = UnitLevelsDialog(self.services.settings, self)
        self.dialog.accepted.connect(self._levels_changed)
        self.dialog.open()

    def edit_review_intervals(self) -> None:
        from mibao_desktop.ui.settings_dialog import ReviewIntervalsDialog

        self.dialog = ReviewIntervalsDialog(self.services.settings, self)
        self.dialog.accepted.connect(self._levels_changed)  # the people's 下次复审日期 are shown anew
        self.dialog.open()

    def edit_decommission(self) -> None:
        from mibao_desktop.ui.settings_dialog import DecommissionDialog

        self.dialog = DecommissionDialog(self.services.departure, self)
        self.dialog.open()

    def edit_exit_document_periods(self) -> None:
        from mibao_desktop.ui.settings_dialog import ExitDocumentPeriodsDialog

        self.dialog = ExitDocumentPeriodsDialog(self.services.travel, self)
        self.dialog.open()

    def edit_training_minimums(self) -> None:
        from mibao_desktop.ui.settings_dialog import TrainingMinimumsDialog

        self.dialog = TrainingMinimumsDialog(self.services.training, self)
        self.dialog.open()

    def _levels_changed(self) -> None:
        """The unit's levels changed: every page built so far lists them anew in its filters."""
        for page in self.pages.values():
            page.refresh()

    def backup_now(self) -> None:
        from mibao_desktop.ui.tasks import run_in_background

        backups, db = self.services.backups, self.services.db
        self.task = run_in_background(
            self, "正在备份……", lambda progress, cancelled: backups.make(db),
            on_done=lambda made: messages.inform(self, "备份完成", f"已备份到\n{made.path}"),
            on_error=lambda e: messages.show_error(self, "备份失败", e))

    def choose_backup(self, path: str | Path | None = None) -> None:
        """The registered backups to choose from; any other file only after a warning (the
        backup service refuses it otherwise)."""
        from mibao_desktop.ui.restore_dialog import UNREGISTERED_WARNING, BackupChooser

        backups = self.services.backups
        if path is None:
            chooser = BackupChooser(backups, self)
            if chooser.exec() != QDialog.DialogCode.Accepted or chooser.chosen is None:
                return
            path, unregistered = chooser.chosen, chooser.unregistered
        else:
            path = Path(path)
            unregistered = not backups.is_registered(path)
            if unregistered and not messages.confirm(self, "未登记的文件", UNREGISTERED_WARNING.format(name=path.name),
                                                     action="仍然恢复", grave=True):
                return
        if messages.confirm(self, "从备份恢复", f"用备份 {Path(path).name} 替换当前数据库?\n"
                            "当前数据库会先另存到备份文件夹;恢复后需要重新登录。", action="恢复"):
            self.restore_requested.emit(Path(path), unregistered)

    def _show_shortcuts(self) -> None:
        # every key of the menus is here (打印标识 and 退出登录 were not); 退出's is the system's (Ctrl+Q on Linux)
        quit_key = QKeySequence(QKeySequence.StandardKey.Quit).toString(QKeySequence.SequenceFormat.PortableText)
        messages.inform(self, "快捷键", "Ctrl+N 新增记录\nCtrl+F 查找(在查找框按 Enter 到第一行)\n"
                                         "Enter 修改所选记录\nDel 作废所选记录\nCtrl+T 变更状态\nCtrl+H 查找替换\n"
                                         "Ctrl+C 复制所选行\nAlt+↓ 日期框打开日历\nF5 刷新\nCtrl+I 导入  Ctrl+E 导出\n"
                                         "Ctrl+P 打印标识\nCtrl+L 退出登录" + (f"  {quit_key} 退出" if quit_key else ""))

    def _about(self) -> None:
        from mibao_desktop.ui.about import AboutDialog

        self.dialog = AboutDialog(self.services.db, self.data_dir, self)
        self.dialog.open()
