"""The desktop's restore and 校验 dialogs (issue 11, items 2 and 3): only registered backups are
offered, any other file after a warning; the auditor checks anchors from paper and USB copies;
the output register shows the head each copy carries."""

from __future__ import annotations

import shutil

from PySide6.QtWidgets import QApplication

from mibao_desktop import paths
from mibao_desktop.security import Actor, Role
from mibao_desktop.services import audit
from mibao_desktop.services.context import Services
from mibao_desktop.ui.restore_dialog import BackupChooser
from mibao_desktop.ui.role_windows import AuditWindow
from tests.conftest import computer


def test_only_registered_backups_are_offered_and_another_file_only_after_a_warning(qtbot, window, services, told,
                                                                                   data_dir):
    services.ledgers.create("computers", computer())
    made = services.backups.make(services.db)
    planted = paths.backup_dir(data_dir) / "mibao-manual-20991231-235959.sqlite"  # newest by its name
    shutil.copyfile(made.path, planted)
    with open(planted, "ab") as handle:
        handle.write(b"\0" * 4096)  # changed after it was made: not the registered bytes
    chooser = BackupChooser(services.backups)
    qtbot.addWidget(chooser)
    assert chooser.table.rowCount() == 1 and chooser.table.item(0, 2).text() == made.path.name
    assert chooser.table.item(0, 3).text() == made.anchor and ":" in made.anchor
    told.answers.append(False)  # 取消 at the warning
    chooser.choose_other(planted)
    assert chooser.chosen is None and told[-1][1] == "未登记的文件" and "不在备份登记中" in told[-1][2]
    chooser.choose_other(planted)  # 仍然恢复
    assert chooser.chosen == planted and chooser.unregistered
    emitted = []
    window.restore_requested.connect(lambda path, unregistered: emitted.append((path, unregistered)))
    window.choose_backup(made.path)  # a registered one: no warning, just the confirmation
    assert emitted == [(made.path, False)] and told[-1][1] == "从备份恢复"
    told.answers.append(False)
    window.choose_backup(planted)  # an unregistered one: warned first, and refused here
    assert emitted == [(made.path, False)] and told[-1][1] == "未登记的文件"
    window.choose_backup(planted)
    assert emitted[-1] == (planted, True)


def test_the_auditor_checks_anchors_from_copies(qtbot, services, told):
    services.ledgers.create("computers", computer())
    head = audit.current_anchor(services.db)
    auditor = Services(services.db, Actor("shenji", Role.AUDITOR), services.data_dir)
    window = AuditWindow(auditor.audit, auditor.actor)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: not window.loading, timeout=10000)  # read off the UI thread
    window.verify_anchors([f"审计链头 {head}"])
    qtbot.waitUntil(lambda: not window.verifying, timeout=10000)  # walked off the UI thread
    assert window.result_label.text().startswith("✔") and f"凭证 {head} 相符" in window.result_label.text()
    window.verify_anchors([f"{head.id + 99}:{head.hash[:16]}"])
    qtbot.waitUntil(lambda: not window.verifying, timeout=10000)
    assert window.result_label.text().startswith("✘") and "已不存在" in window.result_label.text()
    window.verify_anchors(["不是凭证"])  # said at once, before any check starts
    assert told[-1][1] == "核对凭证" and "格式不对" in told[-1][2] and not window.verifying
    qtbot.waitUntil(lambda: not window.loading, timeout=10000)  # the list read after each check
    QApplication.instance().setQuitOnLastWindowClosed(True)


def test_the_output_register_shows_the_head_each_copy_carries(qtbot, services, tmp_path):
    from mibao_desktop.excel import export_ledger
    from mibao_desktop.ui.excel_dialogs import OutputRegisterDialog

    services.ledgers.create("computers", computer())
    head = audit.current_anchor(services.db)
    ledger = services.ledgers.ledger("computers")
    services.outputs.to_medium(lambda p: export_ledger(services.ledgers, ledger, p), "台账.xlsx", tmp_path / "stick",
                               what="涉密计算机台账", marking="机密")
    dialog = OutputRegisterDialog(services.outputs)
    qtbot.addWidget(dialog)
    assert dialog.table.item(0, 9).text() == str(head) == services.outputs.register()[0].anchor
