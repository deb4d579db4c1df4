"""Files at rest (issue 11, item 4): readable by their owner alone, written whole or not at
all, temporary files kept out of the system's shared temp folder and cleared after a kill.

At start (:func:`secure_start`, from the command line and the desktop alike) the umask becomes
077, so every file MiBao or a library writes is 0600 and every folder 0700; the data folder and
what an older version left readable are closed to other local accounts; ``tempfile`` is pointed
at a folder of this process inside the data folder (openpyxl's write-only sheets, which hold
ledger rows, land there instead of /tmp); and what a killed run left behind (its temp folder,
half-written backups and restores) is removed. On Windows the profile's ACL already keeps the
user data folder private; a data folder configured outside the profile gets an ACL of its
owner alone (security/owner_only.py, icacls); the chmod calls there change only the read-only flag.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterator

TEMP_DIR = "tmp"
PART = re.compile(r"^\.mibao-(?:backup|restore)-(?P<pid>\d+)-.*\.part(?:-wal|-shm|-journal)?$")
# what versions before the pid was in the name left (.mibao-backup-k3j2x9.part): taken as a
# killed run's once it has not changed for an hour
OLD_PART = re.compile(r"^\.mibao-(?:backup|restore)-[^-]+\.part(?:-wal|-shm|-journal)?$")
OLD_PART_AGE = 3600


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform.startswith("win"):  # os.kill(pid, 0) there sends CTRL_C_EVENT, not a probe
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: not ours to judge
    return True


OWN_FILES = ("mibao.sqlite*", "mibao-ui.ini", "database.ini", "logs", "logs/*", "backups", "backups/*", TEMP_DIR)


def close_up(data_dir: Path) -> None:
    """The data folder 0700; MiBao's own files in it (the database and its side files, the
    settings, logs and backups) 0600, its folders 0700: files an older version wrote 0644
    stayed readable to every local account. Nothing else a chosen folder holds is touched."""
    data_dir = Path(data_dir)
    with contextlib.suppress(OSError):
        data_dir.chmod(0o700)
    from mibao_desktop.security import owner_only

    owner_only.restrict(data_dir)  # Windows, outside the profile: the modes mean nothing there
    for pattern in OWN_FILES:
        for path in data_dir.glob(pattern):
            with contextlib.suppress(OSError):
                if not path.is_symlink():
                    path.chmod(0o700 if path.is_dir() else 0o600)


def clear_leftovers(data_dir: Path) -> list[Path]:
    """Remove what killed runs left: the temp folders of processes that are gone, and
    half-written backup and restore copies whose process is gone. Returns what was removed."""
    data_dir = Path(data_dir)
    removed: list[Path] = []
    temp_root = data_dir / TEMP_DIR
    if temp_root.is_dir():
        for folder in temp_root.iterdir():
            if folder.name.isdigit() and _alive(int(folder.name)):
                continue
            shutil.rmtree(folder, ignore_errors=True) if folder.is_dir() else folder.unlink(missing_ok=True)
            removed.append(folder)
    for folder in (data_dir, data_dir / "backups"):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            match = PART.match(path.name)
            stale = (match is not None and not _alive(int(match["pid"]))) or (
                OLD_PART.match(path.name) is not None and _age(path) > OLD_PART_AGE)
            if stale:
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed.append(path)
    from mibao_desktop.storage import restore_logins

    with contextlib.suppress(OSError):  # the restore logins' copy half-written by a killed run
        removed.extend(restore_logins.clear_leftovers(data_dir))
    return removed


def _alive_windows(pid: int) -> bool:  # pragma: no cover - exercised on Windows only
    import ctypes

    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() == 5  # access denied: a process that exists
    try:
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _age(path: Path) -> float:
    import time

    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def private_temp(data_dir: Path) -> Path:
    """This process's temporary folder inside the data folder (0700)."""
    folder = Path(data_dir) / TEMP_DIR / str(os.getpid())
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def secure_start(data_dir: Path) -> Path:
    """What every start does before anything is written: umask 077, the data folder closed,
    leftovers cleared, ``tempfile`` pointed into the data folder. Returns the temp folder."""
    os.umask(0o077)
    close_up(data_dir)
    clear_leftovers(data_dir)
    folder = private_temp(data_dir)
    tempfile.tempdir = str(folder)
    return folder


@contextlib.contextmanager
def secured(data_dir: Path) -> Iterator[Path]:
    """:func:`secure_start` for one run; at its end this process's temp folder is removed and
    the umask and temp folder are put back (the command line also runs inside test processes)."""
    old_umask, old_temp = os.umask(0o077), tempfile.tempdir
    try:
        folder = secure_start(data_dir)
        yield folder
    finally:
        tempfile.tempdir = old_temp
        os.umask(old_umask)
        shutil.rmtree(Path(data_dir) / TEMP_DIR / str(os.getpid()), ignore_errors=True)


def part_name(kind: str) -> str:
    """The prefix of a half-written copy (``.mibao-backup-<pid>-``): the pid lets the next
    start tell a killed run's file from one being written by a live process."""
    return f".mibao-{kind}-{os.getpid()}-"


class OutputError(OSError):
    """A file could not be written; the message says why in Chinese and what to do."""


def explain(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOSPC or exc.errno == errno.EFBIG:
        return f"磁盘空间不足,文件 {path} 未写入。请清理磁盘或换一个位置后重试。"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"没有权限写入 {path}({exc.strerror})。请换一个文件夹。"
    if exc.errno == errno.EISDIR:
        return f"无法写入 {path}:这是一个文件夹。请另给一个文件名。文件未写入。"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EEXIST):
        return f"无法写入 {path}:所在的文件夹不存在或不能在其中建立文件。请换一个文件夹。文件未写入。"
    return f"无法写入 {path}({exc.strerror or exc})。文件未写入。"


SQLITE_MAGIC = b"SQLite format 3\x00"
WAL_MAGIC = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")
BACKUP_REGISTER = "register.jsonl"


def refuse_overwrite(path: Path) -> None:
    """No output replaces a database file, a WAL or anything in a backup folder, whoever
    chose the name: the last line behind the services' own check (output_service.check_target),
    which knows only the database in use. Raises ServiceError."""
    from mibao_desktop.errors import ServiceError

    path = Path(path)
    if (path.parent / BACKUP_REGISTER).exists():
        raise ServiceError(f"不能把文件写到备份文件夹 {path.parent} 中:那里只存放密保建立的备份。请另选文件夹。")
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return  # nothing there (or nothing readable): nothing to lose
    if head.startswith(SQLITE_MAGIC) or head[:4] in WAL_MAGIC:
        raise ServiceError(f"{path.name} 是数据库文件,不能用导出或报表覆盖它(会毁掉其中的数据)。请另选文件名。")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` (an unpredictable name, created exclusively) to write
    to; on success it is synced and renamed to ``path``, on any failure removed. A kill or a
    full disk leaves nothing under the final name that looks finished. A database file or a
    backup folder is refused before anything is written."""
    path = Path(path)
    refuse_overwrite(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name[:60]}.", suffix=".part", dir=path.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
        sync_dir(path.parent)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def sync_dir(folder: Path) -> None:
    if hasattr(os, "O_DIRECTORY"):
        try:
            fd = os.open(folder, os.O_DIRECTORY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def random_part(folder: Path, name: str) -> Path:
    return Path(folder) / f".{name[:60]}.{secrets.token_hex(8)}.part"


__all__ = ["OutputError", "atomic_path", "refuse_overwrite", "clear_leftovers", "close_up", "explain", "part_name", "private_temp",
           "random_part", "secure_start", "secured", "sync_dir"]
