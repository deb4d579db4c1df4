"""Resolving references (引用) and people (人员) typed or imported as text. Qt-free.

A reference typed as a number (``JM-2023-0012``) is looked up among the target ledgers' records
in use, then among the rows of the same import (so that rows may come in any order). A person
typed as a name is looked up in the 人员 register: one match is that person; none adds the
person to the register (entry stays as quick as typing a name); two or more are told apart by
what the name was qualified with (``张伟(科研一处)``, ``张伟(RY-0012)``) or by the record's own
department, or refused with both named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from sqlalchemy.engine import RowMapping

from mibao_desktop.ledgers import LEDGERS, PEOPLE, Ledger
from mibao_desktop.ledgers.fields import Field, Ref
from mibao_desktop.ledgers.normalize import FieldError
from mibao_desktop.services.repository import RecordRepository


def person_text(row: Mapping[str, Any]) -> str:
    """How a person is told apart from a namesake: ``张伟(科研一处·RY-0012)``."""
    parts = [p for p in (row.get("department"), row.get("person_number")) if p]
    return f"{row['name']}({'·'.join(parts)})" if parts else str(row["name"])


@dataclass
class Resolver:
    """Resolves the references of records written in one transaction.

    ``batch`` maps (ledger key, case-folded number) to the ids given to the rows of the same
    import. ``add_person(name, department)`` adds a person and returns the new id (None in a
    preview, which adds nothing: the person then stays unresolved but is not an error).
    """

    repo: RecordRepository
    add_person: Callable[[str, str | None], int | None]
    batch: dict[tuple[str, str], int] = field(default_factory=dict)
    _people: dict[str, list[RowMapping]] = field(default_factory=dict)
    _added: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # name → the people added for it here
    _targets: dict[tuple[str, str], list] = field(default_factory=dict)

    @property
    def added_people(self) -> list[str]:
        return [p["name"] for added in self._added.values() for p in added]

    def resolve(self, ledger: Ledger, f: Field, value: Any, values: Mapping[str, Any]) -> Any:
        """The value with every reference resolved; raises FieldError naming what is wrong."""
        if value is None:
            return None
        if f.many:
            resolved, seen = [], set()
            for ref in value:
                one = self._one(f, ref, values)
                if one.id is None or one.id not in seen:
                    resolved.append(one)
                    seen.add(one.id)
            return resolved
        return self._one(f, value, values)

    def _one(self, f: Field, ref: Ref, values: Mapping[str, Any]) -> Ref:
        if f.is_person:
            return self._person(ref, values)
        return self._reference(f, ref)

    # -- records by number ----------------------------------------------------------------------

    def _reference(self, f: Field, ref: Ref) -> Ref:
        targets = [LEDGERS[k] for k in f.type.targets]
        nouns = "或".join(t.noun for t in targets)
        if ref.id is not None:
            located = self.repo.locate(ref.id)
            if located is None or located.ledger not in f.type.targets:
                raise FieldError(f"引用的记录(编号 {ref.id})不是{nouns}")
            return Ref(located.id, located.label, voided=bool(located.voided))
        found: list[tuple[Ledger, int, str]] = []
        for target in targets:
            for row in self._by_label(target, ref.text):
                found.append((target, row["id"], str(row[target.label_field])))
            batch_id = self.batch.get((target.key, ref.text.casefold()))
            if batch_id is not None and all(i != batch_id for _, i, _ in found):
                found.append((target, batch_id, ref.text))
        if not found:
            raise FieldError(f"没有编号为“{ref.text}”的{nouns}(已作废的记录不能引用)")
        if len(found) > 1:
            raise FieldError(f"编号“{ref.text}”同时是" + "、".join(f"{t.noun} {label}" for t, _, label in found)
                             + ",请核对")
        _target, rid, label = found[0]
        return Ref(rid, label)

    def _by_label(self, ledger: Ledger, text: str) -> list:
        """Records whose label is ``text``, spelt as the label field stores it (a number in
        capitals): an exact look-up on the label's index."""
        try:
            text = str(ledger.field(ledger.label_field).normalise(text))
        except FieldError:
            return []
        key = (ledger.key, text.casefold())
        if key not in self._targets:
            self._targets[key] = self.repo.find_labelled(ledger, text)
        return self._targets[key]

    def prefetch_labels(self, f: Field, texts: set[str]) -> None:
        """Look up the numbers many rows of an import name in ``f`` at once, a few hundred
        per query and target ledger, as :meth:`_by_label` would one by one (printers naming
        their computers: two queries a row were 20 ms a row)."""
        for ledger in (LEDGERS[k] for k in f.type.targets):
            label = ledger.field(ledger.label_field)
            spelt: dict[tuple[str, str], set[str]] = {}
            for text in texts:
                try:
                    stored = str(label.normalise(text))
                except FieldError:
                    continue
                spelt.setdefault((ledger.key, stored.casefold()), set()).add(stored)
            # a key spelt two ways is left to _by_label, which keeps the first it is asked
            wanted = {next(iter(forms)): key for key, forms in spelt.items()
                      if len(forms) == 1 and key not in self._targets}
            found = self.repo.find_labelled_many(ledger, list(wanted))
            for stored, key in wanted.items():
                self._targets[key] = found.get(stored, [])[:50]

    def prefetched_ids(self) -> set[int]:
        """The records the numbers looked up so far name."""
        return {row["id"] for rows in self._targets.values() for row in rows}

    # -- people ---------------------------------------------------------------------------------

    def prefetch_people(self, names: set[str]) -> None:
        """Look up many names at once (an import): one query per few hundred names."""
        missing = [n for n in names if n.casefold() not in self._people]
        for n in missing:
            self._people[n.casefold()] = []
        for row in self.repo.people_named(missing):
            self._people.setdefault(str(row["name"]).casefold(), []).append(row)

    def _named(self, name: str) -> list[RowMapping]:
        key = name.casefold()
        if key not in self._people:
            self._people[key] = list(self.repo.people_named([name]))
        return self._people[key]

    def _person(self, ref: Ref, values: Mapping[str, Any]) -> Ref:
        if ref.id is not None:
            located = self.repo.locate(ref.id)
            if located is None or located.ledger != PEOPLE.key:
                raise FieldError("所选的人员不在人员名册中")
            return Ref(located.id, located.label, voided=bool(located.voided))
        name = ref.text
        if not name:
            raise FieldError("姓名不能为空")
        registered = self._named(name)
        # the people added for this name earlier in the same transaction count as namesakes too
        candidates = [*registered, *self._added.get(name.casefold(), ())]
        if ref.hint:
            hint = ref.hint.casefold()
            matching = [p for p in candidates if hint in {str(p.get(k) or "").casefold()
                                                          for k in ("department", "person_number", "id_tail")}]
            if len(matching) == 1:
                return Ref(matching[0]["id"], name)
            if not matching and not registered:  # 张伟(财务处) beside a 张伟(科研一处) added just now
                return self._new_person(name, ref.hint)
            if not matching:
                raise FieldError(f"人员名册中没有与“{ref.hint}”相符的“{name}”:"
                                 + "、".join(person_text(p) for p in candidates))
            candidates = matching
        if len(candidates) == 1:
            return Ref(candidates[0]["id"], name)
        if not candidates:
            return self._new_person(name, values.get("department"))
        department = values.get("department")
        if department:
            same = [p for p in candidates if p.get("department") == department]
            if len(same) == 1:
                return Ref(same[0]["id"], name)
        raise FieldError(f"人员名册中有 {len(candidates)} 位“{name}”:" + "、".join(person_text(p) for p in candidates)
                         + f"。请注明是哪一位,如“{name}({candidates[0].get('department') or candidates[0]['person_number']})”")

    def _new_person(self, name: str, department: str | None) -> Ref:
        new_id = self.add_person(name, department)
        self._added.setdefault(name.casefold(), []).append(
            {"id": new_id, "name": name, "department": department, "person_number": None, "id_tail": None})
        return Ref(new_id, name)
