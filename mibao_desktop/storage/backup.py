"""Backups of the database file (备份): daily on first start, before upgrades and restores,
on demand; kept with rotation; restored after the current file is set aside. Qt-free.

Copies are made with SQLite's online backup API, so they are consistent while the app has
the file open, and appear under their final name only when complete and checked.

Every backup MiBao makes is listed in a register beside the backups (``register.jsonl``: file
name, SHA-256, size, kind, time and the audit chain's head inside it). A file that is not
listed with the same SHA-256 was not made here — or was changed since — and is restored only
on an explicit choice. A file whose schema holds anything the migrations do not make (a
trigger, a view, an extra table) is never restored: a trigger could delete the audit entries
written after the restore.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mibao_desktop import files

KINDS = ("daily", "manual", "before-upgrade", "before-restore")
_NAME = re.compile(r"^mibao-(?P<kind>daily|manual|before-upgrade|before-restore)-(?P<stamp>\d{8}-\d{6})(?:-(?P<n>\d+))?\.sqlite$")


def _ro_uri(path: Path) -> str:
    """A read-only SQLite URI. ``Path.as_uri`` percent-encodes ``#``, ``?`` and ``%``, which a
    bare ``file:`` prefix would read as a fragment, a query or an escape (and open another file)."""
    return Path(path).resolve().as_uri() + "?mode=ro"


class BackupError(Exception):
    """A backup or restore that could not be done; the message says what to do."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    kind: str
    made_at: dt.datetime
    sha256: str = ""
    anchor: str = ""  # the audit chain's head inside the copy (N:HASH16); "" when unknown


REGISTER = "register.jsonl"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def audit_head(path: Path) -> str:
    """The last audit entry of a database file as ``N:HASH16``, read-only; "" when it has none."""
    try:
        conn = sqlite3.connect(_ro_uri(path), uri=True)
        try:
            row = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return ""
    return f"{row[0]}:{row[1][:16]}" if row else ""


