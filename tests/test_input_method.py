"""Chinese input through fcitx where Qt has no fcitx plugin (mibao_desktop/ui/input_method.py):
the desktop asks Qt for ibus after fcitx, which fcitx 5 answers. The package carries fcitx5-qt's
plugin (tests/test_package.py checks that it loads there); PySide6 from pip has none, which is
what the desktop start below runs on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import PySide6
import pytest

from mibao_desktop.cli import DEMO_ACCOUNTS, demo_password
from mibao_desktop.security import Role
from mibao_desktop.services.context import Services
from mibao_desktop.ui.input_method import fall_back_to_ibus

ROOT = Path(__file__).resolve().parent.parent
QT_PLUGINS = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforminputcontexts"


@pytest.mark.parametrize("module", ["fcitx", "fcitx5", "Fcitx"])
def test_fcitx_gets_ibus_after_it(module):
    environ = {"QT_IM_MODULE": module}
    assert fall_back_to_ibus(environ) == f"{module};ibus"
    assert environ["QT_IM_MODULES"] == f"{module};ibus"
    # Qt's ibus plugin talks to fcitx 5's ibus frontend only through the portal name (it gives
    # up at once where no ibus-daemon is installed otherwise)
    assert environ["IBUS_USE_PORTAL"] == "1"


@pytest.mark.parametrize("environ", [
    {},  # no input method asked for: Qt's default (compose)
    {"QT_IM_MODULE": "ibus"},
    {"QT_IM_MODULE": "none"},
    {"QT_IM_MODULE": "fcitx", "QT_IM_MODULES": "wayland;fcitx"},  # the session's own list stands
])
def test_other_sessions_are_left_alone(environ):
    before = dict(environ)
    assert fall_back_to_ibus(environ) is None
    assert environ == before


def loaded_input_plugins(stderr: str) -> list[str]:
    """The input-method plugins Qt loaded, from its QT_DEBUG_PLUGINS lines."""
    return [line.split("platforminputcontexts/")[1].split('"')[0] for line in stderr.splitlines()
            if "platforminputcontexts/" in line and "loaded library" in line and "unloaded" not in line]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fcitx and ibus are Linux input methods")
@pytest.mark.skipif(not (QT_PLUGINS / "libibusplatforminputcontextplugin.so").exists(), reason="no ibus plugin in PySide6")
@pytest.mark.skipif((QT_PLUGINS / "libfcitx5platforminputcontextplugin.so").exists(),
                    reason="this PySide6 has an fcitx plugin: Qt loads that one")
@pytest.mark.sqlite_only  # the desktop on a data folder
def test_desktop_started_under_fcitx_loads_qts_ibus_plugin(db, data_dir):
    """The real start, up to the login window, in a session that says QT_IM_MODULE=fcitx: Qt
    (6.8: QT_IM_MODULES tried in order) finds no fcitx plugin and loads its ibus one. Before the
    fallback it loaded only compose, which types no Chinese."""
    accounts = Services(db).accounts  # accounts, so that the start goes to the login window
    accounts.setup({role: (DEMO_ACCOUNTS[role.name][0], role.value, demo_password()) for role in Role})
    env = {key: value for key, value in os.environ.items() if not key.startswith(("QT_IM_", "XMODIFIERS"))}
    env.update(QT_IM_MODULE="fcitx", QT_QPA_PLATFORM="offscreen", QT_DEBUG_PLUGINS="1", MIBAO_EXIT_AT_LOGIN="1")
    done = subprocess.run([sys.executable, "-m", "mibao_desktop", "--data-dir", str(data_dir)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "MIBAO_LOGIN_SHOWN" in done.stdout, done.stderr[-2000:]
    assert loaded_input_plugins(done.stderr) == ["libibusplatforminputcontextplugin.so"]
