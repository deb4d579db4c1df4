"""Ledgers that hold relations: a typed table per ledger, the people register, references.

Until revision 0005 every record lived in ``records`` with its fields in a JSON column. From
here each ledger has its own table with a typed, indexed column per field
(``mibao_desktop.db.schema``), a narrow search table with its search index, and ``records``
is the register of every record's id (ledger, label, voided) that history, uniqueness keys and
references point to. Names typed into 使用人 and 责任人 become people of the new 人员名册 (one
person per name, in the department where most of their records are), and those fields refer to
them. New: record_links (many-valued references), facet_counts, record_events.ledger, and the
office-devices ledger.

Nothing is lost: every record keeps its id, values, status, void and history; the uniqueness
keys and the audit log are not touched. Everything here is written out as it stood at this
revision (column lists, searchable fields), so that later changes to the declarations cannot
change what this upgrade does.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

S = sa.String
COMMON = ("voided", "void_reason", "created_at", "updated_at", "version")
# (column, type, foreign key to records, NOT NULL) as the tables stood at this revision
COMPUTER = [
    ("asset_number", S(40), False, True), ("device_type", S(50), False, False), ("brand_model", S(60), False, False),
    ("serial_number", S(60), False, False)]
TABLES = {
    "computers": COMPUTER + [
        ("level", S(10), False, False), ("classified_on", sa.Date(), False, False), ("user", sa.Integer(), True, False),
        ("responsible_person", sa.Integer(), True, False), ("department", S(40), False, False),
        ("disk_serials", sa.Text(), False, False), ("mac_addresses", sa.Text(), False, False), ("os", S(50), False, False),
        ("location", S(60), False, False), ("purpose", S(60), False, False), ("network", S(50), False, False),
        ("protection", sa.Text(), False, False), ("start_date", sa.Date(), False, False), ("status", S(50), False, True),
        ("remarks", sa.Text(), False, False)],
    "unclassified_computers": COMPUTER + [
        ("user", sa.Integer(), True, False), ("responsible_person", sa.Integer(), True, False),
        ("department", S(40), False, False), ("disk_serials", sa.Text(), False, False),
        ("mac_addresses", sa.Text(), False, False), ("os", S(50), False, False), ("location", S(60), False, False),
        ("purpose", S(60), False, False), ("network", S(50), False, False), ("start_date", sa.Date(), False, False),
        ("status", S(50), False, True), ("remarks", sa.Text(), False, False)],
    "media": [
        ("asset_number", S(40), False, True), ("media_type", S(50), False, False), ("brand_model", S(60), False, False),
        ("serial_number", S(60), False, False), ("capacity", S(20), False, False), ("level", S(10), False, False),
        ("responsible_person", sa.Integer(), True, False), ("department", S(40), False, False),
        ("location", S(60), False, False), ("start_date", sa.Date(), False, False), ("status", S(50), False, True),
        ("remarks", sa.Text(), False, False)],
    "office_devices": [
        ("asset_number", S(40), False, True), ("device_type", S(50), False, False), ("brand_model", S(60), False, False),
        ("serial_number", S(60), False, False), ("level", S(10), False, False),
        ("responsible_person", sa.Integer(), True, False), ("department", S(40), False, False),
        ("location", S(60), False, False), ("connected_computers", sa.Text(), False, False),
        ("start_date", sa.Date(), False, False), ("status", S(50), False, True), ("remarks", sa.Text(), False, False)],
    "people": [
        ("person_number", S(20), False, True), ("name", S(20), False, False), ("department", S(40), False, False),
        ("post", S(40), False, False), ("id_tail", S(4), False, False), ("phone", S(30), False, False),
        ("status", S(50), False, True), ("remarks", sa.Text(), False, False)],
}
INDEXED = {
    "computers": ("asset_number", "brand_model", "classified_on", "department", "device_type", "disk_serials", "level",
                  "location", "mac_addresses", "network", "responsible_person", "serial_number", "start_date",
                  "status", "user"),
    "unclassified_computers": ("asset_number", "brand_model", "department", "device_type", "disk_serials",
                               "location", "mac_addresses", "network", "responsible_person", "serial_number",
                               "start_date", "status", "user"),
    "media": ("asset_number", "brand_model", "capacity", "department", "level", "location", "media_type",
              "responsible_person", "serial_number", "start_date", "status"),
    "office_devices": ("asset_number", "brand_model", "connected_computers", "department", "device_type", "level",
                       "location", "responsible_person", "serial_number", "start_date", "status"),
    "people": ("department", "id_tail", "name", "person_number", "post", "status"),
}
FACETS = {
    "computers": ("device_type", "level", "department", "network", "status"),
    "unclassified_computers": ("device_type", "department", "network", "status"),
    "media": ("media_type", "level", "department", "status"),
    "office_devices": ("device_type", "level", "department", "status"),
    "people": ("department", "status"),
}
# What the search box finds a record by, in the order of the fields: (field, kind)
COMPUTER_SEARCH = [("asset_number", "text"), ("device_type", "text"), ("brand_model", "text"),
                   ("serial_number", "text"), ("user", "person"), ("responsible_person", "person"),
                   ("department", "text"), ("disk_serials", "list"), ("mac_addresses", "macs"), ("location", "text"),
                   ("remarks", "text")]
SEARCHED = {
    "computers": COMPUTER_SEARCH,
    "unclassified_computers": COMPUTER_SEARCH,
    "media": [("asset_number", "text"), ("media_type", "text"), ("brand_model", "text"), ("serial_number", "text"),
              ("responsible_person", "person"), ("department", "text"), ("location", "text"), ("remarks", "text")],
}
DATES = {"classified_on", "start_date"}
LISTS = {"disk_serials", "mac_addresses", "protection"}
PEOPLE_FIELDS = ("user", "responsible_person")
OLD_LEDGERS = ("computers", "unclassified_computers", "media")
UPGRADER = "系统升级"


def _create_tables() -> None:
    for key, columns in TABLES.items():
        name = f"ledger_{key}"
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), sa.ForeignKey("records.id"), primary_key=True, autoincrement=False),
            *[sa.Column(c, t, sa.ForeignKey("records.id"), nullable=not nn) if fk else sa.Column(c, t, nullable=not nn)
              for c, t, fk, nn in columns],
            sa.Column("voided", sa.Boolean(), nullable=False),
            sa.Column("void_reason", sa.Text(), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
        )
        for column in INDEXED[key]:
            op.create_index(f"ix_{name}_{column}", name, [column])
        op.create_table(
            f"{name}_search",
            sa.Column("id", sa.Integer(), sa.ForeignKey(f"{name}.id"), primary_key=True, autoincrement=False),
            sa.Column("search_text", sa.Text(), nullable=False),
        )


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _search_text(key: str, row: dict, names: dict[int, str]) -> str:
    forms: list[str] = []
    for field, kind in SEARCHED.get(key, ()):
        value = row.get(field)
        if value in (None, ""):
            continue
        if kind == "person":
            forms.append(names.get(value, ""))
        elif kind == "text":
            forms.append(str(value))
        else:
            items = [v for v in str(value).split("\n") if v]
            for item in items:
                forms.append(item)
                if kind == "macs":
                    forms.append(item.replace("-", ""))
    return "\n".join(dict.fromkeys(_fold(f) for f in forms if f))


def _date(value):
    if value in (None, ""):
        return None
    return dt.date.fromisoformat(str(value)[:10])


def _json(value) -> dict:
    if isinstance(value, dict):
        return value
    return json.loads(value or "{}")


def _move_records(bind) -> None:
    """Every record of 0005 into its ledger's table; the names of 使用人/责任人 into people."""
    records = sa.table("records", sa.column("id", sa.Integer()), sa.column("ledger", sa.String()),
                       sa.column("asset_number", sa.String()), sa.column("status", sa.String()),
                       sa.column("voided", sa.Boolean()), sa.column("void_reason", sa.Text()),
                       sa.column("data", sa.JSON()), sa.column("search_text", sa.Text()),
                       sa.column("created_at", sa.DateTime()), sa.column("updated_at", sa.DateTime()),
                       sa.column("version", sa.Integer()), sa.column("parent_id", sa.Integer()))
    old = (sa.select(records.c.id, records.c.ledger, records.c.asset_number, records.c.status, records.c.voided,
                     records.c.void_reason, records.c.data, records.c.created_at, records.c.updated_at,
                     records.c.version)
           .where(records.c.ledger.in_(OLD_LEDGERS)).order_by(records.c.id))

    # 1. the people: one per name, in the department most of their records are in
    first_seen: dict[str, int] = {}
    departments: dict[str, Counter] = {}
    for row in bind.execute(old).mappings():
        data = _json(row["data"])
        for field in PEOPLE_FIELDS:
            name = data.get(field)
            if name:
                first_seen.setdefault(name, row["id"])
                departments.setdefault(name, Counter())[data.get("department") or ""] += 1
    next_id = (bind.scalar(sa.select(sa.func.max(records.c.id))) or 0) + 1
    now = dt.datetime.now().replace(microsecond=0)
    person_ids: dict[str, int] = {}
    people_rows, register, keys, events = [], [], [], []
    for n, name in enumerate(sorted(first_seen, key=lambda x: first_seen[x]), start=1):
        rid, number = next_id, f"RY-{n:04d}"
        next_id += 1
        person_ids[name] = rid
        department = departments[name].most_common(1)[0][0] or None
        register.append({"id": rid, "ledger": "people", "asset_number": number, "status": "在岗", "voided": False,
                         "void_reason": None, "data": {}, "search_text": "", "created_at": now, "updated_at": now,
                         "version": 1, "parent_id": None})
        people_rows.append({"id": rid, "person_number": number, "name": name, "department": department,
                            "post": None, "id_tail": None, "phone": None, "status": "在岗", "remarks": None,
                            "voided": False, "void_reason": None, "created_at": now, "updated_at": now, "version": 1})
        keys.append({"scope": "people", "field": "person_number", "value": number.casefold(), "record_id": rid})
        events.append({"record_id": rid, "ledger": "people", "at": now, "actor": UPGRADER, "action": "create",
                       "reason": "升级时由原台账中的使用人、责任人姓名建立", "effective_date": None})
    names = {rid: name for name, rid in person_ids.items()}
    meta = sa.MetaData()
    people = sa.Table("ledger_people", meta, autoload_with=bind)
    people_search = sa.Table("ledger_people_search", meta, autoload_with=bind)
    unique_values = sa.table("unique_values", sa.column("scope"), sa.column("field"), sa.column("value"),
                             sa.column("record_id"))
    record_events = sa.table("record_events", sa.column("record_id", sa.Integer()), sa.column("ledger", sa.String()),
                             sa.column("at", sa.DateTime()), sa.column("actor", sa.String()),
                             sa.column("action", sa.String()), sa.column("reason", sa.Text()),
                             sa.column("effective_date", sa.Date()))
    if register:
        bind.execute(records.insert(), register)
        bind.execute(people.insert(), people_rows)
        bind.execute(people_search.insert(), [
            {"id": p["id"], "search_text": "\n".join(dict.fromkeys(_fold(v) for v in
                                                                   (p["person_number"], p["name"], p["department"]) if v))}
            for p in people_rows])
        bind.execute(unique_values.insert(), keys)
        bind.execute(record_events.insert(), events)
        if bind.dialect.name == "postgresql":  # the ids given here are not the sequence's: move it past them
            bind.execute(sa.text("SELECT setval(pg_get_serial_sequence('records', 'id'), (SELECT max(id) FROM records))"))

    # 2. every record into its table, 2,000 at a time
    tables = {key: sa.Table(f"ledger_{key}", meta, autoload_with=bind) for key in OLD_LEDGERS}
    searches = {key: sa.Table(f"ledger_{key}_search", meta, autoload_with=bind) for key in OLD_LEDGERS}
    batch: dict[str, list] = {key: [] for key in OLD_LEDGERS}
    texts: dict[str, list] = {key: [] for key in OLD_LEDGERS}

    def flush() -> None:
        for key in OLD_LEDGERS:
            if batch[key]:
                bind.execute(tables[key].insert(), batch[key])
                bind.execute(searches[key].insert(), texts[key])
                batch[key], texts[key] = [], []

    for row in bind.execute(old).mappings():
        key, data = row["ledger"], _json(row["data"])
        values: dict = {}
        for column, _type, _fk, _nn in TABLES[key]:
            value = data.get(column)
            if column in PEOPLE_FIELDS:
                value = person_ids.get(value) if value else None
            elif column in DATES:
                value = _date(value)
            elif column in LISTS:
                value = "\n".join(str(v) for v in value) if isinstance(value, list) else (value or None)
            values[column] = value
        values.update(asset_number=row["asset_number"], status=row["status"], id=row["id"],
                      voided=bool(row["voided"]), void_reason=row["void_reason"], created_at=row["created_at"],
                      updated_at=row["updated_at"], version=row["version"])
        batch[key].append(values)
        texts[key].append({"id": row["id"], "search_text": _search_text(key, values, names)})
        if len(batch[key]) >= 2000:
            flush()
    flush()


