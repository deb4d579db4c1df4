"""Randomized: whatever way a search page is found fast (the texts read in order, the first rows,
pg_trgm's or FTS5's first rows, a walk begun where a narrower word's first row was), the page and
its count are those of a plain reading of every row with the same words, filter, order and
offset, after any write: an import, a new record, a renumbering, a changed text, a void and its
restore, a status change, and a write by this process or another connection between two
keystrokes of a word. The carriers on SQLite (texts kept in order, revision 0029) and the
computers on PostgreSQL (revision 0031). It fails with any of the triggers that keep the texts
in order dropped, or with the mark of a narrower word's first row (data_version, total_changes)
ignored. MIBAO_SEARCH_SEEDS="1 2 …" and MIBAO_SEARCH_STEPS hunt longer."""

from __future__ import annotations

import os
import random

import pytest
from sqlalchemy import text

from mibao_desktop.db import search_index
from mibao_desktop.db.database import Database
from mibao_desktop.errors import LifecycleError, ValidationFailed
from mibao_desktop.ledgers import LEDGERS
from mibao_desktop.ledgers.computers import computer_rows
from mibao_desktop.ledgers.normalize import search_terms
from mibao_desktop.security import Actor
from mibao_desktop.services import repository
from mibao_desktop.services.context import Services
from mibao_desktop.services.repository import LedgerQuery, RecordRepository

# words with LIKE's, GLOB's and FTS5's own characters, mixed case, full width, long
ODD = ["a_b%c", "x*y?[z]", "back\\slash", "ＭｉＸ－５", "\"q\"", "长长的标题" * 4]


def carrier(rng: random.Random, n: int) -> dict:
    year = rng.choice([2016, 2019, 2021, 2021, 2021])
    return dict(carrier_number=f"ZT-{year}-{n:04d}", title=f"会议纪要({n % 37}) {rng.choice(ODD)}",
                doc_number=f"保字〔{year}〕{n % 50}号", issuer="上级机关", level=rng.choice(["秘密", "机密"]),
                classified_on=f"{year}-03-01", form="纸质", copies=1, scope="全体人员", source="接收",
                received_on=f"{year}-03-02", keeper="李娜", department="科研一处", location="科研一处保密柜")


def computer(rng: random.Random, n: int) -> dict:
    row = next(iter(computer_rows(1, seed=n, start=n, people=["张伟", "李娜", "王芳"])))
    row["asset_number"] = f"JM-{rng.choice([2016, 2021, 2021])}-{n:04d}"
    row["location"] = f"{rng.choice(['档案室', '库房3', '科研楼'])} {rng.choice(ODD)}"
    return row


# the thresholds, drawn anew at each keystroke (see the test)
KNOBS = {"SPARSE": (3, 10, 40), "DRIVER_MAX": (10, 30, 80), "PROBE_IDS": (5, 20), "WALK_ROWS": (20, 60, 150),
         "FIRST_ROWS": (20, 60, 150), "NARROWER_ROWS": (10, 40, 150), "WALK_PER_MATCH": (0.3, 1, 10),
         "WALK_SHARE": (0.05, 0.2, 0.8)}


WRITES = ["import", "renumber", "void", "retitle", "restore", "status", "create"]
STEPS = int(os.environ.get("MIBAO_SEARCH_STEPS", str(len(WRITES))))


def reference(db, ledger, query: LedgerQuery) -> list[int]:
    """Every row read, in the database's own order of the sort column (its collation), the words
    tested in Python."""
    column = ledger.field(ledger.default_sort).sort_column
    way = "DESC" if query.descending else "ASC"
    terms = search_terms(query.text)
    with db.session() as session:
        rows = session.execute(text(
            f"SELECT t.id, s.search_text, t.voided, t.level FROM {ledger.table_name} AS t "
            f"JOIN {ledger.table_name}_search AS s ON s.id = t.id ORDER BY t.{column} {way}, t.id {way}")).all()
    return [i for i, found, voided, level in rows
            if all(term in found for term in terms) and (query.include_voided or not voided)
            and query.filters.get("level") in (None, level)]


# seed 1 fails with any trigger of either engine dropped and with the mark ignored, 3 with the
# connection's own writes left out of it (total_changes); more seeds: a longer hunt
SEEDS = [int(s) for s in os.environ.get(
    "MIBAO_SEARCH_SEEDS", "1" if os.environ.get("MIBAO_TEST_DATABASE", "").startswith("postgresql") else "1 3").split()]


