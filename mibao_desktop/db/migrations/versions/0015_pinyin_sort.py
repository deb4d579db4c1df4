"""Names and departments sort in pinyin order (按拼音排序): a key column beside each.

Every ledger table with a 部门 column (``department``) and the people's table's 姓名 (``name``)
get ``<column>__pinyin``, filled with the sort key of each distinct value and indexed with the
id, as ``db/schema.py`` declares them. The key is made by a copy of ``ledgers.pinyin.sort_key``
as it was when this revision was written, so that a later change there does not change what
this upgrade does (the app writes keys of its own after it; two spellings of the key would only
put a record out of place, never lose it).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""
from __future__ import annotations

import os
import re
from functools import lru_cache

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SUFFIX = "__pinyin"
KEYED = {"department": None, "name": "ledger_people"}  # column → the one table it is keyed in (None: every table)
_HAN_RUN = re.compile(r"([\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")


@lru_cache(maxsize=100_000)
def _syllables(han: str) -> tuple[str, ...]:
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(han, style=Style.TONE3, neutral_tone_with_five=True))


def sort_key(text: str) -> str | None:
    if not text:
        return None
    tokens = []
    for i, part in enumerate(_HAN_RUN.split(text)):
        if i % 2:
            tokens.extend(_syllables(part))
        elif part:
            tokens.append(part.casefold())
    return "\x02".join(tokens) + "\x01" + text


def _keyed_columns(bind) -> list[tuple[str, str]]:
    inspector = sa.inspect(bind)
    out = []
    for table in sorted(inspector.get_table_names()):
        if not table.startswith("ledger_") or table.endswith("_search") or "_search_" in table:
            continue
        columns = {c["name"] for c in inspector.get_columns(table)}
        out += [(table, c) for c, only in KEYED.items() if c in columns and only in (None, table)]
    return out


def upgrade() -> None:
    bind = op.get_bind()
    key_type = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
    for table, column in _keyed_columns(bind):
        keyed = column + SUFFIX
        op.add_column(table, sa.Column(keyed, key_type, nullable=True))  # an ALTER, never a copy of the table
        values = [v for (v,) in bind.execute(sa.text(
            f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL"))]
        if values:
            bind.execute(sa.text(f"UPDATE {table} SET {keyed} = :key WHERE {column} = :value"),
                         [{"key": sort_key(v), "value": v} for v in values])
        op.create_index(f"ix_{table}_{keyed}", table, [keyed, "id"])


def downgrade() -> None:
    bind = op.get_bind()
    for table, column in _keyed_columns(bind):
        keyed = column + SUFFIX
        op.drop_index(f"ix_{table}_{keyed}", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column(keyed)
