"""The facts a status change records (外出: where, why, who carries it, until when; 维修: who
repairs it, who accompanies it, whether the disk was removed; 借出: to whom, until when; 报废:
why), as its lifecycle declares them (``Lifecycle.facts_for``), and the reversal of a change.

A status change is one history event (``record_events``, action ``status``): its first field
change is the status itself, its reason the 原因 fact, and each other fact one more field
change with no old value (a person also by the id it named, like any reference). A reversal
is a status change back, whose ``reverses`` change names the event it reverses (its id in
``new_ids``, and as text its time and what it did). No storage of its own: the history reads
them back as it reads an edit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping, Sequence

from mibao_desktop.ledgers import Ledger
from mibao_desktop.ledgers.declaration import REASON
from mibao_desktop.ledgers.fields import Date, Field
from mibao_desktop.ledgers.normalize import FieldError, clean_text, is_blank

REVERSES = "reverses"  # the field change of a reversal naming the change it reverses
REVERSES_LABEL = "撤销的变更"

Resolve = Callable[[Field, Any], Any]  # a person fact's typed name → the person (a Ref with its id)


def labels(ledger: Ledger) -> dict[str, str]:
    """The Chinese names of the facts, for the history and for error messages."""
    return {name: f.label for name, f in ledger.lifecycle.fact_fields.items()} | {REVERSES: REVERSES_LABEL}


def check(ledger: Ledger, status: str, raw: Mapping[str, Any], effective_date: dt.date,
          resolve: Resolve, *, asked: Sequence[Field] | None = None,
          doing: str = "") -> tuple[str, list[tuple[Field, Any]], dict[str, str]]:
    """The reason, the other facts as (field, typed value) in declared order, and the faults
    (fact name → message) of what was given for a change into ``status`` (``asked``: the facts
    a recorded action asks for instead of the status's own, see ``Lifecycle.actions``)."""
    asked = ledger.lifecycle.facts_for(status) if asked is None else tuple(asked)
    doing = doing or f"改为“{status}”"
    names = {f.name for f in asked}
    errors: dict[str, str] = {}
    for name in raw:
        if name not in names and not is_blank(raw[name]):
            label = ledger.lifecycle.fact_fields[name].label if name in ledger.lifecycle.fact_fields else name
            errors[name] = f"{doing}不填写{label}"
    reason, facts = "", []
    for f in asked:
        cell = raw.get(f.name)
        if is_blank(cell):
            if f.required:
                errors[f.name] = f"{doing}必须填写{f.label}"
            continue
        try:
            value = f.normalise(cell)
            if f.is_person:
                value = resolve(f, value)
                if value is not None and value.voided:
                    raise FieldError(f"“{value.text}”已作废,不能引用")
        except FieldError as exc:
            errors[f.name] = str(exc)
            continue
        if isinstance(f.type, Date) and not f.type.not_future and value < effective_date:
            # a return or due date is after the day it went out
            errors[f.name] = f"{value.isoformat()} 早于变更日期 {effective_date.isoformat()},请核对"
            continue
        if f.name == REASON:
            reason = clean_text(value, multiline=True)
        else:
            facts.append((f, value))
    return reason, facts, errors


def describe_change(at: dt.datetime, old: str, new: str) -> str:
    """How a reversal names the change it reverses: 2026-11-30 10:05 在用 → 外出."""
    return f"{at:%Y-%m-%d %H:%M} {old} → {new}"


__all__ = ["REVERSES", "REVERSES_LABEL", "check", "describe_change", "labels"]
