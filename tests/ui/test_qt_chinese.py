"""Qt's own texts (standard buttons, file and print dialogs) are Chinese: qtbase_zh_CN is loaded."""

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog


def test_qts_own_buttons_and_dialogs_speak_chinese(qapp, qtbot):
    from mibao_desktop.ui.translations import install_qt_chinese

    assert install_qt_chinese(qapp) and install_qt_chinese(qapp)  # once is enough; twice does no harm
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(box)
    texts = {b.text() for b in box.buttons()}
    assert "取消" in texts and all(t.isascii() is False for t in texts), texts
    dialog = QFileDialog(None, "选择文件")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    qtbot.addWidget(dialog)
    labels = [w.text() for w in dialog.findChildren(type(box.buttons()[0]))]
    assert any("取消" in t for t in labels), labels
