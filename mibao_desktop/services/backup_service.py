"""Backups and restore (备份与恢复) as a service: the one place the desktop, the command line
and the start-up use, each with its role check and audit entry. Qt-free.

The copying itself is ``mibao_desktop.storage.backup`` (the SQLite file's life). On PostgreSQL
the data lives on the server: backups are then its administrator's job (pg_dump/pg_restore),
and the service says so instead of copying anything.

A restore is the security administrator's, logged in: against the current database, or, when
that cannot be opened, against accounts the unit already trusts (:meth:`BackupService.login_source`:
a registered backup's own, else the current file's when they can still be read, else the newest
registered backup's; the desktop and the command line ask for the name and password). Only a
file of the backup register is taken without an explicit choice. The audit entries the restored file lacks, compared with the chain
it replaces, are copied into the restored chain with the old head, and counted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from mibao_desktop import paths
from mibao_desktop.db.database import Database
from mibao_desktop.db.models import Account
from mibao_desktop.errors import PermissionDenied, ServiceError
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.ledgers.normalize import clean_text
from mibao_desktop.security.inputs import unreadable
from mibao_desktop.security.passwords import SecurityPolicy, verify_password
from mibao_desktop.services import audit
from mibao_desktop.services.accounts import UNKNOWN_NAME, _dummy_hash
from mibao_desktop.storage import backup, restore_logins

SERVER_BACKUPS = ("数据库在 PostgreSQL 服务器上:备份和恢复由数据库管理员在服务器上用 pg_dump / pg_restore 完成,"
                  "密保不复制服务器上的数据。")
NEEDS_LOGIN = "恢复备份须由安全保密管理员登录后进行。"
UNREGISTERED = ("{name} 不在备份登记中(不是密保在本机建立的备份,或建立后被改动过)。"
                "只有明确选择“恢复未登记的文件”并确认后才能用它恢复。")


FAILED = "auth.restore_login_failed"
NO_TRUSTED_ACCOUNTS = (
    "{name} 不在本机的备份登记中,而当前数据库中的账户无法读取,本机备份登记中也没有可读的备份:"
    "无法核对恢复者是不是本单位的安全保密管理员(任何人都能做出一个含有自己账户的数据库文件),拒绝恢复。"
    "只能恢复本机备份登记中的备份:如有在本机建立的备份(例如复制到移动介质上的),请把它按原文件名复制回"
    "备份文件夹 {folder},它与登记相符时即可恢复。否则请联系技术支持检查损坏的数据库文件 {db}(不要删除它)。"
    "当前数据库未作任何改动。")


def _in(where: str) -> str:
    """``where`` before 中: a file's name is set off by a space (备份 X.sqlite 中), words are not."""
    return where + " " if where[-1:].isascii() else where


@dataclass(frozen=True)
class LoginSource:
    """Whose accounts the login of a restore is checked against when nobody is logged in."""

    path: Path  # the database file that holds them
    where: str  # said in the dialog, the messages and the audit entries: 所选备份 X, 当前数据库 …
    fresh: bool = False  # the folder never had an account: the chosen file's own (nothing to protect)

    @property
    def accounts(self) -> str:
        """Its accounts in words: 当前数据库中的账户, 所选备份 X.sqlite 中的账户."""
        return f"{_in(self.where)}中的账户"


class RestoreLoginLocked(PermissionDenied):
    """Too many wrong passwords at a restore's login against a backup: locked until ``until``."""

    def __init__(self, message: str, until: dt.datetime) -> None:
        super().__init__(message)
        self.until = until


def _locked(until: dt.datetime) -> str:
    return f"恢复备份的登录已锁定,请于 {until:%H:%M} 后再试。未恢复。"


def record_restore_logins(db: Database, data_dir: Path, *, clock: Callable[[], dt.datetime] = dt.datetime.now
                          ) -> int:
    """Write the restore logins attempted while the database could not be opened (kept in the
    data folder's restore-logins.json) into its audit log, each with the time it was tried
    (尝试时间); returns how many were taken from the file. Called once a database is open
    again: by the restore itself, and at every start (a database mended without a restore, a
    restore that failed after its login)."""
    if not restore_logins.has_pending(data_dir):
        return 0
    with restore_logins.take_pending(data_dir, clock()) as taken:
        with db.write() as session:
            _append_attempts(session, taken, clock())
    return len(taken)


