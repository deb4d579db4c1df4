"""PostgreSQL: the computers' search texts kept in 编号 order too (revision 0031,
``search_index.PG_WALKS``): the triggers keep them in line with the computers and their texts
whatever writes them (an import, a form, a renumbering, a new place, a void, a deletion), an
older database is filled in order on upgrade, and every way a page is found from them
(read in order to the page, in the first rows only, or from pg_trgm's first rows) gives the
page the rows themselves give, going up or down, on the first page and the next."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from mibao_desktop.db import search_index
from mibao_desktop.ledgers import LEDGERS
from mibao_desktop.ledgers.computers import computer_rows
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.audit_service import AuditService
from mibao_desktop.services import repository
from mibao_desktop.services.context import Services
from mibao_desktop.services.repository import LedgerQuery, RecordRepository
from tests.test_search import expected

COMPUTERS = LEDGERS["computers"]


@pytest.fixture(autouse=True)
def postgresql_only(on_postgresql):
    if not on_postgresql:
        pytest.skip("revision 0031 keeps the texts in order on PostgreSQL only (SQLite's FTS5 answers these)")


def in_order(db) -> list[tuple]:
    with db.session() as session:
        return session.execute(text("SELECT sort_key, id, search_text FROM ledger_computers_search_walk "
                                    "ORDER BY sort_key, id")).all()


def from_the_rows(db) -> list[tuple]:
    with db.session() as session:
        return session.execute(text("SELECT t.asset_number, t.id, s.search_text FROM ledger_computers t "
                                    "JOIN ledger_computers_search s ON s.id = t.id ORDER BY 1, 2")).all()


def test_the_texts_in_order_follow_every_write(db):
    service = Services(db, Actor.local_security_admin()).ledgers
    assert not service.create_many("computers", list(computer_rows(60, seed=4))).refused
    one = service.create("computers", next(iter(computer_rows(1, seed=9, start=500))))
    numbers = [r.id for r in service.query("computers", LedgerQuery(limit=3)).rows]
    service.update(numbers[0], {"asset_number": "JM-9999-0001"})  # renumbered: its place moves
    service.update(numbers[1], {"location": "新建档案楼"})  # its text changes in place
    service.void(one.id, "登记有误")
    assert len(in_order(db)) == 61 and in_order(db) == from_the_rows(db)
    assert [r for r in in_order(db) if r[1] == numbers[0]][0][0] == "JM-9999-0001"
    assert "新建档案楼" in [r for r in in_order(db) if r[1] == numbers[1]][0][2]
    with db.engine.begin() as conn:  # a text deleted (before its computer: it refers to it) goes in order too
        for record_id in (numbers[2], one.id):
            conn.exec_driver_sql(f"DELETE FROM ledger_computers_search WHERE id = {record_id}")
            conn.exec_driver_sql(f"DELETE FROM ledger_computers WHERE id = {record_id}")
    assert len(in_order(db)) == 59 and in_order(db) == from_the_rows(db)


def test_revision_0031_fills_the_texts_in_order_and_keeps_them(empty_db_target):
    """A database at revision 0030 holding computers: the upgrade copies their texts in 编号
    order, and writes after it keep them; taken back, the table and its triggers are gone."""
    from alembic import command

    from mibao_desktop.db.database import Database, alembic_config

    db = Database.open(empty_db_target, migrate=False)
    try:
        db.upgrade(backup_dir=None, target="0030")
        service = Services(db, Actor.local_security_admin()).ledgers
        assert not service.create_many("computers", list(computer_rows(40, seed=6))).refused
        first, second = service.query("computers", LedgerQuery(limit=2)).rows
        service.change_status(first.id, "停用", reason="暂不使用")  # history and a void before the upgrade
        service.void(second.id, "重复登记")
        db.upgrade(backup_dir=None)
        assert len(in_order(db)) == 40 and in_order(db) == from_the_rows(db)
        assert service.get(first.id).status == "停用" and service.history(first.id)[0].reason == "暂不使用"
        assert service.get(second.id).voided
        assert AuditService(db, Actor("shenji", Role.AUDITOR)).verify().ok  # the chain still verifies
        with db.session() as session:  # kept in 编号 order on its pages (filled in order)
            assert session.execute(text("SELECT array_agg(id ORDER BY ctid) = array_agg(id ORDER BY sort_key, id) "
                                        "FROM ledger_computers_search_walk")).scalar()
        service.create_many("computers", list(computer_rows(5, seed=7, start=100)))
        assert len(in_order(db)) == 45 and in_order(db) == from_the_rows(db)
        with db.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0030")
            assert conn.exec_driver_sql("SELECT to_regclass('ledger_computers_search_walk')").scalar() is None
            assert not conn.exec_driver_sql("SELECT count(*) FROM pg_trigger WHERE starts_with(tgname, "
                                            "'ledger_computers_search_walk')").scalar()
        service.create("computers", next(iter(computer_rows(1, seed=8, start=200))))  # no trigger left to fail
    finally:
        db.close()


def test_a_page_read_in_order_is_the_page_of_the_rows(db, monkeypatch):
    monkeypatch.setattr(search_index, "SAMPLE_CHUNK_ROWS", 5)  # a sample for a table of 150 rows and more
    monkeypatch.setattr(RecordRepository, "DRIVER_MAX", 40)
    monkeypatch.setattr(RecordRepository, "PROBE_IDS", 12)
    monkeypatch.setattr(RecordRepository, "WALK_ROWS", 150)
    monkeypatch.setattr(repository, "_SAMPLES", {})
    monkeypatch.setattr(repository, "_EDGES", {})
    service = Services(db, Actor.local_security_admin()).ledgers
    rows = list(computer_rows(400, seed=5))  # 编号 JM-<year>-<n>: the ids do not follow them
    for i, row in enumerate(rows):
        row["location"] = ["档案室", "科研楼B座508室", f"库房{i % 7}", "zq"][i % 4] if i % 50 else "独栋小屋"
    assert not service.create_many("computers", rows).refused
    with db.session() as session:
        voided = [r["id"] for r in RecordRepository(session).page(COMPUTERS, LedgerQuery(text="jm-202", limit=3))]
    service.void(voided[1], "登记错误")
    with db.session() as session:
        numbers = dict(session.execute(text("SELECT id, asset_number FROM ledger_computers")).all())
    ways = []
    real = RecordRepository._pg_walk_in_order

    def spy(self, *args):
        page = real(self, *args)
        ways.append("walked" if page is not None else "probed" if self._probed is not None else "index")
        return page
    monkeypatch.setattr(RecordRepository, "_pg_walk_in_order", spy)
    for words in ["室", "zq", "z", "独栋小屋", "小屋", "库房3", "jm-2", "jm-202", "jm-2023", "jmsn", "jmsn000",
                  "00-1a-2b", "00-1a-2b-00-01-", "科研 508", "档案 zq"]:
        for descending in (False, True):
            want = sorted(expected(service, words), key=lambda i: (numbers[i], i), reverse=descending)
            for offset in (0, 5):
                with db.session() as session:
                    got, _total = RecordRepository(session).page_with_total(
                        COMPUTERS, LedgerQuery(text=words, limit=5, offset=offset, descending=descending),
                        count=False)
                assert [r["id"] for r in got] == want[offset:offset + 5], (words, descending, offset)
    assert voided[1] not in expected(service, "jm-202")
    assert {"walked", "probed", "index"} <= set(ways), ways


def test_mibao_check_compares_the_texts_in_order_with_the_rows(db, data_dir, capsys):
    """``mibao check`` on PostgreSQL: the server checks its own pages and indexes, but the texts
    kept in order are the app's (its triggers): one out of line is a row no search in 编号 order
    finds, and the check says so, as it does for the carriers' on SQLite (found in review: it
    said nothing of them)."""
    from mibao_desktop import cli

    service = Services(db, Actor.local_security_admin()).ledgers
    assert not service.create_many("computers", list(computer_rows(20, seed=12))).refused
    assert cli._check(db, data_dir) == cli.EXIT_OK
    with db.engine.begin() as conn:  # (as a data fix with the triggers off would leave it)
        conn.exec_driver_sql("UPDATE ledger_computers_search_walk SET search_text = 'x' "
                             "WHERE id = (SELECT min(id) FROM ledger_computers)")
    assert cli._check(db, data_dir) == cli.EXIT_REFUSED
    assert "ledger_computers_search 按顺序保存的搜索文字与数据不一致" in capsys.readouterr().err
