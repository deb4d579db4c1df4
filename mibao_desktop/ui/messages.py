"""Message boxes in one place, so every dialog speaks alike and tests can answer them."""

from __future__ import annotations

import traceback

from PySide6.QtWidgets import QMessageBox, QWidget

from mibao_desktop.errors import ServiceError

ERROR_STYLE = "color: #b00020;"  # the red of an error under a field or at the foot of a dialog


def confirm(parent: QWidget | None, title: str, text: str, *, action: str = "确定", cancel: str = "取消",
            grave: bool = False, details: str = "") -> bool:
    """Ask before doing ``action``; ``grave`` shows the critical icon (a damaged database);
    ``details`` a long list behind 显示详细信息."""
    icon = QMessageBox.Icon.Critical if grave else QMessageBox.Icon.Question
    box = QMessageBox(icon, title, text, parent=parent)
    if details:
        box.setDetailedText(details)
    yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(cancel, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(yes)
    box.exec()
    return box.clickedButton() is yes


SHOWN_REFERRERS = 12  # more than this go behind 显示详细信息


def confirm_referenced(parent: QWidget | None, record, referrers, doing: str, *, subject: str = "") -> bool:
    """A record others refer to is about to be voided or destroyed: name each of them
    (ledger, number, field) and ask. Those records keep showing it, marked. ``subject`` names
    several records voided together (所选的 3 条涉密计算机)."""
    lines = [f"· {r}" for r in referrers]
    shown = lines[:SHOWN_REFERRERS]
    if len(lines) > SHOWN_REFERRERS:
        shown.append(f"…… 等共 {len(lines)} 条(见详细信息)")
    text = (f"{subject or f'{record.ledger.noun} {record.number}'} 仍被以下 {len(lines)} 条记录引用:\n" + "\n".join(shown)
            + f"\n\n{doing}后,这些记录仍会显示它(标注已作废或已销毁)。确定{doing}吗?")
    return confirm(parent, f"确认{doing}", text, action=doing,
                   details="\n".join(lines) if len(lines) > SHOWN_REFERRERS else "")


def inform(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def error(parent: QWidget | None, title: str, text: str, details: str = "") -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def inline(label, exc: ServiceError) -> None:
    """Show a refused write's message in a dialog's own error line (fields named)."""
    from mibao_desktop.errors import ValidationFailed

    if isinstance(exc, ValidationFailed):
        text = ";".join(f"{exc.labels[k]}:{v}" if k in exc.labels else v for k, v in exc.errors.items())
    else:
        text = exc.message
    label.setText(text)
    label.show()


def explain(exc: BaseException) -> tuple[str, str]:
    """(plain Chinese message, technical details) for an error reaching the UI."""
    if isinstance(exc, ServiceError):
        return exc.message, ""
    if isinstance(exc, OSError):
        where = f"({exc.filename})" if getattr(exc, "filename", None) else ""
        return f"读写文件失败{where}:{exc.strerror or exc}。请检查磁盘空间、U盘是否已拔出或文件是否被占用。", ""
    details = "".join(traceback.format_exception(exc))
    known = type(exc).__name__ in ("SpreadsheetError", "DatabaseError", "BackupError")
    if known:
        return str(exc), ""
    return f"发生了意外错误,数据未作改动:{exc}", details


def show_error(parent: QWidget | None, title: str, exc: BaseException) -> None:
    text, details = explain(exc)
    error(parent, title, text, details)