# What the restore's login writes into restore-logins.json (:meth:`BackupService._login_against`,
# and restore_logins.take_pending's count of those past its limit), and all that is taken from it.
# Whoever can write the data folder can write that file: an entry taken as it stands would be
# any action by anyone in any role at any time, validly chained (an "account.grant_role" by the
# security administrator in the auditor's alerts). So only these two actions, with these detail
# keys and value types; the role is the named account's own in the open database (as the login
# records a failure), never the file's; and the entry is appended at the time it is written,
# the file's time kept beside it as 尝试时间, so a file can backdate nothing.
OCCASION = "恢复备份(数据库无法打开或尚无账户,按{}中的账户核对)"
REASONS = ("含有无法识别的字符", "账户锁定中", "口令错误", "无此用户", "不是启用的安全保密管理员", "临时口令,须先修改")
COUNTED = "(恢复登录)"  # the actor of take_pending's count of attempts past the file's limit
_DETAIL_TYPES = {FAILED: {"reason": str, "length": int, "failures": int, "场合": str},
                 "auth.locked_out": {"minutes": int, "until": str, "length": int, "场合": str}}
_REQUIRED = {FAILED: {"reason"}, "auth.locked_out": {"minutes", "until"}}
_OCCASION = re.compile("^" + re.escape(OCCASION).replace(re.escape("{}"), ".{1,300}") + "$", re.S)
_COUNTED_REASON = re.compile(r"^另有 \d{1,9} 次失败的恢复登录未逐条记录$")
_ATTEMPT_KEYS = {"at", "actor", "role", "action", "target", "detail"}


def _attempt(attempt: object) -> tuple[str, str, str, dict, dt.datetime] | None:
    """(name, action, target, detail, time tried) of a pending entry written as the restore's
    login writes it, else None."""
    if not isinstance(attempt, dict) or not set(attempt) <= _ATTEMPT_KEYS:
        return None
    action, name, target, detail = (attempt.get(k) for k in ("action", "actor", "target", "detail"))
    if action not in _DETAIL_TYPES or not isinstance(detail, dict) or not isinstance(attempt.get("role", ""), str):
        return None
    if not isinstance(name, str) or not isinstance(target, str) or not 0 < len(name) <= 40 \
            or unreadable(name) or clean_text(name) != name:
        return None
    if target != ("" if name in (UNKNOWN_NAME, COUNTED) else name):  # the name tried is its own target
        return None
    types = _DETAIL_TYPES[action]
    if not _REQUIRED[action] <= set(detail) or not set(detail) <= set(types):
        return None
    for key, value in detail.items():
        if type(value) is not types[key]:  # noqa: E721 - exactly: True is no count
            return None
        if isinstance(value, int) and not 0 <= value <= 1_000_000:
            return None
        if isinstance(value, str) and (len(value) > 400 or unreadable(value)):
            return None
    reason = detail.get("reason")
    if reason is not None and reason not in REASONS and not (name == COUNTED and _COUNTED_REASON.match(reason)):
        return None
    if "场合" in detail and not _OCCASION.match(detail["场合"]):
        return None
    try:
        tried = dt.datetime.fromisoformat(str(attempt.get("at")))
        if "until" in detail:
            dt.datetime.fromisoformat(detail["until"])
    except ValueError:
        return None
    return name, action, target, dict(detail), tried


def _append_attempts(session, taken: list[dict], now: dt.datetime) -> int:
    """The pending entries written as the restore's login writes them (:func:`_attempt`), at
    ``now``; one more entry counts those refused. Returns how many were written."""
    written = refused = 0
    for attempt in taken:
        parsed = _attempt(attempt)
        if parsed is None:
            refused += 1
            continue
        name, action, target, detail, tried = parsed
        account = session.scalar(select(Account).where(func.lower(Account.name) == name.casefold())) \
            if name not in (UNKNOWN_NAME, COUNTED) else None
        who = (Actor(account.name, Role[account.role]) if account.role in Role.__members__ else account.name) \
            if account is not None else name
        detail["尝试时间"] = tried.isoformat(sep=" ", timespec="seconds")
        detail["补记"] = "数据库无法打开时的尝试,数据库可用后记入"
        audit.append(session, who, action, account.name if account is not None and target else target, detail,
                     at=now)
        written += 1
    if refused:
        audit.append(session, COUNTED, FAILED, "", {
            "reason": f"{restore_logins.FILE} 中有 {refused} 条待记入的记录不是恢复登录所写的格式,未记入"
                      "(该文件可能被人改写过)",
            "补记": "数据库无法打开时的尝试,数据库可用后记入"}, at=now)
    return written


