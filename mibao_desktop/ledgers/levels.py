"""The one vocabulary of 密级 (classification levels) and 保密期限 (secrecy periods). Qt-free.

Every list of levels, every ranking, every report marking and every level colour comes from
here; nothing else spells the levels out. A marking such as ``机密★10年`` or ``秘密★长期``
carries the level and the period; :func:`parse_marking` reads both wherever a level is read.
"""

from __future__ import annotations

import re
from typing import Iterable

from mibao_desktop.ledgers.normalize import FieldError, clean_text

TOP_SECRET, SECRET, CONFIDENTIAL = "绝密", "机密", "秘密"
LEVELS = (TOP_SECRET, SECRET, CONFIDENTIAL)  # state-secret levels, highest first
WORK_SECRET = "内部"  # 工作秘密 (seed 002 工作秘密事项清单)
UNCLASSIFIED = "非涉密"
MARKINGS = (*LEVELS, WORK_SECRET, UNCLASSIFIED)  # what a report may be marked with, highest first
DEVICE_LEVELS = (*LEVELS, UNCLASSIFIED)  # a ledger holding both classified and unclassified items

RANK = {TOP_SECRET: 3, SECRET: 2, CONFIDENTIAL: 1, WORK_SECRET: 0, UNCLASSIFIED: -1}

# PRC Law on Guarding State Secrets: where no period is set, 绝密 30, 机密 20, 秘密 10 years.
STATUTORY_YEARS = {TOP_SECRET: 30, SECRET: 20, CONFIDENTIAL: 10}
LONG_TERM = 9999  # 长期, stored as years so that it sorts after every number of years
LONG_TERM_TEXT = "长期"

# The conventional colours of level labels and of the level column (red for 绝密 …).
COLOURS = {TOP_SECRET: "#B00000", SECRET: "#D9480F", CONFIDENTIAL: "#1F5FA8", UNCLASSIFIED: "#4D4D4D"}

_ALIASES = {
    "绝密": TOP_SECRET, "机密": SECRET, "秘密": CONFIDENTIAL,
    "非涉密": UNCLASSIFIED, "非密": UNCLASSIFIED, "公开": UNCLASSIFIED, "无": UNCLASSIFIED,
    "内部": WORK_SECRET, "工作秘密": WORK_SECRET,
    # traditional characters appear in documents copied from Hong Kong/Taiwan sources
    "絕密": TOP_SECRET, "機密": SECRET,
}
_STAR = re.compile(r"[★☆*]")


def rank(level: str | None) -> int:
    return RANK.get(level or "", -2)


def is_state_secret(level: str | None) -> bool:
    return level in LEVELS


def highest(levels: Iterable[str | None], default: str = UNCLASSIFIED) -> str:
    found = [lv for lv in levels if lv in RANK]
    return max(found, key=rank) if found else default


def marking_text(level: str) -> str:
    """How a report is marked: ``机密★`` for a state-secret level, the word itself otherwise."""
    return f"{level}★" if is_state_secret(level) else level


def parse_marking(raw: object, allowed: tuple[str, ...]) -> tuple[str, int | None]:
    """``机密级``, ``秘 密``, ``机密★``, ``机密★10年``, ``秘密★长期`` → (level, years or None).

    The period is None when the marking gives none; :data:`LONG_TERM` for 长期.
    """
    text = clean_text(raw)
    compact = re.sub(r"\s", "", text)
    parts = _STAR.split(compact, maxsplit=1)
    key = parts[0]
    if key.endswith("级") and len(key) > 1:
        key = key[:-1]
    level = _ALIASES.get(key)
    if level is None or level not in allowed:
        raise FieldError(f"密级“{text}”无法识别,应为:{'、'.join(allowed)}")
    period = None
    if len(parts) > 1 and parts[1]:
        period = parse_period(parts[1])
    return level, period


def normalise_level(raw: object, allowed: tuple[str, ...]) -> str:
    return parse_marking(raw, allowed)[0]


_YEARS = re.compile(r"^(\d{1,3})(年|年整)?$")


def parse_period(raw: object) -> int:
    """保密期限: ``10年``, ``10``, ``长期`` (also 永久) → years, or :data:`LONG_TERM`."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and float(raw).is_integer():
        raw = str(int(raw))
    text = clean_text(raw).replace(" ", "")
    if text in (LONG_TERM_TEXT, "永久", "长期保存"):
        return LONG_TERM
    match = _YEARS.match(text)
    if not match or not 1 <= int(match.group(1)) <= 100:
        raise FieldError(f"保密期限“{text}”无法识别,应写成“10年”或“长期”")
    return int(match.group(1))


def period_text(years: int | None) -> str:
    if years is None:
        return ""
    return LONG_TERM_TEXT if years >= LONG_TERM else f"{years}年"
