"""Where MiBao keeps its files: ``--data-dir``, else ``MIBAO_DATA_DIR``, else the user's data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

DATABASE_NAME = "mibao.sqlite"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        chosen = Path(explicit)
    elif os.environ.get("MIBAO_DATA_DIR"):
        chosen = Path(os.environ["MIBAO_DATA_DIR"])
    else:
        chosen = Path(platformdirs.user_data_dir("MiBao", appauthor=False))
    chosen = chosen.expanduser().resolve()
    chosen.mkdir(parents=True, exist_ok=True)
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
    path.mkdir(parents=True, exist_ok=True)
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
