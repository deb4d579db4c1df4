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
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Callable

IS_WINDOWS = os.name == "nt"
_SID = re.compile(rb"S-1-\d+(?:-\d+)+")
_NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console flashing up under the desktop

Runner = Callable[..., subprocess.CompletedProcess]


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


def owner_only_command(folder: Path, user: str) -> list[str]:
    """The icacls command that leaves ``folder`` (and what it holds, by inheritance) to ``user``."""
    return ["icacls", str(folder), "/inheritance:r", "/grant:r", f"{user}:(OI)(CI)F", "/Q"]


def restrict(folder: Path, *, run: Runner = subprocess.run, profile: str | os.PathLike[str] | None = None
             ) -> bool:
    """On Windows, a data folder outside the profile closed to everyone but its owner; True when
    the ACL was set. Elsewhere (or inside the profile) nothing is done and False returned. A
    failure (icacls missing, a file system without ACLs) does not stop the start: the folder
    stays as it was, as a chmod that failed would."""
    if not IS_WINDOWS or not outside_profile(folder, profile):
        return False
    if Path(folder).resolve().parent == Path(folder).resolve():  # a drive's root holds more than MiBao's files
        return False
    user = current_user(run)
    if not user:
        return False
    try:
        done = run(owner_only_command(Path(folder), user), capture_output=True, timeout=30,
                   creationflags=_NO_WINDOW)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


__all__ = ["current_user", "outside_profile", "owner_only_command", "restrict"]