@dataclass(frozen=True)
class Restored:
    backup_file: Path
    previous: Path | None  # where the database that was replaced was kept
    dropped: int | None = None  # audit entries the restored file lacked (None: the old log could not be read)
    previous_head: str = ""  # the replaced chain's head, N:HASH16


class BackupService:
    def __init__(self, data_dir: Path, actor: Actor | None, *, clock: Callable[[], dt.datetime] = dt.datetime.now
                 ) -> None:
        self.data_dir, self.actor, self.clock = Path(data_dir), actor, clock

    @property
    def folder(self) -> Path:
        return paths.backup_dir(self.data_dir)

    def _file_only(self, db: Database | None) -> None:
        if db is not None and not db.is_sqlite:
            raise ServiceError(SERVER_BACKUPS)

    def make(self, db: Database, kind: str = "manual") -> backup.BackupInfo:
        """立即备份: a checked copy in the backup folder, listed in the register with its
        SHA-256 and the audit head inside it, and recorded in the audit log."""
        require(self.actor, Role.SECURITY_ADMIN, doing="备份数据库")
        self._file_only(db)
        made = backup.make_backup(db.path, self.folder, kind, now=self.clock())
        with db.write() as session:
            audit.append(session, self.actor, "backup.make", made.path.name,
                         {"file": str(made.path), "sha256": made.sha256, "anchor": made.anchor}, at=self.clock())
        return made

    def backups(self) -> list[backup.BackupInfo]:
        """The backups the register lists, unchanged since they were made: the only ones offered."""
        return backup.registered_backups(self.folder)

    def is_registered(self, backup_file: Path) -> bool:
        return backup.registered(Path(backup_file), self.folder) is not None

    def login_source(self, backup_file: Path) -> LoginSource:
        """Whose accounts the security administrator's login is checked against when ``backup_file``
        is restored with nobody logged in (the current database damaged, missing, or new);
        raises ServiceError, saying why and what to do, when no account the unit trusts is left.

        The login must be checked against accounts the unit already trusts, never only against
        the accounts inside the file being restored: anyone can make a MiBao database with their
        own 安全保密管理员 and its password, and an unregistered file may be just that. So:

        1. a registered backup (made here, its SHA-256 as registered): its own accounts, which
           were this unit's when it was made;
        2. any other file: the current database's accounts when they can still be read (a page
           damaged outside them, a broken search index); else those of the newest registered
           backup that holds accounts and still has its registered SHA-256;
        3. none of these: refused, unless the folder never had an account at all — no database
           or one with no account yet, and no registered backup holding (or having held, now
           unreadable or changed) any. That is a new machine receiving the old one's backup.
           There is nothing to protect there: the first start lets whoever sits at the machine
           create the three accounts, so a trusted login would protect nothing, and the login is
           checked against the chosen file's own accounts (its security administrator restores
           it, and is recorded as such). A unit whose database broke keeps a damaged file (and its
           registered backups): never "new". Making a folder look new means removing the
           database and the backups by hand, which whoever can do could also edit the database.
        """
        backup_file = Path(backup_file)
        if self.is_registered(backup_file):
            return LoginSource(backup_file, f"所选备份 {backup_file.name}")
        db_path = paths.database_path(self.data_dir)
        live = backup.account_count(db_path)
        if live:
            return LoginSource(db_path, "当前数据库")
        entries = backup.register_entries(self.folder)
        spoiled = False  # a registered backup whose accounts are out of reach: the folder had some
        for made in backup.list_backups(self.folder):  # newest first
            if made.path.name not in entries:
                continue  # never registered: neither trusted nor counted
            held = backup.account_count(made.path)
            if held == 0:
                continue
            if held is not None and backup.registered(made.path, self.folder) is not None:
                return LoginSource(made.path, f"本机最新的登记备份 {made.path.name}")
            spoiled = True
        if not spoiled and (live == 0 or not db_path.exists()):
            return LoginSource(backup_file, f"所选文件 {backup_file.name}(本机还没有任何账户)", fresh=True)
        raise ServiceError(NO_TRUSTED_ACCOUNTS.format(name=backup_file.name, folder=self.folder, db=db_path))

    def _login_against(self, source: LoginSource, login: tuple[str, str] | None) -> Actor:
        """The security administrator, checked against the accounts of ``source``
        (:meth:`login_source`).

        Wrong passwords lock as at the login, by the source's own policy (within its floors):
        counted per name across every backup (choosing another backup does not start afresh)
        in the data folder's restore-logins.json, which a restart does not reset, and recorded
        there as audit entries that the restored database's log takes in before the restore's
        own entry (or the next database that opens, :func:`record_restore_logins`). A name that
        is no account costs the same scrypt, gets the same words, locks the same way and is
        recorded as 未知用户名 with its length only."""
        where = {"场合": OCCASION.format(_in(source.where))}
        if login is None:
            raise PermissionDenied(f"没有人登录当前数据库:{NEEDS_LOGIN}"
                                   f"请输入{_in(source.where)}中安全保密管理员的用户名和口令。")
        name, password = login
        policy = SecurityPolicy.from_dict(backup.read_policy(source.path))
        why = unreadable(name or "") or unreadable(password or "")
        now = self.clock()
        with restore_logins.held(self.data_dir, now) as attempts:
            found = None if why else backup.read_account(source.path, clean_text(name))
            right = verify_password(password or "", found[1] if found else _dummy_hash())  # the same time
            if why:
                attempts.record(now, UNKNOWN_NAME, "", FAILED, "", {"reason": "含有无法识别的字符",
                                                                     "length": len(name or ""), **where})
                raise PermissionDenied(f"用户名或口令{why},未恢复。")
            tag = attempts.tag(clean_text(name).casefold())
            if found is not None:
                who = target = found[4]
                role_text, about = Role[found[0]].value if found[0] in Role.__members__ else "", {}
            else:  # often a password typed into the name field: never kept
                who, role_text, target, about = UNKNOWN_NAME, "", "", {"length": len(name or "")}
            until = attempts.locked_until(tag, now)
            if until is not None:
                attempts.record(now, who, role_text, FAILED, target, {"reason": "账户锁定中", **about, **where})
                raise RestoreLoginLocked(_locked(until), until)
            if found is None or not right:
                failures = attempts.failures(tag) + 1
                attempts.record(now, who, role_text, FAILED, target,
                                {"reason": "口令错误" if found else "无此用户", "failures": failures, **about, **where})
                if failures >= policy.lockout_attempts:
                    until = now + dt.timedelta(minutes=policy.lockout_minutes)
                    attempts.failed(tag, failures, until)
                    attempts.record(now, who, role_text, "auth.locked_out", target,
                                    {"minutes": policy.lockout_minutes, "until": until.isoformat(), **about, **where})
                    raise RestoreLoginLocked(f"连续 {policy.lockout_attempts} 次口令错误," + _locked(until), until)
                attempts.failed(tag, failures)
                # one message whatever was wrong: a restore must not tell which names exist
                raise PermissionDenied(f"用户名或口令不正确(按{_in(source.where)}中的账户核对),未恢复。"
                                       f"连续 {policy.lockout_attempts} 次口令错误,将锁定 {policy.lockout_minutes} 分钟。")
            attempts.clear(tag)  # the right password: the count starts again, as at the login
            role, _hash, active, must_change, stored_name = found
            if role != Role.SECURITY_ADMIN.name or not active:
                attempts.record(now, who, role_text, FAILED, target, {"reason": "不是启用的安全保密管理员", **where})
                raise PermissionDenied(f"该账户在{_in(source.where)}中不是启用的安全保密管理员,未恢复。" + NEEDS_LOGIN)
            if must_change:
                # A temporary password (a first login's, or one the system administrator set by a
                # reset) is known to whoever set it: it may change the password and do nothing else,
                # here as at every login, or the system administrator could restore as baomi.
                attempts.record(now, who, role_text, FAILED, target, {"reason": "临时口令,须先修改", **where})
                raise PermissionDenied(f"该账户在{_in(source.where)}中的口令是临时口令(首次登录或已被系统管理员重置),"
                                       "须先修改口令,不能用它恢复备份,未恢复。请用口令已由本人修改过的备份。")
        return Actor(stored_name, Role.SECURITY_ADMIN)

    def restore(self, backup_file: Path, *, login: tuple[str, str] | None = None,
                unregistered: bool = False) -> Restored:
        """从备份恢复: put ``backup_file`` in place of the database, the current file kept aside
        first, and record it in the restored database's audit log, with the entries it lacks.

        Every connection to the database must be closed before this runs. With an actor (logged
        in against the current database) only the security administrator restores; without one
        the current database must be damaged, missing or without any account, and ``login``
        (name, password) is checked against the accounts :meth:`login_source` names. A file not
        in the register needs ``unregistered=True`` (the user's explicit choice after a warning)."""
        if isinstance(paths.database_target(self.data_dir), str):  # the folder's database.ini names a server
            raise ServiceError(SERVER_BACKUPS)
        backup_file = Path(backup_file)
        db_path = paths.database_path(self.data_dir)
        if self.actor is not None:
            require(self.actor, Role.SECURITY_ADMIN, doing="恢复备份")
        elif db_path.exists() and backup.account_count(db_path) != 0 and backup.integrity_problem(db_path) is None \
                and _search_problem(db_path) is None:
            raise PermissionDenied("数据库完好," + NEEDS_LOGIN)
        if not self.is_registered(backup_file) and not unregistered:
            raise ServiceError(UNREGISTERED.format(name=backup_file.name))
        source = None if self.actor is not None else self.login_source(backup_file)
        backup.check_restorable(backup_file, db_path)
        actor = self.actor or self._login_against(source, login)
        damaged = not db_path.exists() or backup.integrity_problem(db_path) is not None
        aside = backup.restore(db_path, backup_file, self.folder, now=self.clock())
        db = Database.open(db_path, backup_dir=self.folder)
        try:
            return self._record(db, actor, backup_file, aside, damaged, unregistered,
                                source.where if source else "")
        finally:
            db.close()

    def _record(self, db: Database, actor: Actor, backup_file: Path, aside: backup.BackupInfo | None,
                damaged: bool, unregistered: bool, checked_against: str = "") -> Restored:
        """The restore's audit entry, after the entries of the replaced chain that the restored
        one lacks (copied as ``audit.carried``): a restore to an older state shows in the log."""
        now = self.clock()
        old = _open_read_only(aside.path) if aside else None
        dropped, previous_head, note = None, "", ""
        try:
            with contextlib.ExitStack() as stack:
                # the attempts' file first, then the write (the order the start takes them in);
                # left in the file until the write has committed
                try:
                    attempts = stack.enter_context(restore_logins.take_pending(self.data_dir, now))
                except OSError:  # unreadable: kept for the next start; the restore is recorded all the same
                    attempts = []
                session = stack.enter_context(db.write())
                first = last = None
                if old is not None:
                    # in a savepoint: the file is already replaced, so whatever goes wrong while
                    # reading the old log, the restore's own entry must still be written
                    savepoint = session.begin_nested()
                    try:
                        with old.connect() as conn:
                            previous_head = str(audit.last_of(conn) or audit.Anchor(0, audit.GENESIS))
                            shared = audit.shared_until(conn, session.connection())
                            dropped, first, last = audit.carry(session, audit.entries_after(conn, shared),
                                                               at=now, actor=actor)
                        savepoint.commit()
                    except (sqlite3.Error, SQLAlchemyError, ValueError, KeyError, TypeError) as exc:
                        savepoint.rollback()
                        note = "原数据库的审计日志无法读取(文件已损坏),无法比对恢复撤下了多少条记录。"
                        dropped, first, last = None, None, None
                elif aside is None:
                    note = "恢复前没有数据库文件,无可比对。"
                detail = {"file": str(backup_file), "previous_saved_as": str(aside.path) if aside else "",
                          "damaged": damaged, "registered": not unregistered,
                          "dropped": dropped, "previous_head": previous_head, "restored_head": backup.audit_head(backup_file)}
                if first is not None:
                    detail["carried"] = f"第 {first}–{last} 条"
                if note:
                    detail["note"] = note
                if checked_against:  # nobody was logged in: whose accounts the login was checked against
                    detail["核对账户"] = checked_against
                # the logins tried while the database was damaged (this one's failures among
                # them), after the carried entries: they happened after the replaced log's end
                taken = _append_attempts(session, attempts, now)
                if attempts:
                    detail["补记的恢复登录"] = taken
                audit.append(session, actor, "backup.restore", backup_file.name, detail, at=now)
        finally:
            if old is not None:
                old.dispose()
        return Restored(backup_file, aside.path if aside else None, dropped, previous_head)


def _open_read_only(path: Path):
    """An engine that reads a kept database file without changing a byte of it."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    return create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))


def _search_problem(db_path: Path) -> str | None:
    from mibao_desktop.storage.startup import search_problem

    db = Database.open(db_path, migrate=False)
    try:
        return search_problem(db, thorough=True)  # nobody is working on it: the lock harms no one
    finally:
        db.close()
