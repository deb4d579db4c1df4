"""What a scan box needs behind it when a USB barcode scanner types into it: a queue saved off
the UI thread, and a sound per answer, for 盘点 and 载体核对 (ui/stocktake_dialog.py).

A scanner types a code and Enter up to 20 times a second while a save takes tens of milliseconds
(hundreds on a loaded machine). Each code is taken from the box at its Enter into the queue (the
box is free for the next at once); what queued while the last save ran is handed to ``save`` in
one piece on a worker thread, and the answers come back in order. A save refused as a whole (the
session closed at another desk, the database away) puts its jobs back at the head of the queue,
retried with the next scan: nothing typed is dropped unless the window is closed and the user
agrees.
"""

from __future__ import annotations

import math
import struct
import tempfile
import wave
from collections import deque
from pathlib import Path
from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QWidget

from mibao_desktop.ui.tasks import BackgroundTask

FOUND, AGAIN, ELSEWHERE, UNKNOWN = "found", "again", "elsewhere", "unknown"
# the pitch of each kind of answer (Hz) and how long it sounds: short and high when all is well
TONES = {FOUND: (1320, 0.09), AGAIN: (880, 0.09), ELSEWHERE: (520, 0.25), UNKNOWN: (330, 0.3)}


class ScanSound:
    """A short tone per kind of answer (QSoundEffect, from WAV files written here: no network, no
    resource files), or QApplication.beep() where Qt Multimedia cannot play (no audio library)."""

    def __init__(self, parent: QWidget) -> None:
        self.played: list[str] = []  # what was sounded, in order (the tests read it)
        self.effects = {}
        try:
            from PySide6.QtCore import QUrl
            from PySide6.QtMultimedia import QSoundEffect
        except ImportError:  # no libpulse or no multimedia module: the beep will do
            return
        folder = Path(tempfile.mkdtemp(prefix="mibao-tones-"))
        for kind, (hz, seconds) in TONES.items():
            path = folder / f"{kind}.wav"
            _tone(path, hz, seconds)
            effect = QSoundEffect(parent)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            self.effects[kind] = effect

    def play(self, kind: str, said: str = "") -> None:
        self.played.append(said or kind)
        effect = self.effects.get(kind)
        if effect is not None:
            effect.play()
        else:
            QApplication.beep()


def _tone(path: Path, hz: int, seconds: float, rate: int = 22050) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * hz * i / rate)))
                               for i in range(int(rate * seconds))))


class ScanQueue(QObject):
    """Jobs (a code scanned, a line ticked …) saved in order off the UI thread, a batch at a time.

    ``save(jobs)`` runs on a worker thread and returns one answer per job (an exception object
    for one refused alone). ``answered`` carries [(job, answer)]; ``refused`` the exception of a
    batch refused as a whole (its jobs back in the queue)."""

    answered = Signal(object)
    refused = Signal(object)
    changed = Signal(int)  # how many jobs wait or are being saved

    def __init__(self, parent: QWidget, save: Callable[[Sequence[Any]], Sequence[Any]]) -> None:
        super().__init__(parent)
        self._parent, self._save = parent, save
        self.pending: deque = deque()
        self.saving: BackgroundTask | None = None
        self._jobs: list = []
        self.stalled = False  # the last save was refused: what is pending waits for the next job

    @property
    def busy(self) -> bool:
        return self.saving is not None or bool(self.pending)

    @property
    def waiting(self) -> int:
        return len(self.pending) + len(self._jobs)

    def push(self, job: Any) -> None:
        self.pending.append(job)
        self.changed.emit(self.waiting)
        self._next()

    def _next(self) -> None:
        if self.saving is not None or not self.pending:
            return
        self.stalled = False
        jobs, save = list(self.pending), self._save
        self.pending.clear()
        self._jobs = jobs
        self.saving = BackgroundTask(self._parent, "", lambda _p, _c: list(zip(jobs, save(jobs))), quiet=True)
        self.saving.done.connect(self._done)
        self.saving.failed.connect(self._failed)
        self.saving.start()

    def _done(self, answers) -> None:
        self.saving, self._jobs = None, []
        self.answered.emit(answers)
        self.changed.emit(self.waiting)
        self._next()

    def _failed(self, exc) -> None:
        jobs, self.saving, self._jobs = self._jobs, None, []
        self.pending.extendleft(reversed(jobs))
        self.stalled = True
        self.changed.emit(self.waiting)
        self.refused.emit(exc)
