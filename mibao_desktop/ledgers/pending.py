"""待补充: a record stored without a required field the unit never kept (an import of a ledger
that had no 定密时间 or 使用人 column). The gap is the empty field itself, so no mark needs
storing: a record is 待补充 while one of these fields is empty, and complete once filled."""

from __future__ import annotations

from typing import Any, Mapping

from mibao_desktop.ledgers.declaration import Ledger
from mibao_desktop.ledgers.fields import Field

PENDING = "待补充"


def gap_fields(ledger: Ledger) -> tuple[Field, ...]:
    """The fields a record may be 待补充 for: required ones, but never its number or status
    (every record has those), a computed one or one with a default (never empty)."""
    return tuple(f for f in ledger.fields if f.required and f.compute is None and f.default is None
                 and f.name not in (ledger.key_field, "status"))


def gaps(ledger: Ledger, values: Mapping[str, Any]) -> list[Field]:
    """The fields still to be filled in a record's values."""
    return [f for f in gap_fields(ledger) if values.get(f.name) in (None, [], "")]


def gap_text(ledger: Ledger, values: Mapping[str, Any]) -> str:
    """``待补充:定密时间、使用人`` (empty for a complete record)."""
    missing = gaps(ledger, values)
    return f"{PENDING}:{'、'.join(f.label for f in missing)}" if missing else ""
