"""The windows of the system administrator (账户管理) and the security auditor (审计日志).

Each role sees only its own work (三员分立); the services refuse anything else as well.
"""

from __future__ import annotations

import datetime as dt
import weakref
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mibao_desktop.excel.audit_export import DEFAULT_MARKING, export_audit
from mibao_desktop.excel.export import marking_text, markings
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.accounts import AccountService
from mibao_desktop.services.audit_lines import AuditLine, describe
from mibao_desktop.services.audit_service import ACTION_LABELS, OWN_ENTRIES_NOTE, AuditFilter, AuditService
from mibao_desktop.services.oversight import OversightService
from mibao_desktop.errors import Cancelled, ServiceError
from mibao_desktop.ui import messages
from mibao_desktop.ui.login import _buttons, _error_label, _password_field
from mibao_desktop.ui.tasks import BackgroundTask, LatestRead, run_in_background
from mibao_desktop.ui.widgets import AsksBeforeDiscarding, fill_table, read_only_table


class RoleWindow(QMainWindow):
    """Common frame: who is logged in, 修改口令 and 退出登录."""

    logout_requested = Signal()
    change_password_requested = Signal()

    def __init__(self, actor: Actor, title: str) -> None:
        super().__init__()
        self.actor = actor
        self.setWindowTitle(f"密保 · {title}")
        menu = self.menuBar().addMenu("账户(&A)")
        menu.addAction("修改口令…", self.change_password_requested.emit)
        menu.addAction("退出登录", self.logout_requested.emit)
        self.statusBar().addPermanentWidget(QLabel(f"当前用户:{actor.name}({actor.role.value})"))
        self.home = None

    def add_home(self, services) -> None:
        """The 首页's items of this role (the auditor's: the audit log not verified; the system
        administrator's: passwords near their age), above the window's own work, the first
        thing seen after login; computed off the UI thread (ui/due_page.py)."""
        from mibao_desktop.ui.due_page import DuePage

        self.home = DuePage(services, self, check_at_start=False)
        self.home.setMaximumHeight(190)
        places = {"audit_verify": getattr(self, "verify", None), "password": self.change_password_requested.emit}
        self.home.open_place.connect(lambda place, _choice: places.get(place) and places[place]())
        self.centralWidget().layout().insertWidget(0, self.home)


class NewAccountDialog(AsksBeforeDiscarding, QDialog):
    """新建账户: no role here. The security administrator grants it (三员分立: two people for
    every grant); until then the account cannot log in."""

    def __init__(self, accounts: AccountService, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts, self.actor = accounts, actor
        self.setWindowTitle("新建账户")
        self.name, self.display, self.password = QLineEdit(), QLineEdit(), _password_field()
        self.person_id = QLineEdit()
        form = QFormLayout()
        form.addRow("用户名", self.name)
        form.addRow("姓名", self.display)
        form.addRow("工号或身份证号", self.person_id)
        form.addRow("临时口令", self.password)
        self.error = _error_label()
        layout = QVBoxLayout(self)
        note = QLabel("新账户须由安全保密管理员核对本人、授予角色并启用后才能登录;首次登录时须修改口令。")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "建立", self.save))

    def save(self) -> None:
        try:
            self.accounts.create_account(self.actor, self.name.text(), self.display.text(), self.person_id.text(),
                                         self.password.text())
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()


class ResetPasswordDialog(AsksBeforeDiscarding, QDialog):
    def __init__(self, accounts: AccountService, actor: Actor, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts, self.actor, self.name = accounts, actor, name
        self.setWindowTitle(f"重置口令 · {name}")
        self.password = _password_field()
        form = QFormLayout()
        form.addRow("临时口令", self.password)
        self.error = _error_label()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"为 {name} 设一个临时口令;其下次登录时须改为自己的口令。"))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "重置", self.save))

    def save(self) -> None:
        try:
            self.accounts.reset_password(self.actor, self.name, self.password.text())
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()


