"""To whom each carrier copy was last 分发: the 接收单位 and 接收人 its latest 分发 recorded in its
history (the copy holds only a person: a unit it went to is a fact of that action). Read for many
copies at once, in two queries per 500, never through each copy's whole history: an envelope's
收件单位 (``services/print_service.py``) and where a check finds a copy 已分发
(``services/carrier_checks.py``) ask it. Qt-free."""

from __future__ import annotations

from typing import NamedTuple, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mibao_desktop.db.models import FieldChange, RecordEvent
from mibao_desktop.ledgers import carriers

DISTRIBUTED = next(a.to for a in carriers.COPY_ACTIONS if a.key == "distribute")
_UNIT, _PERSON = carriers.RECIPIENT_UNIT.name, carriers.RECIPIENT.name


class Recipient(NamedTuple):
    unit: str  # 接收单位, "" when none was written
    person: str  # 接收人 as the history names them, "" when none

    @property
    def text(self) -> str:
        """The unit, else the person: what an envelope's 收件单位 and a check's line show."""
        return self.unit or self.person


def last_recipients(session: Session, copy_ids: Sequence[int]) -> dict[int, Recipient]:
    """Each copy's latest 分发 recipients (copies never distributed are left out)."""
    out: dict[int, Recipient] = {}
    for start in range(0, len(copy_ids), 500):
        part = list(copy_ids[start:start + 500])
        latest = (select(RecordEvent.record_id, func.max(RecordEvent.id).label("id"))
                  .join(FieldChange, FieldChange.event_id == RecordEvent.id)
                  .where(RecordEvent.record_id.in_(part), RecordEvent.action == "status",
                         FieldChange.field == "status", FieldChange.new_value == DISTRIBUTED)
                  .group_by(RecordEvent.record_id).subquery())
        facts: dict[int, dict[str, str]] = {}
        for record_id, name, value in session.execute(
                select(latest.c.record_id, FieldChange.field, FieldChange.new_value)
                .join(FieldChange, FieldChange.event_id == latest.c.id)
                .where(FieldChange.field.in_((_UNIT, _PERSON)))):
            facts.setdefault(record_id, {})[name] = value or ""
        out.update((rid, Recipient(said.get(_UNIT, ""), said.get(_PERSON, ""))) for rid, said in facts.items())
    return out
