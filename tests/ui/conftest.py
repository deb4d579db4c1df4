"""The real main window on a real SQLite file, offscreen; message boxes answered and recorded."""

from __future__ import annotations

import pytest

from mibao_desktop.services.context import Services
from mibao_desktop.ui import messages
from mibao_desktop.ui.main_window import MainWindow
from mibao_desktop.ui.tasks import wait_for_quick_reads


@pytest.fixture
def told(monkeypatch):
    """Every message box the UI shows, as (kind, title, text); confirmations answer yes."""
    class Told(list):
        answers: list[bool]

    shown = Told()
    shown.answers = answers = []

    def confirm(_parent, title, text, **_kw):
        shown.append(("confirm", title, text))
        return answers.pop(0) if answers else True

    monkeypatch.setattr(messages, "confirm", confirm)
    monkeypatch.setattr(messages, "inform", lambda _p, title, text: shown.append(("inform", title, text)))
    monkeypatch.setattr(messages, "error",
                        lambda _p, title, text, details="": shown.append(("error", title, text + "\n" + details)))
    return shown


@pytest.fixture
def services(service, data_dir) -> Services:
    """The window's composition root, acting as the same person as the ``service`` fixture."""
    return Services(service.db, data_dir=data_dir).acting_as(service.actor)


@pytest.fixture
def window(qtbot, services, told):
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    # the window opens on its 首页 (tests/ui/test_due_page.py); these tests work in a ledger's page
    win.show_ledger(win.ledgers[0].key)
    win.activateWindow()  # the keys the tests press go to the window (its shortcuts: Ctrl+N …)
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    yield win
    wait_for_quick_reads()  # nothing reads the database after the test closes it
