"""Chinese input through fcitx, the input method of UOS and Kylin, also where Qt has no fcitx
plugin.

fcitx sets ``QT_IM_MODULE=fcitx`` (or ``fcitx5``) and installs its Qt plugin for the system's
Qt, which a Qt of our own (the package's, PySide6's from pip) cannot load. The Linux package
carries fcitx5-qt's plugin compiled for its Qt (installer/README.md, "Input methods"); a source
install's PySide6 has none, and without a plugin Qt types only Latin letters. Qt 6.8 tries the
modules named in ``QT_IM_MODULES`` in order, so ibus is named after fcitx: fcitx 5 also answers
the ibus protocol (its ibus frontend, loaded by default). Qt's ibus plugin gives up at once where
no ``ibus-daemon`` is installed, unless ``IBUS_USE_PORTAL`` is set; then it talks to
org.freedesktop.portal.IBus on the session bus, a name fcitx 5's ibus frontend takes (tried with
fcitx 5.0.5 on Debian 11: 你好 typed into the login window). fcitx 4 does not answer ibus; for it
only the plugin helps."""

from __future__ import annotations

import os
from collections.abc import MutableMapping

FCITX_NAMES = ("fcitx", "fcitx5")


def fall_back_to_ibus(environ: MutableMapping[str, str] = os.environ) -> str | None:
    """Before the QApplication exists: when the session asks for fcitx and names no list of its
    own, ask Qt for fcitx first and ibus (through its portal) after it. Returns the list set, or
    None."""
    module = environ.get("QT_IM_MODULE", "").strip()
    if module.lower() not in FCITX_NAMES or environ.get("QT_IM_MODULES", "").strip():
        return None
    environ["QT_IM_MODULES"] = f"{module};ibus"
    environ.setdefault("IBUS_USE_PORTAL", "1")  # read only by the ibus plugin, used only without fcitx's
    return environ["QT_IM_MODULES"]
