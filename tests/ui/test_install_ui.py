"""The desktop side of issue 17 item 4 and 7: 帮助 → 关于密保; a newer database refused before the
login window; the data folder inside the program's folder refused; an unexpected failure at
start written to logs/mibao-errors.log and named in a message box."""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import tomllib
from pathlib import Path

import pytest
from PySide6.QtCore import qVersion

from PySide6.QtWidgets import QMenu

from mibao_desktop.ui import login

ROOT = Path(__file__).resolve().parents[2]


def test_about_names_the_version_the_database_the_data_folder_and_qt(window, qtbot, services, data_dir):
    from mibao_desktop.ui.about import AboutDialog

    with open(ROOT / "pyproject.toml", "rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    help_menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "帮助(&H)")
    about = next(a for a in help_menu.actions() if a.text() == "关于密保")
    about.trigger()
    dialog = window.dialog
    assert isinstance(dialog, AboutDialog) and dialog.isVisible() and dialog.windowTitle() == "关于密保"
    text = dialog.text()
    assert f"版本:{version}" in text
    assert f"数据库:SQLite 文件 {services.db.path}" in text
    assert f"数据文件夹:{data_dir}" in text
    assert f"Qt {qVersion()}" in text and "mibao-errors.log" in text
    dialog.reject()


def test_about_names_a_postgresql_server_without_its_password():
    from types import SimpleNamespace

    from mibao_desktop.ui.about import database_text

    db = SimpleNamespace(path=None, url="postgresql+psycopg://mibao:***@10.1.2.3:5432/ledgers")
    assert database_text(db) == "PostgreSQL 服务器 10.1.2.3:5432,数据库 ledgers(用户 mibao)"


@pytest.fixture
def logins(monkeypatch):
    """Every login window made."""
    made = []
    original = login.LoginDialog.__init__

    def init(self, *args, **kwargs):
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(login.LoginDialog, "__init__", init)
    return made


def test_a_newer_database_is_refused_before_the_login_window_and_left_as_it_was(qtbot, data_dir, told, logins):
    from mibao_desktop.storage.startup import open_database
    from mibao_desktop.ui.app import AppSession, run

    open_database(data_dir).close()
    path = data_dir / "mibao.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    backups = sorted(p.name for p in (data_dir / "backups").iterdir())
    session = AppSession(data_dir)
    assert session.start() is False
    assert [t[:2] for t in told] == [("error", "数据库版本比程序新")]
    assert "数据库版本比程序新,请安装新版本" in told[0][2] and "0999" in told[0][2]
    assert logins == [] and session.db is None  # no login window; nothing opened
    assert run(data_dir) == 2  # the whole start: the message, then exit
    assert len(told) == 2 and logins == []
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in (data_dir / "backups").iterdir()) == backups
    assert not (data_dir / "logs").exists()


def test_a_data_folder_inside_the_program_folder_is_refused_with_a_message_box(tmp_path, told, monkeypatch):
    from mibao_desktop.cli import main

    app = tmp_path / "opt" / "mibao"
    (app / "_internal").mkdir(parents=True)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(app / "mibao"))
    monkeypatch.setattr(sys, "_MEIPASS", str(app / "_internal"), raising=False)
    monkeypatch.setenv("MIBAO_DATA_DIR", str(app / "data"))  # the desktop started from the menu
    assert main([]) == 2
    assert [t[:2] for t in told] == [("error", "无法使用数据文件夹")] and "安装文件夹" in told[0][2]
    assert not (app / "data").exists()


def test_an_unexpected_failure_at_start_is_logged_and_named_in_a_message_box(qtbot, data_dir, told, monkeypatch):
    from mibao_desktop.ui.app import AppSession, run

    def broken(self):
        raise ZeroDivisionError("无法想象的错误")

    monkeypatch.setattr(AppSession, "start", broken)
    assert run(data_dir) == 2
    log = data_dir / "logs" / "mibao-errors.log"
    written = log.read_text(encoding="utf-8")
    assert "桌面程序启动失败" in written and "Traceback" in written and "ZeroDivisionError" in written
    assert [t[:2] for t in told] == [("error", "密保无法启动")]
    assert str(log) in told[0][2] and "ZeroDivisionError" in told[0][2]


def test_a_failure_opening_behind_the_login_window_is_logged_too(qtbot, data_dir, told, logins, monkeypatch):
    """The database opens behind the login window, in a timer's slot, where an exception would
    reach only a terminal nobody sees: it is logged, told, and the start ends."""
    from mibao_desktop.storage.startup import open_database
    from mibao_desktop.ui.app import AppSession

    open_database(data_dir).close()

    def broken(self):
        raise RuntimeError("打开时出错")

    monkeypatch.setattr(AppSession, "open", broken)
    session = AppSession(data_dir)
    assert session.start() is False
    assert [t[:2] for t in told] == [("error", "密保无法启动")]
    assert "RuntimeError: 打开时出错" in (data_dir / "logs" / "mibao-errors.log").read_text(encoding="utf-8")
    assert len(logins) == 1 and not logins[0].isVisible()


def test_every_roles_window_has_about(qtbot, data_dir, db, monkeypatch):
    """The system administrator's and the auditor's windows get 帮助 → 关于密保 too."""
    from mibao_desktop.security import Role
    from mibao_desktop.services.accounts import AccountService
    from mibao_desktop.services.context import Services
    from mibao_desktop.ui.about import AboutDialog
    from mibao_desktop.ui.app import AppSession
    from PySide6.QtWidgets import QApplication

    passwords = {Role.SYSTEM_ADMIN: "Sys-Admin-2026", Role.SECURITY_ADMIN: "Sec-Admin-2026",
                 Role.AUDITOR: "Aud-Itor-2026"}
    names = {Role.SYSTEM_ADMIN: "xitong", Role.SECURITY_ADMIN: "baomi", Role.AUDITOR: "shenji"}
    accounts = AccountService(db)
    accounts.setup({r: (names[r], names[r], passwords[r]) for r in Role})
    session = AppSession(data_dir)
    session.db, session.services = db, Services(db, data_dir=data_dir)
    for role in (Role.SYSTEM_ADMIN, Role.AUDITOR, Role.SECURITY_ADMIN):
        session.show_window(accounts.login(names[role], passwords[role]))
        window = session.window
        qtbot.addWidget(window)
        # the menus by their titles (QAction.menu() of PySide6 6.8 hands back a wrapper already deleted)
        helps = [m for m in window.menuBar().findChildren(QMenu) if m.title() == "帮助(&H)"]
        assert len(helps) == 1, role
        next(a for a in helps[0].actions() if a.text() == "关于密保").trigger()
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, AboutDialog) and w.isVisible()]
        assert len(shown) == 1 and f"数据文件夹:{data_dir}" in shown[0].text()
        shown[0].reject()
        session._end_window()
    session.wait_for_check()
    QApplication.instance().setQuitOnLastWindowClosed(True)
