"""The carriers' checks (月核对, 季检查, 年终清退归档) become stocktakings of the copies ledger
(issue 15): one service, one pair of tables. ``stocktakes`` gains what a check of the copies
has beside a ledger and a scope — its kind, its period and the person a person's check is of —
and ``stocktake_items`` the copy's 份号 (``part``) and the follow-up of a copy found missing
(``followed``: 已标为下落不明). Every check and its items move over (new session numbers: the
stocktakings' own sequence; a check's old number stays in its audit entries), with the one
finding whose word differed (已核对 → 已盘点, the stocktaking's) and each seen copy counted as
seen once; then ``carrier_checks`` and ``carrier_check_items`` go. Written out here so that
later changes to the models cannot change this upgrade.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-30
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

COPIES = "carrier_copies"  # the copies ledger's key
OLD_SEEN, SEEN = "已核对", "已盘点"


def _summary(value):
    """A check's counts as stored (JSON), with the seen copies under the stocktaking's word."""
    if value is None:
        return None
    counts = json.loads(value) if isinstance(value, str) else dict(value)
    return {(SEEN if k == OLD_SEEN else k): v for k, v in counts.items()}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":  # SQLite adds a referencing column; Alembic would copy the table
        op.execute("ALTER TABLE stocktakes ADD COLUMN person_id INTEGER REFERENCES records (id)")
    else:
        op.add_column("stocktakes", sa.Column("person_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=True))
    op.add_column("stocktakes", sa.Column("kind", sa.String(20), nullable=True))
    op.add_column("stocktakes", sa.Column("period", sa.String(40), nullable=True))
    op.add_column("stocktake_items", sa.Column("part", sa.Integer(), nullable=True))
    op.add_column("stocktake_items", sa.Column("followed", sa.String(200), nullable=True))

    takes = sa.table("stocktakes", *(sa.column(c) for c in (
        "id", "ledger", "kind", "period", "scope", "scope_value", "person_id", "opened_at", "opened_by", "closed_at",
        "closed_by", "checkers", "note")), sa.column("summary", sa.JSON()))
    checks = bind.execute(sa.text(
        "SELECT id, kind, period, scope, scope_value, person_id, opened_at, opened_by, closed_at, closed_by, checkers, "
        "summary, note FROM carrier_checks ORDER BY id")).all()
    for c in checks:
        new_id = bind.execute(sa.insert(takes).values(
            ledger=COPIES, kind=c.kind, period=c.period, scope=c.scope, scope_value=c.scope_value or "",
            person_id=c.person_id, opened_at=c.opened_at, opened_by=c.opened_by, closed_at=c.closed_at,
            closed_by=c.closed_by, checkers=c.checkers, summary=_summary(c.summary), note=c.note)
            .returning(takes.c.id)).scalar_one()
        bind.execute(sa.text(
            "INSERT INTO stocktake_items (stocktake_id, record_id, code, finding, seen_how, seen_at, times_seen, number, "
            "part, title, level, person, department, place, status, belongs, followed) "
            "SELECT :new_id, copy_id, NULL, CASE WHEN finding = :old THEN :seen ELSE finding END, seen_how, seen_at, "
            "CASE WHEN seen_how IS NULL THEN 0 ELSE 1 END, carrier_number, copy_number, title, level, holder, NULL, "
            "place, status, belongs, followed FROM carrier_check_items WHERE check_id = :old_id"),
            {"new_id": new_id, "old_id": c.id, "old": OLD_SEEN, "seen": SEEN})

    op.drop_index("ix_carrier_check_items_finding", "carrier_check_items")
    op.drop_table("carrier_check_items")
    op.drop_index("ix_carrier_checks_open", "carrier_checks")
    op.drop_table("carrier_checks")


def downgrade() -> None:
    """The checks of the copies back into their own tables (numbered anew), then the columns go."""
    bind = op.get_bind()
    op.create_table(
        "carrier_checks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("period", sa.String(40), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("scope_value", sa.String(100), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("opened_by", sa.String(60), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(60), nullable=True),
        sa.Column("checkers", sa.String(200), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_carrier_checks_open", "carrier_checks", ["closed_at", "kind", "period"])
    op.create_table(
        "carrier_check_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("check_id", sa.Integer(), sa.ForeignKey("carrier_checks.id"), nullable=False),
        sa.Column("copy_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("finding", sa.String(20), nullable=False),
        sa.Column("seen_how", sa.String(10), nullable=True),
        sa.Column("seen_at", sa.DateTime(), nullable=True),
        sa.Column("carrier_number", sa.String(40), nullable=True),
        sa.Column("copy_number", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("level", sa.String(10), nullable=True),
        sa.Column("holder", sa.String(60), nullable=True),
        sa.Column("place", sa.String(60), nullable=True),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("belongs", sa.String(200), nullable=True),
        sa.Column("followed", sa.String(200), nullable=True),
        sa.UniqueConstraint("check_id", "copy_id", name="uq_carrier_check_items_copy"),
    )
    op.create_index("ix_carrier_check_items_finding", "carrier_check_items", ["check_id", "finding"])
    checks = sa.table("carrier_checks", *(sa.column(c) for c in (
        "id", "kind", "period", "scope", "scope_value", "person_id", "opened_at", "opened_by", "closed_at",
        "closed_by", "checkers", "note")), sa.column("summary", sa.JSON()))
    takes = bind.execute(sa.text(
        "SELECT id, kind, period, scope, scope_value, person_id, opened_at, opened_by, closed_at, closed_by, checkers, "
        "summary, note FROM stocktakes WHERE ledger = :copies ORDER BY id"), {"copies": COPIES}).all()
    for t in takes:
        summary = _summary(t.summary)
        new_id = bind.execute(sa.insert(checks).values(
            kind=t.kind or "月核对", period=t.period or "", scope=t.scope, scope_value=t.scope_value or "",
            person_id=t.person_id, opened_at=t.opened_at, opened_by=t.opened_by, closed_at=t.closed_at,
            closed_by=t.closed_by, checkers=t.checkers, note=t.note,
            summary=None if summary is None else {(OLD_SEEN if k == SEEN else k): v for k, v in summary.items()})
            .returning(checks.c.id)).scalar_one()
        bind.execute(sa.text(
            "INSERT INTO carrier_check_items (check_id, copy_id, finding, seen_how, seen_at, carrier_number, copy_number, "
            "title, level, holder, place, status, belongs, followed) "
            "SELECT :new_id, record_id, CASE WHEN finding = :seen THEN :old ELSE finding END, seen_how, seen_at, "
            "number, part, title, level, person, place, status, belongs, followed FROM stocktake_items "
            "WHERE stocktake_id = :take AND record_id IS NOT NULL"), {"new_id": new_id, "take": t.id, "old": OLD_SEEN,
                                                                       "seen": SEEN})
        bind.execute(sa.text("DELETE FROM stocktake_items WHERE stocktake_id = :take"), {"take": t.id})
        bind.execute(sa.text("DELETE FROM stocktakes WHERE id = :take"), {"take": t.id})
    with op.batch_alter_table("stocktake_items") as batch:
        batch.drop_column("followed")
        batch.drop_column("part")
    with op.batch_alter_table("stocktakes") as batch:
        batch.drop_column("period")
        batch.drop_column("kind")
        batch.drop_column("person_id")
