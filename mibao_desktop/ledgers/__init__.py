"""The ledgers (台账) MiBao keeps, each declared once in its own module. Qt-free.

The registry below is the one place a ledger is registered: its position is its place in the
navigation, and everything else (tables, forms, labels, import and export, the demo, the
reports) follows from the declaration. Adding a ledger is its module plus one line here, and
the Alembic revision that creates its table (docs/ARCHITECTURE.md says how).
"""

from __future__ import annotations

from mibao_desktop.ledgers import carriers, computers, leak_events, media, office_devices, people
from mibao_desktop.ledgers import major_events
from mibao_desktop.ledgers import trainings
from mibao_desktop.ledgers import staff_files
from mibao_desktop.ledgers import exit_documents, trips
from mibao_desktop.ledgers.declaration import Ledger, Lifecycle
from mibao_desktop.ledgers.fields import Field, Ref
from mibao_desktop.ledgers.normalize import FieldError

REGISTRY: tuple[Ledger, ...] = (
    computers.CLASSIFIED_COMPUTERS,
    computers.UNCLASSIFIED_COMPUTERS,
    media.REMOVABLE_MEDIA,
    office_devices.OFFICE_DEVICES,
    carriers.CARRIERS,
    carriers.CARRIER_COPIES,
    leak_events.LEAK_EVENTS,
    people.PEOPLE,
    major_events.MAJOR_EVENT_REPORTS,
    staff_files.STAFF_FILES,
    trainings.TRAININGS, trainings.TRAINING_ATTENDANCES,
    trips.TRIPS, exit_documents.EXIT_DOCUMENTS,
)

ALL_LEDGERS = REGISTRY
LEDGERS: dict[str, Ledger] = {ledger.key: ledger for ledger in REGISTRY}
PEOPLE = people.PEOPLE


def get_ledger(name: str) -> Ledger:
    """Find a ledger by key, alias or Chinese name (for the command line)."""
    for ledger in REGISTRY:
        if name in (ledger.key, ledger.noun, ledger.title, *ledger.aliases):
            return ledger
    known = "、".join(f"{l.key}({l.noun})" for l in REGISTRY)
    raise KeyError(f"没有名为“{name}”的台账。可用的台账:{known}")


def top_level() -> tuple[Ledger, ...]:
    """The ledgers shown in the navigation (a child ledger shows under its parent's records)."""
    return tuple(l for l in REGISTRY if l.parent is None)


def children_of(ledger: Ledger) -> tuple[Ledger, ...]:
    return tuple(l for l in REGISTRY if l.parent == ledger.key)


def references_to(ledger: Ledger) -> tuple[tuple[Ledger, Field], ...]:
    """Every (ledger, field) that may refer to a record of ``ledger``."""
    return tuple((l, f) for l in REGISTRY for f in l.reference_fields if ledger.key in f.type.targets)


def _check() -> None:
    for ledger in REGISTRY:
        for f in ledger.reference_fields:
            unknown = [t for t in f.type.targets if t not in LEDGERS]
            if unknown:
                raise ValueError(f"{ledger.key}.{f.name} refers to unknown ledgers {unknown}")
        if ledger.parent is not None and ledger.parent not in LEDGERS:
            raise ValueError(f"{ledger.key}: unknown parent ledger {ledger.parent}")


_check()

__all__ = ["ALL_LEDGERS", "LEDGERS", "PEOPLE", "REGISTRY", "Field", "FieldError", "Ledger", "Lifecycle", "Ref",
           "children_of", "get_ledger", "references_to", "top_level"]
