"""Roles (三员分立, seed 002 §七), who is acting, and the check every service makes. Qt-free.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from mibao_desktop.errors import PermissionDenied


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