class PersonIdDialog(AsksBeforeDiscarding, QDialog):
    """登记工号 of an account made before 工号 were asked for: the one-person-one-role check
    needs it. The service refuses one that an account of another role holds."""

    def __init__(self, accounts: AccountService, actor: Actor, account, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts, self.actor, self.account = accounts, actor, account
        self.setWindowTitle(f"登记工号 · {account.name}")
        self.person_id = QLineEdit()
        form = QFormLayout()
        form.addRow("工号或身份证号", self.person_id)
        self.error = _error_label()
        layout = QVBoxLayout(self)
        note = QLabel(f"为 {account.name}({account.display_name},{account.role_text})登记工号。"
                      "三员分立按姓名与工号核对一人一角色;登记后不能更改。")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "登记", self.save))

    def save(self) -> None:
        try:
            self.accounts.set_person_id(self.actor, self.account.name, self.person_id.text())
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()


class AccountsWindow(RoleWindow):
    """系统管理员: accounts, and nothing of the ledgers."""

    HEADERS = ["用户名", "姓名", "工号或身份证号", "角色", "状态", "锁定至", "口令修改于", "最近登录"]

    def __init__(self, accounts: AccountService, actor: Actor) -> None:
        super().__init__(actor, "账户管理(系统管理员)")
        self.accounts = accounts
        self.dialog = None
        self.table = read_only_table(self.HEADERS)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        bar = QHBoxLayout()
        self.new_button = QPushButton("新建账户…")
        self.reset_button = QPushButton("重置口令…")
        self.toggle_button = QPushButton("停用")
        self.unlock_button = QPushButton("解锁")
        self.person_id_button = QPushButton("登记工号…")
        for button, slot in ((self.new_button, self.new_account), (self.reset_button, self.reset_password),
                             (self.toggle_button, self.toggle_active), (self.unlock_button, self.unlock),
                             (self.person_id_button, self.set_person_id)):
            button.clicked.connect(slot)
            bar.addWidget(button)
        bar.addStretch(1)
        host = QWidget()
        layout = QVBoxLayout(host)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        self.setCentralWidget(host)
        self.refresh()

    def refresh(self) -> None:
        self.rows = self.accounts.accounts(self.actor)
        stamp = lambda t: t.strftime("%Y-%m-%d %H:%M") if t else ""  # noqa: E731
        now = dt.datetime.now()
        fill_table(self.table, [[a.name, a.display_name, a.person_id, a.role_text, a.status_text,
                            stamp(a.locked_until) if a.locked_until and a.locked_until > now else "",
                            stamp(a.password_changed_at) + ("(待修改)" if a.must_change_password else ""),
                            stamp(a.last_login_at)] for a in self.rows])
        self.table.resizeColumnsToContents()
        self._update_buttons()

    def selected(self):
        row = self.table.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) and self.table.selectedItems() else None

    def _update_buttons(self) -> None:
        account = self.selected()
        for button in (self.reset_button, self.unlock_button):
            button.setEnabled(account is not None)
        # Enabling gives power back: a grant, the security administrator's (账户授权)
        self.toggle_button.setEnabled(account is not None and account.active)
        self.toggle_button.setToolTip("" if account is None or account.active
                                      else "重新启用须由安全保密管理员在“账户授权”中进行")
        # only a missing 工号 (an account made before they were asked for): one on record was
        # what the security administrator checked at the grant
        self.person_id_button.setEnabled(account is not None and not account.person_id)
        self.person_id_button.setToolTip("" if account is None or not account.person_id
                                         else "工号已登记,不能更改")

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.accepted.connect(self.refresh)
        dialog.open()

    def new_account(self) -> None:
        self._open(NewAccountDialog(self.accounts, self.actor, self))

    def reset_password(self) -> None:
        if self.selected():
            self._open(ResetPasswordDialog(self.accounts, self.actor, self.selected().name, self))

    def set_person_id(self) -> None:
        account = self.selected()
        if account is not None and not account.person_id:
            self._open(PersonIdDialog(self.accounts, self.actor, account, self))

    def toggle_active(self) -> None:
        account = self.selected()
        if account is None or not account.active:
            return
        if not messages.confirm(self, "停用账户", f"确定停用账户 {account.name}({account.display_name})吗?"
                                "停用后,该账户正在进行的登录在下一次操作时结束。", action="停用"):
            return
        try:
            self.accounts.set_active(self.actor, account.name, False)
        except ServiceError as exc:
            messages.error(self, "无法停用", exc.message)
        self.refresh()

    def unlock(self) -> None:
        account = self.selected()
        if account is not None:
            self.accounts.unlock_account(self.actor, account.name)
            self.refresh()


