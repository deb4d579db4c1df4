"""Search texts carry the pinyin initials of their Chinese (zw finds 张伟, kyyc finds 科研一处).

Each line of a search text is one searchable value in search form; every line holding Chinese
gets lines of its initials, as ``build_search_text`` writes them (``ledgers/pinyin.py`` as it was
when this revision was written is copied below, so that a later change there does not change
what this upgrade does).
Worked from the stored texts alone, a few thousand rows at a time; on SQLite the FTS5 index is
then rebuilt from the new texts in one pass. Downgrading leaves the initials: an older version
only finds a little more by them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import os
import re
from functools import lru_cache
from itertools import islice, product

from mibao_desktop.db import search_index

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

END = search_index.TEXT_END
BATCH = 5000
SPELLINGS = 4
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HAN_RUN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


@lru_cache(maxsize=200_000)
def initials(text: str) -> tuple[str, ...]:
    parts = _HAN_RUN.split(text)
    choices = [_run(p) if i % 2 else (p,) for i, p in enumerate(parts)]
    spellings = islice(("".join(c) for c in product(*choices)), SPELLINGS)
    return tuple(dict.fromkeys(s.casefold().replace(" ", "") for s in spellings))


@lru_cache(maxsize=100_000)
def _run(han: str) -> tuple[str, ...]:
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
    from pypinyin import Style, pinyin

    readings = pinyin(han, style=Style.FIRST_LETTER, heteronym=True, strict=False)
    return tuple(islice(("".join(c) for c in product(*[list(dict.fromkeys(r)) for r in readings])), SPELLINGS))


def _search_tables(bind) -> list[str]:
    return sorted(name for name in sa.inspect(bind).get_table_names()
                  if name.startswith("ledger_") and name.endswith("_search"))


def with_initials(text: str) -> str | None:
    """The text with its initials lines, or None when it has nothing to add."""
    body = text[:-len(END)] if text.endswith(END) else text
    lines = body.split("\n")
    spoken = [spelling for line in lines if has_han(line) for spelling in initials(line)]
    if not spoken:
        return None
    return "\n".join(dict.fromkeys([*lines, *spoken])) + END


def upgrade() -> None:
    bind = op.get_bind()
    for name in _search_tables(bind):
        read = sa.text(f"SELECT id, search_text FROM {name} WHERE id > :after ORDER BY id LIMIT {BATCH}")
        write = sa.text(f"UPDATE {name} SET search_text = :text WHERE id = :id")
        after = -1
        while True:
            rows = bind.execute(read, {"after": after}).all()
            if not rows:
                break
            after = rows[-1][0]
            changed = [{"id": i, "text": new} for i, t in rows if (new := with_initials(t)) is not None]
            if changed:
                bind.execute(write, changed)
        if bind.dialect.name == "sqlite":
            search_index.rebuild(bind, name)


def downgrade() -> None:
    pass
