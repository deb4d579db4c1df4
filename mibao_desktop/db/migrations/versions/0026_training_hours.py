"""Each person's training hours per calendar year (``training_hours``: year, person → tenths,
sessions), kept by database triggers on the sessions (``ledger_trainings``) and their attendees
(``ledger_training_attendances``), and filled here from the attendances already stored.

The compliance list (issue 14 item 9: 20,000 staff, 200,000 attendances, ≤ 200 ms) summed the
year's attendances per person on every read (a join and a temporary B-tree over up to 200,000
rows: 310-440 ms CPU). Now it reads a year's rows of this table. The triggers count an
attendance when it and its session are not voided: its own 学时 if set, else the session's, in
the year of the session's 培训日期. Any write changes the tally in its own statement's
transaction, whatever wrote it (the training service, the generic ledger service's create,
edit, 作废 and 恢复, any import, a revision): the one place that cannot forget a write path.
PostgreSQL: an attendance's trigger takes a share lock on its session, so that a session's
学时 or date edited at the same moment is either seen or waits (READ COMMITTED writes).

A later revision that rebuilds either table (SQLite batch mode: a copy, drop and rename) drops
its triggers with it and must create them again (tests/test_migrations.py checks they exist at
head). Written out here so that later changes to the app cannot change this upgrade.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

TALLY, SESSIONS, ATTENDEES = "training_hours", "ledger_trainings", "ledger_training_attendances"
SQLITE_TRIGGERS = ("training_hours_attendee_insert", "training_hours_attendee_delete", "training_hours_attendee_update",
                   "training_hours_session_insert", "training_hours_session_delete", "training_hours_session_update")


def _sqlite_add(sign: str, row: str, session_row: str | None) -> str:
    """One statement adding (sign "+") or taking away ("-") what attendances count to the
    tally: one attendance ``row`` (NEW/OLD) with its session read from the table, or every
    attendance of one session row ``session_row`` (NEW/OLD), grouped per person."""
    if session_row is None:
        source = (f"SELECT CAST(substr(t.held_on, 1, 4) AS INTEGER), {row}.person,"
                  f" {sign}coalesce({row}.attended_hours, t.hours, 0), {sign}1 FROM {SESSIONS} t"
                  f" WHERE t.id = {row}.parent_id AND t.voided = 0 AND t.held_on IS NOT NULL"
                  f" AND {row}.voided = 0 AND {row}.person IS NOT NULL")
    else:
        s = session_row
        source = (f"SELECT CAST(substr({s}.held_on, 1, 4) AS INTEGER), a.person,"
                  f" {sign}sum(coalesce(a.attended_hours, {s}.hours, 0)), {sign}count(*) FROM {ATTENDEES} a"
                  f" WHERE a.parent_id = {s}.id AND a.voided = 0 AND a.person IS NOT NULL"
                  f" AND {s}.voided = 0 AND {s}.held_on IS NOT NULL GROUP BY a.person")
    return (f"INSERT INTO {TALLY} (year, person, tenths, sessions) {source}"
            f" ON CONFLICT (year, person) DO UPDATE SET tenths = tenths + excluded.tenths,"
            f" sessions = sessions + excluded.sessions;")


def _sqlite_triggers() -> list[str]:
    moved_attendee = ("OLD.person IS NOT NEW.person OR OLD.attended_hours IS NOT NEW.attended_hours"
                      " OR OLD.voided IS NOT NEW.voided OR OLD.parent_id IS NOT NEW.parent_id")
    moved_session = "OLD.held_on IS NOT NEW.held_on OR OLD.hours IS NOT NEW.hours OR OLD.voided IS NOT NEW.voided"
    a, s = ATTENDEES, SESSIONS
    return [
        f"CREATE TRIGGER training_hours_attendee_insert AFTER INSERT ON {a} BEGIN {_sqlite_add('', 'NEW', None)} END",
        f"CREATE TRIGGER training_hours_attendee_delete AFTER DELETE ON {a} BEGIN {_sqlite_add('-', 'OLD', None)} END",
        f"CREATE TRIGGER training_hours_attendee_update AFTER UPDATE ON {a} WHEN {moved_attendee} BEGIN"
        f" {_sqlite_add('-', 'OLD', None)} {_sqlite_add('', 'NEW', None)} END",
        # an attendance written before its session (an import's order) is counted when the session comes
        f"CREATE TRIGGER training_hours_session_insert AFTER INSERT ON {s} BEGIN {_sqlite_add('', None, 'NEW')} END",
        f"CREATE TRIGGER training_hours_session_delete AFTER DELETE ON {s} BEGIN {_sqlite_add('-', None, 'OLD')} END",
        f"CREATE TRIGGER training_hours_session_update AFTER UPDATE ON {s} WHEN {moved_session} BEGIN"
        f" {_sqlite_add('-', None, 'OLD')} {_sqlite_add('', None, 'NEW')} END",
    ]


def _pg_add(sign: str, row: str, session_row: str | None) -> str:
    if session_row is None:
        source = (f"SELECT extract(year FROM t.held_on)::int, {row}.person,"
                  f" {sign}coalesce({row}.attended_hours, t.hours, 0), {sign}1 FROM {SESSIONS} t"
                  f" WHERE t.id = {row}.parent_id AND NOT t.voided AND t.held_on IS NOT NULL"
                  f" AND NOT {row}.voided AND {row}.person IS NOT NULL")
    else:
        s = session_row
        source = (f"SELECT extract(year FROM {s}.held_on)::int, a.person,"
                  f" {sign}sum(coalesce(a.attended_hours, {s}.hours, 0)), {sign}count(*) FROM {ATTENDEES} a"
                  f" WHERE a.parent_id = {s}.id AND NOT a.voided AND a.person IS NOT NULL"
                  f" AND NOT {s}.voided AND {s}.held_on IS NOT NULL GROUP BY a.person")
    return (f"INSERT INTO {TALLY} AS h (year, person, tenths, sessions) {source}"
            f" ON CONFLICT (year, person) DO UPDATE SET tenths = h.tenths + excluded.tenths,"
            f" sessions = h.sessions + excluded.sessions;")


def _pg_functions() -> list[str]:
    return [
        f"""CREATE FUNCTION training_hours_of_attendee() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        {_pg_add('-', 'OLD', None)}
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM 1 FROM {SESSIONS} WHERE id = NEW.parent_id FOR SHARE;
        {_pg_add('', 'NEW', None)}
    END IF;
    RETURN NULL;