def _register(info: BackupInfo) -> None:
    """One line per backup, appended and synced; the file is only ever appended to."""
    line = json.dumps({"file": info.path.name, "sha256": info.sha256, "size": info.path.stat().st_size,
                       "kind": info.kind, "made_at": info.made_at.isoformat(sep=" "), "anchor": info.anchor},
                      ensure_ascii=False)
    fd = os.open(info.path.parent / REGISTER, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def register_entries(backup_dir: Path) -> dict[str, dict]:
    """The register by file name (the last line of a name counts)."""
    found: dict[str, dict] = {}
    try:
        lines = (Path(backup_dir) / REGISTER).read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash: that backup is simply not listed
        if isinstance(entry, dict) and isinstance(entry.get("file"), str):
            found[entry["file"]] = entry
    return found


def registered(path: Path, backup_dir: Path) -> dict | None:
    """The register's entry of ``path`` when it lies in the backup folder and still has the
    SHA-256 it was made with; else None."""
    path, backup_dir = Path(path), Path(backup_dir)
    try:
        if path.resolve().parent != backup_dir.resolve() or not path.is_file():
            return None
    except OSError:
        return None
    entry = register_entries(backup_dir).get(path.name)
    if entry is None or entry.get("sha256") != sha256_of(path):
        return None
    return entry


def registered_backups(backup_dir: Path) -> list[BackupInfo]:
    """The backups of the folder that the register lists, at their registered size, newest
    first. Reading every file's SHA-256 to list them would take minutes over a year of large
    backups: the hash is checked on the one chosen (:func:`registered`, at restore)."""
    entries = register_entries(backup_dir)
    found = []
    for b in list_backups(backup_dir):
        entry = entries.get(b.path.name)
        try:
            size = b.path.stat().st_size
        except OSError:
            continue
        if entry is not None and entry.get("size") == size and entry.get("sha256"):
            found.append(BackupInfo(b.path, b.kind, b.made_at, entry["sha256"], entry.get("anchor", "")))
    return found


# -- what a restored file may hold ------------------------------------------------------------

_expected_schemas: dict[str, set] = {}


def _schema_of(conn) -> set:
    """Each object of a SQLite schema: (type, name, table), and for triggers and views their SQL."""
    found = set()
    for kind, name, table, sql in conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"):
        if name.startswith("sqlite_"):  # SQLite's own (sequence, statistics, automatic indexes)
            continue
        body = " ".join((sql or "").split()) if kind in ("trigger", "view") else ""
        found.add((kind, name, table, body))
    return found


def expected_schema(revision: str) -> set:
    """The schema the migrations make up to ``revision``, from a new database built in a
    temporary folder (a second or two, once per revision and process)."""
    if revision not in _expected_schemas:
        from mibao_desktop.db.database import Database

        with tempfile.TemporaryDirectory(prefix=".mibao-schema-") as folder:
            db = Database.open(Path(folder) / "schema.sqlite", migrate=False)
            try:
                db.upgrade(backup_dir=None, target=revision)
            finally:
                db.close()
            conn = sqlite3.connect(Path(folder) / "schema.sqlite")
            try:
                _expected_schemas[revision] = _schema_of(conn)
            finally:
                conn.close()
    return _expected_schemas[revision]


def foreign_objects(path: Path) -> list[str]:
    """What the file's schema holds that the migrations to its revision do not make, in words
    (``触发器 x``); empty when nothing. Read-only."""
    conn = sqlite3.connect(_ro_uri(path), uri=True)
    try:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        present = _schema_of(conn)
    finally:
        conn.close()
    if revision is None:
        return ["版本记录为空"]
    expected = expected_schema(revision[0])
    names = {"table": "表", "index": "索引", "trigger": "触发器", "view": "视图"}
    return sorted(f"{names.get(kind, kind)} {name}" for kind, name, _table, _sql in present - expected)


def read_account(path: Path, name: str) -> tuple[str | None, str, bool, bool, str] | None:
    """(role, password hash, active, must change its password, name as stored) of the account
    ``name`` (in any case) inside a database file, read-only; None when it has no such account.
    For a restore when the current database cannot be opened: the security administrator then
    logs in against the backup's own accounts."""
    conn = sqlite3.connect(_ro_uri(path), uri=True)
    try:
        # as the login finds it: whatever the case it is typed in (accounts._find)
        row = conn.execute("SELECT role, password_hash, active, must_change_password, name FROM accounts "
                           "WHERE lower(name) = ?", (name.casefold(),)).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return (row[0], row[1], bool(row[2]), bool(row[3]), row[4]) if row else None


def account_count(path: Path) -> int | None:
    """How many accounts (of any role, active or not) a database file holds, read-only; None
    when its accounts cannot be read (no such file, not a database, the table damaged). A
    restore uses it to tell a folder that never had an account (nothing to protect) from one
    whose accounts are out of reach."""
    if not Path(path).is_file():
        return None
    try:
        conn = sqlite3.connect(_ro_uri(path), uri=True)
        try:
            # every row read, not only counted: a damaged page under the table shows here
            return len(conn.execute("SELECT name, role, password_hash, active FROM accounts").fetchall())
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def read_policy(path: Path) -> dict | None:
    """The security policy stored inside a database file (the settings' ``security_policy``),
    read-only; None when it has none or cannot be read. The lockout of a restore against the
    backup's accounts follows it (held within the policy's floors by SecurityPolicy.from_dict)."""
    try:
        conn = sqlite3.connect(_ro_uri(path), uri=True)
        try:
            row = conn.execute("SELECT value FROM settings WHERE key = 'security_policy'").fetchone()
        finally:
            conn.close()
        value = json.loads(row[0]) if row and isinstance(row[0], str) else None
    except (sqlite3.Error, ValueError):
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Rotation:
    daily: int = 7
    weekly: int = 4
    monthly: int = 12
    # Each upgrade copies the whole file aside (2 GB at a million records): without a limit a
    # few versions fill the classified computer's disk. The newest ones are what a failed
    # upgrade needs; the dailies keep the older states.
    upgrades: int = 3


def integrity_problem(path: Path, *, quick: bool = False) -> str | None:
    """None when SQLite's integrity check passes; else what is wrong, in plain Chinese.

    Opened read-only, so checking never creates or changes a file. ``quick`` runs
    ``quick_check``: the structure of every page, but not that each index matches its table —
    a fraction of the time on a large file (the full check reads every index entry).
    """
    path = Path(path)
    if not path.is_file():
        return "文件不存在"
    if path.stat().st_size == 0:
        return "文件是空的,不含任何数据"
    try:
        conn = sqlite3.connect(_ro_uri(path), uri=True)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check(20)" if quick else "PRAGMA integrity_check(20)")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"不是可读的数据库文件({exc})"
    if rows == ["ok"]:
        return None
    return "完整性检查未通过(" + ";".join(rows[:3]) + ")"


def structure_problem(path: Path) -> str | None:
    """The check at start, before any window: in milliseconds whatever the size. The file is a
    SQLite database of the right length (not cut short by a full disk or a pulled-out drive),
    its schema and its small tables (version, accounts, settings) read back. A page damaged
    deep inside is found by the full :func:`integrity_problem`, which the desktop runs after
    the login window is up and the command line runs with ``mibao check``."""
    path = Path(path)
    if not path.is_file():
        return "文件不存在"
    size = path.stat().st_size
    if size == 0:
        return "文件是空的,不含任何数据"
    with open(path, "rb") as handle:
        header = handle.read(100)
    if not header.startswith(b"SQLite format 3\x00"):
        return "不是可读的数据库文件(文件头不对)"
    try:
        conn = sqlite3.connect(_ro_uri(path), uri=True)
        try:
            page_size, pages = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_size", "page_count"))
            if pages * page_size > size and not Path(f"{path}-wal").exists():
                return f"文件被截断(应有 {pages * page_size} 字节,只有 {size} 字节)"
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            for table in ("alembic_version", "accounts", "settings"):
                if table in tables:
                    conn.execute(f"SELECT * FROM {table}").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"不是可读的数据库文件({exc})"
    return None


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


class _SourceUnreadable(Exception):
    """The database being copied cannot be opened or read (as opposed to the copy not being written)."""


def _copy_live(source: Path, target: Path) -> None:
    try:
        src = sqlite3.connect(_ro_uri(source), uri=True)
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise _SourceUnreadable(str(exc)) from exc
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # a backup is one self-contained file
        finally:
            dst.close()
    finally:
        src.close()


def _final_name(backup_dir: Path, kind: str, when: dt.datetime) -> Path:
    base = f"mibao-{kind}-{when:%Y%m%d-%H%M%S}"
    candidate, n = backup_dir / f"{base}.sqlite", 2
    while candidate.exists():
        candidate, n = backup_dir / f"{base}-{n}.sqlite", n + 1
    return candidate


def make_backup(db_path: Path, backup_dir: Path, kind: str = "manual", *, now: dt.datetime | None = None) -> BackupInfo:
    if kind not in KINDS:
        raise ValueError(kind)
    now = now or dt.datetime.now()
    backup_dir = Path(backup_dir)
    temp: Path | None = None
    try:
        backup_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=files.part_name("backup"), suffix=".part", dir=backup_dir)
        os.close(fd)
        temp = Path(name)
        _copy_live(Path(db_path), temp)
        _fsync(temp)
        problem = integrity_problem(temp)
        if problem:
            raise BackupError(f"备份副本校验未通过:{problem}。原数据库可能已损坏,请勿覆盖现有备份。")
        digest, anchor = sha256_of(temp), audit_head(temp)
        final = _final_name(backup_dir, kind, now)
        os.replace(temp, final)
        temp = None
        made = BackupInfo(final, kind, now.replace(microsecond=0), digest, anchor)
        _register(made)
        return made
    except _SourceUnreadable as exc:
        raise BackupError(f"无法读取数据库 {db_path},未能备份({exc})。请确认该文件存在且未损坏。") from None
    except (OSError, sqlite3.Error) as exc:  # a full disk shows up as sqlite3.OperationalError
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise BackupError(f"无法在文件夹 {backup_dir} 中写入备份({detail})。"
                          "请检查磁盘空间和文件夹权限,或换一个文件夹。") from exc
    finally:
        if temp is not None:
            _remove(temp)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def list_backups(backup_dir: Path) -> list[BackupInfo]:
    """Every backup in the folder, newest first."""
    found = []
    folder = Path(backup_dir)
    if not folder.is_dir():
        return []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match:
            made = dt.datetime.strptime(match["stamp"], "%Y%m%d-%H%M%S")
            found.append(BackupInfo(path, match["kind"], made))
    # two made in the same second: -2 after the first (by name, "-2.sqlite" sorts before ".sqlite")
    return sorted(found, key=lambda b: (b.made_at, int(_NAME.match(b.path.name)["n"] or 1), b.path.name),
                  reverse=True)


