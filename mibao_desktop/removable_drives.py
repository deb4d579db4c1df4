"""Writing reports to removable media (导出到移动介质, "sneakernet"). Qt-free.

The drive list comes from the system (Linux: removable block devices mounted under /media or
/run/media; Windows: drives of type DRIVE_REMOVABLE). A file is written under a temporary name,
synced, renamed, given a SHA-256 manifest beside it and read back to check; a full or pulled-out
drive is reported plainly and leaves nothing that looks complete. The temporary files have
unpredictable names and are opened with O_EXCL|O_NOFOLLOW; the read-back reads the very files
written (same device and inode).
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

CHUNK = 1024 * 1024


class MediaError(Exception):
    """Writing to the medium failed; the message says what happened and what to do."""


@dataclass(frozen=True)
class Drive:
    path: Path  # where it is mounted (/media/user/KINGSTON, E:\\)
    label: str
    free: int
    total: int

    @property
    def title(self) -> str:
        return f"{self.label}({self.path},可用 {self.free / 2**30:.1f} GB / 共 {self.total / 2**30:.1f} GB)"


def _unescape(mount_point: str) -> str:
    # /proc/mounts writes spaces and tabs in paths as octal escapes
    return mount_point.replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")


def _linux_drives(mounts: Path, sys_block: Path) -> list[Drive]:
    drives = []
    try:
        lines = mounts.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        parts = line.split()
        if len(parts) < 3 or not parts[0].startswith("/dev/"):
            continue
        mount_point = _unescape(parts[1])
        if not (mount_point.startswith("/media/") or mount_point.startswith("/run/media/")):
            continue
        device = Path(parts[0]).name  # sdb1 → sdb; mmcblk0p1 → mmcblk0
        base = device.rstrip("0123456789")
        if base.endswith("p") and base[:-1].rstrip("0123456789") != base[:-1]:
            base = base[:-1]
        candidates = [sys_block / base / "removable", sys_block / device / "removable"]
        removable = any(c.exists() and c.read_text().strip() == "1" for c in candidates)
        if not removable:
            continue
        try:
            usage = shutil.disk_usage(mount_point)
        except OSError:
            continue
        drives.append(Drive(Path(mount_point), Path(mount_point).name, usage.free, usage.total))
    return drives


def _windows_drives() -> list[Drive]:  # pragma: no cover - exercised on Windows only
    import ctypes
    import string

    drives = []
    bitmask = ctypes.windll.kernel32.GetLogicalDrives()
    for i, letter in enumerate(string.ascii_uppercase):
        if not bitmask & (1 << i):
            continue
        root = f"{letter}:\\"
        if ctypes.windll.kernel32.GetDriveTypeW(root) != 2:  # DRIVE_REMOVABLE
            continue
        label = ctypes.create_unicode_buffer(261)
        ctypes.windll.kernel32.GetVolumeInformationW(root, label, 261, None, None, None, None, 0)
        try:
            usage = shutil.disk_usage(root)
        except OSError:
            continue
        drives.append(Drive(Path(root), label.value or f"可移动磁盘 {letter}:", usage.free, usage.total))
    return drives


def removable_drives(*, mounts: Path = Path("/proc/mounts"), sys_block: Path = Path("/sys/block")) -> list[Drive]:
    """The removable drives mounted now (USB sticks, SD cards, external disks)."""
    if sys.platform.startswith("win"):
        return _windows_drives()
    return _linux_drives(mounts, sys_block)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _explain(exc: OSError, target: Path) -> MediaError:
    if exc.errno == errno.ENOSPC:
        return MediaError(f"移动介质 {target} 空间不足,文件未写入。请换一个有足够空间的介质,或删除其上不需要的文件。")
    if exc.errno in (errno.EIO, errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.EROFS):
        return MediaError(f"写入 {target} 时介质不可用(可能已拔出或只读):{exc.strerror}。文件未写入,请重新插好后再试。")
    return MediaError(f"写入 {target} 失败:{exc.strerror or exc}。文件未写入。")


NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # not on Windows, where a user cannot plant a symlink unprivileged
BINARY = getattr(os, "O_BINARY", 0)


def _exclusive(folder: Path, name: str) -> tuple[Path, int]:
    """A new file beside ``name`` with an unpredictable name, created exclusively and never
    through a symlink: a link planted at a guessable temporary name would send the report to a
    file of the planter's choosing, and the read-back would still have said it was verified."""
    for _ in range(10):
        temp = folder / f".{name[:60]}.{secrets.token_hex(8)}.part"
        try:
            return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | BINARY, 0o600)
        except FileExistsError:
            continue
    raise OSError(errno.EEXIST, "无法建立临时文件")


def _write_synced(data: Iterable[bytes], fd: int) -> tuple[int, int]:
    """Write, sync and keep the file's identity (device, inode) for the read-back."""
    with os.fdopen(fd, "wb", closefd=True) as dst:
        for chunk in data:
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
        st = os.fstat(dst.fileno())
    return st.st_dev, st.st_ino


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as src:
        while chunk := src.read(CHUNK):
            yield chunk


def _read_back(path: Path, identity: tuple[int, int]) -> tuple[str, int]:
    """SHA-256 and size of the very file written: opened without following a link, and the
    same device and inode as the file that was written, or refused."""
    fd = os.open(path, os.O_RDONLY | NOFOLLOW | BINARY)
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if NOFOLLOW and (st.st_dev, st.st_ino) != identity:
            raise MediaError(f"读回校验时 {path} 已不是刚写入的文件(被替换或链接到别处),已删除。请检查该介质。")
        digest = hashlib.sha256()
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest(), st.st_size


def _sync_dir(folder: Path) -> None:
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(folder, os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class Written:
    path: Path
    manifest: Path
    size: int
    sha256: str


def copy_to_medium(source: Path, folder: Path, name: str | None = None) -> Written:
    """Copy a finished file onto the medium: an exclusive temporary name, fsync, rename, a
    ``.sha256`` manifest beside it the same way, then read both back — the very files written —
    and compare. All or nothing."""
    source, folder = Path(source), Path(folder)
    name = name or source.name
    final, manifest = folder / name, folder / f"{name}.sha256"
    digest = sha256_of(source)
    size = source.stat().st_size
    temps: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if shutil.disk_usage(folder).free < size + 4096:
            raise OSError(errno.ENOSPC, "No space left on device")
        temp, fd = _exclusive(folder, name)
        temps.append(temp)
        identity = _write_synced(_chunks(source), fd)
        os.replace(temp, final)  # a rename replaces a link planted at the final name, never follows it
        temp_manifest, fd = _exclusive(folder, f"{name}.sha256")
        temps.append(temp_manifest)
        manifest_identity = _write_synced([f"{digest}  {name}\n".encode("utf-8")], fd)
        os.replace(temp_manifest, manifest)
        _sync_dir(folder)
        if _read_back(final, identity) != (digest, size):
            raise MediaError(f"写入 {final} 后读回校验不一致,介质可能有坏块。已删除该文件,请换一个介质。")
        _read_back(manifest, manifest_identity)
    except (OSError, MediaError) as exc:
        for path in (*temps, final, manifest):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass  # a pulled-out drive: nothing left to remove
        if isinstance(exc, MediaError):
            raise
        raise _explain(exc, folder) from exc
    return Written(final, manifest, size, digest)