def alert_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


class GrantDialog(QDialog):
    """账户授权 (安全保密管理员): the accounts the system administrator made, or disabled, waiting
    for a role. The second person of every grant checks who the account belongs to (姓名, 工号,
    who made it) before granting its role, which also enables it."""

    HEADERS = ["用户名", "姓名", "工号或身份证号", "状态", "原角色", "建立人", "建立时间"]

    def __init__(self, accounts: AccountService, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts, self.actor = accounts, actor
        self.setWindowTitle("账户授权")
        self.table = read_only_table(self.HEADERS)
        self.table.itemSelectionChanged.connect(self._update)
        self.role = QComboBox()
        for role in Role:
            self.role.addItem(role.value, role)
        self.grant_button = QPushButton("授予角色并启用")
        self.grant_button.clicked.connect(self.grant)
        self.error = _error_label()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("角色"))
        bar.addWidget(self.role)
        bar.addWidget(self.grant_button)
        bar.addStretch(1)
        note = QLabel("系统管理员新建的账户须经您核对本人并授予角色后才能登录。三员分立:"
                      "一人只能担任一个角色,与其他角色同名同工号的账户不能授权。")
        note.setWordWrap(True)
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table)
        layout.addLayout(bar)
        layout.addWidget(self.error)
        layout.addWidget(close)
        self.resize(760, 360)
        self.refresh()

    def refresh(self) -> None:
        self.rows = self.accounts.awaiting_grant(self.actor)
        fill_table(self.table, [[a.name, a.display_name, a.person_id, a.status_text if a.role is None else "已停用",
                                 a.role.value if a.role else "", a.created_by,
                                 a.created_at.strftime("%Y-%m-%d %H:%M") if a.created_at else ""] for a in self.rows])
        self.table.resizeColumnsToContents()
        self._update()

    def selected(self):
        row = self.table.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) and self.table.selectedItems() else None

    def _update(self) -> None:
        self.grant_button.setEnabled(self.selected() is not None)

    def grant(self) -> None:
        account, role = self.selected(), self.role.currentData()
        if account is None:
            return
        if not messages.confirm(self, "授予角色", f"确认账户 {account.name} 属于 {account.display_name}"
                                + (f"(工号 {account.person_id})" if account.person_id else "")
                                + f",授予{role.value}角色并启用?", action="授予"):
            return
        try:
            self.accounts.grant_role(self.actor, account.name, role)
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.error.hide()
        self.refresh()


def weakly(method):
    """A window's ``method`` as the callback of a read off the UI thread, not keeping the window
    alive: the read (ui/tasks.LatestRead) holds its callback until the next one, and a window
    ended at logout (deleted) must let go at once; a result that comes after is dropped."""
    ref = weakref.WeakMethod(method)

    def call(*args):
        bound = ref()
        if bound is not None:
            bound(*args)

    return call


class ReadingBar(QWidget):
    """正在读取…… with a busy bar and 取消, shown while a list is read off the UI thread (the
    read is one service call, so there is no count to show, only that it is under way)."""

    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("正在读取……")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy: no count to show
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(120)
        self.cancel_button = QPushButton("取消")
        self.cancel_button.setToolTip("停止读取")
        self.cancel_button.clicked.connect(self.cancelled.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, text: str) -> None:
        self.label.setText(text)
        self.show()


