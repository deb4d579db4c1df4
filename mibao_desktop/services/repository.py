"""SQL for ledger records: how a declared ledger maps onto its tables, for reading and writing.

The only module that knows the storage layout (``mibao_desktop.db.schema``): the ``records``
register (id, ledger, label, voided), the ledger's own table with a typed column per field,
its search table, the uniqueness keys, the links of many-valued references and the facet
counts. The ledger service above it knows the rules, the history and the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
import bisect
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import (ColumnElement, Date, DateTime, Integer, and_, any_, case, delete, exists, false, func, insert,
                        literal, literal_column, or_, select, text, tuple_, update)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Join

from mibao_desktop.db import search_index
from mibao_desktop.db.database import CACHE_KIB
from mibao_desktop.db.models import EventTally, FacetCount, Record, RecordEvent, RecordLink, UniqueValue
from mibao_desktop.db.schema import search_table_of, table_of
from mibao_desktop.ledgers import LEDGERS, Ledger, references_to
from mibao_desktop.ledgers.fields import Field, FieldType, Ref, Reference
from mibao_desktop.ledgers.normalize import search_form, search_terms
from mibao_desktop.ledgers import pinyin
from mibao_desktop.ledgers.pinyin import initials


@dataclass
class LedgerQuery:
    """What the table shows: search text, exact filters, sort and the page wanted.

    ``text`` is split on spaces; every word must appear in one of the searchable fields.
    ``filters`` maps a field name to the value it must equal (status, 密级, 部门 …; a person or
    reference field to the record's id).
    """

    text: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    include_voided: bool = False
    parent_id: int | None = None  # a child ledger's records of one parent (a carrier's copies)
    sort: str | None = None
    descending: bool = False
    offset: int = 0
    limit: int | None = 100
    pending: bool = False  # only the records 待补充: a required field empty (ledgers/pending.py)

    def but(self, **changes) -> "LedgerQuery":
        values = dict(text=self.text, filters=dict(self.filters), include_voided=self.include_voided,
                      parent_id=self.parent_id, sort=self.sort, descending=self.descending, offset=self.offset,
                      limit=self.limit, pending=self.pending)
        values.update(changes)
        return LedgerQuery(**values)


BULK_CACHE_KIB = 16384  # SQLite's page cache during a bulk load (the usual one is CACHE_KIB)


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def build_search_text(ledger: Ledger, values: Mapping[str, Any], memo: dict[str, tuple] | None = None) -> str:
    """What the search box finds a record by: the search form of each searchable value, each
    once. ``memo`` (many records written at once) keeps the forms of repeated values, with
    their pinyin initials."""
    forms: list[str] = []
    for name, f, plain in _search_plan(ledger):
        value = values.get(name)
        if value is None:
            continue
        if plain is _PLAIN:  # text as it is shown (most fields): no list to build
            forms.append(value if value.__class__ is str else str(value))
        elif plain is _ONE_REF:  # a person or record: its text
            if value.__class__ is Ref and value.text:
                forms.append(value.text)
            elif value.__class__ is not Ref:
                forms.extend(f.search_forms(value))
        elif plain is _ITEMS:  # a list of texts shown as they are (disks): each item
            forms.extend(v if v.__class__ is str else "" if v is None else str(v) for v in value)
        else:
            forms.extend(f.search_forms(value))
    # each form once (使用人 and 责任人 are often the same person): a shorter text scans faster;
    # then the pinyin initials of those with Chinese in them (zw finds 张伟)
    lines: dict[str, None] = {}
    spoken: list[str] = []
    for form in forms:
        if not form:
            continue
        if form.isascii():  # numbers, serials, MACs: their search form is the text case-folded
            lines[form.casefold()] = None
            continue
        known = memo.get(form) if memo is not None else None
        if known is None:
            folded = search_form(form)
            known = (folded, () if folded.isascii() else initials(folded))
            if memo is not None and len(memo) < 100_000:
                memo[form] = known
        if known[0] not in lines:
            lines[known[0]] = None
            spoken.extend(known[1])
    for spelling in spoken:
        lines.setdefault(spelling, None)
    return "\n".join(lines) + search_index.TEXT_END


_PLAIN, _ONE_REF, _ITEMS = "plain", "one reference", "items"  # how a field's search forms are had


def _search_plan(ledger: Ledger) -> list[tuple[str, Field, str | None]]:
    """(name, field, how its search forms are had) of each searchable field: as its text
    (``_PLAIN``), a reference's text (``_ONE_REF``), each item's text (``_ITEMS``), or asked of
    the field (None). The same forms as :meth:`Field.search_forms`, without its calls per value
    (an import asks them of every row)."""
    plan = _SEARCH_PLANS.get(ledger.key)
    if plan is None or plan[0] is not ledger:
        fields = []
        for f in ledger.searchable_fields:
            kind = type(f.type)
            as_text = kind.search_forms is FieldType.search_forms and kind.display is FieldType.display
            how = (_PLAIN if as_text and not f.many else _ITEMS if as_text
                   else _ONE_REF if not f.many and kind.search_forms is Reference.search_forms else None)
            fields.append((f.name, f, how))
        plan = _SEARCH_PLANS[ledger.key] = (ledger, fields)
    return plan[1]


_SEARCH_PLANS: dict[str, tuple[Ledger, list]] = {}
_SAMPLES: dict[tuple[str, str], tuple[float, "search_index.Sample | None"]] = {}  # (database, table) → (when, sample)
_EDGES: dict[tuple, tuple[float, Any]] = {}
# (id of the connection, (search table, descending, voided too), words) → (the connection, its
# mark, the (sort value, id) of the first row the walk in order found): RecordRepository._walk_start
_WALK_STARTS: dict[tuple, tuple[Any, tuple, tuple]] = {}  # (database, table, column, descending) → (when, the row FIRST_ROWS in)


class OuterFirst(Join):
    """An inner join read from its left side: on SQLite ``CROSS JOIN``, which its planner
    never reorders. A page sorted by 责任人 walks the people in key order and each person's
    records by the reference's index (10 ms at a million computers); left to itself, and
    without statistics, SQLite scanned the million and sorted them (5 s)."""

    inherit_cache = True


@compiles(OuterFirst, "sqlite")
def _cross_join(element, compiler, **kw):
    kw.pop("asfrom", None)
    return (f"{compiler.process(element.left, asfrom=True, **kw)} CROSS JOIN "
            f"{compiler.process(element.right, asfrom=True, **kw)} ON {compiler.process(element.onclause, **kw)}")


def _storage_plan(ledger: Ledger) -> list[tuple[str, str, Any]]:
    """(column, the field it comes from, how the field's value is stored: None when as it is)
    for each column of the ledger table that a value fills: the fields', then the pinyin sort
    keys of names and departments."""
    plan = _STORAGE_PLANS.get(ledger.key)
    if plan is None or plan[0] is not ledger:
        conversions = []
        for f in ledger.fields:
            plain = not f.many and type(f.type).to_storage is FieldType.to_storage
            conversions.append((f.name, f.name, None if plain else f.to_storage))
        conversions += [(f.sort_column, f.name, _pinyin_key) for f in ledger.fields if f.pinyin_sort]
        plan = _STORAGE_PLANS[ledger.key] = (ledger, conversions)
    return plan[1]


def _pinyin_key(value: Any) -> str | None:
    return pinyin.sort_key(str(value)) if value is not None else None


_STORAGE_PLANS: dict[str, tuple[Ledger, list]] = {}


def storage_row(ledger: Ledger, values: Mapping[str, Any]) -> dict[str, Any]:
    """The ledger table's column values for a record's typed values."""
    get = values.get
    return {column: get(name) if convert is None else convert(get(name)) for column, name, convert in _storage_plan(ledger)}


def facet_keys(ledger: Ledger, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (field, value) pairs a record counts under in the facet counts."""
    keys = []
    for f in ledger.facet_fields:
        value = values.get(f.name)
        if value is not None and value != "":
            keys.append((f.name, f.display(value)))
    return keys


class RecordRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.sqlite = self.dialect == "sqlite"
        self.scans = False  # whether the last conditions() search must scan the search table
        self.driver: str | None = None  # the word the search index answered, if any
        self.terms: list[str] = []
        self.driver_ids: list[int] | None = None
        self.broad = False  # the last search is known to match many rows: walk them in order
        self.driver_exact = True  # whether every driver id surely holds the driver word
        self._probed: tuple[str, str, list[int]] | None = None  # (table, word, all its ids) from _probed_first_rows

    # -- reading one record ----------------------------------------------------------------

    def row(self, ledger: Ledger, record_id: int, *, lock: bool = False) -> RowMapping | None:
        t = table_of(ledger)
        stmt = select(t).where(t.c.id == record_id)
        if lock:
            stmt = stmt.with_for_update()
        return self.session.execute(stmt).mappings().first()

    def locate(self, record_id: int) -> Record | None:
        """The register entry of any record: its ledger, label and whether it is voided."""
        return self.session.get(Record, record_id)

    def by_key(self, ledger: Ledger, number: str, *, parent_id: int | None = None) -> RowMapping | None:
        """The record with this number (a record in use before a voided one of the same number)."""
        t = table_of(ledger)
        stmt = select(t).where(t.c[ledger.key_field] == number)
        if parent_id is not None and ledger.parent is not None:
            stmt = stmt.where(t.c.parent_id == parent_id)
        return self.session.execute(stmt.order_by(t.c.voided, t.c.id.desc()).limit(1)).mappings().first()

    def in_use_by_keys(self, ledger: Ledger, numbers: Sequence[str]) -> dict[str, tuple[int, str]]:
        """Number → (id, status) of the records in use with these numbers, a few hundred numbers
        per query (of two with one number, the newest; a voided record is not in use)."""
        t = table_of(ledger)
        key = t.c[ledger.key_field]
        found: dict[str, tuple[int, str]] = {}
        for start in range(0, len(numbers), 500):
            stmt = (select(key, t.c.id, t.c.status).where(key.in_(numbers[start:start + 500]), t.c.voided == False)  # noqa: E712
                    .order_by(t.c.id))
            for number, rid, status in self.session.execute(stmt):
                found[number] = (rid, status)  # the newest last
        return found

    def rows_by_ids(self, ledger: Ledger, ids: Sequence[int]) -> list[RowMapping]:
        """The rows of ``ids``, in that order."""
        if not ids:
            return []
        t = table_of(ledger)
        found = {r["id"]: r for r in self.session.execute(select(t).where(self._among(t.c.id, ids))).mappings()}
        return [found[i] for i in ids if i in found]

    # -- references ---------------------------------------------------------------------------

    def resolve(self, ledger: Ledger, rows: Sequence[Mapping[str, Any]]) -> dict[tuple[int, str], Any]:
        """The references the rows hold, as :class:`Ref` (one) or lists of them (many), keyed by
        (row id, field name): one query for the register, one for the links."""
        single = [f for f in ledger.reference_fields if not f.many]
        many = [f for f in ledger.reference_fields if f.many]
        out: dict[tuple[int, str], Any] = {}
        if not rows or not (single or many):
            return out
        wanted = {r[f.name] for r in rows for f in single if r[f.name] is not None}
        links: list = []
        if many:
            ids = [r["id"] for r in rows]
            for start in range(0, len(ids), 500):
                links += self.session.execute(
                    select(RecordLink.record_id, RecordLink.field, RecordLink.target_id)
                    .where(RecordLink.record_id.in_(ids[start:start + 500]))
                    .order_by(RecordLink.record_id, RecordLink.position)).all()
            wanted |= {link.target_id for link in links}
        labels = self.labels(wanted)
        for r in rows:
            for f in single:
                target = r[f.name]
                out[(r["id"], f.name)] = labels.get(target, Ref(target, "?")) if target is not None else None
        by_record: dict[tuple[int, str], list[Ref]] = {}
        for link in links:
            by_record.setdefault((link.record_id, link.field), []).append(labels.get(link.target_id, Ref(link.target_id, "?")))
        for r in rows:
            for f in many:
                out[(r["id"], f.name)] = by_record.get((r["id"], f.name)) or None
        return out

    def labels(self, ids: Iterable[int]) -> dict[int, Ref]:
        ids = [i for i in set(ids) if i is not None]
        found: dict[int, Ref] = {}
        if not ids:
            return found
        # the ids as one parameter (a JSON text or an array): a page's few hundred references
        # as bound parameters cost more to compile than the query costs to run
        if self.sqlite:
            sql = "SELECT id, label, voided FROM records WHERE id IN (SELECT value FROM json_each(?))"
            param: Any = (json.dumps(ids),)
        else:
            sql = "SELECT id, label, voided FROM records WHERE id = ANY(%s)"
            param = (ids,)
        for rid, label, voided in self.session.connection().exec_driver_sql(sql, param):
            found[rid] = Ref(rid, label, voided=bool(voided))
        return found

    def referrers(self, target_id: int, *, include_voided: bool = False) -> list[tuple[Ledger, Field, int]]:
        """Every (ledger, field, record id) that refers to ``target_id``."""
        located = self.locate(target_id)
        if located is None:
            return []
        found: list[tuple[Ledger, Field, int]] = []
        for ledger, f in references_to(LEDGERS[located.ledger]):
            t = table_of(ledger)
            if f.many:
                stmt = (select(RecordLink.record_id).join(t, t.c.id == RecordLink.record_id)
                        .where(RecordLink.target_id == target_id, RecordLink.field == f.name))
            else:
                stmt = select(t.c.id).where(t.c[f.name] == target_id)
            if not include_voided:
                stmt = stmt.where(t.c.voided == False)  # noqa: E712 (SQL)
            found.extend((ledger, f, rid) for rid in self.session.scalars(stmt.order_by(t.c.id)))
        return found

    def find_labelled(self, ledger: Ledger, text: str) -> list[RowMapping]:
        """Records (not voided) whose label is ``text`` as stored (a number typed or imported
        for a reference, normalised as its field normalises it): an index look-up."""
        t = table_of(ledger)
        stmt = select(t).where(t.c.voided == False, t.c[ledger.label_field] == text).order_by(t.c.id)  # noqa: E712
        return list(self.session.execute(stmt.limit(50)).mappings())

    def find_labelled_many(self, ledger: Ledger, texts: Sequence[str]) -> dict[str, list[RowMapping]]:
        """:meth:`find_labelled` of many texts, a few hundred per query: label → its records
        (not voided), by id."""
        t = table_of(ledger)
        column = t.c[ledger.label_field]
        found: dict[str, list[RowMapping]] = {}
        for start in range(0, len(texts), 500):
            stmt = select(t).where(t.c.voided == False, column.in_(texts[start:start + 500])).order_by(t.c.id)  # noqa: E712
            for row in self.session.execute(stmt).mappings():
                found.setdefault(row[ledger.label_field], []).append(row)
        return found

    def people_named(self, names: Sequence[str]) -> list[RowMapping]:
        """People (not voided) with any of these names."""
        from mibao_desktop.ledgers import PEOPLE

        t = table_of(PEOPLE)
        found: list[RowMapping] = []
        names = list(names)
        for start in range(0, len(names), 500):
            found += self.session.execute(select(t).where(t.c.voided == False,  # noqa: E712
                                                          t.c.name.in_(names[start:start + 500]))).mappings()
        return found

    def suggest(self, ledger: Ledger, text: str, limit: int = 20) -> list[RowMapping]:
        """Records whose label or number starts with ``text`` (for completing a reference)."""
        t = table_of(ledger)
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds = [t.c[ledger.label_field].like(pattern, escape="\\")]
        if ledger.key_field != ledger.label_field:
            conds.append(t.c[ledger.key_field].like(pattern, escape="\\"))
        stmt = (select(t).where(t.c.voided == False, or_(*conds))  # noqa: E712
                .order_by(t.c[ledger.label_field], t.c.id).limit(limit))
        return list(self.session.execute(stmt).mappings())

    # -- querying a ledger ------------------------------------------------------------------

    def conditions(self, ledger: Ledger, query: LedgerQuery) -> list[ColumnElement[bool]]:
        """The WHERE clause of a query, and how it will be answered (``driver``, ``scans``).

        On SQLite the most selective search word of three or more characters drives the
        query from the FTS5 trigram index: its few matching ids are looked up, and the other
        words are checked on just those rows. Without such a word (one or two characters, or
        a word in most rows) each row's text is tested with instr() as the rows are walked in
        the order shown, so that a broad word finds its first page at once. PostgreSQL
        answers LIKE from its trigram index.
        """
        t = table_of(ledger)
        s = search_table_of(ledger)
        terms = search_terms(query.text)
        self.driver = self._pick_driver(ledger, terms)
        self.scans = bool(terms) and self.driver is None
        self.terms = terms
        conds = self.base_conditions(ledger, query)
        if self.driver is not None:
            others = [self._contains(s, term) for term in terms if term != self.driver or not self.driver_exact]
            if others:  # the other words tested on the driver's rows only
                conds.append(t.c.id.in_(select(s.c.id).where(self._among(s.c.id, self.driver_ids), *others)))
            else:
                conds.append(self._among(t.c.id, self.driver_ids))
        elif terms:
            matches = exists().where(s.c.id == t.c.id, *[self._contains(s, term) for term in terms])
            if self.sqlite and not query.include_voided:
                # a walk tests the text first and reads the record's own row only for a match:
                # SQLite tests a condition on the row (voided) before a subquery, so each row
                # walked past was read whole for nothing (ZT-202 at 100,000 carriers: 40,000
                # rows before the first match, 139 → 80 ms)
                conds = [c for c in conds if c is not self._not_voided]
                conds.append(case((matches, self._not_voided), else_=false()))
            else:
                conds.append(matches)
        return conds

    def _among(self, col, ids: Sequence[int]) -> ColumnElement[bool]:
        """``col`` is one of ``ids``, given as one parameter (a JSON text on SQLite, an array on
        PostgreSQL): thousands of bound parameters cost more to compile than the query to run."""
        if self.sqlite:
            return col.in_(select(literal_column("value")).select_from(func.json_each(json.dumps(list(ids)))))
        return col == any_(literal(list(ids), ARRAY(Integer)))

    def base_conditions(self, ledger: Ledger, query: LedgerQuery) -> list[ColumnElement[bool]]:
        """Everything but the search words: voided, parent and the filters."""
        t = table_of(ledger)
        conds: list[ColumnElement[bool]] = []
        if not query.include_voided:
            self._not_voided = t.c.voided == False  # noqa: E712 (SQL, not Python)
            conds.append(self._not_voided)
        if query.parent_id is not None:
            conds.append(t.c.parent_id == query.parent_id)
        if query.pending:
            from sqlalchemy import false

            from mibao_desktop.ledgers.pending import gap_fields

            conds.append(or_(false(), *[t.c[f.name].is_(None) for f in gap_fields(ledger)]))
        for name, value in query.filters.items():
            if value is None or value == "":
                continue
            declared = ledger.field(name)
            if declared.is_reference and isinstance(value, Ref):
                value = value.id
            conds.append(t.c[name] == value)
        return conds

    def _scan(self, ledger: Ledger, query: LedgerQuery, what):
        """``what`` over the rows whose search text matches: the narrow search table is read
        through and only its matches are looked up by id (never a walk of the wide rows)."""
        t, s = table_of(ledger), search_table_of(ledger)
        matching = select(s.c.id).where(*[self._contains(s, term) for term in self.terms])
        return select(what).select_from(t).where(t.c.id.in_(matching), *self.base_conditions(ledger, query))

    def _gather(self, ledger: Ledger) -> list[int]:
        """The ids of up to SPARSE + 1 rows whose search text matches, from the search table
        alone: a selective word is then known whole, a broad one found to be broad at once."""
        s = search_table_of(ledger)
        stmt = select(s.c.id).where(*[self._contains(s, term) for term in self.terms]).limit(self.SPARSE + 1)
        return [r[0] for r in self.session.execute(stmt)]

    DRIVER_MAX = 20_000  # a word in more rows than this is cheaper to find by walking the rows in order
    BROAD_SHARE = 0.01  # words together in this share of the probe's rows: walk the rows in order
    SHORT_WALK = 3  # PostgreSQL: short words in this many texts of the sample are walked, not scanned

    def _pick_driver(self, ledger: Ledger, terms: list[str]) -> str | None:
        """The word whose matching ids the index gives (``driver_ids``), or None.

        A sample of a few thousand texts spread over the table first tells a broad search
        (its words together in more rows than the index should list) from a selective one:
        a broad one is best answered by walking the rows in the order shown, which finds a
        page of 200 in a few thousand rows, while asking the index would list tens of
        thousands of ids (科研一处 at a million records: 18 ms for the index, 4 ms for the
        walk). Of a selective search the rarest word in the sample is asked first; when the
        index lists too many after all, the rows are walked if the words are common (1 % of
        the sample), else scanned.
        """
        self.driver_ids = None
        self.driver_exact = True
        self.broad = False
        if not terms:
            return None
        name = search_table_of(ledger).name
        conn = self.session.connection().connection.driver_connection
        known = self._sample(conn, name)
        if known is None:  # a small table: a scan is as quick
            return None
        together, _parts = known.together(terms)
        rows = self._ledger_rows(ledger)
        if together / known.rows * rows > self.DRIVER_MAX * 1.5:
            self.broad = True  # the index would list more ids than a walk reads rows
            return None
        if not self.sqlite and together >= self.SHORT_WALK and all(len(t) < 3 for t in terms):
            # words pg_trgm cannot answer, in a few thousand rows at least (zz: 1 %): a walk in
            # order reads 200 / share rows for the page, a scan five times as many to find that
            # it holds over SPARSE and then walks as well (zz, a million computers: 252 → 85 ms)
            self.broad = True
            return None
        for _n, _longer, term in sorted((known.count(t), -len(t), t) for t in terms)[:2]:
            if self._probed is not None and self._probed[:2] == (name, term):  # every row of it, just listed
                self.driver_ids, self.driver_exact = self._probed[2], True
                return term
            if self.sqlite:
                found = search_index.term_ids(conn, name, term, self.DRIVER_MAX, known, rows)
            else:
                found = search_index.like_ids(conn, name, term, self.DRIVER_MAX,
                                              search_index.rare_trigrams(known, term)[0])
            if found is not None:
                self.driver_ids, self.driver_exact = found
                return term
        self.broad = together >= known.rows * self.BROAD_SHARE
        return None

    SAMPLE_SECONDS = 60.0  # a sample is kept this long: it steers the plan, never the answer

    def _sample(self, conn, table_name: str) -> search_index.Sample | None:
        """The table's sample, read again once a minute rather than at every keystroke (the
        same few thousand texts, 4-5 ms at a million records): a plan from a sample a minute
        old is as good, and the words are always tested against the rows themselves."""
        key = (str(self.session.get_bind().url), table_name)
        now = time.monotonic()
        kept = _SAMPLES.get(key)
        if kept is not None and now - kept[0] < self.SAMPLE_SECONDS:
            return kept[1]
        known = search_index.sample(conn, table_name)
        _SAMPLES[key] = (now, known)
        return known

    def _contains(self, s, term: str) -> ColumnElement[bool]:
        """search_text contains ``term`` (already case-folded), as LIKE '%term%': on SQLite
        twice as fast as instr() over a million Chinese texts (measured 0.24 against 0.50 s),
        and on PostgreSQL what its trigram index answers."""
        return s.c.search_text.like(_like_pattern(term), escape="\\")

    def _contains_quickly(self, s, term: str) -> list[ColumnElement[bool]]:
        """``_contains``, preceded (SQLite) by the same test of the word's longest run of ASCII
        when it begins with another character: SQLite's LIKE looks for an ASCII first character
        with a quick scan of the bytes, for any other it reads the text a character at a time.
        The run is in every text the word is in, so the answer is the same; a text without it
        is passed over quickly (保字〔2021 over 100,000 texts: 113 → 57 ms, loaded machine).
        On PostgreSQL (a walk in order, which no index answers) strpos(): twice as fast as
        LIKE there (00-1a-2b-00-6 through 12,500 texts: 10.5 → 5.2 ms)."""
        if not self.sqlite:
            return [func.strpos(s.c.search_text, term) > 0]
        if term[:1].isascii():
            return [self._contains(s, term)]
        run = max(re.findall(r"[\x21-\x7e]+", term), key=len, default="")
        return [self._contains(s, run), self._contains(s, term)] if len(run) >= 2 else [self._contains(s, term)]

    def _sort_column(self, ledger: Ledger, name: str):
        """The column a sort by ``name`` orders on, and the join it needs (a reference sorts by
        the label of the record it points to)."""
        t = table_of(ledger)
        declared = ledger.field(name)
        if declared.is_reference and not declared.many:
            target, key, _where = self._reference_sort(declared)
            return key, (target, target.c.id == t.c[name])
        return t.c[declared.sort_column], None

    @staticmethod
    def _reference_sort(declared: Field):
        """What a reference sorts by: the referenced records' register entries by label (a
        computer's number), or, when it points into one ledger whose label is sorted in pinyin
        order (a person), that ledger's table by the label's key, so that 责任人 sorts as 姓名
        does. (target, its key column, the condition that keeps the target to its ledgers)."""
        targets = declared.type.targets
        if len(targets) == 1:
            label = LEDGERS[targets[0]].field(LEDGERS[targets[0]].label_field)
            if label.pinyin_sort:
                target = table_of(targets[0]).alias()
                return target, target.c[label.sort_column], None
        target = Record.__table__.alias()
        return target, target.c.label, target.c.ledger.in_(targets)

    def count(self, ledger: Ledger, query: LedgerQuery, conds=None) -> int:
        if conds is None and not query.text and not query.include_voided and query.parent_id is None \
                and not query.pending:
            fast = self._facet_count(ledger, query.filters)
            if fast is not None:
                return fast
        if conds is None:
            conds = self.conditions(ledger, query)
        if self.scans:
            return self.session.scalar(self._scan(ledger, query, func.count())) or 0
        t = table_of(ledger)
        return self.session.scalar(select(func.count()).select_from(t).where(*conds)) or 0

    def _ledger_rows(self, ledger: Ledger) -> int:
        """The ledger's rows in use, as the facet counts have them, read once by this repository:
        the plans of one search ask it up to four times (0.3 ms each), and it only steers them."""
        memo = self.__dict__.setdefault("_rows_memo", {})
        if ledger.key not in memo:
            memo[ledger.key] = self._facet_count(ledger, {}) or 0
        return memo[ledger.key]

    def _facet_count(self, ledger: Ledger, filters: Mapping[str, Any]) -> int | None:
        """A count the facet counts answer: everything (the statuses summed), or one facet value."""
        active = {k: v for k, v in filters.items() if v not in (None, "")}
        if not active:
            return sum(self.facet_counts(ledger, "status").values())
        if len(active) == 1:
            (name, value), = active.items()
            declared = ledger.field(name)
            if declared.facet:
                return self.facet_counts(ledger, name).get(declared.display(value) if not isinstance(value, str)
                                                           else value, 0)
        return None

    def _ordered(self, stmt, ledger: Ledger, query: LedgerQuery, conds):
        t = table_of(ledger)
        sort_col, join = self._sort_column(ledger, query.sort or ledger.default_sort)
        if join is not None:
            stmt = stmt.outerjoin(join[0], join[1])
        order = sort_col.desc() if query.descending else sort_col.asc()
        tie = t.c.id.desc() if query.descending else t.c.id.asc()
        if join is not None:
            # records that refer to no one come last either way, as _page_by_reference gives
            # them (SQLite would put them first going up, PostgreSQL first going down); these
            # are the few rows of a search, so the sort this costs is small
            order = order.nulls_last()
            if query.descending:  # namesakes newest first, those with no one oldest first
                tie = case((sort_col.is_(None), t.c.id), else_=-t.c.id).asc()
        stmt = stmt.where(*conds).order_by(order, tie)
        if query.offset:
            stmt = stmt.offset(query.offset)
        if query.limit is not None:
            stmt = stmt.limit(query.limit)
        return stmt

    def page(self, ledger: Ledger, query: LedgerQuery, conds=None) -> list[RowMapping]:
        conds = self.conditions(ledger, query) if conds is None else conds
        t = table_of(ledger)
        declared = ledger.field(query.sort or ledger.default_sort)
        if declared.is_reference and not declared.many and self.driver is None:
            return self._page_by_reference(ledger, declared, query, conds)
        return list(self.session.execute(self._ordered(select(t), ledger, query, conds)).mappings())

    def _page_by_reference(self, ledger: Ledger, declared: Field, query: LedgerQuery, conds) -> list[RowMapping]:
        """A page sorted by a person's name (or a referenced number) over the whole ledger.

        Walked from the register's (ledger, label) index into the rows of each person by the
        reference's index, so that the first page costs a page, not a sort of a million rows;
        the records that refer to no one follow at the end.
        """
        t = table_of(ledger)
        target, key, in_targets = self._reference_sort(declared)
        if query.descending:
            order = (key.desc(), t.c.id.desc())
        else:
            order = (key.asc(), t.c.id.asc())
        on = target.c.id == t.c[declared.name]
        # the whole ledger, or a facet filter that keeps much of it (在用): walk the people in
        # key order (OuterFirst); another filter may leave few rows (报废: 50 of 100,000), found
        # by its own index and sorted (3 ms, where walking every person took 500)
        walk = True
        if any(v not in (None, "") for v in query.filters.values()) or query.pending:
            kept = None if query.pending else self._facet_count(ledger, query.filters)
            walk = kept is not None and kept > 0.05 * self._ledger_rows(ledger)
        referring = select(t).select_from(OuterFirst(target, t, on)) if walk else select(t).join(target, on)
        if in_targets is not None:
            referring = referring.where(in_targets)
        referring = referring.where(*conds).order_by(*order)
        if query.offset:
            referring = referring.offset(query.offset)
        if query.limit is not None:
            referring = referring.limit(query.limit)
        rows = list(self.session.execute(referring).mappings())
        if query.limit is not None and len(rows) >= query.limit:
            return rows
        # past the last referring record: those with no one, by id
        before = query.offset
        if before:
            before = max(0, before - (self.session.scalar(
                select(func.count()).select_from(t).where(t.c[declared.name].is_not(None), *conds)) or 0))
        empty = select(t).where(t.c[declared.name].is_(None), *conds).order_by(t.c.id).offset(before)
        if query.limit is not None:
            empty = empty.limit(query.limit - len(rows))
        return rows + list(self.session.execute(empty).mappings())

    # what a walk on PostgreSQL turns off, for its one query
    WALK_SETTINGS = {"enable_bitmapscan": "off", "enable_seqscan": "off", "enable_sort": "off",
                     "max_parallel_workers_per_gather": "0"}

    def _walk(self, ledger: Ledger, query: LedgerQuery, conds) -> list[RowMapping]:
        """A page of a broad search, walked in the order shown. PostgreSQL's planner cannot
        know how common a word is: it would read every match from pg_trgm and sort them all
        (a million for 00-1a-2b), or, taking a word of one character for a rare one (黄: 42
        rows of a million expected), read every text and sort the matches (1.9 s against 57 ms
        walked, a million computers). It is told not to, for this query only: no bitmap, no
        scan of the table, no sort, and no parallel workers, which cost more to start than a
        walk that stops at its first page."""
        if self.sqlite:
            if self._walks_joined(ledger, query):
                return self._walked(ledger, query, self.terms)
            return self.page(ledger, query, conds)
        return self._walking(lambda: self.page(ledger, query, conds))

    def _walking(self, read):
        """``read()`` with PostgreSQL's planner told to walk (WALK_SETTINGS), for its queries only."""
        names = list(self.WALK_SETTINGS)
        setting = text("SELECT " + ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(names))))
        before = self.session.execute(text("SELECT " + ", ".join(f"current_setting(:n{i})" for i in range(len(names)))),
                                      {f"n{i}": n for i, n in enumerate(names)}).one()
        self.session.execute(setting, {**{f"n{i}": n for i, n in enumerate(names)},
                                       **{f"v{i}": self.WALK_SETTINGS[n] for i, n in enumerate(names)}})
        rows = read()
        # put back what it was (a failed page leaves the transaction aborted: nothing to put back)
        self.session.execute(setting, {**{f"n{i}": n for i, n in enumerate(names)},
                                       **{f"v{i}": v for i, v in enumerate(before)}})
        return rows

    SPARSE = 1000  # up to this many matches a scanning search gathers them all in one pass
    FIRST_ROWS = 4000  # a common word's first page is first looked for in this many rows in order

    def _first_rows(self, ledger: Ledger, query: LedgerQuery) -> list[RowMapping] | None:
        """The first page of a search for a word in some thousands of rows, if the first
        FIRST_ROWS rows in the order shown hold it (SQLite; None when they do not, or when the
        search is not such).

        The index would list its thousands of ids, each then read to be sorted (会议纪要 in
        10,000 of 100,000 carriers: 40 ms), while a page of such a word spread through the rows
        is found in the first 2,000 of them (8 ms). Whether it is spread the sample cannot tell
        (it is read by id, not in the order shown): ZT-2021, as common, is in rows that sort
        together in the middle, 50,000 rows into the walk. So the first rows are walked, and
        when they do not hold a page the search goes on as before, having spent a few ms.
        """
        if not self._walks_joined(ledger, query) or query.offset or not query.limit:
            return None
        terms = search_terms(query.text)
        known = self._sample(self.session.connection().connection.driver_connection, search_table_of(ledger).name)
        if not terms or known is None:
            return None
        rows = self._ledger_rows(ledger)
        together = known.together(terms)[0] / known.rows * rows
        # expected in the first rows if spread: twice a page; and not so broad that the walk
        # is taken anyway
        if together * self.FIRST_ROWS < 2 * query.limit * rows or together > self.DRIVER_MAX * 1.5:
            return None
        t = table_of(ledger)
        key = t.c[ledger.field(query.sort or ledger.default_sort).sort_column]
        order = (key.desc(), t.c.id.desc()) if query.descending else (key.asc(), t.c.id.asc())
        # SQLite puts empty values first going up: the first rows are a range of the index only
        # when the first has a value
        first = self.session.execute(select(key, t.c.id).order_by(*order).limit(1)).first()
        edge = self._edge(select(key, t.c.id).order_by(*order), (t.name, key.name, query.descending))
        if first is None or first[0] is None or edge is None or edge[0] is None:
            return None
        found = self._walked(ledger, query, terms, edge=tuple(edge))
        if len(found) < query.limit:
            return None
        # how it was answered, as conditions() says it: walked in order
        self.driver, self.driver_ids, self.driver_exact, self.scans, self.broad, self.terms = \
            None, None, True, True, True, terms
        return found

    WALK_PER_MATCH = 10  # a text read in order costs about a tenth of a match the index lists and sorts

    def _walk_texts_in_order(self, ledger: Ledger, query: LedgerQuery) -> list[RowMapping] | None:
        """A page found by reading the search texts in the order shown (a ledger that keeps them
        so, ``_texts_in_order``), when the sample says that costs less than asking the index:
        the rows read before the page is full, against ten times the rows the index would list
        and sort. Where the matches fall the sample tells by its texts put in order by their
        first line (the sort column's value, folded as searched): ZT-2021's 10,000 carriers
        sort together 50,000 rows in (read in order: 52,000 texts; listed: 10,000 rows each
        looked up and sorted), 会议纪要(4's 1,100 are spread (18,000 texts, or 1,100 rows: the index).
        None when not so answered (SQLite only)."""
        if not self._walks_joined(ledger, query) or self._texts_in_order(ledger, query) is None or not query.limit:
            return None
        terms = search_terms(query.text)
        known = self._sample(self.session.connection().connection.driver_connection, search_table_of(ledger).name)
        if not terms or known is None or not known.rows:
            return None
        rows = self._ledger_rows(ledger)
        share = known.together(terms)[0] / known.rows
        if share * rows <= self.SPARSE:  # a rare word: the index has it at once
            return None
        need = (query.offset + query.limit) / rows * known.rows
        key = ("read in order", tuple(terms), query.descending, need)
        read = known.memo.get(key)
        if read is None:  # (the sample's texts read once a minute for these words, not each keystroke)
            texts = _in_order(known, query.descending)
            found, read = 0, len(texts)
            for read, seen in enumerate(texts, 1):
                if all(term in seen for term in terms):
                    found += 1
                    if found >= need:
                        break
            known.memo[key] = read
        if read / known.rows * rows > self.WALK_PER_MATCH * share * rows:
            return None
        found_rows = self._walked(ledger, query, terms)
        # how it was answered, as conditions() says it: walked in order
        self.driver, self.driver_ids, self.driver_exact, self.scans, self.broad, self.terms = \
            None, None, True, True, True, terms
        return found_rows

    def _edge(self, ordered, key: tuple, rows: int | None = None) -> Any:
        """The row FIRST_ROWS (or ``rows``) into ``ordered``, kept a minute like the sample
        (reaching it walks 4,000 index entries): any row would do as the end of the first rows,
        which then are a few more or fewer as rows are added, and the page found in them is the same."""
        rows = self.FIRST_ROWS if rows is None else rows
        key = (str(self.session.get_bind().url), *key, rows)
        now = time.monotonic()
        kept = _EDGES.get(key)
        if kept is None or now - kept[0] >= self.SAMPLE_SECONDS:
            kept = _EDGES[key] = (now, self.session.execute(ordered.offset(rows).limit(1)).first())
        return kept[1]

    PROBE_IDS = 1000  # rows of a word the index is asked for, to see where they sort
    WALK_ROWS = 40_000  # a walk in order that surely finds its page within this many rows is taken
    # FTS5 reads a phrase's lists whole, however few rows are asked for: a long one of common
    # trigrams costs as much as the search (00-1a-2b-00-60: 40 ms), which term_ids answers
    # from its two rarest trigrams instead; up to 8 characters a probe costs 1-4 ms
    PROBE_LONGEST = 8

    def _probed_first_rows(self, ledger: Ledger, query: LedgerQuery) -> list[RowMapping] | None:
        """The first page of a one-word search, walked in the order shown within the first
        WALK_ROWS rows, when the index shows that at least a page of its rows lies there
        (SQLite; None otherwise, the search then going on as before).

        A word in some thousands of rows costs the index its list and a look-up of each row to
        sort them (jm-01, jmsn001: 10,000 rows, 30-50 ms at a million computers; zz 45 ms),
        while a walk in order passes a row in about half a microsecond (a page of each of those
        within 10,000-30,000 rows: 7-14 ms). The sample cannot tell where such rows sort (jm-01
        is in none of its texts: its rows sort together 10,000 rows in). So the index is asked
        for the word's first PROBE_IDS + 1 rows by id (FTS5 stops there: 1-4 ms). All of them:
        the search is driven by those ids (``_probed``, not asked again). More: those lying within
        the first WALK_ROWS rows in order are counted, and a page of them there means the walk
        fills its page before the end of those rows.
        """
        self._probed = None
        if not self._walks_joined(ledger, query) or query.offset or not query.limit:
            return None
        terms = search_terms(query.text)
        conn = self.session.connection().connection.driver_connection
        name = search_table_of(ledger).name
        known = self._sample(conn, name)
        if len(terms) != 1 or len(terms[0]) > self.PROBE_LONGEST or known is None:
            return None
        rows = self._ledger_rows(ledger)
        if known.together(terms)[0] / known.rows * rows > self.DRIVER_MAX * 1.5:
            return None  # broad: walked from the first row anyway
        ids = search_index.first_ids(conn, name, terms[0], self.PROBE_IDS + 1)
        if ids is None:
            return None
        if len(ids) <= self.PROBE_IDS:  # every row of the word: sorted as the index gives them
            self._probed = (name, terms[0], ids)
            return None
        t = table_of(ledger)
        key = t.c[ledger.field(query.sort or ledger.default_sort).sort_column]
        order = (key.desc(), t.c.id.desc()) if query.descending else (key.asc(), t.c.id.asc())
        first = self.session.execute(select(key, t.c.id).order_by(*order).limit(1)).first()
        edge = self._edge(select(key, t.c.id).order_by(*order), (t.name, key.name, query.descending), self.WALK_ROWS)
        if first is None or first[0] is None or edge is None or edge[0] is None:
            return None  # (empty values first going up: the first rows are not a range of the index)
        within = tuple_(key, t.c.id) >= tuple_(*edge) if query.descending else tuple_(key, t.c.id) <= tuple_(*edge)
        shown = [self._among(t.c.id, ids), within]
        if not query.include_voided:
            shown.append(t.c.voided == false())
        if (self.session.scalar(select(func.count()).select_from(t).where(*shown)) or 0) < query.limit:
            return None
        found = self._walked(ledger, query, terms, edge=tuple(edge))
        if len(found) < query.limit:
            return None  # (rows changed since: the search goes on as before)
        self.driver, self.driver_ids, self.driver_exact, self.scans, self.broad, self.terms = \
            None, None, True, True, True, terms
        return found

    WALK_SHARE = 0.2  # PostgreSQL: a word whose rarest trigrams are in more of the rows is read in order first

    def _pg_walk_in_order(self, ledger: Ledger, query: LedgerQuery) -> list[RowMapping] | None:
        """A page found by reading the texts in the order shown (PostgreSQL, a ledger that keeps
        them so: ``_texts_in_order``), or None when the search goes on as before.

        A broad search, or one of short words only (pg_trgm cannot answer a word of one or two
        characters: it would scan every text to gather them), is read in order to its page: at
        worst every text, what the scan costs (黄子 at a million computers: 480 → 140 ms).

        Of another, the rarest word's rarest pieces (``search_index.rare_trigrams``) tell what
        pg_trgm would list. pg_trgm keeps letters and digits only and has no positions, so the
        start of a number or a MAC (jm-0, 00-1a-2b-00-6) is in its trigrams' rows everywhere:
        such a word is looked for in the first WALK_ROWS rows in order, and answered there when
        they hold a page (00-1a-2b-00-6 is 12,500 rows in: 314 → 22 ms). Any other word is asked
        of pg_trgm for its first PROBE_IDS + 1 rows: all of them, and the search is driven by that
        list (``_probed``: 00-1a-2b-00-60, jmsn00123); more, and those lying within the first
        WALK_ROWS rows in order are counted: a page of them there means the walk bounded at that
        row fills its page (jm-01, jmsn001: 10,200 rows in, where pg_trgm would list and sort
        10,000 rows, 185 → 26 ms)."""
        if self.sqlite or not query.text or query.filters or query.pending or query.parent_id is not None \
                or not query.limit:
            return None
        w = self._texts_in_order(ledger, query)
        terms = search_terms(query.text)
        if w is None or not terms:
            return None
        conn = self.session.connection().connection.driver_connection
        name = search_table_of(ledger).name
        known = self._sample(conn, name)
        if known is None or not known.rows:
            return None
        rows = self._ledger_rows(ledger)
        edge = None
        if known.together(terms)[0] / known.rows * rows <= self.DRIVER_MAX * 1.5 and \
                any(len(term) >= 3 for term in terms):
            term = min((known.count(t), -len(t), t) for t in terms if len(t) >= 3)[2]
            pieces, share = search_index.rare_trigrams(known, term)
            t = table_of(ledger)
            key = t.c[ledger.field(query.sort or ledger.default_sort).sort_column]
            order = (key.desc(), t.c.id.desc()) if query.descending else (key.asc(), t.c.id.asc())
            edge = self._edge(select(key, t.c.id).order_by(*order), (t.name, key.name, query.descending),
                              self.WALK_ROWS + query.offset)
            if share < self.WALK_SHARE:
                ids = search_index.trigram_ids(conn, name, term, pieces, self.PROBE_IDS + 1)
                if len(ids) <= self.PROBE_IDS:  # every row of the word
                    self._probed = (name, term, ids)
                    return None
                if edge is None:
                    return None
                within = tuple_(key, t.c.id) >= tuple_(*edge) if query.descending \
                    else tuple_(key, t.c.id) <= tuple_(*edge)
                shown = [self._among(t.c.id, ids), within]
                if not query.include_voided:
                    shown.append(t.c.voided == false())
                if (self.session.scalar(select(func.count()).select_from(t).where(*shown)) or 0) \
                        < query.offset + query.limit:
                    return None
        found = self._walking(lambda: list(self.session.execute(
            self._walk_in_order(ledger, query, terms, w, None if edge is None else tuple(edge))).mappings()))
        if edge is not None and len(found) < query.limit:
            return None  # not in the first rows: from pg_trgm after all
        # how it was answered, as conditions() says it: walked in order
        self.driver, self.driver_ids, self.driver_exact, self.scans, self.broad, self.terms = \
            None, None, True, True, True, terms
        return found

    def _walks_joined(self, ledger: Ledger, query: LedgerQuery) -> bool:
        """Whether a walk of this search is _walk_joined: SQLite, the order of a column of
        the record's own and nothing but words and voided to test."""
        return (self.sqlite and bool(query.text) and not query.filters and not query.pending
                and query.parent_id is None and not ledger.field(query.sort or ledger.default_sort).is_reference)

    def _walk_joined(self, ledger: Ledger, query: LedgerQuery, terms: list[str], *, edge: tuple | None = None):
        """A walk of the rows in the order shown, each row's text joined and tested before
        anything of the row itself is read: SQLite tests a condition on the row (voided) before
        a subquery, so a walk with EXISTS read each row it passed whole for nothing (ZT-202 at
        100,000 carriers: 40,000 rows before the first match; 112 → 55 ms, loaded machine).
        ``edge``: the (sort value, id) the walk stops at (the first rows)."""
        t = table_of(ledger)
        walk = self._texts_in_order(ledger, query)
        if walk is not None:
            return self._walk_in_order(ledger, query, terms, walk, edge)
        s = search_table_of(ledger)
        words = and_(*[self._contains(s, term) for term in terms])
        test = words if query.include_voided else case((words, t.c.voided == false()), else_=false())
        stmt = select(t).select_from(t.join(s, s.c.id == t.c.id))
        more = []
        if edge is not None:
            key = t.c[ledger.field(query.sort or ledger.default_sort).sort_column]
            more.append(tuple_(key, t.c.id) >= tuple_(*edge) if query.descending else tuple_(key, t.c.id) <= tuple_(*edge))
        return self._ordered(stmt, ledger, query, [test, *more])

    def _texts_in_order(self, ledger: Ledger, query: LedgerQuery):
        """The ledger's search texts kept in the order shown (revision 0029: the carriers by
        登记编号 on SQLite, ``search_index.WALKS``; revision 0031: the computers by 编号 on
        PostgreSQL, ``PG_WALKS``), when this walk is in that order; else None."""
        column = search_index.walks(self.dialect).get(ledger.key)
        if column is None or ledger.field(query.sort or ledger.default_sort).sort_column != column:
            return None
        return search_index.walk_table(search_table_of(ledger).name)

    # A walk in order begins where the first row of a search it narrows was (SQLite). Typing a word
    # a character at a time narrows it: every text holding zt-2021 holds zt-202, so zt-2021's
    # first row is not before zt-202's. A word whose rows sort together late then reads the texts
    # before them once, not at every keystroke (zt-202, zt-2021, zt-2021-, zt-2021-0 at 100,000
    # carriers: 40,000 + 10,000 + 2 × 50,000 texts read → 40,000 + 10,000 + a page twice). Kept
    # for the connection that read it and only while it sees the same rows (``_walk_mark``).
    WALK_FROM_NARROWER = True  # (bench_carrier_keystrokes times the keystrokes without it too)
    WALK_STARTS_KEPT = 256

    def _walk_mark(self) -> tuple | None:
        """(the DB-API connection, what tells that it sees the same rows): SQLite's data_version,
        read in the transaction, is that of its snapshot and moves whenever another connection
        has committed; total_changes counts this connection's own changes, committed or not.
        Equal marks of one connection: the same rows. None in a write transaction (its changes
        may yet be rolled back) and on PostgreSQL."""
        if not self.sqlite:
            return None
        # read once a transaction (a search asks up to three times; it cannot change in a read)
        transaction = self.session.get_transaction()
        kept = self.__dict__.get("_walk_marked")
        if kept is not None and transaction is not None and kept[0] is transaction:
            return kept[1]
        conn = self.session.connection()
        marked = None
        if not conn.get_execution_options().get("mibao_write"):
            raw = conn.connection.driver_connection
            marked = raw, (raw.execute("PRAGMA data_version").fetchone()[0], raw.total_changes)
        self.__dict__["_walk_marked"] = (self.session.get_transaction(), marked)
        return marked

    def _walk_key(self, ledger: Ledger, query: LedgerQuery) -> tuple:
        return (search_table_of(ledger).name, query.descending, query.include_voided)

    def _walk_start(self, ledger: Ledger, query: LedgerQuery, terms: list[str]) -> tuple | None:
        """The (sort value, id) a walk in order of ``terms`` may begin at: the furthest first row
        of a narrower search (each of its words within one of these) read on this connection
        while it saw the same rows; None when there is none. The same words again are not
        answered so: a search is read as the first time it was (and the benchmark times that)."""
        if not self.WALK_FROM_NARROWER or not terms:
            return None
        marked = self._walk_mark()
        if marked is None:
            return None
        raw, mark = marked
        where, start = self._walk_key(ledger, query), None
        for (conn_id, key, words), (conn, seen, first) in list(_WALK_STARTS.items()):
            if conn_id != id(raw) or conn is not raw or key != where or seen != mark or set(words) == set(terms):
                continue
            if all(any(word in term for term in terms) for word in words) and \
                    (start is None or (first < start if query.descending else first > start)):
                start = first
        return start

    NARROWER_ROWS = 20_000  # a walk from a narrower search's first row reads at most this many texts

    def _walk_from_narrower(self, ledger: Ledger, query: LedgerQuery) -> list[RowMapping] | None:
        """The page of a search that narrows one read in order before it (``_walk_start``), read
        in order from that one's first row through at most NARROWER_ROWS texts, when the sample
        shows the words in SPARSE rows or more; None when not found so (the search then goes
        on as before, its walks in order still beginning there). A word typed further is found a
        few rows on: zt-2021-04's 1,000 carriers begin 4,000 rows after zt-2021-0's first row and
        fill their page within 4,200 texts, where the index would list them and look each up to sort."""
        if not self._walks_joined(ledger, query) or not query.limit or self._texts_in_order(ledger, query) is None:
            return None
        terms = search_terms(query.text)
        start = self._walk_start(ledger, query, terms)
        if start is None:
            return None
        known = self._sample(self.session.connection().connection.driver_connection, search_table_of(ledger).name)
        rows = self._ledger_rows(ledger)
        if known is None or not known.rows or not rows or \
                known.together(terms)[0] / known.rows * rows < max(self.SPARSE, query.offset + query.limit):
            return None  # a rare word: the index has it at once (and a walk would read on to the end)
        # the texts read from there to the page, as the sample in order has it: far (zt-202, begun
        # at zt-20's first row, has 40,000 texts before its first), and the search goes on as before
        texts = _in_order(known, query.descending)
        firsts = known.memo.get(("first lines", query.descending))
        if firsts is None:
            firsts = known.memo[("first lines", query.descending)] = [text.split("\n", 1)[0] for text in texts]
        begin = str(start[0]).casefold()  # (as the texts' first lines are: near enough for a plan)
        if query.descending:
            at = len(firsts) - bisect.bisect_right(firsts[::-1], begin)
        else:
            at = bisect.bisect_left(firsts, begin)
        need = (query.offset + query.limit) / rows * known.rows
        read = known.memo.get(("read in order from", tuple(terms), query.descending, need, at))
        if read is None:
            found, read = 0, len(texts) - at
            for read, seen in enumerate(texts[at:], 1):
                if all(term in seen for term in terms):
                    found += 1
                    if found >= need:
                        break
            known.memo[("read in order from", tuple(terms), query.descending, need, at)] = read
        if read / known.rows * rows > self.NARROWER_ROWS:
            return None
        t = table_of(ledger)
        key = t.c[search_index.WALKS[ledger.key]]
        after = tuple_(key, t.c.id) <= tuple_(*start) if query.descending else tuple_(key, t.c.id) >= tuple_(*start)
        order = (key.desc(), t.c.id.desc()) if query.descending else (key.asc(), t.c.id.asc())
        edge = self.session.execute(select(key, t.c.id).where(after).order_by(*order)
                                    .offset(self.NARROWER_ROWS).limit(1)).first()
        found = self._walked(ledger, query, terms, edge=None if edge is None else tuple(edge))
        if edge is not None and len(found) < query.limit:
            return None  # (not within those rows: the search goes on as before)
        # how it was answered, as conditions() says it: walked in order
        self.driver, self.driver_ids, self.driver_exact, self.scans, self.broad, self.terms = \
            None, None, True, True, True, terms
        return found

    def _walked(self, ledger: Ledger, query: LedgerQuery, terms: list[str], *, edge: tuple | None = None
                ) -> list[RowMapping]:
        """The rows of ``_walk_joined``; the first row of a first page read in order is kept for
        the searches that narrow it (``_walk_start``)."""
        rows = list(self.session.execute(self._walk_joined(ledger, query, terms, edge=edge)).mappings())
        if rows and not query.offset and self.WALK_FROM_NARROWER and self._texts_in_order(ledger, query) is not None:
            marked = self._walk_mark()
            column = search_index.WALKS[ledger.key]
            if marked is not None and rows[0][column] is not None:
                raw, mark = marked
                if len(_WALK_STARTS) >= self.WALK_STARTS_KEPT:
                    _WALK_STARTS.clear()
                _WALK_STARTS[(id(raw), self._walk_key(ledger, query), tuple(terms))] = \
                    (raw, mark, (rows[0][column], rows[0]["id"]))
        return rows

    def _walk_in_order(self, ledger: Ledger, query: LedgerQuery, terms: list[str], w, edge: tuple | None):
        """A walk of the texts in the order shown, read one after another from the table that
        keeps them so (a quarter of the cost of looking each up by id: ZT-202 at 100,000
        carriers passes 40,000 texts), each row itself read only for a match."""
        t = table_of(ledger)
        # the words are tested in the walk's own loop (they name its columns only), the row looked
        # up for a match alone
        tests = [test for term in terms for test in self._contains_quickly(w, term)]
        if not query.include_voided:
            tests.append(t.c.voided == false())
        key, tie = (w.c.sort_key.desc(), w.c.id.desc()) if query.descending else (w.c.sort_key.asc(), w.c.id.asc())
        stmt = select(t).select_from(OuterFirst(w, t, t.c.id == w.c.id)).where(*tests).order_by(key, tie)
        if edge is not None:
            edge = tuple_(*edge)
            stmt = stmt.where(tuple_(w.c.sort_key, w.c.id) >= edge if query.descending
                              else tuple_(w.c.sort_key, w.c.id) <= edge)
        start = self._walk_start(ledger, query, terms)
        if start is not None:  # no row before it holds the words (a narrower search's first row)
            start = tuple_(*start)
            stmt = stmt.where(tuple_(w.c.sort_key, w.c.id) <= start if query.descending
                              else tuple_(w.c.sort_key, w.c.id) >= start)
        if query.offset:
            stmt = stmt.offset(query.offset)
        if query.limit is not None:
            stmt = stmt.limit(query.limit)
        return stmt

    def page_with_total(self, ledger: Ledger, query: LedgerQuery, *, count: bool = True
                        ) -> tuple[list[RowMapping], int | None]:
        """One page and the number of matches (None when ``count`` is False and the number is
        not known for free).

        Without search text the count comes from the facet counts or an index. A search driven
        by the FTS index counts its few rows in the same query that sorts them. A scanning
        search first gathers matching ids from the narrow search table, stopping after SPARSE
        of them: a selective search then has every match from that one scan and sorts just
        those; a broad one finds its first page quickly in sort order (most rows match), and
        its count is a scan of its own.
        """
        t = table_of(ledger)
        self._probed = None
        first = self._walk_from_narrower(ledger, query)
        if first is None:
            first = self._walk_texts_in_order(ledger, query)
        if first is None:
            first = self._first_rows(ledger, query)
        if first is None:
            first = self._probed_first_rows(ledger, query)
        if first is None:
            first = self._pg_walk_in_order(ledger, query)
        if first is not None:
            return first, (self.count(ledger, query) if count else None)
        conds = self.conditions(ledger, query)
        if self.driver is not None:  # a few thousand rows from the FTS index: count as we sort
            if not count and len(self.driver_ids) > self.SPARSE:
                # the page alone (the table asks the count after it): sorting for the first
                # rows keeps 200, a count over them all costs as much again (5 of 10 ms for jm-01)
                ids = [r[0] for r in self.session.execute(self._ordered(select(t.c.id), ledger, query, conds))]
                # the last page: every match is known (not past the end, where nothing is)
                short = query.limit is not None and len(ids) < query.limit and (ids or not query.offset)
                return self.rows_by_ids(ledger, ids), (query.offset + len(ids) if short else None)
            stmt = self._ordered(select(t.c.id, func.count().over()), ledger, query, conds)
            ranked = self.session.execute(stmt).all()
            if not ranked:
                return [], (self.count(ledger, query, conds) if query.offset and count else (None if query.offset else 0))
            return self.rows_by_ids(ledger, [r[0] for r in ranked]), ranked[0][1]
        if not self.scans:
            rows = self.page(ledger, query, conds)
            return rows, (self.count(ledger, query) if count else None)
        found = [] if self.broad else self._gather(ledger)
        if self.broad or len(found) > self.SPARSE:  # broad: the first page comes at once in sort order
            rows = self._walk(ledger, query, conds)
            return rows, (self.count(ledger, query, conds) if count else None)
        if not found:
            return [], 0
        every = query.but(offset=0, limit=None)
        ordered = [r[0] for r in self.session.execute(self._ordered(
            select(t.c.id), ledger, every, [t.c.id.in_(found), *self.base_conditions(ledger, query)]))]
        end = None if query.limit is None else query.offset + query.limit
        return self.rows_by_ids(ledger, ordered[query.offset:end]), len(ordered)

    def facet_counts(self, ledger: Ledger, name: str) -> dict[str, int]:
        rows = self.session.execute(select(FacetCount.value, FacetCount.count)
                                    .where(FacetCount.ledger == ledger.key, FacetCount.field == name))
        return {value: n for value, n in rows if n}

    def distinct_values(self, ledger: Ledger, name: str) -> list[str]:
        declared = ledger.field(name)
        order = _pinyin_key if declared.pinyin_sort else None  # a department list as the table sorts it
        if declared.facet:
            return sorted(self.facet_counts(ledger, name), key=order)
        t = table_of(ledger)
        col = t.c[name]
        rows = self.session.execute(select(col).where(t.c.voided == False).distinct()).scalars()  # noqa: E712
        return sorted((declared.display(declared.from_storage(v)) for v in rows if v not in (None, "")), key=order)

    # -- uniqueness ------------------------------------------------------------------------

    def clashes(self, scope: str, keys: Iterable[tuple[str, str]], exclude_record: int | None
                ) -> dict[tuple[str, str], Record]:
        """Which (field, value) keys are already held in the scope, and by which record."""
        wanted = list(keys)
        if not wanted:
            return {}
        fields = {name for name, _ in wanted}
        values = {value for _, value in wanted}
        stmt = (
            select(UniqueValue.field, UniqueValue.value, Record)
            .join(Record, Record.id == UniqueValue.record_id)
            .where(UniqueValue.scope == scope, UniqueValue.field.in_(fields), UniqueValue.value.in_(values))
        )
        found: dict[tuple[str, str], Record] = {}
        wanted_set = set(wanted)
        for field_name, value, record in self.session.execute(stmt):
            if (field_name, value) in wanted_set and record.id != exclude_record:
                found[(field_name, value)] = record
        return found

    def all_keys(self, scope: str, keys: Iterable[tuple[str, str]] | None = None) -> dict[tuple[str, str], int]:
        """Which of these (field, value) keys are held in a scope, and by which record (for
        large imports: one query per field and few hundred values instead of one per row);
        every key of the scope when ``keys`` is None."""
        base = select(UniqueValue.field, UniqueValue.value, UniqueValue.record_id).where(UniqueValue.scope == scope)
        if keys is None:
            return {(f, v): rid for f, v, rid in self.session.execute(base)}
        if self.session.scalar(select(UniqueValue.record_id).where(UniqueValue.scope == scope).limit(1)) is None:
            return {}  # nothing held in the scope yet (a first import): no need to ask value by value
        by_field: dict[str, set[str]] = {}
        for f, v in keys:
            by_field.setdefault(f, set()).add(v)
        found: dict[tuple[str, str], int] = {}
        if self.dialect == "postgresql":
            # one query per field, the values as one array: 500 at a time was 500 queries per
            # 50,000 rows, each planned on the statistics of before the last batch's rows went in
            # (a sequential scan each: 24 s of an import of 100,000 computers in two batches).
            # Never prepared (straight through psycopg, prepare=False), so each is planned with
            # its own array: psycopg prepares a statement run five times, and the server then
            # kept one generic plan for any array, a sequential scan comparing every row with
            # every key in turn (no hashing for a parameter): two minutes a field at 150,000
            # computers, where the plan made for the values takes 0.12 s
            sql = (f"SELECT field, value, record_id FROM {UniqueValue.__tablename__} "
                   "WHERE scope = %s AND field = %s AND value = ANY(%s)")
            self.session.flush()  # (what the session holds unwritten is asked about too, as execute would)
            dbapi = self.session.connection().connection.dbapi_connection
            with dbapi.cursor() as cursor:
                for f, values in by_field.items():
                    cursor.execute(sql, (scope, f, sorted(values)), prepare=False)
                    for field_name, value, rid in cursor.fetchall():
                        found[(field_name, value)] = rid
            return found
        for f, values in by_field.items():
            values = sorted(values)
            for start in range(0, len(values), 500):  # (scope, field, value) is the unique index
                stmt = base.where(UniqueValue.field == f, UniqueValue.value.in_(values[start:start + 500]))
                for field_name, value, rid in self.session.execute(stmt):
                    found[(field_name, value)] = rid
        return found

    def scoped_keys(self, keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
        """Which of these (scope, field, value) keys are held, and by which record: the keys of
        child records, each unique within its parent's scope (份号 within its carrier), asked
        for a few hundred scopes at a time."""
        by_scope: dict[str, set[tuple[str, str]]] = {}
        for scope, f, v in keys:
            by_scope.setdefault(scope, set()).add((f, v))
        scopes = sorted(by_scope)
        found: dict[tuple[str, str, str], int] = {}
        for start in range(0, len(scopes), 500):
            part = scopes[start:start + 500]
            fields = {f for s in part for f, _ in by_scope[s]}
            stmt = select(UniqueValue.scope, UniqueValue.field, UniqueValue.value, UniqueValue.record_id).where(
                UniqueValue.scope.in_(part), UniqueValue.field.in_(fields))
            for scope, field_name, value, rid in self.session.execute(stmt):
                if (field_name, value) in by_scope[scope]:
                    found[(scope, field_name, value)] = rid
        return found

    def set_keys(self, record_id: int, scope: str, keys: Iterable[tuple[str, str]]) -> None:
        self.release_keys(record_id)
        rows = [{"scope": scope, "field": f, "value": v, "record_id": record_id} for f, v in keys]
        if rows:
            self.session.execute(insert(UniqueValue.__table__), rows)

    def release_keys(self, record_id: int) -> None:
        self.session.execute(delete(UniqueValue).where(UniqueValue.record_id == record_id))

    # -- writing ------------------------------------------------------------------------------

    def allocate_ids(self, n: int) -> list[int]:
        """Ids for ``n`` new records. SQLite: the write transaction holds the database, so the
        next ids after the largest are free. PostgreSQL: taken from the register's sequence,
        so that other workstations writing at the same time get others."""
        if n <= 0:
            return []
        if self.sqlite:
            # ids handed out earlier in this transaction may not be stored yet (an import
            # numbers its rows, then adds a new person on the way): continue after them
            start = max((self.session.scalar(select(func.max(Record.id))) or 0) + 1,
                        self.session.info.get("mibao_next_id", 0))
            self.session.info["mibao_next_id"] = start + n
            return list(range(start, start + n))
        rows = self.session.execute(select(func.nextval("records_id_seq")).select_from(
            func.generate_series(1, n))).scalars()
        return list(rows)

    CHUNK = 5000  # records stored per round of an insert: the rows in flight stay a few MB

    def insert(self, ledger: Ledger, items: Sequence[tuple[int, Mapping[str, Any], int | None]],
               now: dt.datetime, scope_of, *, progress=None) -> None:
        """Store new records: (id, typed values, parent id) each. ``scope_of(parent_id)`` is the
        uniqueness scope of the record's keys. Stored a few thousand at a time (an import of
        100,000 records holds no more than that many storage rows at once); ``progress(done)``
        is told after each round."""
        if not items:
            return
        # a sample taken before a large import would steer the next searches wrongly
        _SAMPLES.pop((str(self.session.get_bind().url), search_table_of(ledger).name), None)
        facets: Counter = Counter()
        bulk = self._bulk_load(ledger, len(items))
        # many records into a ledger that holds more: its FTS index grows chunk by chunk, its
        # segments merged sixteen at a time while the import adds them (search_index.set_automerge)
        merging = self.sqlite and not bulk and len(items) >= self.BULK_MIN
        if merging:
            search_index.set_automerge(self.session.connection(), search_table_of(ledger).name,
                                       search_index.BULK_AUTOMERGE)
        memo: dict = {}  # the search forms of repeated values (departments, names, places), for every round
        for start in range(0, len(items), self.CHUNK):
            facets.update(self._insert_chunk(ledger, items[start:start + self.CHUNK], now, scope_of,
                                             fts=not bulk, memo=memo))
            if progress is not None:
                progress(min(start + self.CHUNK, len(items)))
        if merging:
            search_index.set_automerge(self.session.connection(), search_table_of(ledger).name,
                                       search_index.AUTOMERGE)
        if bulk:
            self._end_bulk_load(ledger)
        self.add_facets(ledger, facets)

    BULK_MIN = 5000  # records in one insert from which a load into a small ledger rebuilds its indexes

    def _bulk_load(self, ledger: Ledger, count: int) -> bool:
        """A large import into a ledger holding fewer records than it brings (a unit's first
        import): its column indexes are set aside and built again once the rows are in, and the
        FTS index is rebuilt in one pass. Building an index from sorted rows is several times
        cheaper than growing fifteen indexes row by row; all of it is inside the import's own
        transaction, so a refusal or a cancel rolls the indexes back with the rows. (Not on
        PostgreSQL: dropping an index would lock out the other workstations' readers.)"""
        if not self.sqlite or count < self.BULK_MIN:
            return False
        t = table_of(ledger)
        held = self.session.scalar(select(func.count()).select_from(select(t.c.id).limit(count).subquery()))
        if held >= count:
            return False
        conn = self.session.connection()
        for index in t.indexes:
            index.drop(conn)
        # rows are appended and indexes built from sorted runs: a large page cache buys nothing
        # here (measured), and the import's memory is better left to its rows
        conn.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        return True

    def _end_bulk_load(self, ledger: Ledger) -> None:
        conn = self.session.connection()
        try:
            for index in table_of(ledger).indexes:
                index.create(conn)
            search_index.rebuild(conn, search_table_of(ledger).name, bulk=True)
        finally:
            conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
            conn.exec_driver_sql("PRAGMA shrink_memory")

    def _insert_chunk(self, ledger: Ledger, items: Sequence[tuple[int, Mapping[str, Any], int | None]],
                      now: dt.datetime, scope_of, *, fts: bool = True, memo: dict | None = None) -> Counter:
        """One round of :meth:`insert`. Every table's rows are built as tuples in the driver's
        form straight from the values (no dict per row, no per-row parameter processing): at
        100,000 records the Python around the inserts cost more than SQLite's inserts."""
        t, s = table_of(ledger), search_table_of(ledger)
        label_field = ledger.label_field
        key = ledger.key
        self._insert_tuples(Record.__table__, ["id", "ledger", "label", "voided"], [
            (rid, key, str(values.get(label_field) or ""), False) for rid, values, _ in items])
        rows, texts, links, keys = [], [], [], []
        child = ledger.parent is not None
        many_refs = any(f.many for f in ledger.reference_fields)
        scope = None if child else scope_of(None)
        memo = {} if memo is None else memo
        steps = self._driver_steps(ledger, t)
        columns = [column for column, _, _ in steps] + ["id", "voided", "void_reason", "created_at", "updated_at",
                                                        "version"]
        stamp = _sqlite_value(now) if self.sqlite else now
        tail = (False, None, stamp, stamp, 1)
        if child:
            columns.append("parent_id")
        # facet values counted as they are, shown (f.display) once per distinct value at the end
        facet_fields = [(f.name, f) for f in ledger.facet_fields]
        counted: dict[str, Counter] = {name: Counter() for name, _f in facet_fields}
        facets: Counter = Counter()
        for rid, values, parent_id in items:
            get = values.get
            row = [get(name) if convert is None else convert(get(name)) for _, name, convert in steps]
            row.append(rid)
            row.extend(tail)
            if child:
                row.append(parent_id)
            rows.append(tuple(row))
            texts.append((rid, build_search_text(ledger, values, memo)))
            if many_refs:
                links.extend(self._link_rows(ledger, rid, values))
            where = scope_of(parent_id) if child else scope
            keys.extend([(where, f, v, rid) for f, v in _unique_keys(ledger, values)])
            for name, f in facet_fields:
                value = get(name)
                if value is None or value == "":
                    continue
                try:
                    counted[name][value] += 1
                except TypeError:  # a list: not a key, shown at once
                    facets[(name, f.display(value))] += 1
        for name, f in facet_fields:
            for value, n in counted[name].items():
                facets[(name, f.display(value))] += n
        self._insert_tuples(t, columns, rows)
        del rows
        self._insert_tuples(s, ["id", "search_text"], texts)
        if self.sqlite and not fts:
            pass  # a bulk load rebuilds the FTS index once at the end
        elif self.sqlite:  # the FTS index straight through the driver (search_index.add, without its per-row cost)
            self.session.connection().exec_driver_sql(
                f"INSERT INTO {search_index.fts_table(s.name)}(rowid, search_text) VALUES (?, ?)", texts)
        else:
            search_index.add(self.session, s.name, texts)
        if links:
            self.bulk_insert(RecordLink.__table__, links)
        # in the unique index's order: each round then fills its pages one after another instead
        # of landing all over the index
        keys.sort()
        self._insert_tuples(UniqueValue.__table__, ["scope", "field", "value", "record_id"], keys)
        return facets

    def _driver_steps(self, ledger: Ledger, t) -> list[tuple[str, str, Any]]:
        """(column, field, conversion to the driver's form or None) of each column a value
        fills: the storage plan, with the usual conversions replaced by direct ones (a date's
        text for SQLite, a person's id, a list's lines) that give the same values."""
        steps = []
        for column, name, convert in _storage_plan(ledger):
            declared = ledger.field(name) if ledger.has_field(name) else None
            if self.sqlite and isinstance(t.c[column].type, (Date, DateTime)):
                convert = _sqlite_date if isinstance(t.c[column].type, Date) else _sqlite_value
            elif declared is not None and convert == declared.to_storage:
                kind = type(declared.type)
                if declared.many and not declared.is_reference and kind.to_storage is FieldType.to_storage:
                    convert = _lines
                elif not declared.many and declared.is_reference and kind.to_storage is Reference.to_storage:
                    convert = _ref_id
            steps.append((column, name, convert))
        return steps

    def insert_events(self, ledger_key: str, record_ids: Sequence[int], at: dt.datetime, actor: str, action: str,
                      reason: str | None) -> None:
        """One history event of the same kind for each record (an import's): written as
        tuples a few thousand at a time, not a dict per event (100,000 dicts were the largest
        thing an import held at once)."""
        stamp = _sqlite_value(at) if self.sqlite else at
        columns = ["record_id", "ledger", "at", "actor", "action", "reason", "effective_date"]
        for start in range(0, len(record_ids), self.CHUNK):
            self._insert_tuples(RecordEvent.__table__, columns, [
                (rid, ledger_key, stamp, actor, action, reason, None) for rid in record_ids[start:start + self.CHUNK]])

    def insert_returning_ids(self, table, rows: list[dict[str, Any]]) -> list[int]:
        """Insert rows whose ids are generated (history events) and return their ids, in order."""
        if not rows:
            return []
        if self.sqlite:
            # the write transaction holds the database: the ids after the largest are free
            start = (self.session.scalar(select(func.max(table.c.id))) or 0) + 1
            ids = list(range(start, start + len(rows)))
            self.bulk_insert(table, [{"id": i, **row} for i, row in zip(ids, rows)])
            return ids
        return list(self.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                         rows).scalars())

    def bulk_insert(self, table, rows: list[dict[str, Any]]) -> None:
        """Insert many rows of one shape. On SQLite straight through the driver's executemany:
        SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself (an
        import of a million records). Dates and times are written in SQLAlchemy's own SQLite
        format, so that they read back the same."""
        if not rows:
            return
        columns = list(rows[0])
        if not self.sqlite and self.dialect != "postgresql":
            self.session.execute(insert(table), rows)
            return
        getter = itemgetter(*columns)
        params = list(map(getter, rows)) if len(columns) > 1 else [(row[columns[0]],) for row in rows]
        if self.sqlite:
            # only the date and time columns need converting: the others go through as they are
            timed = [i for i, c in enumerate(columns) if c in table.c and isinstance(table.c[c].type, (Date, DateTime))]
            if timed:
                # each distinct date or time written once (an import's events all share one)
                written: dict[Any, Any] = {None: None}
                for n, values in enumerate(params):
                    values = list(values)
                    for i in timed:
                        value = values[i]
                        stored = written.get(value, written)
                        if stored is written:
                            stored = written[value] = _sqlite_value(value)
                        values[i] = stored
                    params[n] = tuple(values)
        self._insert_tuples(table, columns, params)

    def _insert_tuples(self, table, columns: list[str], params: list[tuple]) -> None:
        """Insert rows given as tuples in the order of ``columns``, already in the driver's form
        (SQLite: dates as text, see :func:`_sqlite_value`)."""
        if not params:
            return
        if self.dialect == "postgresql":  # COPY: one stream instead of a statement per row
            dbapi = self.session.connection().connection.dbapi_connection
            with dbapi.cursor() as cursor:
                with cursor.copy(f"COPY {table.name} ({', '.join(_quote(c) for c in columns)}) FROM STDIN") as copy:
                    for row in params:
                        copy.write_row(row)
            return
        if not self.sqlite:
            self.session.execute(insert(table), [dict(zip(columns, row)) for row in params])
            return
        sql = f"INSERT INTO {table.name} ({', '.join(_quote(c) for c in columns)}) VALUES ({', '.join('?' * len(columns))})"
        self.session.connection().exec_driver_sql(sql, params)

    @staticmethod
    def _link_rows(ledger: Ledger, record_id: int, values: Mapping[str, Any]) -> list[dict]:
        out = []
        for f in ledger.reference_fields:
            if f.many:
                out.extend({"record_id": record_id, "field": f.name, "target_id": ref.id, "position": i}
                           for i, ref in enumerate(values.get(f.name) or ()))
        return out

    def write_values(self, ledger: Ledger, record_id: int, old: Mapping[str, Any], values: Mapping[str, Any],
                     now: dt.datetime, *, voided: bool, counted: bool = True) -> None:
        """Store changed values of a record: its row, label, search text and links; facet
        counts move from the old values to the new (``counted``: the record is in the counts,
        i.e. not voided)."""
        t = table_of(ledger)
        row = storage_row(ledger, values)
        self.session.execute(update(t).where(t.c.id == record_id)
                             .values(**row, updated_at=now, version=t.c.version + 1))
        label = str(values.get(ledger.label_field) or "")
        if str(old.get(ledger.label_field) or "") != label:
            self.session.execute(update(Record).where(Record.id == record_id).values(label=label))
        self.reindex(ledger, record_id, values)
        if any(f.many and old.get(f.name) != values.get(f.name) for f in ledger.reference_fields):
            self.session.execute(delete(RecordLink).where(RecordLink.record_id == record_id))
            links = self._link_rows(ledger, record_id, values)
            if links:
                self.session.execute(insert(RecordLink), links)
        if counted:
            self.move_facets(ledger, old, values)

    def reindex(self, ledger: Ledger, record_id: int, values: Mapping[str, Any]) -> None:
        """Put the record's search text in line with its values."""
        s = search_table_of(ledger)
        new_text = build_search_text(ledger, values)
        old_text = self.session.scalar(select(s.c.search_text).where(s.c.id == record_id))
        if old_text == new_text:
            return
        if old_text is not None:
            search_index.remove(self.session, s.name, [(record_id, old_text)])
            self.session.execute(update(s).where(s.c.id == record_id).values(search_text=new_text))
        else:
            self.session.execute(insert(s), [{"id": record_id, "search_text": new_text}])
        search_index.add(self.session, s.name, [(record_id, new_text)])

    def refresh_labels(self, ledger: Ledger, record_id: int, values: Mapping[str, Any]) -> None:
        """Keep a many-reference field's stored labels (what the table shows and sorts by) in
        line with the records it refers to, after one of them was renumbered."""
        t = table_of(ledger)
        many = {f.name: "\n".join(r.text for r in values.get(f.name) or ()) or None
                for f in ledger.reference_fields if f.many}
        if many:
            self.session.execute(update(t).where(t.c.id == record_id).values(**many))

    def set_voided(self, ledger: Ledger, record_id: int, voided: bool, reason: str | None, now: dt.datetime,
                   values: Mapping[str, Any]) -> None:
        t = table_of(ledger)
        self.session.execute(update(t).where(t.c.id == record_id)
                             .values(voided=voided, void_reason=reason, updated_at=now, version=t.c.version + 1))
        self.session.execute(update(Record).where(Record.id == record_id).values(voided=voided))
        keys = facet_keys(ledger, values)
        self.add_facets(ledger, Counter({k: -1 if voided else 1 for k in keys}))

    def set_status(self, ledger: Ledger, record_id: int, old: str, new: str, now: dt.datetime) -> None:
        t = table_of(ledger)
        self.session.execute(update(t).where(t.c.id == record_id)
                             .values(status=new, updated_at=now, version=t.c.version + 1))
        if ledger.field("status").facet:
            self.add_facets(ledger, Counter({("status", old): -1, ("status", new): 1}))

    def move_facets(self, ledger: Ledger, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        delta = Counter(facet_keys(ledger, new))
        delta.subtract(Counter(facet_keys(ledger, old)))
        self.add_facets(ledger, delta)

    def add_facets(self, ledger: Ledger, delta: Mapping[tuple[str, str], int]) -> None:
        """Add ``delta`` to the facet counts, in SQL (``count = count + n``), so that writers on
        several workstations never lose each other's changes."""
        rows = [{"ledger": ledger.key, "field": f, "value": v[:200], "count": n} for (f, v), n in delta.items() if n]
        self._add_counts(FacetCount, ["ledger", "field", "value"], rows)

    def tally(self, ledger: Ledger, year: int, action: str, status: str = "", n: int = 1) -> None:
        """Count ``n`` events of a kind in the ledger's year (see EventTally)."""
        self._add_counts(EventTally, ["ledger", "year", "action", "status"],
                         [{"ledger": ledger.key, "year": year, "action": action, "status": status or "", "count": n}])

    def tallies(self, ledger: Ledger, year: int) -> dict[tuple[str, str], int]:
        rows = self.session.execute(select(EventTally.action, EventTally.status, EventTally.count)
                                    .where(EventTally.ledger == ledger.key, EventTally.year == year))
        return {(action, status): n for action, status, n in rows}

    def _add_counts(self, model, keys: list[str], rows: list[dict]) -> None:
        if not rows:
            return
        if self.sqlite:
            from sqlalchemy.dialects.sqlite import insert as upsert
        else:
            from sqlalchemy.dialects.postgresql import insert as upsert
        stmt = upsert(model)
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_={"count": model.count + stmt.excluded.count})
        self.session.execute(stmt, rows)

    def recount_facets(self, ledger: Ledger) -> None:
        """Count every facet again from the rows (after a migration, or to repair)."""
        t = table_of(ledger)
        self.session.execute(delete(FacetCount).where(FacetCount.ledger == ledger.key))
        for f in ledger.facet_fields:
            rows = self.session.execute(select(t.c[f.name], func.count()).where(t.c.voided == False)  # noqa: E712
                                        .group_by(t.c[f.name])).all()
            values = [{"ledger": ledger.key, "field": f.name, "value": f.display(f.from_storage(v))[:200], "count": n}
                      for v, n in rows if v is not None and v != ""]
            if values:
                self.session.execute(insert(FacetCount), values)