END $$""",
        f"""CREATE FUNCTION training_hours_of_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        {_pg_add('-', None, 'OLD')}
    END IF;
    IF TG_OP <> 'DELETE' THEN
        {_pg_add('', None, 'NEW')}
    END IF;
    RETURN NULL;
END $$""",
        f"CREATE TRIGGER training_hours_attendee AFTER INSERT OR DELETE OR UPDATE OF person, attended_hours, voided,"
        f" parent_id ON {ATTENDEES} FOR EACH ROW EXECUTE FUNCTION training_hours_of_attendee()",
        f"CREATE TRIGGER training_hours_session AFTER INSERT OR DELETE OR UPDATE OF held_on, hours, voided"
        f" ON {SESSIONS} FOR EACH ROW EXECUTE FUNCTION training_hours_of_session()",
    ]


def upgrade() -> None:
    op.create_table(
        TALLY,
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("person", sa.Integer(), primary_key=True),
        sa.Column("tenths", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
    )
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    year = "CAST(substr(t.held_on, 1, 4) AS INTEGER)" if sqlite else "extract(year FROM t.held_on)::int"
    false = "0" if sqlite else "false"
    op.execute(f"INSERT INTO {TALLY} (year, person, tenths, sessions)"
               f" SELECT {year}, a.person, sum(coalesce(a.attended_hours, t.hours, 0)), count(*)"
               f" FROM {ATTENDEES} a JOIN {SESSIONS} t ON t.id = a.parent_id"
               f" WHERE a.voided = {false} AND t.voided = {false} AND t.held_on IS NOT NULL AND a.person IS NOT NULL"
               f" GROUP BY {year}, a.person")
    for statement in (_sqlite_triggers() if sqlite else _pg_functions()):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS training_hours_attendee ON {ATTENDEES}")
        op.execute(f"DROP TRIGGER IF EXISTS training_hours_session ON {SESSIONS}")
        op.execute("DROP FUNCTION IF EXISTS training_hours_of_attendee()")
        op.execute("DROP FUNCTION IF EXISTS training_hours_of_session()")
    op.drop_table(TALLY)
