"""Accounts: a role granted by a second person, the person behind each account, who reset it.

三员 as the secrecy rules mean it (issue 11): the system administrator creates an account, the
security administrator grants its role, so ``role`` may be empty (待授权) and who granted it,
when, is kept. ``person_id`` (工号或身份证号) tells two people of one name apart, so that one
person holds one role. ``reset_by``/``reset_at`` let the owner be told at the next login who
reset the password and when. Existing accounts keep their roles (made at the first start by
the three people together) and have no 工号 until one is entered.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_NEW = (
    ("person_id", sa.String(40)), ("created_by", sa.String(40)), ("granted_by", sa.String(40)),
    ("granted_at", sa.DateTime()), ("reset_by", sa.String(40)), ("reset_at", sa.DateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.alter_column("role", existing_type=sa.String(30), nullable=True)
        for name, kind in _NEW:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    # an account still waiting for its role cannot be kept by the older schema
    op.execute("DELETE FROM accounts WHERE role IS NULL")
    with op.batch_alter_table("accounts") as batch:
        for name, _kind in reversed(_NEW):
            batch.drop_column(name)
        batch.alter_column("role", existing_type=sa.String(30), nullable=False)