def _recount(bind) -> None:
    facet_counts = sa.table("facet_counts", sa.column("ledger"), sa.column("field"), sa.column("value"),
                            sa.column("count"))
    for key, fields in FACETS.items():
        t = sa.table(f"ledger_{key}", sa.column("voided"), *[sa.column(f) for f in fields])
        for field in fields:
            rows = bind.execute(sa.select(t.c[field], sa.func.count()).where(t.c.voided == sa.false())
                                .group_by(t.c[field])).all()
            values = [{"ledger": key, "field": field, "value": str(v)[:200], "count": n} for v, n in rows
                      if v not in (None, "")]
            if values:
                bind.execute(facet_counts.insert(), values)


def _search_index(bind, table_name: str) -> None:
    if bind.dialect.name == "sqlite":
        fts = f"{table_name}_fts"
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table_name}', content_rowid='id',"
                   " tokenize='trigram')")
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_{table_name}_search_trgm ON {table_name} USING gin (search_text gin_trgm_ops)")


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "record_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_record_links_record", "record_links", ["record_id"])
    op.create_index("ix_record_links_target", "record_links", ["target_id"])
    op.create_table(
        "facet_counts",
        sa.Column("ledger", sa.String(40), primary_key=True),
        sa.Column("field", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("record_events") as batch:
        batch.add_column(sa.Column("ledger", sa.String(40), nullable=True))
    op.execute("UPDATE record_events SET ledger = (SELECT records.ledger FROM records"
               " WHERE records.id = record_events.record_id)")
    with op.batch_alter_table("record_events") as batch:
        batch.alter_column("ledger", existing_type=sa.String(40), nullable=False)
    op.create_index("ix_record_events_ledger_at", "record_events", ["ledger", "at"])

    _create_tables()
    if bind.dialect.name == "sqlite":  # the search index of revision 0003 goes with records.search_text
        for trigger in ("records_fts_insert", "records_fts_delete", "records_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS records_fts")
    _move_records(bind)

    # records becomes the register: id, ledger, label (what a reference shows), voided
    for index in ("ix_records_ledger_listing", "ix_records_ledger_status", "ix_records_parent"):
        op.drop_index(index, table_name="records")
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("label", sa.String(200), nullable=True))
    op.execute("UPDATE records SET label = asset_number")
    op.execute("UPDATE records SET label = (SELECT name FROM ledger_people WHERE ledger_people.id = records.id)"
               " WHERE ledger = 'people'")
    with op.batch_alter_table("records") as batch:
        batch.alter_column("label", existing_type=sa.String(200), nullable=False)
        for column in ("parent_id", "asset_number", "status", "void_reason", "data", "search_text", "created_at",
                       "updated_at", "version"):
            batch.drop_column(column)
    op.create_index("ix_records_ledger_label", "records", ["ledger", "label"])

    for key in TABLES:
        _search_index(bind, f"ledger_{key}_search")
    _recount(bind)


def downgrade() -> None:
    raise NotImplementedError("0006 cannot be undone; restore the backup made before the upgrade.")
