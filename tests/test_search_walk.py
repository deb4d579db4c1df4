"""The carriers' search texts kept in 登记编号 order too (revision 0029, ``search_index.WALKS``; SQLite):
the triggers keep them in line with the carriers and their texts whatever writes them (an import,
a form, a renumbering, a new title, a void), and a page found by reading them in order is the
page the rows themselves give, going up or down, from the first row or further on."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text

from mibao_desktop.db import search_index
from mibao_desktop.db.database import Database
from mibao_desktop.ledgers import carriers as C
from mibao_desktop.ledgers.normalize import search_terms
from mibao_desktop.security import Actor
from mibao_desktop.services import repository
from mibao_desktop.services.context import Services
from mibao_desktop.services.repository import LedgerQuery, RecordRepository

pytestmark = pytest.mark.sqlite_only


def carrier(n: int, year: int) -> dict:
    return dict(carrier_number=f"ZT-{year}-{n:04d}", title=f"会议纪要({n})", doc_number=f"保字〔{year}〕{n}号",
                issuer="上级机关", level="秘密", classified_on=f"{year}-03-01", form="纸质", copies=1, scope="全体人员",
                source="接收", received_on=f"{year}-03-02", keeper="李娜", department="科研一处", location="科研一处保密柜")


@pytest.fixture
def ledgers(db, monkeypatch):
    monkeypatch.setattr(search_index, "SAMPLE_CHUNK_ROWS", 5)  # a sample for a table of 150 rows and more
    monkeypatch.setattr(RecordRepository, "SPARSE", 5)
    monkeypatch.setattr(repository, "_SAMPLES", {})
    monkeypatch.setattr(repository, "_EDGES", {})
    monkeypatch.setattr(repository, "_WALK_STARTS", {})
    service = Services(db, Actor.local_security_admin()).ledgers
    rows = [carrier(n, 2016 + n % 10) for n in range(1, 301)]
    random.Random(3).shuffle(rows)  # registered in no order: the ids do not follow the numbers
    assert not service.create_many(C.CARRIERS.key, rows).refused
    return service


def in_order(db) -> list[tuple]:
    with db.session() as session:
        return session.execute(text("SELECT sort_key, id, search_text FROM ledger_carriers_search_walk")).all()


def from_the_rows(db) -> list[tuple]:
    with db.session() as session:
        return session.execute(text("SELECT t.carrier_number, t.id, s.search_text FROM ledger_carriers t "
                                    "JOIN ledger_carriers_search s ON s.id = t.id ORDER BY 1, 2")).all()


def test_the_texts_in_order_follow_every_write(ledgers, db):
    assert len(in_order(db)) == 300 and in_order(db) == from_the_rows(db)
    one = ledgers.create(C.CARRIERS.key, carrier(999, 2026))
    moved = ledgers.find(C.CARRIERS.key, "ZT-2016-0010")
    ledgers.update(moved.id, {"carrier_number": "ZT-2099-0001"})  # renumbered: its place moves
    retitled = ledgers.find(C.CARRIERS.key, "ZT-2017-0011")
    ledgers.update(retitled.id, {"title": "型号设计图纸"})  # its text changes in place
    ledgers.void(one.id, "登记有误")
    assert in_order(db) == from_the_rows(db)
    assert [r for r in in_order(db) if r[1] == moved.id][0][0] == "ZT-2099-0001"
    assert "型号设计图纸" in [r for r in in_order(db) if r[1] == retitled.id][0][2]


@pytest.mark.parametrize("words,read_in_order", [("zt-202", True), ("保字〔2021", False), ("会议纪要(2", False),
                                                ("zt-2019-01", False), ("科研一处 zt-2025", False)])
def test_a_page_read_in_order_is_the_page_of_the_rows(ledgers, db, monkeypatch, words, read_in_order):
    walked = []
    walk = RecordRepository._walk_in_order
    monkeypatch.setattr(RecordRepository, "_walk_in_order", lambda self, *a: walked.append(a) or walk(self, *a))
    with db.session() as session:
        visible = {r[0]: (r[1], r[2]) for r in session.execute(text(
            "SELECT t.id, t.carrier_number, s.search_text FROM ledger_carriers t JOIN ledger_carriers_search s "
            "ON s.id = t.id WHERE NOT t.voided"))}
    terms = search_terms(words)
    planned = 0
    for descending in (False, True):
        every = sorted((number, i) for i, (number, texts) in visible.items() if all(w in texts for w in terms))
        every = [i for _n, i in (every[::-1] if descending else every)]
        for offset, limit in ((0, 20), (20, 15), (0, 400)):
            query = LedgerQuery(text=words, limit=limit, offset=offset, descending=descending)
            with db.session() as session:
                repo = RecordRepository(session)
                before = len(walked)
                ids = [r["id"] for r in repo.page_with_total(C.CARRIERS, query, count=False)[0]]
                planned += len(walked) > before
                assert ids == every[offset:offset + limit], (words, descending, offset)
                # and read in order whatever the plan chose
                assert [r["id"] for r in session.execute(repo._walk_joined(C.CARRIERS, query, terms)).mappings()] \
                    == every[offset:offset + limit]
    assert planned or not read_in_order  # 60 % of the carriers, sorted after the other 40 %: read in order


def test_revision_0030_taken_back_keeps_the_texts_in_order_and_their_triggers(empty_db_target):
    """Taking revision 0030 back copies ledger_carriers without label_printed_at (SQLite's batch
    mode): revision 0029's triggers name that table, and SQLite refused to rename the copy while
    they did (the downgrade failed); those on the table itself would go with the old table. Taken
    back and upgraded again, every write still keeps the texts in order."""
    from alembic import command

    from mibao_desktop.db.database import Database, alembic_config

    db = Database.open(empty_db_target, migrate=False)
    try:
        db.upgrade(backup_dir=None)
        service = Services(db, Actor.local_security_admin()).ledgers
        first = service.create(C.CARRIERS.key, carrier(1, 2020))
        with db.engine.connect() as conn:
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # as Database.upgrade does
            conn.begin()
            triggers = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                                "AND name LIKE 'ledger_carriers_search_walk%'").scalars())
            assert len(triggers) == 6
            command.downgrade(alembic_config(conn), "0029")
            conn.commit()
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
        with db.engine.connect() as conn:
            columns = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(ledger_carriers)")}
            assert "label_printed_at" not in columns
            assert set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                            "AND name LIKE 'ledger_carriers_search_walk%'").scalars()) == triggers
        db.upgrade(backup_dir=None)
        service.create(C.CARRIERS.key, carrier(2, 2021))
        service.update(first.id, {"carrier_number": "ZT-2099-0001"})
        service.void(service.find(C.CARRIERS.key, "ZT-2021-0002").id, "登记错误")
        assert len(in_order(db)) == 2 and in_order(db) == from_the_rows(db)
    finally:
        db.close()


def test_the_full_check_finds_texts_in_order_out_of_line_with_the_rows(ledgers, db):
    """``mibao check`` (storage.startup.full_check) compares the texts kept in order with the
    carriers and their texts, as it compares each search index with its table: a text missing
    there (the walk would never find its carrier) or another than the row's is told."""
    from mibao_desktop.storage.startup import full_check

    assert full_check(db, thorough=True) is None
    some = ledgers.find(C.CARRIERS.key, "ZT-2017-0011").id
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE ledger_carriers_search_walk SET search_text = 'x' WHERE id = ?", (some,))
    assert full_check(db) is None  # (as many: the quick check cannot see it)
    assert "ledger_carriers_search" in full_check(db, thorough=True)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM ledger_carriers_search_walk WHERE id = ?", (some,))
    assert "ledger_carriers_search" in full_check(db)


