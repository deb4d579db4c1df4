"""Roles (三员分立, seed 002 §七) and who is acting. Qt-free.

Accounts, login and passwords come with the security issue; until then the desktop and the
command line act as the local security administrator.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from mibao_desktop.services.errors import PermissionDenied


class Role(enum.Enum):
    SYSTEM_ADMIN = "系统管理员"
    SECURITY_ADMIN = "安全保密管理员"
    AUDITOR = "安全审计员"


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role

    @classmethod
    def local_security_admin(cls) -> "Actor":
        return cls("安全保密管理员", Role.SECURITY_ADMIN)


def require(actor: Actor, *roles: Role, doing: str) -> None:
    if actor.role not in roles:
        allowed = "、".join(r.value for r in roles)
        raise PermissionDenied(f"{actor.role.value}无权{doing},此操作仅限{allowed}。")
