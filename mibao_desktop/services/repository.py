"""SQL for ledger records: filtering, sorting, paging and uniqueness look-ups.

The only module that knows how a declared field maps onto the ``records`` table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from sqlalchemy import ColumnElement, column, func, literal_column, select, table
from sqlalchemy.orm import Session

from mibao_desktop.db.models import Record, UniqueValue
from mibao_desktop.ledgers.declaration import Ledger
from mibao_desktop.ledgers.normalize import search_form, search_terms


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
    # each form once (使用人 and 责任人 are often the same person): a shorter text scans faster
    return "\n".join(dict.fromkeys(search_form(form) for form in forms if form))


class RecordRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.scans = False  # whether the last conditions() search must scan the listing index
        self.driver: str | None = None  # the word the FTS index answered, if any

    # -- reading ---------------------------------------------------------------------------

    def get(self, record_id: int) -> Record | None:
        return self.session.get(Record, record_id)

    def by_asset_number(self, ledger: Ledger, asset_number: str) -> Record | None:
        return self.session.scalar(
            select(Record).where(Record.ledger == ledger.key, Record.asset_number == asset_number)
            .order_by(Record.voided, Record.id.desc()).limit(1)
        )

    def conditions(self, ledger: Ledger, query: LedgerQuery) -> list[ColumnElement[bool]]:
        """The WHERE clause of a query, and how it will be answered (``driver``, ``scans``).

        On SQLite the most selective search word of three or more characters drives the
        query from the FTS5 trigram index (revision 0003): its few matching rows are looked
        up by rowid, and the other words are checked on just those rows. The listing index
        is then kept out of the plan (the ``+`` prefix), or SQLite would walk all of it and
        probe the matches. Without such a word (one or two characters, or a word in most
        rows) every row of the listing index is scanned with instr().
        """
        terms = search_terms(query.text)
        self.driver = self._pick_driver(terms)
        self.scans = bool(terms) and self.driver is None
        col = self._unindexed if self.driver is not None else (lambda name: getattr(Record, name))
        conds: list[ColumnElement[bool]] = [col("ledger") == ledger.key]
        if not query.include_voided:
            conds.append(col("voided") == False)  # noqa: E712 (SQL, not Python)
        if query.parent_id is not None:
            conds.append(col("parent_id") == query.parent_id)
        if self.driver is not None:
            phrase = '"' + self.driver.replace('"', '""') + '"'
            conds.append(Record.id.in_(select(_FTS.c.rowid).where(_FTS.c.records_fts.op("MATCH")(phrase))))
        for term in terms:
            if term != self.driver:
                conds.append(self._contains(term))
        for name, value in query.filters.items():
            if value is None or value == "":
                continue
            column = self._column(ledger, name)
            conds.append((col("status") if column is Record.status else column) == value)
        return conds

    def _sqlite(self) -> bool:
        return self.session.get_bind().dialect.name == "sqlite"

    @staticmethod
    def _unindexed(name: str):
        # SQLite's documented way to keep an index out of a plan: a unary + on the column.
        return literal_column(f"+{Record.__tablename__}.{name}")

    DRIVER_MAX = 20_000  # a word in more rows than this is cheaper to find by scanning

    def _pick_driver(self, terms: list[str]) -> str | None:
        if not self._sqlite():
            return None
        best, best_count = None, self.DRIVER_MAX + 1
        for term in terms:
            if len(term) < 3:
                continue
            phrase = '"' + term.replace('"', '""') + '"'
            matching = select(_FTS.c.rowid).where(_FTS.c.records_fts.op("MATCH")(phrase))
            found = self.session.scalar(select(func.count()).select_from(matching.limit(best_count).subquery()))
            if found < best_count:
                best, best_count = term, found
        return best

    def _contains(self, term: str) -> ColumnElement[bool]:
        """search_text contains ``term`` (already case-folded): instr() on SQLite, a plain
        substring test cheaper than LIKE's per-character case folding; LIKE elsewhere."""
        if not self._sqlite():
            return Record.search_text.like(_like_pattern(term), escape="\\")
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

    def count(self, ledger: Ledger, query: LedgerQuery, conds=None) -> int:
        conds = self.conditions(ledger, query) if conds is None else conds
        return self.session.scalar(select(func.count(Record.id)).where(*conds)) or 0

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

    def page(self, ledger: Ledger, query: LedgerQuery, conds=None) -> Sequence[Record]:
        return self.session.scalars(self._ordered(select(Record), ledger, query, conds=conds)).all()

    SPARSE = 1000  # up to this many matches a scanning search gathers them all in one pass

    def page_with_total(self, ledger: Ledger, query: LedgerQuery) -> tuple[list[Record], int]:
        """One page and the number of matches, scanning the listing index at most about once.

        Without search text the count is an index range. A search driven by the FTS index
        counts its few rows in the same query that sorts them (a window count). A scanning
        search first gathers the matching ids
        gathered unordered from the listing index alone (it carries search_text), stopping
        after SPARSE of them: a selective search then has every match from that one scan and
        sorts just those; a broad one stops early, and its count scans while its ordered page
        is found near the start of the index.
        """
        conds = self.conditions(ledger, query)
        if self.driver is not None:  # a few thousand rows from the FTS index: count as we sort
            # Only (sort key, id) go through the sorter, not whole rows; then one page is read.
            stmt = self._ordered(select(Record.id, func.count().over()), ledger, query, conds=conds)
            ranked = self.session.execute(stmt).all()
            if not ranked:
                return [], self.count(ledger, query, conds) if query.offset else 0
            return self._by_ids([r[0] for r in ranked]), ranked[0][1]
        if not self.scans:  # no search: the count is an index range
            return list(self.page(ledger, query, conds)), self.count(ledger, query, conds)
        by_key = (query.sort or ledger.default_sort) == ledger.key_field
        gather = select(Record.id, Record.asset_number) if by_key else select(Record.id)
        found = self.session.execute(gather.where(*conds).limit(self.SPARSE + 1)).all()
        if len(found) > self.SPARSE:
            return list(self.page(ledger, query, conds)), self.count(ledger, query, conds)
        if not found:
            return [], 0
        if by_key:  # the listing index gave the sort key too: order here, fetch one page
            found.sort(key=lambda r: (r[1], r[0]), reverse=query.descending)
            end = None if query.limit is None else query.offset + query.limit
            return self._by_ids([r[0] for r in found[query.offset:end]]), len(found)
        stmt = self._ordered(select(Record), ledger, query, conds=[Record.id.in_([r[0] for r in found])])
        return list(self.session.scalars(stmt)), len(found)

    def _by_ids(self, ids: list[int]) -> list[Record]:
        """The records of ``ids``, in that order."""
        records = {r.id: r for r in self.session.scalars(select(Record).where(Record.id.in_(ids)))}
        return [records[i] for i in ids if i in records]

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
