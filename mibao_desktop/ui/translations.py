"""Qt's own texts in Chinese (the 取消/确定 of standard buttons, the file and print dialogs):
Qt's zh_CN translation, shipped with PySide6 (and, in the package, the only one kept)."""

from __future__ import annotations

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication


def install_qt_chinese(app: QApplication) -> bool:
    """Load qtbase_zh_CN into ``app`` (once); False when the file is missing (the app still
    runs, with Qt's dialogs in English)."""
    if getattr(app, "_mibao_qt_translator", None) is not None:
        return True
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load("qtbase_zh_CN", folder):
        return False
    app.installTranslator(translator)
    app._mibao_qt_translator = translator  # kept: a translator that is collected stops translating
    return True