def daily_backup_if_due(db_path: Path, backup_dir: Path, rotation: Rotation = Rotation(), *,
                        now: dt.datetime | None = None) -> BackupInfo | None:
    now = now or dt.datetime.now()
    if not Path(db_path).exists():
        return None
    if any(b.kind == "daily" and b.made_at.date() == now.date() for b in list_backups(backup_dir)):
        return None
    made = make_backup(db_path, backup_dir, "daily", now=now)
    rotate(backup_dir, rotation, now=now)
    return made


def rotate(backup_dir: Path, rotation: Rotation = Rotation(), *, now: dt.datetime | None = None) -> list[Path]:
    """Keep the newest daily backup of each of the last ``daily`` days, ``weekly`` ISO weeks
    and ``monthly`` months that have one, and the newest ``upgrades`` copies made before an
    upgrade; delete the other daily and before-upgrade backups. Manual and before-restore
    copies stay: a person chose to make them."""
    every = list_backups(backup_dir)  # newest first
    daily = [b for b in every if b.kind == "daily"]
    keep: set[Path] = set()
    for count, period in ((rotation.daily, lambda d: d.date()),
                          (rotation.weekly, lambda d: d.isocalendar()[:2]),
                          (rotation.monthly, lambda d: (d.year, d.month))):
        seen: list = []
        for b in daily:
            key = period(b.made_at)
            if key in seen:
                continue
            if len(seen) >= count:
                break
            seen.append(key)
            keep.add(b.path)
    upgrades = [b for b in every if b.kind == "before-upgrade"]
    keep.update(b.path for b in upgrades[:rotation.upgrades])
    # "newest" is read from the names' times: on a computer whose clock was set back, the copy
    # just made would sort behind older ones and go at the same start. Today's stay.
    now = now or dt.datetime.now()
    keep.update(b.path for b in upgrades if b.made_at >= now - dt.timedelta(days=1))
    deleted = []
    for b in every:
        if b.kind in ("daily", "before-upgrade") and b.path not in keep:
            _remove(b.path)
            deleted.append(b.path)
    return deleted