_ORDERED_SAMPLES: dict[int, tuple[Any, list[str], list[str]]] = {}  # id(sample) → (it, texts up, texts down)


def _in_order(known: search_index.Sample, descending: bool) -> list[str]:
    """The sample's texts in the order of their first line (the sort column's value as searched,
    for a ledger whose texts are kept in order): where a word's rows fall, roughly."""
    kept = _ORDERED_SAMPLES.get(id(known))
    if kept is None or kept[0] is not known:
        texts = sorted((t for chunk in known.chunks for t in chunk), key=lambda t: t.split("\n", 1)[0])
        _ORDERED_SAMPLES.clear()  # (one sample a table a minute: the last few are enough)
        kept = _ORDERED_SAMPLES[id(known)] = (known, texts, texts[::-1])
    return kept[2] if descending else kept[1]


def _quote(name: str) -> str:
    return f'"{name}"'


def _sqlite_date(value: Any) -> Any:
    """A date column's value as SQLAlchemy's SQLite dialect stores it (see _sqlite_value)."""
    return value.isoformat() if value.__class__ is dt.date else _sqlite_value(value)


def _lines(value: Any) -> str | None:
    """Field.to_storage of a list of items stored as they are: one per line."""
    if value is None:
        return None
    try:
        return "\n".join(value)
    except TypeError:
        return "\n".join(map(str, value))