class AuditorActionsDialog(QDialog):
    """审计员操作记录 (安全保密管理员): the auditor's own actions, and nobody else's. Up to 2,000
    entries, read and said in the domain's words off the UI thread (ui/tasks.py)."""

    HEADERS = ["序号", "时间", "用户", "操作", "对象", "详情"]
    LIMIT = 2000

    def __init__(self, oversight: OversightService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("安全审计员操作记录")
        self.oversight = oversight
        self.table = read_only_table(self.HEADERS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.rows: list[AuditLine] = []
        self.reading = ReadingBar()
        self.reading.cancelled.connect(self.cancel_reading)
        self.count_label = QLabel()
        self.reads = LatestRead(self)
        note = QLabel("三员互相监督:安全审计员审查另外两员,其本人的操作由安全保密管理员审查。")
        note.setWordWrap(True)
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)
        bar = QHBoxLayout()
        bar.addWidget(self.count_label)
        bar.addStretch(1)
        bar.addWidget(self.reading)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        layout.addWidget(close)
        self.resize(860, 480)
        self.refresh()

    def refresh(self) -> None:
        oversight, limit = self.oversight, self.LIMIT
        self.count_label.setText("")
        self.reading.start("正在读取安全审计员的操作记录……")
        self.reads.submit(lambda: [describe(r) for r in oversight.auditor_actions(limit=limit)],
                          weakly(self._loaded), weakly(self._failed))

    @property
    def loading(self) -> bool:
        return self.reads.pending

    def cancel_reading(self) -> None:
        self.reads.cancel()
        self.reading.hide()
        self.count_label.setText("已取消读取")

    def _loaded(self, shown: list[AuditLine]) -> None:
        self.reading.hide()
        self.rows = shown
        fill_table(self.table, [[str(r.id), r.at.strftime("%Y-%m-%d %H:%M:%S"), r.actor, r.action_text,
                                 r.target_text, r.detail_text] for r in shown])
        self.table.resizeColumnsToContents()
        self.count_label.setText(f"显示最近 {self.LIMIT} 条" if len(shown) >= self.LIMIT else f"共 {len(shown)} 条")

    def _failed(self, exc: BaseException) -> None:
        self.reading.hide()
        self.count_label.setText("读取失败")
        messages.show_error(self, "读取操作记录失败", exc)


class AuditLoad(NamedTuple):
    """What one read of the auditor's window brings: the entries shown and how many match; the
    first read also the users to filter by and the account alerts (each a query over the
    whole log)."""

    lines: list[AuditLine]
    total: int
    actors: list[str] | None = None
    alerts: list | None = None
    cells: list[list[str]] | None = None  # each line's columns and tooltip, made on the worker too


def audit_cells(lines: list[AuditLine]) -> list[list[str]]:
    """The table's columns of each line, then its whole text (the 详情 cell's tooltip)."""
    return [[str(r.id), r.at.strftime("%Y-%m-%d %H:%M:%S"), r.actor, r.role, r.action_text,
             r.target_text, r.detail_text, r.full_text] for r in lines]


class AuditWindow(RoleWindow):
    """安全审计员: the audit log by time, user and action; verify; export.

    The list (up to 2,000 entries, each said in the domain's words: 0.4–0.9 s) is read off the
    UI thread (ui/tasks.py, LatestRead): the window stays usable, says 正在读取 with 取消, and a
    newer filter supersedes the read in flight, whose result is dropped unseen."""

    HEADERS = ["序号", "时间", "用户", "角色", "操作", "对象", "详情"]
    LIMIT = 2000

    def __init__(self, audit: AuditService, actor: Actor, oversight: OversightService | None = None) -> None:
        super().__init__(actor, "审计日志(安全审计员)")
        self.audit = audit
        self.oversight = oversight
        self.task = None
        self.verify_task: BackgroundTask | None = None
        self.rows: list[AuditLine] = []
        self.reads = LatestRead(self)
        self._select_after: int | None = None  # the entry a verify asks for once the list is read
        self._first_read_done = False  # the users and alerts come with the first read that completes
        today = QDate.currentDate()
        self.since = QDateEdit(today.addDays(-30))
        self.until = QDateEdit(today)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(lambda _d: self.refresh())
        self.user = QComboBox()
        self.user.addItem("全部用户", "")  # the users come with the first read
        self.action = QComboBox()
        self.action.addItem("全部操作", "")
        for prefix, label in (("auth.", "登录与锁屏"), ("account.", "账户管理"), ("record.", "台账修改"),
                              ("ledger.", "打印与导出"), ("audit.", "审计"), ("backup.", "备份与恢复")):
            self.action.addItem(f"{label}(全部)", prefix)
        for action, label in ACTION_LABELS.items():
            self.action.addItem(label, action)
        self.user.currentIndexChanged.connect(lambda _i: self.refresh())
        self.action.currentIndexChanged.connect(lambda _i: self.refresh())
        self.verify_button = QPushButton("校验完整性")
        self.verify_button.clicked.connect(lambda: self.verify())
        self.anchor_button = QPushButton("核对凭证…")  # anchors from paper and USB copies (restore_dialog)
        self.anchor_button.clicked.connect(lambda: self.verify_anchors())
        self.export_button = QPushButton("导出Excel…")
        self.export_button.clicked.connect(lambda: self.export())
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.setToolTip("重新读取审计日志(F5)")
        self.refresh_button.setShortcut("F5")
        self.refresh_button.clicked.connect(lambda: self.refresh())
        self.count_label = QLabel()
        self.reading = ReadingBar()
        self.reading.cancelled.connect(self.cancel_reading)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        bar = QHBoxLayout()
        for label, widget in (("从", self.since), ("到", self.until), ("用户", self.user), ("操作", self.action)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addWidget(self.refresh_button)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.reading)
        bar.addWidget(self.verify_button)
        bar.addWidget(self.anchor_button)
        bar.addWidget(self.export_button)
        self.table = read_only_table(self.HEADERS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setWordWrap(False)  # one line a row; the pane below shows an entry whole
        # widths from the first 500 rows (and those in view), not all 2,000: a column is capped
        # at COLUMN_MAX anyway, and measuring every row took 0.1 s of the UI thread
        self.table.horizontalHeader().setResizeContentsPrecision(500)
        self.table.itemSelectionChanged.connect(self.show_selected)
        self.detail = QPlainTextEdit()
        self.detail.setReadOnly(True)
        self.detail.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.detail.setPlaceholderText("选中一条审计记录,在此查看其全部内容。")
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        host = QWidget()
        layout = QVBoxLayout(host)
        layout.addLayout(bar)
        layout.addWidget(self.result_label)
        layout.addWidget(self.splitter, 1)
        # The list leaves out the auditors' own entries (the service does): said under it, so
        # that nobody reads it as the whole log. The integrity check still covers every entry.
        self.own_note = QLabel(OWN_ENTRIES_NOTE)
        self.own_note.setWordWrap(True)
        layout.addWidget(self.own_note)
        self.setCentralWidget(host)
        self.alerts = QLabel()  # resets, grants, first logins after a reset: the moments to look at
        self.alerts.setWordWrap(True)
        self.alerts.setStyleSheet("color: #8a4b00;")
        self.alerts.hide()
        layout.insertWidget(0, self.alerts)
        self.refresh()

    def _fill_users(self, names: list[str]) -> None:
        chosen = self.user.currentData() or ""
        self.user.blockSignals(True)
        self.user.clear()
        self.user.addItem("全部用户", "")
        for name in names:
            self.user.addItem(name, name)
        self.user.setCurrentIndex(max(self.user.findData(chosen), 0))
        self.user.blockSignals(False)

    ALERTS_SHOWN = 5

    def show_alerts(self, rows: list) -> None:
        """The newest account alerts above the log; all of them are in the log (账户管理)."""
        lines = [f"{r.at:%Y-%m-%d %H:%M} {r.actor} {alert_label(r.action)} {r.target}"
                 + (f"({r.detail['role']})" if r.detail.get("role") else "") for r in rows]
        self.alerts.setText(("⚠ 需关注的账户事件(重置口令、授予角色、重置后首次登录):\n" + "\n".join(lines))
                            if lines else "")
        self.alerts.setVisible(bool(lines))

    def current_filter(self) -> AuditFilter:
        since, until = self.since.date(), self.until.date().addDays(1)
        return AuditFilter(since=dt.datetime(since.year(), since.month(), since.day()),
                           until=dt.datetime(until.year(), until.month(), until.day()),
                           actor=self.user.currentData() or "", action=self.action.currentData() or "")

    COLUMN_MAX = 240  # px: a long 对象 (a file's path) must leave room for 详情

    def refresh(self, select_id: int | None = None) -> None:
        """Read the list again for the filter shown (a filter changed, 刷新, after a check or an
        export), off the UI thread. The entry selected when the list comes stays selected, or
        ``select_id`` if given; a newer refresh supersedes this one."""
        f, audit, oversight, limit = self.current_filter(), self.audit, self.oversight, self.LIMIT
        first, alerts_shown = not self._first_read_done, self.ALERTS_SHOWN
        self._select_after = select_id

        def read() -> AuditLoad:
            lines, total = audit.lines(f, limit=limit), audit.count(f)
            if not first:
                return AuditLoad(lines, total, cells=audit_cells(lines))
            alerts = oversight.alerts(limit=alerts_shown) if oversight is not None else []
            return AuditLoad(lines, total, audit.actors(), alerts, audit_cells(lines))

        self.count_label.setText("")
        self.reading.start("正在读取审计日志……")
        self.reads.submit(read, weakly(self._loaded), weakly(self._failed))

    @property
    def loading(self) -> bool:
        """A read is under way whose list will be shown."""
        return self.reads.pending

    def cancel_reading(self) -> None:
        """取消: the read in flight is dropped; the list shown is cleared, since it is not what
        the filters now say."""
        self.reads.cancel()
        self.reading.hide()
        self._show_lines([])
        self.count_label.setText("已取消读取")

    def _failed(self, exc: BaseException) -> None:
        self.reading.hide()
        self.count_label.setText("读取失败")
        messages.show_error(self, "读取审计日志失败", exc)

    def _loaded(self, loaded: AuditLoad) -> None:
        self.reading.hide()
        if loaded.actors is not None:
            self._first_read_done = True
            self._fill_users(loaded.actors)
            self.show_alerts(loaded.alerts or [])
        self._show_lines(loaded.lines, loaded.cells)
        shown = f"(显示最近 {self.LIMIT} 条,全部请导出)" if loaded.total > self.LIMIT else ""
        self.count_label.setText(f"共 {loaded.total} 条{shown}")

    def _show_lines(self, lines: list[AuditLine], cells: list[list[str]] | None = None) -> None:
        """The lines read into the table: only the table's own work is left for the UI thread
        (about 0.1–0.3 s for 2,000 rows; the texts come made)."""
        chosen = self.selected()
        wanted = self._select_after if self._select_after is not None else (chosen.id if chosen else None)
        self._select_after = None
        self.rows = lines
        cells = audit_cells(lines) if cells is None else cells
        last = len(self.HEADERS) - 1
        self.table.blockSignals(True)
        fill_table(self.table, [row[:len(self.HEADERS)] for row in cells])
        for row, texts in enumerate(cells):
            self.table.item(row, last).setToolTip(texts[-1])
        for column in range(len(self.HEADERS) - 1):
            self.table.resizeColumnToContents(column)
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), self.COLUMN_MAX))
        self.table.blockSignals(False)
        self.select_entry(wanted)

    def selected(self) -> AuditLine | None:
        rows = self.rows
        row = self.table.currentRow()
        return rows[row] if 0 <= row < len(rows) and self.table.selectedItems() else None

    def select_entry(self, entry_id: int | None) -> None:
        """Select the entry numbered ``entry_id`` if it is listed (a refresh keeps the choice)."""
        row = next((i for i, line in enumerate(self.rows) if line.id == entry_id), None)
        if row is None:
            self.table.clearSelection()
        else:
            self.table.selectRow(row)
        self.show_selected()

    def show_selected(self) -> None:
        """The selected entry whole in the pane under the list: every change on its own line."""
        line = self.selected()
        self.detail.setPlainText(line.full_text if line is not None else "")

    def verify_anchors(self, anchors: list[str] | None = None) -> None:
        """校验 against the anchors (审计链头 N:HASH16) typed from exports, printouts, backups."""
        from mibao_desktop.ui.restore_dialog import AnchorDialog

        if anchors is None:
            dialog = AnchorDialog(self)
            if dialog.exec() != AnchorDialog.DialogCode.Accepted:
                return
            anchors = dialog.anchors()
        try:
            self.verify(anchors)
        except ServiceError as exc:  # an anchor typed wrongly
            messages.show_error(self, "核对凭证", exc)

    def verify(self, anchors: list[str] | None = None) -> None:
        """校验完整性 (and 核对凭证): the whole chain walked off the UI thread (ui/tasks.py) —
        seconds at a million entries — with a progress dialog and 取消. An anchor typed
        wrongly is said at once (ServiceError), before anything starts."""
        if self.verifying:
            return
        parsed = self.audit.parse_anchors(anchors or [])
        audit = self.audit
        self.verify_button.setEnabled(False)
        self.anchor_button.setEnabled(False)
        self.result_label.setStyleSheet("")
        self.result_label.setText("正在校验审计日志……")  # an earlier ✔ must not stand for this check
        self.verify_task = BackgroundTask(
            self, "正在校验审计日志……",
            lambda progress, cancelled: audit.verify(parsed, progress=progress, cancelled=cancelled))
        self.verify_task.done.connect(self._verified)
        self.verify_task.failed.connect(self._verify_failed)
        self.verify_task.finished.connect(self._verify_ended)
        self.verify_task.start()

    @property
    def verifying(self) -> bool:
        """A check is walking the chain."""
        return self.verify_task is not None and self.verify_task.running

    def _verified(self, result) -> None:
        if self.home is not None:  # the 首页's 审计日志校验 item is settled (or its date moved)
            self.home.refresh()
        colour = "#1a7f37" if result.ok else "#b00020"
        self.result_label.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.result_label.setText(("✔ " if result.ok else "✘ ") + result.message
                                  + "".join(f"\n{note}" for note in result.anchors))
        self.refresh(result.broken_id if not result.ok else None)

    def _verify_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):  # no conclusion: said plainly, neither ✔ nor ✘
            self.result_label.setStyleSheet("color: #8a4b00;")
            self.result_label.setText(str(exc))
            return
        self.result_label.setText("")
        messages.show_error(self, "校验审计日志失败", exc)

    def _verify_ended(self) -> None:
        self.verify_button.setEnabled(True)
        self.anchor_button.setEnabled(True)

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        # Hidden by the program (logout, the idle lock ending the session), not minimised: a
        # check still walking is stopped and waited for, before the database it reads closes.
        if not event.spontaneous() and self.verifying:
            self.verify_task.cancel()
            self.verify_task.wait()
        super().hideEvent(event)

    def export(self, path: str | Path | None = None, marking: str | None = None) -> None:
        """导出Excel…: the dialog asks for the marking and the file; with ``path`` given, the
        export runs at once (marked ``marking``, 内部 by default)."""
        if path is None:
            self.export_dialog = AuditExportDialog(self)
            self.export_dialog.chosen.connect(self.export)
            self.export_dialog.open()
            return
        target, f, marking = Path(path), self.current_filter(), marking or DEFAULT_MARKING
        self.task = run_in_background(
            self, "正在导出审计日志……",
            lambda progress, cancelled: export_audit(self.audit, target, f, progress=progress, cancelled=cancelled,
                                                     marking=marking),
            on_done=lambda n: (messages.inform(self, "导出完成", f"已导出 {n} 条审计记录到\n{target}\n"
                                               f"密级标志:{marking_text(marking)}"), self.refresh()),
            on_error=lambda e: messages.show_error(self, "导出失败", e))


