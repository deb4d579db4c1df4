"""涉密人员: the staff lifecycle, the 脱密期 and the major-event reports (issue 14 items 1, 5, 6).

The people's statuses become 在岗 / 脱密期 / 已脱密 / 调离 / 退休 (seed 003 涉密人员管理制度 第七条),
replacing 在岗 / 调离 / 离职. A person stored 离职 left the post with no 脱密期 recorded, which is
what 调离 now says; unless their history says they retired: the old register read 退休 and
已退休 as 离职, so a person whose change into 离职 gave a reason naming 退休 (or whose 备注
does) becomes 退休. The row, the history (every field change of the status naming 离职, in
both directions), the counts by status (``facet_counts``) and the year's tallies of moves
(``event_tallies``) all say the new status; the audit log is left as written, its entries are
chained by their hash and say what was true then.

The person gets 脱密期开始 and 脱密期截止 (nullable dates added by ALTER, each with its index: the
people whose period ended are one index range). The major-event reports are a child ledger of
the people (``ledger_major_event_reports``) with its search table and search index, as 0007
made the carriers'. Columns written out here: later changes to the declarations cannot change
this upgrade.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

S = sa.String
PEOPLE = "ledger_people"
PEOPLE_COLUMNS = ("decommission_from", "decommission_until")
REPORTS = "ledger_major_event_reports"
# (column, type, NOT NULL)
REPORT_COLUMNS = [
    ("report_number", S(20), True), ("kind", S(50), False), ("reported_on", sa.Date(), False),
    ("content", sa.Text(), False), ("handling", sa.Text(), False), ("reported_to", S(40), False),
    ("status", S(50), True), ("remarks", sa.Text(), False),
]
REPORT_INDEXED = ("report_number", "kind", "reported_on", "reported_to", "status")
OLD, MOVED, RETIRED = "离职", "调离", "退休"


def upgrade() -> None:
    bind = op.get_bind()
    for column in PEOPLE_COLUMNS:
        op.add_column(PEOPLE, sa.Column(column, sa.Date(), nullable=True))
        op.create_index(f"ix_{PEOPLE}_{column}", PEOPLE, [column, "id"])
    op.create_table(
        REPORTS,
        sa.Column("id", sa.Integer(), sa.ForeignKey("records.id"), primary_key=True, autoincrement=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        *[sa.Column(c, t, nullable=not nn) for c, t, nn in REPORT_COLUMNS],
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index(f"ix_{REPORTS}_parent_id", REPORTS, ["parent_id"])
    for column in REPORT_INDEXED:
        op.create_index(f"ix_{REPORTS}_{column}", REPORTS, [column, "id"])
    search = f"{REPORTS}_search"
    op.create_table(
        search,
        sa.Column("id", sa.Integer(), sa.ForeignKey(f"{REPORTS}.id"), primary_key=True, autoincrement=False),
        sa.Column("search_text", sa.Text(), nullable=False),
    )
    if bind.dialect.name == "sqlite":
        op.execute(f"CREATE VIRTUAL TABLE {search}_fts USING fts5(search_text, content='{search}',"
                   " content_rowid='id', tokenize='trigram')")
        op.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {search}_fts_vocab USING fts5vocab({search}_fts, 'row')")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_{search}_search_trgm ON {search} USING gin (search_text gin_trgm_ops)")
    _people_who_left(bind)


def _people_who_left(bind) -> None:
    """离职 → 调离, or 退休 where the person's history or 备注 says they retired."""
    left = bind.execute(sa.text(f"SELECT id, remarks FROM {PEOPLE} WHERE status = :old"), {"old": OLD}).all()
    events = bind.execute(sa.text(
        "SELECT e.id, e.record_id, e.reason, e.at FROM record_events e JOIN field_changes f ON f.event_id = e.id "
        "WHERE e.ledger = 'people' AND f.field = 'status' AND (f.new_value = :old OR f.old_value = :old)"),
        {"old": OLD}).all()
    retired = {pid for pid, remarks in left if RETIRED in (remarks or "")}
    retired |= {record_id for _e, record_id, reason, _at in events if RETIRED in (reason or "")}
    for person in {pid for pid, _r in left} | {record_id for _e, record_id, _r, _at in events}:
        status = RETIRED if person in retired else MOVED
        bind.execute(sa.text(f"UPDATE {PEOPLE} SET status = :new WHERE id = :id AND status = :old"),
                     {"new": status, "id": person, "old": OLD})
        for column in ("new_value", "old_value"):
            bind.execute(sa.text(
                f"UPDATE field_changes SET {column} = :new WHERE field = 'status' AND {column} = :old AND event_id IN "
                "(SELECT id FROM record_events WHERE record_id = :id AND ledger = 'people')"),
                {"new": status, "old": OLD, "id": person})
    # the year's moves into 离职 counted again under the status they now name
    moved_in = bind.execute(sa.text(
        "SELECT e.record_id, e.at FROM record_events e JOIN field_changes f ON f.event_id = e.id "
        "WHERE e.ledger = 'people' AND e.action = 'status' AND f.field = 'status' AND f.new_value IN (:a, :b) "
        "AND e.id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
        {"a": MOVED, "b": RETIRED, "ids": [e for e, *_rest in events] or [-1]}).all()
    tallies: dict[tuple[int, str], int] = {}
    for record_id, at in moved_in:
        year = (at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))).year
        key = (year, RETIRED if record_id in retired else MOVED)
        tallies[key] = tallies.get(key, 0) + 1
    bind.execute(sa.text("DELETE FROM event_tallies WHERE ledger = 'people' AND action = 'status' AND status = :old"),
                 {"old": OLD})
    for (year, status), n in tallies.items():
        found = bind.execute(sa.text("UPDATE event_tallies SET count = count + :n WHERE ledger = 'people' "
                                     "AND year = :y AND action = 'status' AND status = :s"),
                             {"n": n, "y": year, "s": status})
        if not found.rowcount:
            bind.execute(sa.text("INSERT INTO event_tallies (ledger, year, action, status, count) "
                                 "VALUES ('people', :y, 'status', :s, :n)"), {"n": n, "y": year, "s": status})
    _recount_statuses(bind)


def _recount_statuses(bind) -> None:
    bind.execute(sa.text("DELETE FROM facet_counts WHERE ledger = 'people' AND field = 'status'"))
    bind.execute(sa.text(
        "INSERT INTO facet_counts (ledger, field, value, count) "
        f"SELECT 'people', 'status', status, COUNT(*) FROM {PEOPLE} WHERE NOT voided GROUP BY status"))


def downgrade() -> None:
    """The new statuses go back to what the old register had: 调离 stays, the others left (离职);
    the history keeps the new words."""
    bind = op.get_bind()
    bind.execute(sa.text(f"UPDATE {PEOPLE} SET status = :old WHERE status IN ('脱密期', '已脱密', :retired)"),
                 {"old": OLD, "retired": RETIRED})
    _recount_statuses(bind)
    search = f"{REPORTS}_search"
    if bind.dialect.name == "sqlite":
        op.execute(f"DROP TABLE IF EXISTS {search}_fts_vocab")
        op.execute(f"DROP TABLE IF EXISTS {search}_fts")
    op.drop_table(search)
    op.drop_table(REPORTS)
    for column in reversed(PEOPLE_COLUMNS):
        op.drop_index(f"ix_{PEOPLE}_{column}", table_name=PEOPLE)
    with op.batch_alter_table(PEOPLE) as batch:
        for column in reversed(PEOPLE_COLUMNS):
            batch.drop_column(column)

