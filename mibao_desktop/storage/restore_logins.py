"""The failed logins of a restore against a backup's accounts (恢复备份时的登录), kept where
they survive the damaged database: a small file of the data folder. Qt-free.

When the database cannot be opened, the security administrator logs in against the accounts
inside the backup being restored (services/backup_service.py). That login must lock after as
many wrong passwords as the normal one, and a restart must not reset the count. Where the
count can live:

- not in the database: it is the damaged file, and cannot be written (or read) reliably;
- not in the backup: a backup is registered by its SHA-256, and changing a byte of it would
  make it unrestorable; a count per backup would also reset by choosing another one;
- not in the backup register: it is an append-only list of what was made here, read as trust
  (each line says "this file, with this hash, is ours"); a count there would need rewriting it,
  or grow it by a line per guess, and the register lies in ``backups/``, where no file but
  backups is written;
- so in ``restore-logins.json`` beside the database, 0600 (only the owner reads it, as the
  database), replaced whole (temporary file, fsync, rename) under a lock file, so that two
  restores guessing at once count one after the other.

Whoever can write the data folder can delete the file, and with it the count; but they can
as well copy the backup and guess offline against its scrypt hashes, or edit the database's
own count: the file is as strong as the database's lockout, against guesses through MiBao.

The file holds, per name, the failures and the end of a lockout, by the name's tag (scrypt
under a key of the file, as the accounts service counts unknown names): a name is often a
password typed into the wrong field, so the name itself is kept nowhere. It also holds each
attempt as an audit entry to be written (``pending``), which the first database that opens
again takes into its log (:func:`take_pending`).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from mibao_desktop.security.passwords import name_tag

FILE = "restore-logins.json"
LOCK = "restore-logins.lock"
_PARTS = f".{FILE}.*.part"  # the temporary copies :func:`_write` makes
MAX_PENDING = 1000  # a guesser at the keyboard cannot grow the file without end; the count is kept anyway


@dataclass
class Attempts:
    """The file's content, while it is held (:func:`held`)."""

    key: bytes
    names: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: list[dict[str, Any]] = field(default_factory=list)
    dropped: int = 0  # attempts past MAX_PENDING, counted only
    changed: bool = False

    def tag(self, name: str) -> str:
        return name_tag(name, self.key)

    def locked_until(self, tag: str, now: dt.datetime) -> dt.datetime | None:
        try:
            until = dt.datetime.fromisoformat(str(self.names.get(tag, {}).get("until")))
        except ValueError:
            return None
        return until if until > now else None

    def failures(self, tag: str) -> int:
        value = self.names.get(tag, {}).get("failures", 0)
        return value if isinstance(value, int) and value > 0 else 0

    def failed(self, tag: str, failures: int, until: dt.datetime | None = None) -> None:
        self.names[tag] = {"failures": failures} if until is None else {"failures": 0, "until": until.isoformat()}
        self.changed = True

    def clear(self, tag: str) -> None:
        if self.names.pop(tag, None) is not None:
            self.changed = True

    def record(self, at: dt.datetime, actor: str, role: str, action: str, target: str, detail: dict) -> None:
        """An audit entry to be written once a database is open again."""
        if len(self.pending) >= MAX_PENDING:
            self.dropped += 1
        else:
            self.pending.append({"at": at.isoformat(), "actor": actor, "role": role, "action": action,
                                 "target": target, "detail": detail})
        self.changed = True


def _read(path: Path) -> Attempts:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = {}
    if not isinstance(stored, dict):
        stored = {}
    try:
        key = base64.b64decode(stored["key"], validate=True)
    except (KeyError, TypeError, ValueError):
        key = b""
    if len(key) < 16:  # a new (or unreadable) file: a new key, so no old tag counts by mistake
        return Attempts(secrets.token_bytes(16), changed=True)
    names = {t: v for t, v in dict(stored.get("names") or {}).items() if isinstance(v, dict)}
    pending = [p for p in list(stored.get("pending") or []) if isinstance(p, dict)]
    dropped = stored.get("dropped", 0)
    return Attempts(key, names, pending, dropped if isinstance(dropped, int) else 0)


def _write(path: Path, attempts: Attempts, now: dt.datetime) -> None:
    # Only what still matters is kept: a count, or a lockout not yet over.
    names = {t: v for t, v in attempts.names.items() if v.get("failures") or attempts.locked_until(t, now)}
    text = json.dumps({"key": base64.b64encode(attempts.key).decode(), "names": names,
                       "pending": attempts.pending, "dropped": attempts.dropped}, ensure_ascii=False)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        try:
            os.write(fd, text.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _lock(folder: Path) -> Iterator[None]:
    """One process at a time (a lock file, held until the with-block ends): two restores guessing
    at once must count one after the other, as parallel logins do."""
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.name == "nt":  # pragma: no cover - Windows only
            import msvcrt
            import time

            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                    break
                except OSError:
                    time.sleep(0.05)
            try:
                yield
            finally:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def held(data_dir: Path, now: dt.datetime) -> Iterator[Attempts]:
    """The attempts of ``data_dir``, locked; written back when the block ends, also when it
    raises (a refused login is raised after it was counted)."""
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with _lock(folder):
        attempts = _read(folder / FILE)
        try:
            yield attempts
        finally:
            if attempts.changed:
                _write(folder / FILE, attempts, now)


def clear_leftovers(data_dir: Path) -> list[Path]:
    """Remove the temporary copies (``.restore-logins.json.<random>.part``) a run killed while it
    wrote the file left behind; called at every start. They are written only under the lock, so
    once this process holds it, any that exists is a dead run's, never one being written."""
    folder = Path(data_dir)
    if not any(folder.glob(_PARTS)):  # the usual start: no lock file made, nothing waited for
        return []
    removed = []
    with _lock(folder):
        for path in folder.glob(_PARTS):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def has_pending(data_dir: Path) -> bool:
    """Whether attempts wait to be audited (a stat and, when the file exists, a small read)."""
    path = Path(data_dir) / FILE
    if not path.is_file():
        return False
    attempts = _read(path)
    return bool(attempts.pending or attempts.dropped)


@contextlib.contextmanager
def take_pending(data_dir: Path, now: dt.datetime) -> Iterator[list[dict[str, Any]]]:
    """The attempts waiting to be audited (oldest first), with a last one counting those past
    the file's limit; they are removed from the file only when the block ends without an error
    (after the caller's transaction committed), so none is lost: a crash in between writes them
    twice rather than never."""
    if not (Path(data_dir) / FILE).is_file():  # no attempt was ever made: no file is made either
        yield []
        return
    with held(data_dir, now) as attempts:
        taken = list(attempts.pending)
        if attempts.dropped:
            taken.append({"at": now.isoformat(), "actor": "(恢复登录)", "role": "", "action": "auth.restore_login_failed",
                          "target": "", "detail": {"reason": f"另有 {attempts.dropped} 次失败的恢复登录未逐条记录"}})
        yield taken
        if taken:  # the lock was held throughout: nothing was added meanwhile
            attempts.pending, attempts.dropped, attempts.changed = [], 0, True


__all__ = ["Attempts", "FILE", "clear_leftovers", "has_pending", "held", "take_pending"]
