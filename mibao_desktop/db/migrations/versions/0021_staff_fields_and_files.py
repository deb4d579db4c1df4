"""涉密人员: the staff ledger's fields and each person's file (人员档案), issue 14 item 1.

The 人员名册 gets what units' own staff ledgers keep: 性别, 政治面貌, the whole 身份证号 (its
check digit verified by the application; unique through ``unique_values`` like every unique
value), 成为涉密人员日期, 任现岗日期, 任前审查日期 and 审查结论, 保密承诺书签订日期, 上次复审日期
and the computed 下次复审日期. Nullable columns added by ALTER, never a copy of the table; the
shown ones and every date get their index, as the declaration's tables do. People registered
before have none of them (下次复审日期 stays empty until a review date is entered).

Each person's file is a child ledger (``ledger_staff_files``: 政审表, 无犯罪记录证明, 保密承诺书,
保密责任书, 奖惩, 涉密项目, 涉密会议 with date and outcome) with its search table and search
index, as 0007 made the carriers'. Columns written out here: later changes to the declarations
cannot change this upgrade.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

S = sa.String
PEOPLE = "ledger_people"
PEOPLE_COLUMNS = [
    ("sex", S(50)), ("political_status", S(20)), ("id_number", S(18)),
    ("became_classified_on", sa.Date()), ("appointed_on", sa.Date()), ("vetted_on", sa.Date()),
    ("vetting_result", S(50)), ("commitment_signed_on", sa.Date()), ("last_review", sa.Date()),
    ("next_review", sa.Date()),
]
PEOPLE_INDEXED = ("sex", "id_number", "became_classified_on", "appointed_on", "vetted_on", "commitment_signed_on",
                  "last_review", "next_review")
FILES = "ledger_staff_files"
# (column, type, NOT NULL)
FILE_COLUMNS = [
    ("entry_number", S(20), True), ("kind", S(50), False), ("entry_date", sa.Date(), False),
    ("outcome", sa.Text(), False), ("status", S(50), True), ("remarks", sa.Text(), False),
]
FILE_INDEXED = ("entry_date", "entry_number", "kind", "status")


def upgrade() -> None:
    for column, type_ in PEOPLE_COLUMNS:
        op.add_column(PEOPLE, sa.Column(column, type_, nullable=True))
    for column in PEOPLE_INDEXED:
        op.create_index(f"ix_{PEOPLE}_{column}", PEOPLE, [column, "id"])

    op.create_table(
        FILES,
        sa.Column("id", sa.Integer(), sa.ForeignKey("records.id"), primary_key=True, autoincrement=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        *[sa.Column(c, t, nullable=not nn) for c, t, nn in FILE_COLUMNS],
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    for column in FILE_INDEXED:
        op.create_index(f"ix_{FILES}_{column}", FILES, [column, "id"])
    op.create_index(f"ix_{FILES}_parent_id", FILES, ["parent_id"])
    search = f"{FILES}_search"
    op.create_table(
        search,
        sa.Column("id", sa.Integer(), sa.ForeignKey(f"{FILES}.id"), primary_key=True, autoincrement=False),
        sa.Column("search_text", sa.Text(), nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(f"CREATE VIRTUAL TABLE {search}_fts USING fts5(search_text, content='{search}',"
                   " content_rowid='id', tokenize='trigram')")
        op.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {search}_fts_vocab USING fts5vocab({search}_fts, 'row')")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_{search}_search_trgm ON {search} USING gin (search_text gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    search = f"{FILES}_search"
    if bind.dialect.name == "sqlite":
        op.execute(f"DROP TABLE IF EXISTS {search}_fts_vocab")
        op.execute(f"DROP TABLE IF EXISTS {search}_fts")
    op.drop_table(search)
    op.drop_table(FILES)
    for column in reversed(PEOPLE_INDEXED):
        op.drop_index(f"ix_{PEOPLE}_{column}", table_name=PEOPLE)
    with op.batch_alter_table(PEOPLE) as batch:
        for column, _type in reversed(PEOPLE_COLUMNS):
            batch.drop_column(column)
