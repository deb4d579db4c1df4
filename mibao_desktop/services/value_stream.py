"""Every matching record of a ledger, streamed for an export (see LedgerService.stream)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Sequence

from sqlalchemy import select

from mibao_desktop.db.database import CACHE_KIB, STREAM_CACHE_KIB
from mibao_desktop.db.schema import table_of
from mibao_desktop.ledgers import LEDGERS, Ledger
from mibao_desktop.services.repository import LedgerQuery, RecordRepository

if TYPE_CHECKING:
    from mibao_desktop.services.ledger_service import LedgerService

CHUNK = 2000
PARENT = "_parent"  # a child record's parent, by its number (the import's column of the same name)


class ValueStream:
    """The count, the highest level and every row's typed values, read in one transaction (a
    consistent snapshot) with a small page cache: each page is read once, and a large cache
    would only grow the process."""

    def __init__(self, service: "LedgerService", ledger: Ledger, query: LedgerQuery,
                 fields: Sequence[str] | None) -> None:
        self.service, self.ledger, self.query = service, ledger, query
        self.fields = [ledger.field(n) for n in fields] if fields else list(ledger.fields)

    def __enter__(self) -> "ValueStream":
        self.session = self.service._read("导出台账")
        self.session.begin()
        self.sqlite = self.session.get_bind().dialect.name == "sqlite"
        if self.sqlite:
            self.session.connection().exec_driver_sql(f"PRAGMA cache_size=-{STREAM_CACHE_KIB}")
        self.repo = RecordRepository(self.session)
        self.total = self.repo.count(self.ledger, self.query)
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.sqlite:
                self.session.connection().exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
        finally:
            self.session.rollback()
            self.session.close()

    def has_level(self, level: str) -> bool:
        field = self.ledger.level_field
        if field is None:
            return False
        chosen = self.query.filters.get(field.name)
        if chosen not in (None, "") and chosen != level:  # the report holds one level only
            return False
        probe = self.query.but(filters={**self.query.filters, field.name: level}, offset=0, limit=1)
        # any one row will do: no order, so that the first match ends the read (a page sorted by
        # number would sort every record of the level first: seconds at a million)
        conds = self.repo.conditions(self.ledger, probe)
        t = table_of(self.ledger)
        return self.session.execute(select(t.c.id).where(*conds).limit(1)).first() is not None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        whole = self.query.but(offset=0, limit=None)
        t = table_of(self.ledger)
        conds = self.repo.conditions(self.ledger, whole)
        stmt = self.repo._ordered(select(t), self.ledger, whole, conds)
        refs_needed = any(f.is_reference for f in self.fields)
        chunk: list = []
        for row in self.session.execute(stmt.execution_options(yield_per=CHUNK)).mappings():
            chunk.append(row)
            if len(chunk) >= CHUNK:
                yield from self._values(chunk, refs_needed)
                chunk = []
        if chunk:
            yield from self._values(chunk, refs_needed)

    def _values(self, rows: list, refs_needed: bool) -> Iterator[dict[str, Any]]:
        refs = self.repo.resolve(self.ledger, rows) if refs_needed else {}
        parents = self._parent_labels(rows) if self.ledger.parent is not None else {}
        for row in rows:
            values = {f.name: refs.get((row["id"], f.name)) if f.is_reference else f.from_storage(row[f.name])
                      for f in self.fields}
            if self.ledger.parent is not None:  # a copy names its carrier (所属载体), so the file imports again
                values[PARENT] = parents.get(row["parent_id"])
            yield values

    def _parent_labels(self, rows: list) -> dict[int, str]:
        """Each parent's number (its key field), which is what an import finds a parent by: a
        record's label is its number for a carrier, but a person's name for a person (the
        parent of a 人员档案 or 重大事项报告), and two namesakes would be one."""
        ids = {row["parent_id"] for row in rows if row["parent_id"] is not None}
        if not ids:
            return {}
        parent = LEDGERS[self.ledger.parent]
        t = table_of(parent)
        return dict(self.session.execute(select(t.c.id, t.c[parent.key_field]).where(t.c.id.in_(ids))).all())
