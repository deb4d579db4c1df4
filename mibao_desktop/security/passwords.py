"""Password hashing (scrypt) and the unit's password policy (seed 002 §七.2). Qt-free.

口令设置要求:大小写英文字母、数字和特殊符号中三者以上的组合,长度不少于10位,更换周期不超过1个星期.
The length, the mix and the maximum age are settings, because units differ.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import string
from dataclasses import asdict, dataclass, fields

from mibao_desktop.security.inputs import unreadable

# scrypt at N=2**14, r=8 (16 MB, ~50 ms here): slow for a guesser, quick enough for a login.
_N, _R, _P, _DKLEN = 2**14, 8, 1, 32


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN)
    return "scrypt${}${}${}${}${}".format(_N, _R, _P, base64.b64encode(salt).decode(), base64.b64encode(digest).decode())


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def name_tag(name: str, key: bytes) -> str:
    """What counts the failed logins of a name that is no account, in place of the name: the
    name is often a password typed into the wrong field, so only this is stored. scrypt with the
    installation's own key, at a password check's cost (the login of an unknown name then takes
    the time of a known one's, and a stored tag is as hard to guess back as a password hash);
    64 bits, so that two names sharing a count is out of reach."""
    digest = hashlib.scrypt(name.encode("utf-8", "surrogatepass"), salt=key, n=_N, r=_R, p=_P, dklen=8)
    return digest.hex()


@dataclass(frozen=True)
class SecurityPolicy:
    """Settings the security administrator keeps (口令策略, 锁定, 自动锁屏, 备份保留)."""

    min_length: int = 10
    min_classes: int = 3  # of: upper case, lower case, digits, symbols
    max_age_days: int = 7
    lockout_attempts: int = 5
    lockout_minutes: int = 30
    idle_lock_minutes: int = 10
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_monthly: int = 12

    LABELS = {
        "min_length": "口令最短长度", "min_classes": "口令至少包含的字符种类", "max_age_days": "口令最长使用天数",
        "lockout_attempts": "连续登录失败锁定次数", "lockout_minutes": "锁定时长(分钟)",
        "idle_lock_minutes": "无操作自动锁屏(分钟)", "keep_daily": "保留每日备份(份)",
        "keep_weekly": "保留每周备份(份)", "keep_monthly": "保留每月备份(份)",
    }
    # The floors (min_length ≥ 8, min_classes ≥ 2, lockout_attempts ≤ 10, lockout_minutes ≥ 10)
    # are what no unit may go under, whoever sets the policy: a security administrator who could
    # allow 4-character passwords or endless guesses could open every other account to guessing.
    LIMITS = {
        "min_length": (8, 64), "min_classes": (2, 4), "max_age_days": (1, 365), "lockout_attempts": (3, 10),
        "lockout_minutes": (10, 1440), "idle_lock_minutes": (1, 120), "keep_daily": (1, 60),
        "keep_weekly": (0, 52), "keep_monthly": (0, 120),
    }
    FLOORS = ("口令不少于 8 位、至少含 2 种字符;连续口令错误不超过 10 次即锁定,锁定不少于 10 分钟。"
              "这些下限不能再放宽。")

    def problems(self) -> dict[str, str]:
        found = {}
        for f in fields(self):
            low, high = self.LIMITS[f.name]
            value = getattr(self, f.name)
            if not isinstance(value, int) or not low <= value <= high:
                found[f.name] = f"应在 {low} 到 {high} 之间"
        return found

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, stored: dict | None) -> "SecurityPolicy":
        """The stored policy, each value held within its limits: a value written straight into
        the settings table (or by an older version, which allowed a 1-minute lockout) cannot
        take the policy under its floors."""
        known = {f.name: f for f in fields(cls)}
        values = {}
        for key, value in (stored or {}).items():
            if key in known:
                low, high = cls.LIMITS[key]
                values[key] = min(max(value, low), high) if isinstance(value, int) else known[key].default
        return cls(**values)

    def password_problems(self, password: str, *, name: str = "") -> list[str]:
        """What is wrong with a new password under this policy, in plain Chinese."""
        found = []
        why = unreadable(password)
        if why:
            return [why]
        if len(password) < self.min_length:
            found.append(f"长度不少于 {self.min_length} 位(现有 {len(password)} 位)")
        classes = [
            any(c.isupper() and c.isascii() for c in password),
            any(c.islower() and c.isascii() for c in password),
            any(c.isdigit() for c in password),
            any(c in string.punctuation or not (c.isalnum() or c.isspace()) for c in password),
        ]
        if sum(classes) < self.min_classes:
            found.append(f"须包含大写字母、小写字母、数字和符号中至少 {self.min_classes} 种")
        if name and name.casefold() in password.casefold():
            found.append("不能包含用户名")
        return found
