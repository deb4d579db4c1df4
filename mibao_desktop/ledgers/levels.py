"""The one vocabulary of 密级 (classification levels) and 保密期限 (secrecy periods). Qt-free.

Every list of levels, every ranking, every report marking and every level colour comes from
here; nothing else spells the levels out. A marking such as ``机密★10年`` or ``秘密★长期``
carries the level and the period; :func:`parse_marking` reads both wherever a level is read.

Beside the three, a unit may use levels of its own (涉密专用, 内部 …): :class:`UnitLevels`, the
unit's setting, ranks each where the security administrator put it. The unit in use is
:func:`unit` (installed from the database when it opens and when the setting changes), and
everything that lists, ranks, reads or colours a level asks it: a ``Level`` field's choices
(:func:`accepted`), :func:`rank`, :func:`highest`, :func:`parse_marking`, :func:`colour`,
:func:`markings`. A word that is no level of the unit is refused, never taken for one of the
three.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from mibao_desktop.ledgers.normalize import FieldError, clean_text

TOP_SECRET, SECRET, CONFIDENTIAL = "绝密", "机密", "秘密"
LEVELS = (TOP_SECRET, SECRET, CONFIDENTIAL)  # state-secret levels, highest first
WORK_SECRET = "内部"  # 工作秘密 (seed 002 工作秘密事项清单)
UNCLASSIFIED = "非涉密"
DEVICE_LEVELS = (*LEVELS, UNCLASSIFIED)  # a ledger holding both classified and unclassified items


# PRC Law on Guarding State Secrets: where no period is set, 绝密 30, 机密 20, 秘密 10 years.
STATUTORY_YEARS = {TOP_SECRET: 30, SECRET: 20, CONFIDENTIAL: 10}
LONG_TERM = 9999  # 长期, stored as years so that it sorts after every number of years
LONG_TERM_TEXT = "长期"

# The conventional colours of level labels and of the level column (red for 绝密 …).
COLOURS = {TOP_SECRET: "#B00000", SECRET: "#D9480F", CONFIDENTIAL: "#1F5FA8", UNCLASSIFIED: "#4D4D4D"}
OWN_COLOUR = "#6B4E9B"  # a unit's own level (涉密专用, 内部): apart from the three's and 非涉密's

_ALIASES = {
    "绝密": TOP_SECRET, "机密": SECRET, "秘密": CONFIDENTIAL,
    "非涉密": UNCLASSIFIED, "非密": UNCLASSIFIED, "公开": UNCLASSIFIED, "无": UNCLASSIFIED,
    "内部": WORK_SECRET, "工作秘密": WORK_SECRET,
    # traditional characters appear in documents copied from Hong Kong/Taiwan sources
    "絕密": TOP_SECRET, "機密": SECRET,
}
_STAR = re.compile(r"[★☆*]")


OWN_NAME_MAX = 10
SETTING = "unit_levels"  # where the unit's levels are kept among its settings (the settings table)


@dataclass(frozen=True)
class UnitLevels:
    """The levels a unit's ledgers may hold, highest first (the unit's setting 本单位密级).

    ``order`` holds the three and 非涉密 in their fixed order, with the unit's own levels where
    the security administrator ranked them: never above 绝密 nor below 非涉密. ``classified``
    are the own levels managed as 涉密 (涉密专用): a ledger of classified items (涉密计算机,
    国家秘密载体) takes them, and a device at such a level counts as a classified one (a printer
    is not shared between it and an unclassified computer). Any other own level (内部, a work
    secret) goes only into a ledger that holds unclassified items too. An own level is never a
    state secret: it gets no statutory period and no ★ in a marking.
    """

    order: tuple[str, ...] = DEVICE_LEVELS
    classified: frozenset[str] = frozenset()

    @property
    def own(self) -> tuple[str, ...]:
        return tuple(level for level in self.order if level not in DEVICE_LEVELS)

    @property
    def ranked(self) -> tuple[str, ...]:
        """Every level a rank is known for, highest first: the order, and 内部 (a report's
        marking) just above 非涉密 where the unit has not placed it."""
        if WORK_SECRET in self.order:
            return self.order
        return (*self.order[:-1], WORK_SECRET, self.order[-1])

    def rank(self, level: str | None) -> int:
        ranked = self.ranked
        try:
            return len(ranked) - 2 - ranked.index(level)  # 非涉密 -1, 内部 0 by default, 秘密 1 …
        except ValueError:
            return -2

    def accepted(self, declared: tuple[str, ...]) -> tuple[str, ...]:
        """What a ``Level`` field declared with ``declared`` (the three, or the three and 非涉密)
        takes in this unit, highest first."""
        both = UNCLASSIFIED in declared
        return tuple(level for level in self.order
                     if level in declared or (level not in DEVICE_LEVELS and (both or level in self.classified)))

    def as_stored(self) -> dict[str, Any]:
        return {"order": list(self.order), "classified": [lv for lv in self.order if lv in self.classified]}

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> "UnitLevels":
        """The setting as stored; one that does not read (written by hand) is the three alone."""
        if not stored:
            return cls()
        try:
            return make(stored.get("order") or (), stored.get("classified") or ())
        except (FieldError, AttributeError, TypeError):
            return cls()


def own_name(raw: object) -> str:
    """The name of an own level as the unit writes it (涉密专用), or a refusal in Chinese: it may
    not be one of the three or 非涉密 under another spelling (机密级, 公开, 非密)."""
    text = re.sub(r"\s", "", clean_text(raw))
    if not text:
        raise FieldError("密级名称不能为空")
    if len(text) > OWN_NAME_MAX:
        raise FieldError(f"密级名称最多 {OWN_NAME_MAX} 个字")
    if _STAR.search(text) or not all("\u4e00" <= ch <= "\u9fff" or ch.isalnum() for ch in text):
        raise FieldError(f"密级名称“{text}”只能由汉字、字母或数字组成")
    meant = _ALIASES.get(text) or _ALIASES.get(text[:-1] if text.endswith("级") and len(text) > 1 else "")
    if meant == WORK_SECRET:
        return WORK_SECRET  # 工作秘密 is 内部, one level whichever way it is written
    if meant is not None:
        raise FieldError(f"“{text}”就是“{meant}”,不是本单位另设的密级")
    return text


def make(order: Iterable[object], classified: Iterable[object] = ()) -> UnitLevels:
    """The unit's levels from the order the security administrator set (highest first, the
    built-in levels among them) and the own levels managed as 涉密; refused in Chinese when
    the built-in ones are out of their order or a name is not a level of its own."""
    names: list[str] = []
    for raw in order:
        text = re.sub(r"\s", "", clean_text(raw))
        name = text if text in DEVICE_LEVELS else own_name(text)
        if name in names:
            raise FieldError(f"密级“{name}”重复")
        names.append(name)
    builtin = [name for name in names if name in DEVICE_LEVELS]
    if tuple(builtin) != DEVICE_LEVELS:
        raise FieldError(f"应有{'、'.join(DEVICE_LEVELS)},且按此顺序")
    if names[0] != TOP_SECRET or names[-1] != UNCLASSIFIED:
        raise FieldError(f"本单位的密级只能排在{TOP_SECRET}之下、{UNCLASSIFIED}之上")
    marked = {own_name(raw) for raw in classified}
    unknown = marked - set(names)
    if unknown:
        raise FieldError(f"按涉密管理的“{'、'.join(sorted(unknown))}”不在本单位的密级中")
    above = names[:names.index(CONFIDENTIAL)]
    loose = [name for name in above if name not in DEVICE_LEVELS and name not in marked]
    if loose:
        raise FieldError(f"“{'、'.join(loose)}”排在{CONFIDENTIAL}之上,应按涉密管理")
    return UnitLevels(tuple(names), frozenset(marked))


_unit = UnitLevels()


def unit() -> UnitLevels:
    """The levels of the unit at work: the one place every list and ranking of levels asks."""
    return _unit


def use(levels: UnitLevels) -> None:
    """Take ``levels`` as the unit's (from its database's settings, when it opens or they change)."""
    global _unit
    _unit = levels


def accepted(declared: tuple[str, ...]) -> tuple[str, ...]:
    return _unit.accepted(declared)


def rank(level: str | None) -> int:
    return _unit.rank(level)


def is_state_secret(level: str | None) -> bool:
    return level in LEVELS


def is_classified(level: str | None) -> bool:
    """A state-secret level, or an own level the unit manages as 涉密 (涉密专用)."""
    return level in LEVELS or level in _unit.classified


def highest(levels: Iterable[str | None], default: str = UNCLASSIFIED) -> str:
    found = [lv for lv in levels if rank(lv) > -2]
    return max(found, key=rank) if found else default


def markings() -> tuple[str, ...]:
    """What a report may be marked with, highest first: the unit's levels and 内部."""
    return _unit.ranked