def newest_good_backup(backup_dir: Path) -> BackupInfo | None:
    """The newest registered backup that passes the integrity check: only a file MiBao made,
    unchanged since, is ever offered."""
    for b in registered_backups(backup_dir):
        if registered(b.path, backup_dir) is not None and integrity_problem(b.path) is None:
            return b
    return None


def _is_mibao(path: Path) -> bool:
    conn = sqlite3.connect(_ro_uri(path), uri=True)
    try:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'").fetchone() is not None
    finally:
        conn.close()


def check_restorable(backup_file: Path, db_path: Path | None = None, backup_dir: Path | None = None) -> None:
    """Raise BackupError, in plain Chinese, when ``backup_file`` must not be restored: damaged,
    not MiBao's, made by a newer version, holding objects the migrations do not make, or being
    the database itself."""
    backup_file = Path(backup_file)
    if db_path is not None and backup_file.exists() and Path(db_path).exists() \
            and os.path.samefile(backup_file, db_path):
        raise BackupError("所选文件就是当前数据库本身,不能用它恢复。")
    problem = integrity_problem(backup_file)
    if problem:
        raise BackupError(f"备份文件 {backup_file.name} 不能用于恢复:{problem}")
    if not _is_mibao(backup_file):
        raise BackupError(f"{backup_file.name} 不是密保的数据库备份,未恢复。")
    from mibao_desktop.db.database import newer_revision

    if newer_revision(backup_file) is not None:  # this program could not open it once in place
        raise BackupError(f"备份文件 {backup_file.name} 由更新版本的密保建立(数据库版本比程序新),"
                          "请安装新版本后再恢复。当前数据库未作任何改动。")
    foreign = foreign_objects(backup_file)
    if foreign:
        raise BackupError(f"备份文件 {backup_file.name} 含有密保不会建立的数据库对象({'、'.join(foreign[:5])}),"
                          "可能被人改动过(例如加入了会删除审计记录的触发器),拒绝恢复。当前数据库未作任何改动。")


