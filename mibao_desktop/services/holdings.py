"""What one person holds or uses (人员保管、使用的设备和介质), gathered from every ledger that
refers to the 人员名册. Qt-free.

The list is printed (printing.templates ``holdings``, through PrintService) and written as an
xlsx (excel.person_holdings) as the check list of a 离岗清退 (seed 003 涉密人员管理制度 第七条:
on leaving, every carrier and device in their charge is returned and checked).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable

from mibao_desktop.ledgers import PEOPLE, REGISTRY, levels
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.views import RecordView

TITLE = "人员保管、使用的设备和介质清单"
BATCH = 200  # records read per call, so that progress can be shown and a cancel heard


def child_number(record: RecordView, parent: RecordView | None) -> str:
    """编号 of a record: its own, or for a child ledger's record (a copy) its parent's with its
    own after it (ZT-1·份号2) — a copy's number alone says nothing."""
    if parent is None:
        return record.number
    key = record.ledger.field(record.ledger.key_field)
    return f"{parent.number}·{key.label}{record.display(key.name)}"


@dataclass(frozen=True)
class Holding:
    """One record in the person's charge, and through which fields (责任人、使用人、持有人).
    A record of a child ledger (a carrier's copy) comes with the record it belongs to, which
    gives it its number, name and level."""

    record: RecordView
    roles: tuple[str, ...]
    parent: RecordView | None = None

    @property
    def source(self) -> RecordView:
        """Where the item's description lives: the carrier of a copy, the record itself otherwise."""
        return self.parent or self.record

    def show(self, name: str) -> str:
        for r in (self.record, self.parent):
            if r is not None and r.ledger.has_field(name) and r.values.get(name) is not None:
                return r.display(name)
        return ""

    @property
    def number(self) -> str:
        return child_number(self.record, self.parent)

    @property
    def level(self) -> str:
        for r in (self.record, self.parent):
            field = r.ledger.level_field if r is not None else None
            if field is not None and r.values.get(field.name):
                return r.values[field.name]
        return ""

    @property
    def kind(self) -> str:
        """What the item is: 设备类型, 介质类型 or 载体形式."""
        return next((self.show(n) for n in ("device_type", "media_type", "form") if self.show(n)), "")

    @property
    def name(self) -> str:
        """品牌型号 of a device or medium, 标题 of a carrier."""
        return self.show("brand_model") or self.show("title")


@dataclass(frozen=True)
class PersonHoldings:
    person: RecordView
    items: tuple[Holding, ...]

    @property
    def marking(self) -> str:
        """The highest level among the items (非涉密 when none is classified): the list is
        itself marked with it."""
        return levels.highest(h.level for h in self.items)

    def summary(self) -> str:
        """共 5 件:涉密计算机 2 件,移动存储介质 3 件"""
        kinds = Counter(h.record.ledger.noun for h in self.items)
        order = [l.noun for l in REGISTRY if l.noun in kinds]
        return f"共 {len(self.items)} 件" + (":" + ",".join(f"{k} {kinds[k]} 件" for k in order) if kinds else "")


def _in_charge(ledger, label: str) -> bool:
    field = next((f for f in ledger.fields if f.label == label), None)
    return field is not None and getattr(field.type, "in_charge", False)


def collect(ledgers: LedgerService, person_id: int, *, progress: Callable[[int, int], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> PersonHoldings:
    """The person and every record (not voided) that names them in a person field, each record
    once with all the fields that name them, in the navigation's order of ledgers, then by number."""
    from mibao_desktop.errors import Cancelled

    person = ledgers.get(person_id)
    if person.ledger.key != PEOPLE.key:
        raise ValueError(f"{person.number} 不是人员名册中的记录")
    roles: dict[int, list[str]] = {}
    for r in ledgers.referrers(person_id):
        # what they hold or use (责任人, 使用人, 保管人, 持有人): a training attended, a trip or
        # an exit document kept by the unit names them too, and is no item to hand back
        if not _in_charge(r.ledger, r.field_label):
            continue
        labels = roles.setdefault(r.id, [])
        if r.field_label not in labels:
            labels.append(r.field_label)
    ids = list(roles)
    records: list[RecordView] = []
    for start in range(0, len(ids), BATCH):
        if cancelled and cancelled():
            raise Cancelled()
        records.extend(ledgers.get_many(ids[start:start + BATCH]))
        if progress:
            progress(len(records), len(ids))
    parent_ids = list(dict.fromkeys(r.parent_id for r in records if r.parent_id is not None))
    parents = {p.id: p for p in ledgers.get_many(parent_ids)} if parent_ids else {}
    items = [Holding(r, tuple(roles[r.id]), parents.get(r.parent_id)) for r in records]
    position = {l.key: i for i, l in enumerate(REGISTRY)}
    items.sort(key=lambda h: (position.get(h.record.ledger.key, len(position)), h.number))
    return PersonHoldings(person, tuple(items))
