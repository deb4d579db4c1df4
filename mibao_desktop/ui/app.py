"""Start the desktop app: the bundled Chinese font, the database, the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from mibao_desktop import paths

FONT_FILE = "wqy-microhei.ttc"
# A system font that already renders Chinese well is kept; otherwise the bundled one is used.
PREFERRED_SYSTEM_FONTS = ("Microsoft YaHei", "Microsoft YaHei UI", "PingFang SC", "Noto Sans CJK SC",
                          "Source Han Sans SC")


def load_chinese_font(app: QApplication, point_size: int = 10) -> str:
    """Register the bundled WenQuanYi Micro Hei and make a Chinese font the default one.

    Returns the family in use. A machine with no Chinese fonts (a fresh Linux install) would
    otherwise show boxes instead of characters.
    """
    families = set(QFontDatabase.families())
    for family in PREFERRED_SYSTEM_FONTS:
        if family in families:
            app.setFont(QFont(family, point_size))
            return family
    font_id = QFontDatabase.addApplicationFont(str(paths.resources_dir() / "fonts" / FONT_FILE))
    loaded = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not loaded:
        return app.font().family()
    app.setFont(QFont(loaded[0], point_size))
    return loaded[0]


def create_window(data_dir: Path):
    """The main window over the database in ``data_dir`` (raises DatabaseError)."""
    from mibao_desktop.db.database import Database
    from mibao_desktop.security import Actor
    from mibao_desktop.services.ledger_service import LedgerService
    from mibao_desktop.ui.main_window import MainWindow

    db = Database.open(paths.database_path(data_dir), backup_dir=paths.backup_dir(data_dir))
    return MainWindow(LedgerService(db, Actor.local_security_admin()), data_dir)


def run(data_dir: Path) -> int:
    from mibao_desktop.db.database import DatabaseError

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("密保")
    app.setApplicationDisplayName("密保")
    load_chinese_font(app)
    try:
        window = create_window(data_dir)
    except DatabaseError as exc:
        QMessageBox.critical(None, "无法打开数据库", str(exc))
        return 2
    screen = QGuiApplication.primaryScreen().availableGeometry()
    window.resize(min(1366, screen.width()), min(768, screen.height()))
    window.show()
    code = app.exec()
    window.service.db.close()
    return code
