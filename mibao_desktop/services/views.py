"""What the services hand out: plain values, never ORM objects or rows. Qt-free."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from mibao_desktop.ledgers import Ledger, trips
from mibao_desktop.ledgers.fields import Ref

ACTION_LABELS = {
    "create": "登记",
    "update": "修改",
    "status": "状态变更",
    "void": "作废",
    "restore": "恢复",
    "import": "导入",
    # recorded actions that leave the status as it is (a carrier copy's 复制, 移交)
    "copy": "复制",
    "transfer": "移交",
    "major_event": "重大事项报告",  # a person's report, said in their own history (services/departure.py)
    "stocktake": "盘点",  # what a stocktaking found of the record (services/stocktaking.py)
    "review": "解密审查",  # a carrier's yearly declassification review (services/declassification.py)
    "label": "打印标识",  # a level label printed (PrintService.labels)
    # a trip's actions that leave its status (行前保密提醒谈话), by their declared labels
    **{a.key: a.label for a in trips.TRIP_ACTIONS if a.to is None},
}
RECORDED_ACTIONS = ("copy", "transfer")  # their events hold facts (no old value) and the copy's edits


@dataclass(frozen=True)
class RecordView:
    """A record as the UI, reports and labels see it: typed values (a reference as a
    :class:`Ref` holding the id and the number or name it shows)."""

    id: int
    ledger: Ledger
    values: Mapping[str, Any]
    voided: bool
    void_reason: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    parent_id: int | None = None

    @property
    def number(self) -> str:
        """编号: the value of the ledger's key field."""
        return self.values[self.ledger.key_field]

    asset_number = number  # the name the device ledgers' callers know

    @property
    def label(self) -> str:
        """What a reference to this record shows (the number; a person's name)."""
        return str(self.values.get(self.ledger.label_field) or "")

    @property
    def status(self) -> str:
        return self.values["status"]

    def display(self, name: str) -> str:
        return self.ledger.field(name).display(self.values.get(name))

    def ref(self) -> Ref:
        return Ref(self.id, self.label, voided=self.voided)


@dataclass(frozen=True)
class FieldChangeView:
    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    reason: str | None
    effective_date: dt.date | None
    changes: tuple[FieldChangeView, ...]
    # a status change: the change it reverses (an event id), the change that reversed it, and
    # whether it may be reversed now (the record's latest status change, the record open)
    reverses: int | None = field(default=None, kw_only=True)
    reversed_by: int | None = field(default=None, kw_only=True)
    reversible: bool = field(default=False, kw_only=True)

    @property
    def action_label(self) -> str:
        if self.reverses is not None:
            return "撤销状态变更"
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def revertible(self) -> bool:
        return self.action == "update" and bool(self.changes)

    @property
    def status_moved(self) -> tuple[str, str] | None:
        """(from, to) of a status change."""
        if self.action == "status" and self.changes and self.changes[0].field == "status":
            return self.changes[0].old, self.changes[0].new
        return None

    @property
    def facts(self) -> tuple[FieldChangeView, ...]:
        """What a status change recorded beside the status (外出地点, 携带人 …), declared order."""
        if self.status_moved is None:
            return ()
        return tuple(c for c in self.changes[1:] if c.field != "reverses")

    def fact(self, name: str) -> str:
        return next((c.new for c in self.facts if c.field == name), "")


@dataclass(frozen=True)
class ChangeRow(HistoryEntry):
    """One event of any record in a period (the annual report's changes sheet)."""

    ledger: Ledger
    asset_number: str


@dataclass(frozen=True)
class Page:
    rows: list[RecordView]
    total: int | None  # None: not counted (LedgerService.query(count=False) of a broad search)


@dataclass(frozen=True)
class Referrer:
    """A record that refers to another one: which ledger, which record, through which field."""

    ledger: Ledger
    id: int
    label: str
    field_label: str
    status: str
    voided: bool

    def __str__(self) -> str:
        return f"{self.ledger.noun} {self.label}({self.field_label})"


@dataclass(frozen=True)
class RowRefusal:
    """A row of a batch that was not stored: its index in the batch, the field and why."""

    index: int
    field: str  # Chinese label, "" when the row as a whole is refused
    message: str
    child: int | None = None  # which of the row's child records (``_children``) it is about


@dataclass(frozen=True)
class RowNote:
    """Something a batch's row was read as that a person should see before it is stored (the
    import preview): invisible characters removed from a number, ``机密★10年`` read as 机密
    with its period, a status word read as the ledger's status. Like :class:`RowRefusal`."""

    index: int
    field: str  # Chinese label, "" when about the row as a whole
    message: str
    child: int | None = None


@dataclass
class BatchResult:
    created: list[int] = field(default_factory=list)
    refused: list[RowRefusal] = field(default_factory=list)
    accepted: int = 0  # rows that passed every check (stored, unless a dry run or all-or-nothing)
    people_added: list[str] = field(default_factory=list)  # names added to the register on the way
    notes: list[RowNote] = field(default_factory=list)  # what rows were read as (see RowNote)
    # (input index, normalised values incl. status) of each row stored (a dry run: that would be)
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # a preview asked to keep what it read: handed to the import after it (LedgerService.create_many)
    checked: Any = field(default=None, repr=False, compare=False)
    reused: bool = False  # an import that took its preview's reading of the rows (nothing changed since)


Progress = Callable[[int, int], None]
