"""PyInstaller runtime hook of the shipped build: a desktop start that fails leaves its reason
in a file the user can find and send, since a start from the menu has no terminal.

When the desktop is started (no command) with stderr neither a terminal nor a pipe (the menu,
a desktop icon, Windows' windowed exe), everything written to stderr during that run — Qt's own
messages such as "could not load the Qt platform plugin", Python tracebacks — goes to
``<data folder>/logs/mibao-start.log``, replaced at each such start. An exception that ends the
program is also appended to ``<data folder>/logs/mibao-errors.log``, the file where the command
line keeps the tracebacks of its failures. The data folder is ``--data-dir``, else
``MIBAO_DATA_DIR``, else the user's (Linux: ~/.local/share/MiBao, Windows: %LOCALAPPDATA%\\MiBao).
"""

import os
import stat
import sys


def _mibao_data_dir(argv):
    for i, arg in enumerate(argv):
        if arg == "--data-dir" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--data-dir="):
            return arg.split("=", 1)[1]
    if os.environ.get("MIBAO_DATA_DIR"):
        return os.environ["MIBAO_DATA_DIR"]
    import platformdirs

    return platformdirs.user_data_dir("MiBao", appauthor=False)


def _mibao_desktop_start(argv):
    i = 0
    while i < len(argv):
        if argv[i] in ("--data-dir", "--database", "--user"):
            i += 2
        elif argv[i].startswith(("--data-dir=", "--database=", "--user=")):
            i += 1
        else:
            return False
    return True


def _mibao_stderr_unseen():
    if sys.stderr is None:
        return True
    try:
        fd = sys.stderr.fileno()
        if os.isatty(fd):
            return False
        return not stat.S_ISFIFO(os.fstat(fd).st_mode)
    except (OSError, ValueError, AttributeError):
        return True


def _mibao_install():
    import datetime

    argv = sys.argv[1:]
    try:
        logs = os.path.join(os.path.expanduser(_mibao_data_dir(argv)), "logs")
    except Exception:  # noqa: BLE001 - never stop the start over its log
        return
    now = datetime.datetime.now().isoformat(timespec="seconds")
    if _mibao_desktop_start(argv) and _mibao_stderr_unseen():
        try:
            os.makedirs(logs, exist_ok=True)
            out = open(os.path.join(logs, "mibao-start.log"), "w", encoding="utf-8", buffering=1)
            out.write(f"--- {now} mibao {' '.join(argv)}\n")
            out.flush()
            if sys.stderr is not None:
                try:
                    os.dup2(out.fileno(), sys.stderr.fileno())  # Qt writes to fd 2 directly
                except (OSError, ValueError):
                    pass
            sys.stderr = out
        except OSError:
            pass

    previous = sys.excepthook

    def log_and_report(kind, value, tb):
        import traceback

        try:
            os.makedirs(logs, exist_ok=True)
            with open(os.path.join(logs, "mibao-errors.log"), "a", encoding="utf-8") as errors:
                stamp = datetime.datetime.now().isoformat(timespec="seconds")
                errors.write(f"--- {stamp}\n{''.join(traceback.format_exception(kind, value, tb))}\n")
        except OSError:
            pass
        previous(kind, value, tb)

    sys.excepthook = log_and_report


_mibao_install()
