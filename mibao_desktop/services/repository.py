"""SQL for ledger records: filtering, sorting, paging and uniqueness look-ups.

The only module that knows how a declared field maps onto the ``records`` table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from sqlalchemy import ColumnElement, column, func, select, table
from sqlalchemy.orm import Session

from mibao_desktop.db.models import Record, UniqueValue
from mibao_desktop.ledgers.declaration import Ledger
from mibao_desktop.ledgers.normalize import search_form


# The FTS5 table of revision 0003, named for queries only (it is not a model).
_FTS = table("records_fts", column("rowid"), column("records_fts"))


@dataclass
class LedgerQuery:
    """What the table shows: search text, exact filters, sort and the page wanted.

    ``text`` is split on spaces; every word must appear in one of the searchable fields.
    ``filters`` maps a field name to the stored value it must equal (status, 密级, 部门 …).
    """

    text: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    include_voided: bool = False
    parent_id: int | None = None  # a sub-ledger's records of one parent (a carrier's copies)
    sort: str | None = None
    descending: bool = False
    offset: int = 0
    limit: int | None = 100


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def build_search_text(ledger: Ledger, values: dict[str, Any]) -> str:
    forms: list[str] = []
    for f in ledger.searchable_fields:
        forms.extend(f.search_forms(values.get(f.name)))
    return "\n".join(search_form(form) for form in forms if form)


class RecordRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.scans = False  # whether the last conditions() search must scan the listing index

    # -- reading ---------------------------------------------------------------------------

    def get(self, record_id: int) -> Record | None:
        return self.session.get(Record, record_id)

    def by_asset_number(self, ledger: Ledger, asset_number: str) -> Record | None:
        return self.session.scalar(
            select(Record).where(Record.ledger == ledger.key, Record.asset_number == asset_number)
            .order_by(Record.voided, Record.id.desc()).limit(1)
        )

    def conditions(self, ledger: Ledger, query: LedgerQuery) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [Record.ledger == ledger.key]
        if not query.include_voided:
            conds.append(Record.voided.is_(False))
        if query.parent_id is not None:
            conds.append(Record.parent_id == query.parent_id)
        self.scans = False
        for term in search_form(query.text).split():
            conds.append(self._contains(term))
        for name, value in query.filters.items():
            if value is None or value == "":
                continue
            conds.append(self._column(ledger, name) == value)
        return conds

    def _contains(self, term: str) -> ColumnElement[bool]:
        """search_text contains ``term`` (already case-folded).

        On SQLite a word of three or more characters is looked up in the FTS5 trigram index
        (revision 0003); shorter ones use instr(), a plain substring scan of the listing
        index, cheaper than LIKE's per-character case folding. Other databases get LIKE.
        """
        if self.session.get_bind().dialect.name != "sqlite":
            return Record.search_text.like(_like_pattern(term), escape="\\")
        if len(term) >= 3:
            phrase = '"' + term.replace('"', '""') + '"'
            matching = select(_FTS.c.rowid).where(_FTS.c.records_fts.op("MATCH")(phrase))
            # The index answers a selective word at once; for a word in most rows (the start
            # of a MAC, a common department) walking the listing index is cheaper.
            probe = select(func.count()).select_from(matching.limit(self.SPARSE + 1).subquery())
            if self.session.scalar(probe) <= self.SPARSE:
                return Record.id.in_(matching)
        self.scans = True
        return func.instr(Record.search_text, term) > 0

    def _column(self, ledger: Ledger, name: str):
        if name == ledger.key_field:
            return Record.asset_number
        if name == "status":
            return Record.status
        declared = ledger.field(name)
        if declared.type.sort_numeric and not declared.many:
            return Record.data[name].as_integer()
        return Record.data[name].as_string()

    def count(self, ledger: Ledger, query: LedgerQuery) -> int:
        return self.session.scalar(select(func.count(Record.id)).where(*self.conditions(ledger, query))) or 0

    def _ordered(self, stmt, ledger: Ledger, query: LedgerQuery, conds=None):
        column = self._column(ledger, query.sort or ledger.default_sort)
        order = column.desc() if query.descending else column.asc()
        tie = Record.id.desc() if query.descending else Record.id.asc()
        conds = self.conditions(ledger, query) if conds is None else conds
        stmt = stmt.where(*conds).order_by(order, tie)
        if query.offset:
            stmt = stmt.offset(query.offset)
        if query.limit is not None:
            stmt = stmt.limit(query.limit)
        return stmt

    def page(self, ledger: Ledger, query: LedgerQuery) -> Sequence[Record]:
        return self.session.scalars(self._ordered(select(Record), ledger, query)).all()

    SPARSE = 5000  # up to this many matches: found from the FTS index, or gathered in one scan

    def page_with_total(self, ledger: Ledger, query: LedgerQuery) -> tuple[list[Record], int]:
        """One page and the number of matches, scanning the listing index about once.

        Without search text the count is an index range. With it, the matching ids are first
        gathered unordered from the listing index alone (it carries search_text), stopping
        after SPARSE of them: a selective search then has every match from that one scan and
        sorts just those; a broad one stops early, and its count scans while its ordered page
        is found near the start of the index.
        """
        conds = self.conditions(ledger, query)
        if not self.scans:  # no search, or every word answered by the FTS index: both cheap
            return list(self.page(ledger, query)), self.count(ledger, query)
        ids = list(self.session.scalars(select(Record.id).where(*conds).limit(self.SPARSE + 1)))
        if len(ids) > self.SPARSE:
            return list(self.page(ledger, query)), self.count(ledger, query)
        if not ids:
            return [], 0
        stmt = self._ordered(select(Record), ledger, query, conds=[Record.id.in_(ids)])
        return list(self.session.scalars(stmt)), len(ids)

    def distinct_values(self, ledger: Ledger, name: str) -> list[str]:
        column = self._column(ledger, name)
        rows = self.session.execute(
            select(column).where(Record.ledger == ledger.key, Record.voided.is_(False)).distinct()
        ).scalars()
        return sorted(str(v) for v in rows if v not in (None, ""))

    # -- uniqueness ------------------------------------------------------------------------

    def clashes(self, scope: str, keys: Iterable[tuple[str, str]], exclude_record: int | None
                ) -> dict[tuple[str, str], Record]:
        """Which (field, value) keys are already held in the scope, and by which record."""
        wanted = list(keys)
        if not wanted:
            return {}
        values = {value for _, value in wanted}
        stmt = (
            select(UniqueValue.field, UniqueValue.value, Record)
            .join(Record, Record.id == UniqueValue.record_id)
            .where(UniqueValue.scope == scope, UniqueValue.value.in_(values))
        )
        found: dict[tuple[str, str], Record] = {}
        wanted_set = set(wanted)
        for field_name, value, record in self.session.execute(stmt):
            if (field_name, value) in wanted_set and record.id != exclude_record:
                found[(field_name, value)] = record
        return found

    def all_keys(self, scope: str) -> dict[tuple[str, str], int]:
        """Every unique key held in a scope (for large imports: one query instead of one per row)."""
        rows = self.session.execute(
            select(UniqueValue.field, UniqueValue.value, UniqueValue.record_id).where(UniqueValue.scope == scope)
        )
        return {(f, v): rid for f, v, rid in rows}

    def set_keys(self, record: Record, scope: str, keys: Iterable[tuple[str, str]]) -> None:
        self.release_keys(record)
        self.session.add_all(
            UniqueValue(scope=scope, field=f, value=v, record_id=record.id) for f, v in keys
        )

    def release_keys(self, record: Record) -> None:
        self.session.query(UniqueValue).filter(UniqueValue.record_id == record.id).delete(
            synchronize_session=False
        )
