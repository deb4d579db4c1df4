"""The data folder readable by its owner alone on Windows (仅本人可访问), where file modes
(0700/0600) mean nothing: an ACL. Qt-free, no dependency beyond Windows' own icacls.

Under the user's profile (the default, %LOCALAPPDATA%\\MiBao) the profile's ACL already keeps
the folder to its user, the system and the administrators. A data folder configured elsewhere
(D:\\密保数据, a share) inherits whatever its parent grants — on a new folder of a second disk,
read access for every authenticated user. There the folder's inherited entries are removed and
its owner alone is granted full control, inherited by everything in it:

    icacls <folder> /inheritance:r /grant:r *<the user's SID>:(OI)(CI)F /Q

The user is named by SID (``whoami /user``), which no renamed account or same-named local and
domain account can confuse; the environment's DOMAIN\\user only when whoami cannot be run.
Entries granted to others explicitly on the folder itself (not inherited) are left: MiBao did
not make them, and someone chose them.

Only a folder that is MiBao's is closed so: one holding nothing but MiBao's own files (the
database and its side files, settings, logs, backups, its temp folder, the restore logins' file
— :data:`OWN`), as a folder MiBao has just made (empty) does. A folder chosen that already holds
other files (D:\\共享 with 科室资料) is someone's shared place: closing it, by inheritance down to
every file in it, would shut its other users out of their own files. There the ACL goes on
MiBao's own files and folders one by one instead, and the folder's is left as it was. What
MiBao makes there later (the WAL beside the open database, a new restore-logins.json) takes
the folder's inherited entries until the next start closes it: a folder of its own is the
place for the ledgers. No marker file says "MiBao's": anyone who can write a shared folder
could plant one, and a folder closed once keeps its ACL when files are later put into it.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
from pathlib import Path
from typing import Callable

IS_WINDOWS = os.name == "nt"
_SID = re.compile(rb"S-1-\d+(?:-\d+)+")
_NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console flashing up under the desktop

Runner = Callable[..., subprocess.CompletedProcess]

# What MiBao keeps in its data folder (paths.py, files.OWN_FILES, storage/restore_logins.py,
# the half-written copies files.PART names), and in its folders there — by what they hold, not
# only by name: "logs", "backups" and "tmp" are names other programs use as well.
OWN = ("mibao.sqlite*", "mibao-ui.ini*", "database.ini", "restore-logins.json", "restore-logins.lock",
       ".restore-logins.json.*.part", ".mibao-backup-*.part*", ".mibao-restore-*.part*")
OWN_FOLDERS = {"logs": ("mibao-errors.log*",),  # errorlog.py
               "backups": ("mibao-*", ".mibao-*", "register.jsonl*"),  # storage/backup.py
               "tmp": ("[0-9]*",)}  # files.private_temp: a folder per process id


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def _own(entry: Path) -> bool:
    """Whether ``entry`` is one of MiBao's own files, or folders holding only MiBao's files."""
    if entry.is_symlink():  # what it points to is not MiBao's
        return False
    if entry.name in OWN_FOLDERS and entry.is_dir():
        return all(_matches(inside.name, OWN_FOLDERS[entry.name]) for inside in entry.iterdir())
    return entry.is_file() and _matches(entry.name, OWN)


def own_folder(folder: Path) -> bool:
    """Whether ``folder`` holds nothing but MiBao's own files (or nothing, or is not there yet):
    only such a folder is MiBao's to close to everyone else."""
    try:
        return all(_own(entry) for entry in Path(folder).iterdir())
    except FileNotFoundError:
        return not Path(folder).exists()
    except OSError:  # unreadable: whatever it holds is not known to be MiBao's alone
        return False


def own_entries(folder: Path) -> list[Path]:
    """MiBao's own files and folders in ``folder``."""
    found = []
    try:
        for entry in Path(folder).iterdir():
            try:
                if _own(entry):
                    found.append(entry)
            except OSError:
                continue
    except OSError:
        return []
    return sorted(found)


def outside_profile(folder: Path, profile: str | os.PathLike[str] | None = None) -> bool:
    """Whether ``folder`` lies outside the user's profile (%USERPROFILE%), whose ACL does not
    then protect it. Without a known profile it counts as outside."""
    profile = profile if profile is not None else os.environ.get("USERPROFILE")
    if not profile:
        return True
    try:
        Path(folder).resolve().relative_to(Path(profile).resolve())
    except ValueError:
        return True
    return False


def current_user(run: Runner = subprocess.run) -> str:
    """The logged-in user as icacls takes it: ``*S-1-5-21-…`` (its SID), else ``DOMAIN\\user``."""
    try:
        out = run(["whoami", "/user", "/fo", "csv", "/nh"], capture_output=True, timeout=10,
                  creationflags=_NO_WINDOW).stdout or b""
    except (OSError, subprocess.SubprocessError):
        out = b""
    found = _SID.search(out if isinstance(out, bytes) else out.encode("ascii", "ignore"))
    if found:
        return "*" + found.group().decode("ascii")
    user, domain = os.environ.get("USERNAME", ""), os.environ.get("USERDOMAIN", "")
    return f"{domain}\\{user}" if domain and user else user


def owner_only_command(folder: Path, user: str, *, inherited: bool = True) -> list[str]:
    """The icacls command that leaves ``folder`` (and what it holds, by inheritance) to ``user``;
    with ``inherited`` False, a single file (which has nothing to pass its entry on to)."""
    return ["icacls", str(folder), "/inheritance:r", "/grant:r", f"{user}:{'(OI)(CI)' if inherited else ''}F", "/Q"]


def restrict(folder: Path, *, run: Runner = subprocess.run, profile: str | os.PathLike[str] | None = None
             ) -> bool:
    """On Windows, a data folder outside the profile closed to everyone but its owner when it is
    MiBao's own (:func:`own_folder`), else MiBao's own files and folders in it; True when every
    ACL was set. Elsewhere (or inside the profile) nothing is done and False returned. A
    failure (icacls missing, a file system without ACLs) does not stop the start: the folder
    stays as it was, as a chmod that failed would."""
    if not IS_WINDOWS or not outside_profile(folder, profile):
        return False
    folder = Path(folder)
    if folder.resolve().parent == folder.resolve():  # a drive's root holds more than MiBao's files
        return False
    user = current_user(run)
    if not user:
        return False
    if own_folder(folder):
        targets = [(folder, True)]
    else:  # a shared folder: its ACL, and its other files', left alone
        targets = [(entry, entry.is_dir()) for entry in own_entries(folder)]
    done = [_run(run, owner_only_command(path, user, inherited=inherited)) for path, inherited in targets]
    return bool(done) and all(done)


def _run(run: Runner, command: list[str]) -> bool:
    try:
        return run(command, capture_output=True, timeout=30, creationflags=_NO_WINDOW).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


__all__ = ["OWN", "current_user", "outside_profile", "own_entries", "own_folder", "owner_only_command", "restrict"]
