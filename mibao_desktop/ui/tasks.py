"""Work off the UI thread: long work (import, export, printing, backup) with a progress bar and
取消, and quick reads as the user types (search, completion) that the next keystroke supersedes.

Long work is a plain callable ``work(progress, cancelled)`` from the Qt-free core: it reports
``progress(done, total)`` and stops (raising ``Cancelled``) when ``cancelled()`` turns true.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Qt, Signal
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
    """One piece of work on a worker thread, with a modal progress dialog that can cancel it,
    or none (``quiet``: a check the user need not wait for, such as the full check of the
    database after start).

    ``done`` carries the result; ``failed`` the exception (``Cancelled`` after a cancel).
    """

    done = Signal(object)
    failed = Signal(object)
    finished = Signal()

    def __init__(self, parent: QWidget | None, label: str, work: Work, *, show_after_ms: int = 300,
                 quiet: bool = False, cancellable: bool = True) -> None:
        super().__init__(parent)
        self._stop = threading.Event()
        self.dialog: QProgressDialog | None = None
        self.cancellable = cancellable
        if not quiet:
            self.dialog = QProgressDialog(label, "取消", 0, 0, parent)
            self.dialog.setWindowTitle("请稍候")
            self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
            self.dialog.setMinimumDuration(show_after_ms)
            self.dialog.setAutoClose(False)
            self.dialog.setAutoReset(False)
            if cancellable:
                self.dialog.canceled.connect(self.cancel)
            else:  # one transaction that never looks at 取消: no button (nor Esc) that would not stop it
                self.dialog.setCancelButton(None)
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
        if self.running and self.dialog is not None:
            self.dialog.setLabelText("正在取消……")
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0 and self.dialog is not None:
            self.dialog.setMaximum(total)
            self.dialog.setValue(min(done, total))

    def wait(self) -> None:
        """Block until the work has ended (before the database it reads is closed)."""
        self.worker.wait()

    def _finish(self) -> None:
        self.running = False
        self.worker.wait()
        if self.dialog is not None:
            if self.cancellable:
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
                      on_done: Callable[[Any], None], on_error: Callable[[BaseException], None],
                      cancellable: bool = True) -> BackgroundTask:
    task = BackgroundTask(parent, label, work, cancellable=cancellable)
    task.done.connect(on_done)
    task.failed.connect(on_error)
    return task.start()


# -- quick reads as the user types ------------------------------------------------------------

_QUICK_POOL = QThreadPool()
_QUICK_POOL.setMaxThreadCount(2)  # a read in flight and the one that supersedes it


class _QuickSignals(QObject):
    done = Signal(int, object)
    failed = Signal(int, object)


class _QuickRead(QRunnable):
    def __init__(self, generation: int, read: Callable[[], Any], stop: threading.Event,
                 signals: _QuickSignals) -> None:
        super().__init__()
        self.generation, self.read, self.stop, self.signals = generation, read, stop, signals

    def run(self) -> None:
        if self.stop.is_set():
            return  # superseded before it started: not worth a query
        try:
            result = self.read()
        except BaseException as exc:  # handed to the UI thread
            self.signals.failed.emit(self.generation, exc)
        else:
            self.signals.done.emit(self.generation, result)


class LatestRead(QObject):
    """Quick reads as the user types (the search box, completing a name): off the UI thread,
    silent (no progress dialog: a keystroke is not a task), and only the newest counts — a
    later request supersedes the one in flight, whose result is dropped unseen.

    ``read`` is a plain callable of the Qt-free core; ``on_done(result)`` runs on the UI thread.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._stop = threading.Event()
        self._on_done: Callable[[Any], None] | None = None
        self._on_error: Callable[[BaseException], None] | None = None
        # Not a child of this object: a read still running when its widget goes away emits
        # into an object that still exists (the connection to this one is gone with it).
        self._signals = _QuickSignals()
        self._signals.done.connect(self._done)
        self._signals.failed.connect(self._failed)
        self.pending = False  # a read is in flight whose result will be shown

    def submit(self, read: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[BaseException], None] | None = None) -> None:
        self._stop.set()
        self._stop = threading.Event()
        self._generation += 1
        self._on_done, self._on_error = on_done, on_error
        self.pending = True
        _QUICK_POOL.start(_QuickRead(self._generation, read, self._stop, self._signals))

    def cancel(self) -> None:
        """Drop the read in flight (its result is not wanted any more)."""
        self._stop.set()
        self._generation += 1
        self.pending = False

    def _done(self, generation: int, result: Any) -> None:
        if generation != self._generation:
            return
        self.pending = False
        if self._on_done is not None:
            self._on_done(result)

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.pending = False
        if self._on_error is not None:
            self._on_error(exc)


def wait_for_quick_reads(timeout_ms: int = 5000) -> bool:
    """Let the reads in flight finish (before the database closes: logout, quit, a test's end)."""
    return _QUICK_POOL.waitForDone(timeout_ms)