@pytest.mark.parametrize("seed", SEEDS)
def test_every_fast_search_page_is_the_page_of_every_row(db, db_target, on_postgresql, monkeypatch, seed):
    key = "computers" if on_postgresql else "carriers"  # the ledger whose texts are kept in order there
    ledger = LEDGERS[key]
    make = computer if key == "computers" else carrier
    field = "location" if key == "computers" else "title"  # a text field of its
    monkeypatch.setattr(search_index, "SAMPLE_CHUNK_ROWS", 5)  # a sample of a table of 150 rows and more
    monkeypatch.setattr(repository, "_SAMPLES", {})
    monkeypatch.setattr(repository, "_EDGES", {})
    monkeypatch.setattr(repository, "_WALK_STARTS", {})
    monkeypatch.setattr(RecordRepository, "BULK_MIN", 10)  # the first import a bulk load (SQLite: indexes rebuilt)
    rng = random.Random(seed)
    service = Services(db, Actor.local_security_admin()).ledgers
    numbers = list(range(1, 9000, 7))
    rng.shuffle(numbers)
    assert not service.create_many(ledger.key, [make(rng, numbers.pop()) for _ in range(170)]).refused
    other = Database.open(db_target)  # another workstation
    try:
        others = Services(other, Actor.local_security_admin()).ledgers
        for _step in range(STEPS):
            with db.session() as session:
                ids = [r[0] for r in session.execute(text(f"SELECT id FROM {ledger.table_name} WHERE NOT voided"))]
                voided = [r[0] for r in session.execute(text(f"SELECT id FROM {ledger.table_name} WHERE voided"))]
            record = rng.choice(ids)
            writer = others if rng.random() < 0.4 else service
            write, written = WRITES[(_step + seed) % len(WRITES)], ""  # each kind in turn
            try:
                if write in ("import", "create"):  # a few rows imported, or one registered
                    rows = [make(rng, numbers.pop()) for _ in range(rng.randint(2, 6) if write == "import" else 1)]
                    written = rows[0][field] = f"新{rng.choice(ODD)}{_step}"
                    if write == "import":
                        writer.create_many(ledger.key, rows)
                    else:
                        writer.create(ledger.key, rows[0])
                elif write == "renumber":  # its place in the order moves
                    fresh = make(rng, numbers.pop())[ledger.key_field]
                    written = rng.choice([fresh, "AB-0001", "ZY-9999"]) + str(_step)
                    writer.update(record, {ledger.key_field: written})
                elif write == "retitle":
                    written = f"新{rng.choice(ODD)}{_step}"
                    writer.update(record, {field: written})
                elif write == "void":
                    writer.void(record, "登记有误")
                elif write == "restore" and voided:
                    writer.restore(rng.choice(voided))
                elif write == "status":
                    writer.change_status(record, ledger.lifecycle.statuses[1], reason="随机")
            except (LifecycleError, ValidationFailed):
                pass  # (a write the ledger refuses: a closed record, a number taken)
            # a word typed a character at a time, from a text of the ledger
            with db.session() as session:  # (often the text just written)
                texts = dict(session.execute(text(f"SELECT id, search_text FROM {ledger.table_name}_search")).all())
            chosen = texts[record] if rng.random() < 0.5 else rng.choice(list(texts.values()))
            begin = rng.randrange(len(chosen))
            word = chosen[begin:begin + rng.randint(3, 7)].strip() or "zt"
            if written and (write == "retitle" or rng.random() < 0.7):
                word = written  # what was just written
            if rng.random() < 0.3:
                word = word.upper()
            if rng.random() < 0.3:  # and a second word
                word = rng.choice(["科研 ", "2021 ", "a_ ", "秘 "]) + word
            descending, voided, offset = rng.random() < 0.4, rng.random() < 0.2, rng.choice([0, 0, 3])
            level = rng.choice([None, None, None, "秘密"])
            between = rng.randrange(2, len(word) + 1) if len(word) > 1 else 0  # a keystroke after which a write comes
            for end in range(1, len(word) + 1):
                if end == between:
                    # a record holding the whole word, sorting before every other (or after, going
                    # down): a walk begun where a narrower word's first row was would pass it by
                    first = make(rng, numbers.pop())
                    first[ledger.key_field] = f"{'ZZ' if descending else 'AA'}-{_step:02d}{end:02d}"
                    first[field] = f"见{word}"
                    (others if _step % 2 else service).create(ledger.key, first)  # another workstation, or this one
                # thresholds drawn anew at each keystroke: they steer the plan, never the answer,
                # and small ones make 200 rows take every way a million do
                for name, choices in KNOBS.items():
                    monkeypatch.setattr(RecordRepository, name, rng.choice(choices))
                if rng.random() < 0.2:  # the order turned, the voided shown or hidden, as the word is typed
                    descending, voided = (not descending, voided) if rng.random() < 0.5 else (descending, not voided)
                query = LedgerQuery(text=word[:end], limit=5, offset=offset, descending=descending,
                                    include_voided=voided, filters={"level": level} if level else {})
                want = reference(db, ledger, query)
                count = rng.random() < 0.5
                with db.session() as session:
                    got, total = RecordRepository(session).page_with_total(ledger, query, count=count)
                context = (seed, _step, write, word[:end], descending, voided, offset, level)
                assert [r["id"] for r in got] == want[offset:offset + 5], context
                if count or total is not None:
                    assert total == len(want), context
    finally:
        other.close()