def colour(level: str | None) -> str | None:
    """A level's colour (labels, the table, exports); None for what is no level of the unit."""
    if level in COLOURS:
        return COLOURS[level]
    return OWN_COLOUR if level in _unit.ranked else None


def colours() -> dict[str, str]:
    """Every level's colour, in the unit's order."""
    return {level: colour(level) for level in _unit.order}  # type: ignore[misc]


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
    level = _level_word(parts[0])
    if level is None or level not in allowed:
        if level is None and parts[0] and looks_like_level(parts[0]):
            raise UnknownLevel(parts[0], allowed)
        if level is not None:
            raise FieldError(f"密级“{text}”不能用于此台账,应为:{'、'.join(allowed)}")
        raise FieldError(f"密级“{text}”无法识别,应为:{'、'.join(allowed)}")
    period = None
    if len(parts) > 1 and parts[1]:
        period = parse_period(parts[1])
    return level, period


class UnknownLevel(FieldError):
    """A word in a level's place that is no level of the unit (涉密专用 before the unit has
    set it): refused, and an import offers to set it as the unit's own level."""

    def __init__(self, word: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"“{word}”不是本单位的密级,应为:{'、'.join(allowed)};"
                         f"本单位使用此密级时,请先在“系统→本单位密级”中添加")
        self.word = word


def _level_word(key: str) -> str | None:
    """The level a word means (机密级, 工作秘密, the unit's 涉密专用), None if none."""
    for word in (key, key[:-1] if key.endswith("级") and len(key) > 1 else None):
        if word:
            level = _ALIASES.get(word, word)
            if level in _unit.order:  # 内部 is a level of the unit only once it has set it
                return level
    return None


def looks_like_level(word: str) -> bool:
    """A word written where a level goes that may be a level of the unit's own (涉密专用, 内部
    when not set): short and in Chinese. A date or a number is a misplaced value instead."""
    return 1 < len(word) <= OWN_NAME_MAX and all("\u4e00" <= ch <= "\u9fff" for ch in word)


def unknown_word(raw: object) -> str | None:
    """The word of a cell that would be an own level of the unit, were it set; None otherwise."""
    if raw.__class__ is not str:
        return None
    key = _STAR.split(re.sub(r"\s", "", clean_text(raw)), maxsplit=1)[0]
    if not key or _level_word(key) is not None or not looks_like_level(key):
        return None
    return key


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
