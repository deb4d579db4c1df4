"""Yearly event tallies: how many events of each kind each ledger had in each year.

Kept with every event from here on, so that a ledger's yearly summary reads a few rows instead
of counting a year of history (a million imported records took 1.1 s). Filled here from the
history as it stands.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_tallies",
        sa.Column("ledger", sa.String(40), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("action", sa.String(20), primary_key=True),
        sa.Column("status", sa.String(50), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    events = sa.table("record_events", sa.column("id", sa.Integer()), sa.column("ledger", sa.String()),
                      sa.column("at", sa.DateTime()), sa.column("action", sa.String()))
    changes = sa.table("field_changes", sa.column("event_id", sa.Integer()), sa.column("field", sa.String()),
                       sa.column("new_value", sa.Text()))
    year = sa.cast(sa.func.substr(sa.cast(events.c.at, sa.Text()), 1, 4), sa.Integer())
    bind = op.get_bind()
    tallies: dict[tuple, int] = {}
    for ledger, y, action, n in bind.execute(sa.select(events.c.ledger, year, events.c.action, sa.func.count())
                                             .where(events.c.action != "status")
                                             .group_by(events.c.ledger, year, events.c.action)):
        tallies[(ledger, int(y), action, "")] = n
    moved = (sa.select(events.c.ledger, year, changes.c.new_value, sa.func.count())
             .select_from(events.join(changes, changes.c.event_id == events.c.id))
             .where(events.c.action == "status", changes.c.field == "status")
             .group_by(events.c.ledger, year, changes.c.new_value))
    for ledger, y, status, n in bind.execute(moved):
        tallies[(ledger, int(y), "status", status or "")] = n
    if tallies:
        table = sa.table("event_tallies", sa.column("ledger"), sa.column("year"), sa.column("action"),
                         sa.column("status"), sa.column("count"))
        bind.execute(table.insert(), [{"ledger": k[0], "year": k[1], "action": k[2], "status": k[3], "count": n}
                                      for k, n in tallies.items()])


def downgrade() -> None:
    op.drop_table("event_tallies")
