"""The output register (输出登记) of reports written to removable media.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "output_register",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("what", sa.String(200), nullable=False),
        sa.Column("file_name", sa.String(260), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("marking", sa.String(20), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("output_register")
