"""The :class:`Ledger` declaration (台账) and its :class:`Lifecycle` of statuses."""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any, Callable, Mapping

from mibao_desktop.ledgers.fields import Field

# A cross-field rule gets the normalised values and returns {field name: message} for faults.
Rule = Callable[[Mapping[str, Any]], Mapping[str, str]]


@dataclass(frozen=True)
class Lifecycle:
    """The statuses a record moves through.

    ``closing`` statuses (报废, 已销毁) need a reason and a date; ``terminal`` ones end the
    record's life: it is kept for ever but no longer changes. ``transitions`` limits where a
    status may go next; a status missing from it may go to any non-initial-only status.
    """

    statuses: tuple[str, ...]
    initial: str
    closing: frozenset[str] = frozenset()
    terminal: frozenset[str] = frozenset()
    transitions: Mapping[str, tuple[str, ...]] = dc_field(default_factory=dict)

    def allowed_next(self, current: str) -> tuple[str, ...]:
        if current in self.terminal:
            return ()
        if current in self.transitions:
            return self.transitions[current]
        return tuple(s for s in self.statuses if s != current)


DEVICE_LIFECYCLE = Lifecycle(
    statuses=("在用", "停用", "维修", "外出", "报废", "已销毁"),
    initial="在用",
    closing=frozenset({"报废", "已销毁"}),
    terminal=frozenset({"已销毁"}),
    transitions={"报废": ("已销毁",)},
)

MEDIA_LIFECYCLE = Lifecycle(
    statuses=("在用", "借出", "外出", "报废", "已销毁"),
    initial="在用",
    closing=frozenset({"报废", "已销毁"}),
    terminal=frozenset({"已销毁"}),
    transitions={"报废": ("已销毁",)},
)


@dataclass(frozen=True)
class LabelSpec:
    """What a ledger's labels say (标识, seed 002 §七.4).

    The level label shows ``title``, the level from ``level_field`` (None: the ledger has no
    level label) and the ``lines`` fields; the reminder label shows ``reminder``.
    """

    title: str
    reminder: str
    level_field: str | None = "level"
    lines: tuple[str, ...] = ("asset_number", "responsible_person", "classified_on")


@dataclass(frozen=True)
class Ledger:
    """One ledger, declared once.

    ``unique_scope`` names the space in which unique fields may not repeat: classified and
    unclassified computers share one, so a MAC cannot sit in both. ``parent`` makes this a
    sub-ledger whose records belong to a record of another ledger (a carrier's copies by
    份号, a staff member's training hours).
    """

    key: str
    title: str  # 涉密计算机台账
    noun: str  # 涉密计算机
    fields: tuple[Field, ...]
    lifecycle: Lifecycle
    key_field: str = "asset_number"
    unique_scope: str = ""
    parent: str | None = None
    aliases: tuple[str, ...] = ()  # other names the command line accepts
    rules: tuple[Rule, ...] = ()
    default_sort: str = ""
    label: LabelSpec | None = None

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.key}: duplicate field names")
        for required in (self.key_field, "status"):
            if required not in names:
                raise ValueError(f"{self.key}: missing field {required!r}")
        if not self.unique_scope:
            object.__setattr__(self, "unique_scope", self.key)
        if not self.default_sort:
            object.__setattr__(self, "default_sort", self.key_field)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.key} has no field {name!r}")

    def has_field(self, name: str) -> bool:
        return any(f.name == name for f in self.fields)

    @property
    def form_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.editable)

    @property
    def searchable_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.searchable)

    @property
    def unique_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.unique)

    @property
    def status_field(self) -> Field:
        return self.field("status")
