"""The ledgers (台账) MiBao keeps, each declared once. Qt-free."""

from __future__ import annotations

from mibao_desktop.ledgers.computers import CLASSIFIED_COMPUTERS, UNCLASSIFIED_COMPUTERS
from mibao_desktop.ledgers.declaration import Ledger, Lifecycle
from mibao_desktop.ledgers.fields import Field
from mibao_desktop.ledgers.media import REMOVABLE_MEDIA
from mibao_desktop.ledgers.normalize import FieldError

# Navigation order in the main window.
ALL_LEDGERS: tuple[Ledger, ...] = (CLASSIFIED_COMPUTERS, UNCLASSIFIED_COMPUTERS, REMOVABLE_MEDIA)
LEDGERS: dict[str, Ledger] = {ledger.key: ledger for ledger in ALL_LEDGERS}


def get_ledger(name: str) -> Ledger:
    """Find a ledger by key, alias or Chinese name (for the command line)."""
    for ledger in ALL_LEDGERS:
        if name in (ledger.key, ledger.noun, ledger.title, *ledger.aliases):
            return ledger
    known = "、".join(f"{l.key}({l.noun})" for l in ALL_LEDGERS)
    raise KeyError(f"没有名为“{name}”的台账。可用的台账:{known}")


__all__ = ["ALL_LEDGERS", "LEDGERS", "Field", "FieldError", "Ledger", "Lifecycle", "get_ledger"]
