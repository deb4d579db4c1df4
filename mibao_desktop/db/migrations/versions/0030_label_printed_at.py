"""When a record's label was last printed (issue 15: the 首页's "classified device whose label was
never printed"): a column ``label_printed_at`` on each ledger with labels, with an index
(label_printed_at, created_at) so that the records never labelled, registered since a day, are
one index range instead of every recent record's history asked for a 打印标识 event (300–450 ms
at 60,000 computers). Filled from that history: the latest 打印标识 (``label``) event of each
record. An ALTER adding a nullable column, never a copy of a million-row table. Written out here
so that later changes to the models cannot change this upgrade.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

# the ledgers whose records carry a label, as they were at this revision
TABLES = ("ledger_computers", "ledger_unclassified_computers", "ledger_media", "ledger_office_devices",
          "ledger_carriers")
COLUMN = "label_printed_at"
LABEL_EVENT = "label"


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column(COLUMN, sa.DateTime(), nullable=True))
        op.execute(sa.text(
            f"UPDATE {table} SET {COLUMN} = (SELECT max(e.at) FROM record_events e "
            f"WHERE e.record_id = {table}.id AND e.action = '{LABEL_EVENT}') "
            f"WHERE EXISTS (SELECT 1 FROM record_events e WHERE e.record_id = {table}.id AND e.action = '{LABEL_EVENT}')"))
        op.create_index(f"ix_{table}_{COLUMN}", table, [COLUMN, "created_at"])


def downgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        op.drop_index(f"ix_{table}_{COLUMN}", table)
        # SQLite's batch mode copies the table, drops it and renames the copy: the triggers that
        # name it (revision 0029's, keeping the carriers' texts in order) would stop the rename
        # (no such table) and those on it would go with it. Taken off first and put back as the
        # database itself wrote them.
        triggers = [] if bind.dialect.name != "sqlite" else bind.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE ?", (f"%{table}%",)).all()
        for name, _sql in triggers:
            op.execute(f'DROP TRIGGER "{name}"')
        with op.batch_alter_table(table) as batch:
            batch.drop_column(COLUMN)
        for _name, sql in triggers:
            op.execute(sql)
