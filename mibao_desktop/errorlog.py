"""The log of unexpected failures: ``<data folder>/logs/mibao-errors.log``. Qt-free.

MiBao tells its user a plain sentence; the traceback behind it goes here, appended with the
time, for whoever maintains the installation (安装说明 names the file). The command line and
the desktop write to the same file.
"""

from __future__ import annotations

import datetime as dt
import traceback
from pathlib import Path

LOG_FOLDER = "logs"
LOG_NAME = "mibao-errors.log"


def log_path(data_dir: Path) -> Path:
    return Path(data_dir) / LOG_FOLDER / LOG_NAME


def write(data_dir: Path, exc: BaseException | None = None, *, what: str = "") -> Path | None:
    """Append the traceback of ``exc`` (default: the exception being handled) to the log;
    its path, or None when it cannot be written (the failure must not hide the first one)."""
    try:
        text = "".join(traceback.format_exception(exc)) if exc is not None else traceback.format_exc()
        log = log_path(data_dir)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as out:
            out.write(f"--- {dt.datetime.now().isoformat(timespec='seconds')}{' ' + what if what else ''}\n{text}\n")
        return log
    except OSError:
        return None