def restore(db_path: Path, backup_file: Path, backup_dir: Path, *, now: dt.datetime | None = None) -> BackupInfo | None:
    """Put ``backup_file`` in place of the database; the current file is first kept aside as a
    before-restore backup. Every connection to ``db_path`` must be closed before this runs.

    Returns the aside copy (None when there was no current file).
    """
    db_path, backup_file = Path(db_path), Path(backup_file)
    check_restorable(backup_file, db_path)
    now = now or dt.datetime.now()
    aside = None
    if db_path.exists():
        if integrity_problem(db_path) is None:
            aside = make_backup(db_path, backup_dir, "before-restore", now=now)
        else:  # a damaged file cannot be read through SQLite: keep its bytes as they are
            aside = _keep_raw(db_path, Path(backup_dir), now)
    temp = None
    try:
        fd, name = tempfile.mkstemp(prefix=files.part_name("restore"), suffix=".part", dir=db_path.parent)
        os.close(fd)
        temp = Path(name)
        _copy_live(backup_file, temp)
        _fsync(temp)
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        os.replace(temp, db_path)
        temp = None
    except _SourceUnreadable as exc:
        raise BackupError(f"无法读取备份文件 {backup_file.name}({exc}),未恢复。") from None
    except (OSError, sqlite3.Error) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        saved = f"原数据库已另存为 {aside.path}。" if aside else ""
        raise BackupError(f"恢复失败({detail}),请检查 {db_path.parent} 所在磁盘的空间和权限后重试。{saved}") from exc
    finally:
        if temp is not None:
            _remove(temp)
    return aside


def _keep_raw(db_path: Path, backup_dir: Path, now: dt.datetime) -> BackupInfo:
    """Copy a damaged database byte for byte, with its WAL (which may hold the last commits and
    is about to be removed), under a before-restore name; nothing is left half-written."""
    try:
        backup_dir.mkdir(parents=True, exist_ok=True)
        target = _final_name(backup_dir, "before-restore", now)
        wal = Path(f"{db_path}-wal")
        parts = [(db_path, target)] + ([(wal, Path(f"{target}-wal"))] if wal.is_file() else [])
        for source, dest in reversed(parts):  # the WAL first: the final name appears last
            temp = dest.with_name(f".{dest.name}.part")
            try:
                shutil.copy2(source, temp)
                _fsync(temp)
                os.replace(temp, dest)
            finally:
                temp.unlink(missing_ok=True)
        made = BackupInfo(target, "before-restore", now.replace(microsecond=0), sha256_of(target))
        _register(made)
    except OSError as exc:
        raise BackupError(f"无法把当前(已损坏的)数据库另存到文件夹 {backup_dir}({exc.strerror or exc}),"
                          "未恢复。请检查磁盘空间和文件夹权限。") from exc
    return made