def page(db, words: str, limit: int = 20, descending: bool = False) -> list[int]:
    with db.session() as session:
        rows, _n = RecordRepository(session).page_with_total(
            C.CARRIERS, LedgerQuery(text=words, limit=limit, descending=descending), count=False)
        return [r["id"] for r in rows]


def expected(db, words: str, limit: int = 20, descending: bool = False) -> list[int]:
    terms = search_terms(words)
    with db.session() as session:
        found = sorted((n, i) for i, n, texts in session.execute(text(
            "SELECT t.id, t.carrier_number, s.search_text FROM ledger_carriers t JOIN ledger_carriers_search s "
            "ON s.id = t.id WHERE NOT t.voided")) if all(w in texts for w in terms))
    return [i for _n, i in (found[::-1] if descending else found)][:limit]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("writer", ["this process", "another connection"])
def test_a_word_typed_further_is_read_from_the_last_ones_first_row_while_the_rows_are_the_same(
        ledgers, db, db_target, monkeypatch, descending, writer):
    starts = []
    start = RecordRepository._walk_start
    monkeypatch.setattr(RecordRepository, "_walk_start", lambda self, *a: starts.append(start(self, *a)) or starts[-1])
    word = "zt-2021-0" if not descending else "zt-2016-0"
    for end in range(1, len(word) + 1):
        assert page(db, word[:end], descending=descending) == expected(db, word[:end], descending=descending)
    # begun past the rows before them (zt-2021's 30 carriers sort after 150 others; zt-2016's
    # before 270): from where a narrower word's first row was
    assert any(s is not None and (s[0] < "ZT-2017" if descending else s[0] > "ZT-2020") for s in starts)
    # a carrier sorting before (after, going down) where the walk of the word last began, holding the
    # word typed further: a start kept across the write would pass it by
    early = carrier(1, 2015) | {"carrier_number": "ZZ-0001" if descending else "ZA-0001", "title": f"见 {word.upper()}1"}
    if writer == "this process":
        ledgers.create(C.CARRIERS.key, early)
    else:
        other = Database.open(db_target)
        try:
            Services(other, Actor.local_security_admin()).ledgers.create(C.CARRIERS.key, early)
        finally:
            other.close()
    longer = word + "1"
    assert page(db, longer, descending=descending) == expected(db, longer, descending=descending)
    assert page(db, longer, descending=descending)[0] == ledgers.find(C.CARRIERS.key, early["carrier_number"]).id
    # the same word again is read as the first time (what the benchmark's passes time), and no
    # start kept before the write is taken
    starts.clear()
    assert page(db, longer, descending=descending) == expected(db, longer, descending=descending)
    assert not any(starts)
