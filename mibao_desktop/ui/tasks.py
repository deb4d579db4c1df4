"""Long work (import, export, printing, backup) off the UI thread, with a progress bar and cancel.

The work is a plain callable ``work(progress, cancelled)`` from the Qt-free core: it reports
``progress(done, total)`` and stops (raising ``Cancelled``) when ``cancelled()`` turns true.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

Work = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]


class _Worker(QThread):
    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, work: Work, stop: threading.Event) -> None:
        super().__init__()
        self._work = work
        self._stop = stop

    def run(self) -> None:
        try:
            result = self._work(lambda done, total: self.progressed.emit(done, total), self._stop.is_set)
        except BaseException as exc:  # handed to the UI thread, which explains it
            self.failed.emit(exc)
        else:
            self.succeeded.emit(result)


class BackgroundTask(QObject):
    """One piece of work on a worker thread, with a modal progress dialog that can cancel it.

    ``done`` carries the result; ``failed`` the exception (``Cancelled`` after a cancel).
    """

    done = Signal(object)
    failed = Signal(object)
    finished = Signal()

    def __init__(self, parent: QWidget | None, label: str, work: Work, *, show_after_ms: int = 300) -> None:
        super().__init__(parent)
        self._stop = threading.Event()
        self.dialog = QProgressDialog(label, "取消", 0, 0, parent)
        self.dialog.setWindowTitle("请稍候")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(show_after_ms)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel)
        self.worker = _Worker(work, self._stop)
        self.worker.progressed.connect(self._on_progress)
        self.worker.succeeded.connect(self._on_success)
        self.worker.failed.connect(self._on_failure)
        self.result: Any = None
        self.error: BaseException | None = None
        self.running = False

    def start(self) -> "BackgroundTask":
        self.running = True
        self.worker.start()
        return self

    def cancel(self) -> None:
        if self.running:
            self.dialog.setLabelText("正在取消……")
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.dialog.setMaximum(total)
            self.dialog.setValue(min(done, total))

    def _finish(self) -> None:
        self.running = False
        self.worker.wait()
        self.dialog.canceled.disconnect(self.cancel)
        self.dialog.close()
        self.dialog.deleteLater()
        self.finished.emit()

    def _on_success(self, result: Any) -> None:
        self.result = result
        self._finish()
        self.done.emit(result)

    def _on_failure(self, exc: BaseException) -> None:
        self.error = exc
        self._finish()
        self.failed.emit(exc)


def run_in_background(parent: QWidget | None, label: str, work: Work, *,
                      on_done: Callable[[Any], None], on_error: Callable[[BaseException], None]) -> BackgroundTask:
    task = BackgroundTask(parent, label, work)
    task.done.connect(on_done)
    task.failed.connect(on_error)
    return task.start()
