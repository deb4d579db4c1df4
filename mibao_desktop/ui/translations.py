"""Qt's own texts in Chinese (the 取消/确定 of standard buttons, the file and print dialogs):
Qt's zh_CN translation, shipped with PySide6 (and, in the package, the only one kept), and the
few words it lacks."""

from __future__ import annotations

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication

# What qtbase_zh_CN leaves in English: the 类型 column of Qt's own file dialog (a folder showed
# as “Folder” in every 选择文件… and 另存为), by (context, source text).
MISSING = {
    ("QAbstractFileIconProvider", "Folder"): "文件夹",
    ("QAbstractFileIconProvider", "Drive"): "驱动器",
    ("QAbstractFileIconProvider", "Shortcut"): "快捷方式",
    ("QAbstractFileIconProvider", "Unknown"): "未知",
}


class MissingChinese(QTranslator):
    """The words of :data:`MISSING`; any other text goes on to qtbase_zh_CN (None: not ours)."""

    def isEmpty(self) -> bool:  # noqa: N802 (Qt's name)
        return False

    def translate(self, context, source_text, disambiguation=None, n=-1):  # noqa: ARG002
        return MISSING.get((context, source_text))


def install_qt_chinese(app: QApplication) -> bool:
    """Load qtbase_zh_CN into ``app`` (once), and the words it lacks; False when the file is
    missing (the app still runs, with Qt's dialogs in English)."""
    if getattr(app, "_mibao_qt_translator", None) is not None:
        return True
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load("qtbase_zh_CN", folder):
        return False
    app.installTranslator(translator)
    missing = MissingChinese(app)
    app.installTranslator(missing)
    app._mibao_qt_translator = (translator, missing)  # kept: a translator that is collected stops translating
    return True