class AuditExportDialog(QDialog):
    """导出审计日志: the marking the workbook carries (on the sheet and every printed page) and
    where it goes. The log names records and people, and what changed in them: its marking is
    the auditor's judgement, 内部 unless they choose otherwise."""

    chosen = Signal(object, str)  # the file, the marking

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("导出审计日志")
        self.marking = QComboBox()
        for level in markings():
            self.marking.addItem(marking_text(level), level)
        self.marking.setCurrentIndex(self.marking.findData(DEFAULT_MARKING))
        self.path = QLineEdit(str(Path.home() / f"审计日志-{dt.date.today()}.xlsx"))
        browse = QPushButton("浏览…")
        browse.clicked.connect(self.browse)
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(browse)
        form = QFormLayout()
        form.addRow("密级标志", self.marking)
        form.addRow("保存到", where)
        note = QLabel("密级标志印在工作表首行和每页的页眉、页脚。请按导出内容所涉最高密级选择。")
        note.setWordWrap(True)
        self.error = _error_label()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "导出", self.submit))
        self.setMinimumWidth(520)

    def browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "导出审计日志", self.path.text(), "Excel 工作簿 (*.xlsx)")
        if path:
            self.path.setText(path)

    def submit(self) -> None:
        text = self.path.text().strip()
        if not text:
            self.error.setText("请选择保存位置。")
            self.error.show()
            return
        path = Path(text)
        if path.suffix.lower() != ".xlsx":
            path = path.with_name(path.name + ".xlsx")
        self.accept()
        self.chosen.emit(path, self.marking.currentData())


__all__ = ["AccountsWindow", "AuditExportDialog", "AuditWindow", "AuditorActionsDialog", "GrantDialog"]
