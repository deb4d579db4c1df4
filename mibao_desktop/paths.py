"""Where MiBao keeps its files: ``--data-dir``, else ``MIBAO_DATA_DIR``, else the user's data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

DATABASE_NAME = "mibao.sqlite"


class DataFolderError(Exception):
    """The data folder cannot be used (inside the program's own folder, or not writable); the
    message says what to do, in plain Chinese."""


def install_dirs() -> list[Path]:
    """The folders a new version replaces and an uninstall removes: a built app's own folder
    (``/opt/mibao``, ``C:\\Program Files\\MiBao``) and the bundle inside it (``sys._MEIPASS``);
    from source, the installed package itself."""
    found = []
    if getattr(sys, "frozen", False):
        found.append(Path(sys.executable).resolve().parent)
        bundled = getattr(sys, "_MEIPASS", None)
        if bundled:
            found.append(Path(bundled).resolve())
    found.append(Path(__file__).resolve().parent)
    return found


def inside_install(folder: Path) -> Path | None:
    """The install folder that holds ``folder`` (or is it), else None."""
    folder = Path(folder).resolve()
    for install in install_dirs():
        if folder == install or install in folder.parents:
            return install
    return None


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data folder, made if missing. Never inside the program's folder: installing a new
    version over it, or uninstalling, replaces or removes that folder and would take the
    database with it — refused with :class:`DataFolderError` before anything is written."""
    if explicit:
        chosen = Path(explicit)
    elif os.environ.get("MIBAO_DATA_DIR"):
        chosen = Path(os.environ["MIBAO_DATA_DIR"])
    else:
        chosen = Path(platformdirs.user_data_dir("MiBao", appauthor=False))
    chosen = chosen.expanduser().resolve()
    install = inside_install(chosen)
    if install is not None:
        raise DataFolderError(
            f"数据文件夹 {chosen} 在程序的安装文件夹 {install} 之内:安装新版本或卸载时会连同数据一起被替换或删除,"
            "因此密保拒绝使用它。请把数据放在安装文件夹之外(不指定时为用户数据目录,"
            f"即 {Path(platformdirs.user_data_dir('MiBao', appauthor=False))}),"
            "或用 --data-dir / 环境变量 MIBAO_DATA_DIR 指定其他文件夹。")
    try:
        chosen.mkdir(parents=True, exist_ok=True, mode=0o700)  # the ledgers are nobody else's to read
    except OSError as exc:
        raise DataFolderError(f"无法建立数据文件夹 {chosen}({exc.strerror or exc})。"
                              "请检查该位置的权限和磁盘空间,或用 --data-dir 指定其他文件夹。") from None
    return chosen


def database_path(directory: Path) -> Path:
    return directory / DATABASE_NAME


SERVER_SETTINGS = "database.ini"


def database_target(directory: Path, explicit: str | None = None) -> Path | str:
    """Where the data is: ``--database URL``, else the ``url`` in the data folder's
    database.ini (several workstations sharing a PostgreSQL server on the classified LAN),
    else the SQLite file in the data folder."""
    if explicit:
        return explicit
    settings = directory / SERVER_SETTINGS
    if settings.is_file():
        import configparser

        parser = configparser.ConfigParser()
        parser.read(settings, encoding="utf-8")
        url = parser.get("database", "url", fallback="").strip()
        if url:
            return url
    return database_path(directory)


def backup_dir(directory: Path) -> Path:
    path = directory / "backups"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def resources_dir() -> Path:
    """``resources/`` beside the package in a checkout, or inside a PyInstaller bundle."""
    bundled = getattr(sys, "_MEIPASS", None)
    candidates = [Path(bundled) / "resources"] if bundled else []
    candidates.append(Path(__file__).resolve().parent.parent / "resources")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[-1]
