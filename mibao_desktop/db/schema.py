"""Each ledger's table, generated from its declaration: one typed column per field.

A ledger ``computers`` is stored in ``ledger_computers``. Its columns are the storage columns
(``id``, shared with the ``records`` register; ``parent_id`` for a child ledger; ``voided``,
``void_reason``, the times and the version) and one column per declared field,
named as the field:

==========================  =========================================================
field type                  column
==========================  =========================================================
Text, Choice, MAC, ID       VARCHAR(max length)
Level (密级)                 VARCHAR(10)
SecrecyPeriod (保密期限)     INTEGER (years; 长期 = 9999)
Date                        DATE
Integer                     INTEGER
Tenths (学时 1.5)           INTEGER (tenths: 15)
Reference, Person           INTEGER, a foreign key to ``records.id``
a list (``many``)           TEXT, one item per line; a list of references keeps the labels
                            here and the ids in ``record_links``
==========================  =========================================================

A field sorted in pinyin order (names, departments: ``pinyin_sort``) has a second column,
``<field>__pinyin``, holding its sort key (``ledgers.pinyin.sort_key``), indexed like the field:
a page sorted by 部门 is then an index range in 拼音 order. On PostgreSQL the key column is
collated "C", so that the key's bytes decide and not the locale (which skips the separators).

Every field that is shown, filtered (a facet), a reference, a date or computed gets an index
on (field, id),
so that sorting by any shown column and every reminder query is an index range. What the
search box looks in is ``ledger_<key>_search`` (id, search_text); its index (FTS5 on SQLite,
pg_trgm on PostgreSQL) is made by the revision that creates the table
(``mibao_desktop.db.search_index``).

These tables are added to ``Base.metadata`` at import, so that Alembic's comparison sees them:
a new field or ledger shows up as the difference a new revision has to make.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.types import TypeEngine

from mibao_desktop.db.models import Base
from mibao_desktop.ledgers import REGISTRY, Ledger
from mibao_desktop.ledgers import fields as F


# a key is a few times its text's length (张 → zhang1 and a separator) plus the text itself
SORT_KEY_TYPE = Text().with_variant(Text(collation="C"), "postgresql")


def column_type(field: F.Field) -> TypeEngine:
    t = field.type
    if field.many:
        return Text()
    if isinstance(t, F.Reference):
        return Integer()
    if isinstance(t, F.Date):
        return Date()
    if isinstance(t, (F.Integer, F.SecrecyPeriod, F.Tenths)):  # 学时 in tenths
        return Integer()
    if isinstance(t, F.Level):
        return String(10)
    if isinstance(t, F.MacAddress):
        return String(17)
    if isinstance(t, F.IdNumber):
        return String(18)
    if isinstance(t, F.Text) and t.multiline:
        return Text()
    return String(getattr(t, "max_length", 100))


def is_indexed(field: F.Field) -> bool:
    if field.indexed is not None:
        return field.indexed
    if isinstance(field.type, F.Text) and field.type.multiline:
        return False
    return bool(field.shown or field.facet or field.is_reference or field.compute is not None
                or isinstance(field.type, F.Date))


def _field_column(ledger: Ledger, field: F.Field) -> Column:
    if field.is_reference and not field.many:
        return Column(field.name, Integer, ForeignKey("records.id"), nullable=True)
    return Column(field.name, column_type(field), nullable=field.name not in (ledger.key_field, "status"))


LABEL_PRINTED = "label_printed_at"  # a labelled ledger's: when the record's label was last printed


def build_table(ledger: Ledger, metadata) -> Table:
    columns = [Column("id", Integer, ForeignKey("records.id"), primary_key=True, autoincrement=False)]
    if ledger.parent is not None:
        columns.append(Column("parent_id", Integer, ForeignKey("records.id"), nullable=False))
    columns += [_field_column(ledger, f) for f in ledger.fields]
    columns += [Column(f.sort_column, SORT_KEY_TYPE, nullable=True) for f in ledger.fields if f.pinyin_sort]
    columns += [
        Column("voided", Boolean, nullable=False, default=False),
        Column("void_reason", Text, nullable=True),
        Column("created_at", DateTime, nullable=False),
        Column("updated_at", DateTime, nullable=False),
        Column("version", Integer, nullable=False, default=1),
    ]
    name = ledger.table_name
    labelled = ledger.label is not None and ledger.parent is None
    if labelled:  # when its label was last printed (PrintService.labels; none: never, revision 0030)
        columns.append(Column(LABEL_PRINTED, DateTime, nullable=True))
    # (column, id): the table's tie-break is part of the index, so that a page sorted by any
    # column is read in index order on PostgreSQL too (SQLite's rowid is in every index anyway)
    indexes = [Index(f"ix_{name}_{f.name}", f.name, "id") for f in ledger.fields if is_indexed(f)]
    indexes += [Index(f"ix_{name}_{f.sort_column}", f.sort_column, "id") for f in ledger.fields if f.pinyin_sort]
    if ledger.parent is not None:
        covered = ("voided", *ledger.by_parent_index) if ledger.by_parent_index else ()
        indexes.append(Index(f"ix_{name}_parent_id", "parent_id", *covered))
    if labelled:  # the records never labelled, by when they were registered: the 首页's range
        indexes.append(Index(f"ix_{name}_{LABEL_PRINTED}", LABEL_PRINTED, "created_at"))
    return Table(name, metadata, *columns, *indexes)


def build_search_table(ledger: Ledger, metadata) -> Table:
    """``search_text`` of each record in a narrow table of its own: a search that must look at
    every record (a word of one or two characters) then reads about 150 bytes per record, not
    the whole row; the search index (FTS5, pg_trgm) is made over it."""
    return Table(search_table_name(ledger), metadata,
                 Column("id", Integer, ForeignKey(f"{ledger.table_name}.id"), primary_key=True, autoincrement=False),
                 Column("search_text", Text, nullable=False))


def search_table_name(ledger: Ledger) -> str:
    return f"{ledger.table_name}_search"


TABLES: dict[str, Table] = {ledger.key: build_table(ledger, Base.metadata) for ledger in REGISTRY}
SEARCH_TABLES: dict[str, Table] = {ledger.key: build_search_table(ledger, Base.metadata) for ledger in REGISTRY}


def table_of(ledger: Ledger | str) -> Table:
    return TABLES[ledger if isinstance(ledger, str) else ledger.key]


def search_table_of(ledger: Ledger | str) -> Table:
    return SEARCH_TABLES[ledger if isinstance(ledger, str) else ledger.key]
