"""What an import stores, written in rounds of tuples straight through the driver (issue 10 item
6): each record's search text (with its pinyin initials) is the one an edit would write, the
facet counts are those a recount gives, every unique value is registered; and the FTS index's
merge setting, raised while a large import indexes its rows, is back to the usual afterwards."""

import pytest
from sqlalchemy import text

from mibao_desktop.db import search_index
from mibao_desktop.demo import computer_rows
from mibao_desktop.ledgers import LEDGERS
from mibao_desktop.services.repository import LedgerQuery, RecordRepository, build_search_text, unique_keys

COMPUTERS = LEDGERS["computers"]
PEOPLE = ["张伟", "王芳", "重庆", "单伟", "李娜"]  # repeated down the rows; 重/单 have two readings


def _stored(service):
    with service.db.engine.connect() as conn:
        texts = dict(conn.execute(text("SELECT id, search_text FROM ledger_computers_search")).all())
        facets = {(f, v): n for f, v, n in conn.execute(text(
            "SELECT field, value, count FROM facet_counts WHERE ledger = 'computers'"))}
        keys = conn.execute(text("SELECT count(*) FROM unique_values WHERE scope = 'computers'")).scalar()
    return texts, facets, keys


def test_records_stored_in_rounds_hold_what_one_record_written_alone_would(service, monkeypatch):
    monkeypatch.setattr(RecordRepository, "CHUNK", 7)  # several rounds, a memo carried between them
    rows = list(computer_rows(30, people=PEOPLE))
    rows[3]["remarks"] = "Ⅱ号机 ② 在 ㎡ 室"
    result = service.create_many("computers", rows)
    assert len(result.created) == 30
    texts, facets, keys = _stored(service)
    views = service.get_many(result.created)
    assert len(texts) == 30
    for view in views:
        # the text an edit writes (build_search_text without a memo), initials included
        assert texts[view.id] == build_search_text(COMPUTERS, view.values)
    lines = {v.values["user"].text: texts[v.id].split("\n") for v in views}
    assert "zw" in lines["张伟"] and {"cq", "zq"} <= set(lines["重庆"])  # every reading of 重
    assert keys == sum(len(unique_keys(COMPUTERS, v.values)) for v in views)
    with service.db.write() as session:
        RecordRepository(session).recount_facets(COMPUTERS)
    assert _stored(service)[1] == facets
    chongqing = sorted(v.values["asset_number"] for v in views if v.values["user"].text == "重庆")
    assert sorted(r.asset_number for r in service.query("computers", LedgerQuery(text="zq", limit=None)).rows
                  if r.values["user"].text == "重庆") == chongqing


@pytest.mark.sqlite_only
def test_a_large_import_merges_index_segments_sixteen_at_a_time_and_puts_the_usual_setting_back(
        service, monkeypatch):
    monkeypatch.setattr(RecordRepository, "BULK_MIN", 20)
    settings = []
    real = search_index.set_automerge

    def spy(conn, table_name, segments):
        settings.append(segments)
        real(conn, table_name, segments)

    monkeypatch.setattr(search_index, "set_automerge", spy)

    def automerge():
        with service.db.engine.connect() as conn:
            return conn.execute(text("SELECT v FROM ledger_computers_search_fts_config WHERE k = 'automerge'")
                                ).scalar()

    rows = list(computer_rows(70, people=PEOPLE))
    service.create_many("computers", rows[:40])  # into an empty ledger: indexes and FTS rebuilt
    assert settings == [search_index.BULK_AUTOMERGE, search_index.AUTOMERGE]
    assert automerge() == search_index.AUTOMERGE
    settings.clear()
    service.create_many("computers", rows[40:])  # 30 into a ledger of 40: indexed as they come
    assert settings == [search_index.BULK_AUTOMERGE, search_index.AUTOMERGE]
    assert automerge() == search_index.AUTOMERGE
    for row in (rows[5], rows[55]):
        found = service.query("computers", LedgerQuery(text=row["asset_number"])).rows
        assert [r.asset_number for r in found] == [row["asset_number"]]
    with service.db.engine.connect() as conn:
        assert search_index.check(conn, "ledger_computers_search") is None


def test_on_postgresql_the_key_lookups_of_import_after_import_are_each_planned_for_their_values(
        service, on_postgresql):
    """PostgreSQL: psycopg prepares a statement run five times, and the server may then keep
    one generic plan for every set of values. The keys an import asks about (value = ANY of
    50,000 keys) got a sequential scan comparing each row with every key in turn: two minutes a
    field at 150,000 computers. The lookup is never prepared: each is planned with its values."""
    if not on_postgresql:
        pytest.skip("PostgreSQL's plan cache")
    made = service.create_many("computers", list(computer_rows(50, seed=5)))
    held = service.get(made.created[0]).number
    wanted = [("serial_number", f"sn-{n}") for n in range(300)] + [("asset_number", held.casefold())]
    with service.db.session() as session:
        repo = RecordRepository(session)
        for _ in range(12):  # several imports' lookups, on one connection
            repo.all_keys(COMPUTERS.unique_scope, wanted)
        found = repo.all_keys(COMPUTERS.unique_scope, wanted)
        plans = session.execute(text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE '%FROM unique_values%ANY%'")).all()
    assert found == {("asset_number", held.casefold()): made.created[0]}
    assert plans == []  # psycopg prepared it after five runs, and the server then chose one plan for every array


def test_on_postgresql_a_url_with_options_of_its_own_still_gets_the_settings_it_does_not_name(db_target,
                                                                                             on_postgresql):
    """A database.ini may give the server options of its own (?options=-c statement_timeout=…).
    They were taken instead of ours: jit went back to the server's default (0.8 s of compiling
    for a 57 ms page at a million computers). Ours are added beside them; a setting the URL
    names itself is left as it says."""
    if not on_postgresql:
        pytest.skip("PostgreSQL's connection options")
    from urllib.parse import quote

    from mibao_desktop.db.database import Database

    for given, expected in (("-c statement_timeout=600s", ("off", "10min")),
                            ("-c jit=on --statement_timeout=5s", ("on", "5s"))):
        database = Database.open(f"{db_target}&options={quote(given)}")
        try:
            with database.session() as session:
                shown = tuple(session.execute(text(f"SHOW {name}")).scalar()
                              for name in ("jit", "statement_timeout"))
        finally:
            database.close()
        assert shown == expected, given
