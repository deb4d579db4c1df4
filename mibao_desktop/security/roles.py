"""Roles (三员分立, seed 002 §七), who is acting, and the check every service makes. Qt-free.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Callable

from mibao_desktop.errors import PermissionDenied


class Role(enum.Enum):
    SYSTEM_ADMIN = "系统管理员"
    SECURITY_ADMIN = "安全保密管理员"
    AUDITOR = "安全审计员"


class SessionEnded(PermissionDenied):
    """The account behind a logged-in session was disabled or lost its role: the session ends
    at its next action, whatever it was (the desktop then goes back to the login)."""


class PasswordChangeRequired(PermissionDenied):
    """The session's password must be changed first (a first login, a reset, past its age):
    until it is, the session may change the password and nothing else."""


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    # Set by a login (services.accounts): asks the database whether the account may still act
    # as this role, and raises SessionEnded if not (PasswordChangeRequired while its password
    # must be changed, unless called with changing_password=True). Without it a session made
    # before its account was disabled would go on writing. Not part of equality: the same person
    # acting is the same actor, whether the check is attached or not.
    still_valid: Callable[..., None] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def local_security_admin(cls) -> "Actor":
        return cls("安全保密管理员", Role.SECURITY_ADMIN)


def require(actor: Actor, *roles: Role, doing: str) -> None:
    # The session is checked first: a disabled account is told its session ended, not that its
    # role may not do this.
    if actor.still_valid is not None:
        actor.still_valid(actor)
    if actor.role not in roles:
        allowed = "、".join(r.value for r in roles)
        raise PermissionDenied(f"{actor.role.value}无权{doing},此操作仅限{allowed}。")