def _ref_id(value: Any) -> int | None:
    """Field.to_storage of one reference: the record's id."""
    return None if value is None else value.id


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(" ", "microseconds")  # SQLAlchemy's SQLite DATETIME format
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def unique_keys(ledger: Ledger, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (field, case-folded value) pairs of a record that must be unique in its scope: what
    :meth:`Field.unique_keys` gives, without its calls for text stored as it is (an import
    asks this of every row)."""
    plan = _UNIQUE_PLANS.get(ledger.key)
    if plan is None or plan[0] is not ledger:
        plan = _UNIQUE_PLANS[ledger.key] = (ledger, [
            (f.name, f.many, type(f.type).to_storage is FieldType.to_storage, f) for f in ledger.unique_fields])
    out: list[tuple[str, str]] = []
    for name, many, plain, f in plan[1]:
        value = values.get(name)
        if value is None:
            continue
        for v in (value if many else (value,)):
            out.append((name, (v if plain and v.__class__ is str else str(f.type.to_storage(v))).casefold()))
    return out


_unique_keys = unique_keys
_UNIQUE_PLANS: dict[str, tuple[Ledger, list]] = {}


__all__ = ["LedgerQuery", "RecordRepository", "build_search_text", "facet_keys", "storage_row", "unique_keys"]
