"""The search box: every way a search is answered gives exactly the rows whose search text
holds every word.

At a million records a search is answered in one of four ways (db/search_index.py and
RecordRepository._pick_driver): the FTS5 phrase of a word of three or more characters, the
rows holding the two rarest trigrams of a long word (then tested), the trigrams that begin
with a word of one or two characters (from the index's vocabulary), or a walk of the rows in
the order shown. The thresholds are made small here so that a few hundred records take
each way; the answer is compared with every search text read and tested in Python.
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text

from mibao_desktop.db import search_index
from mibao_desktop.ledgers import LEDGERS
from mibao_desktop.ledgers.computers import computer_rows
from mibao_desktop.ledgers.normalize import search_terms
from mibao_desktop.services import repository
from mibao_desktop.services.repository import LedgerQuery, RecordRepository

COMPUTERS = LEDGERS["computers"]


@pytest.fixture
def small_thresholds(monkeypatch):
    """A sample of 10 × 5 texts for any table over 150 rows; the index lists at most 40 ids."""
    monkeypatch.setattr(search_index, "SAMPLE_CHUNK_ROWS", 5)
    monkeypatch.setattr(RecordRepository, "DRIVER_MAX", 40)
    monkeypatch.setattr(repository, "_SAMPLES", {})  # none kept from another test's database


@pytest.fixture
def ledger(service):
    rows = list(computer_rows(400, seed=5))
    # words at the very end of a text (the last searchable field), rare and common ones
    for i, row in enumerate(rows):
        row["location"] = ["档案室", "科研楼B座508室", f"库房{i % 7}", "zq"][i % 4] if i % 50 else "独栋小屋"
    result = service.create_many("computers", rows)
    assert not result.refused
    return service


def expected(service, words: str) -> set[int]:
    terms = search_terms(words)
    with service.db.session() as session:
        texts = session.execute(text("SELECT s.id, s.search_text FROM ledger_computers_search s "
                                     "JOIN ledger_computers t ON t.id = s.id WHERE NOT t.voided")).all()
    return {i for i, t in texts if all(term in t for term in terms)}


def found(service, words: str) -> tuple[set[int], int | None, str]:
    with service.db.session() as session:
        repo = RecordRepository(session)
        rows, total = repo.page_with_total(COMPUTERS, LedgerQuery(text=words, limit=None))
        way = "index" if repo.driver else ("walk" if repo.broad else "scan")
        return {r["id"] for r in rows}, total, way


WORDS = ["屋", "小屋", "独栋小屋", "zq", "z", "q", "室", "8室", "库房3", "jm-0001", "jm-00012", "jmsn", "zzz", "zz",
         "00-1a-2b", "00-1a-2b-00-01-", "科研 508", "档案 zq", "联想"]


@pytest.mark.parametrize("words", WORDS)
def test_every_way_finds_exactly_the_matching_rows(ledger, small_thresholds, words):
    want = expected(ledger, words)
    got, total, _way = found(ledger, words)
    assert got == want
    assert total == len(want)


def test_the_ways_are_all_taken(ledger, small_thresholds, on_postgresql):
    ways = {words: found(ledger, words)[2] for words in WORDS}
    assert ways["室"] == "walk"  # in most rows
    assert ways["jm-00012"] == "index"
    if on_postgresql:  # pg_trgm cannot answer a word shorter than a trigram
        assert ways["小屋"] != "index"
    else:
        assert ways["小屋"] == "index"  # a rare two-character word, from the vocabulary
        assert ways["zzz"] == "index"
        assert ways["zz"] == "index"


def test_a_short_word_at_the_end_of_the_last_text(service, small_thresholds, on_postgresql):
    """The very last characters of a record's search text start a trigram (TEXT_END)."""
    rows = list(computer_rows(200, seed=8))
    rows[-1]["location"] = "甲乙"
    service.create_many("computers", rows)
    for word in ("乙", "甲乙"):
        got, total, way = found(service, word)
        assert got == expected(service, word) and len(got) == 1
        if not on_postgresql:
            assert way == "index"


def test_an_edit_and_a_void_keep_the_short_words_right(ledger, small_thresholds):
    with ledger.db.session() as session:
        some = [r["id"] for r in RecordRepository(session).page(COMPUTERS, LedgerQuery(text="独栋小屋", limit=3))]
    ledger.update(some[0], {"location": "丙丁"})
    ledger.void(some[1], "登记错误")
    for word in ("丙丁", "丁", "小屋"):
        got, total, _way = found(ledger, word)
        assert got == expected(ledger, word)
    assert found(ledger, "丙丁")[0] == {some[0]}
    assert some[1] not in found(ledger, "小屋")[0]


def test_random_words_against_the_texts(ledger, small_thresholds):
    """Words cut from the records' own texts at random: any length, any place."""
    with ledger.db.session() as session:
        texts = [t for (t,) in session.execute(text("SELECT search_text FROM ledger_computers_search"))]
    rng = random.Random(3)
    for _ in range(40):
        source = rng.choice(texts).split("\n")[rng.randrange(3)]
        start = rng.randrange(len(source))
        word = source[start:start + rng.randint(1, 6)]
        if not word.strip():
            continue
        got, total, way = found(ledger, word)
        assert got == expected(ledger, word), (word, way)


@pytest.mark.parametrize("descending", [False, True])
def test_copies_without_a_holder_sort_last_whichever_way_the_page_is_found(service, descending):
    """A page sorted by a person walks the register when nothing is searched and sorts the
    matches when something is: records that name no one come last either way, on both engines."""
    parent = service.create("carriers", dict(carrier_number="ZT-1", title="年度计划", level="机密",
                                             classified_on="2020-03-01", copies=8, keeper="李娜", department="保密办"))
    for n in range(1, 9):
        holder = None if n % 3 == 1 else f"持有人{min(n, 6)}"  # 持有人6 holds two copies
        service.create("carrier_copies", {"copy_number": n, "holder": holder, "remarks": "第一批"},
                       parent_id=parent.id)
    shown = {}
    for words in ("", "持有人", "第一批"):
        page = service.query("carrier_copies", LedgerQuery(text=words, parent_id=parent.id, sort="holder",
                                                           descending=descending, limit=None))
        shown[words] = [f'{r.display("holder") or "(无)"}/{r.values["copy_number"]}' for r in page.rows]
    named = sorted(((f"持有人{min(n, 6)}", n) for n in range(1, 9) if n % 3 != 1), reverse=descending)
    named = [f"{h}/{n}" for h, n in named]
    assert shown[""] == named + ["(无)/1", "(无)/4", "(无)/7"]
    assert shown["第一批"] == shown[""]  # every copy matches: the search's own sort
    assert shown["持有人"] == named


def test_a_sample_kept_from_before_an_import_is_not_used_after_it(service, small_thresholds, on_postgresql):
    """The sample is kept for a minute between keystrokes, but an import takes a new one: a
    ledger that was small before it is searched through the index after it."""
    first = list(computer_rows(100, seed=21))
    first[0]["location"] = "独栋小屋"
    service.create_many("computers", first)
    assert found(service, "小屋")[2] == "scan"  # small: read whole
    service.create_many("computers", list(computer_rows(300, seed=22, start=101)))
    got, total, way = found(service, "小屋")
    assert got == expected(service, "小屋") and total == 1
    assert way != "index" if on_postgresql else way == "index"


def test_pinyin_initials_find_names_departments_and_places(service):
    """zw finds 张伟, kyyc finds 科研一处, kylbz finds 科研楼B座 (issue 12: typed as the input
    method taught the administrator)."""
    rows = list(computer_rows(3, seed=40))
    rows[0].update(user="张伟", responsible_person="张伟", department="科研一处", location="科研楼B座508室")
    rows[1].update(user="李娜", responsible_person="李娜", department="综合处", location="档案室")
    rows[2].update(user="王芳", responsible_person="王芳", department="重庆办事处", location="机房")
    created = service.create_many("computers", rows).created
    assert not service.create_many("computers", []).refused

    def numbers(words):
        return [r.id for r in service.query("computers", LedgerQuery(text=words, limit=None)).rows]

    assert numbers("zw") == [created[0]]
    assert numbers("kyyc") == [created[0]]
    assert numbers("KYLBZ") == [created[0]]  # as typed with caps lock on
    assert numbers("zhc") == [created[1]]
    assert numbers("cqbsc") == [created[2]] == numbers("zqbsc")  # 重 has two readings: either finds it
    assert numbers("zw kyyc") == [created[0]] and numbers("zw zhc") == []
    service.update(created[1], {"user": "赵六"})  # an edit writes the new initials, not the old
    assert numbers("zl") == [created[1]] and numbers("ln") == [created[1]]  # 李娜 is still 责任人
    service.update(created[1], {"responsible_person": "赵六"})
    assert numbers("ln") == []


def test_a_short_word_followed_by_many_different_characters_is_not_asked_of_the_index(ledger, monkeypatch,
                                                                                       on_postgresql):
    """An OR of thousands of trigrams (张 before every given name) costs seconds however few
    rows each holds: past MAX_TRIGRAMS the word is walked or scanned instead."""
    if on_postgresql:
        pytest.skip("the FTS5 vocabulary is SQLite's")
    with ledger.db.session() as session:
        conn = session.connection().connection.driver_connection
        found = search_index.term_ids(conn, "ledger_computers_search", "库", 1000)
        assert found is not None and len(found[0]) == len(expected(ledger, "库"))  # 库房0 … 库房6: 7 trigrams
        monkeypatch.setattr(search_index, "MAX_TRIGRAMS", 5)
        assert search_index.term_ids(conn, "ledger_computers_search", "库", 1000) is None


def test_a_page_without_its_count_is_the_same_page(ledger, small_thresholds, monkeypatch):
    """The table asks for a page alone and the count after it: an index-driven page of many
    matches is then sorted for its first rows only, and is the same page."""
    monkeypatch.setattr(RecordRepository, "SPARSE", 5)
    took = []
    for words in ("库房3", "库房", "jm-201"):
        for offset in (0, 10, 10_000):
            query = LedgerQuery(text=words, limit=10, offset=offset)
            with ledger.db.session() as session:
                counted, total = RecordRepository(session).page_with_total(COMPUTERS, query)
            with ledger.db.session() as session:
                repo = RecordRepository(session)
                alone, maybe = repo.page_with_total(COMPUTERS, query, count=False)
                took.append(repo.driver is not None and len(repo.driver_ids) > 5)
            assert [r["id"] for r in alone] == [r["id"] for r in counted], (words, offset)
            assert maybe in (None, total), (words, offset)
            if offset == 0 and len(alone) < 10:
                assert maybe == total
    assert any(took)  # the page alone of an index-driven search was asked for


@pytest.mark.parametrize("descending", [False, True])
def test_a_first_page_looked_for_in_the_first_rows_is_the_page(ledger, small_thresholds, monkeypatch, on_postgresql,
                                                                descending):
    """A word in some thousands of rows is first looked for in the first rows in the order
    shown (RecordRepository._first_rows, SQLite), the rest of the search taken only when they
    hold no page: the page is the same as sorting every match, voided rows left out."""
    monkeypatch.setattr(RecordRepository, "DRIVER_MAX", 200)
    monkeypatch.setattr(RecordRepository, "FIRST_ROWS", 100)
    monkeypatch.setattr(repository, "_EDGES", {})
    with ledger.db.session() as session:
        first = [r["id"] for r in RecordRepository(session).page(COMPUTERS, LedgerQuery(text="档案室", limit=4))]
    for record_id in first[:2]:
        ledger.void(record_id, "登记错误")
    answered = []
    real = RecordRepository._first_rows

    def spy(self, *args):
        page = real(self, *args)
        answered.append(page is not None)
        return page
    monkeypatch.setattr(RecordRepository, "_first_rows", spy)
    with ledger.db.session() as session:
        numbers = dict(session.execute(text("SELECT id, asset_number FROM ledger_computers")).all())
    shown = set()
    for words in [*WORDS, "档案室", "库房", "jm-0", "jm-02"]:
        want = sorted(expected(ledger, words), key=lambda i: (numbers[i], i), reverse=descending)[:5]
        with ledger.db.session() as session:
            rows, _total = RecordRepository(session).page_with_total(
                COMPUTERS, LedgerQuery(text=words, limit=5, descending=descending), count=False)
        assert [r["id"] for r in rows] == want, words
        shown.update(want)
    assert not shown & set(first[:2])
    assert on_postgresql or (True in answered and False in answered)  # found in the first rows, and not


def test_a_page_walked_where_the_index_shows_its_rows_is_the_page(ledger, small_thresholds, monkeypatch,
                                                                   on_postgresql):
    """A word of some thousands of rows whose first rows by id lie early in the order shown is
    walked there (RecordRepository._probed_first_rows, SQLite), and a word the index lists
    whole is sorted from that list: either way the page is the one sorting every match gives,
    voided rows left out, on the first page and the next."""
    monkeypatch.setattr(RecordRepository, "PROBE_IDS", 12)
    monkeypatch.setattr(RecordRepository, "WALK_ROWS", 150)
    monkeypatch.setattr(RecordRepository, "DRIVER_MAX", 200)
    monkeypatch.setattr(RecordRepository, "FIRST_ROWS", 1)  # (_first_rows: not here)
    monkeypatch.setattr(repository, "_EDGES", {})
    with ledger.db.session() as session:
        first = [r["id"] for r in RecordRepository(session).page(COMPUTERS, LedgerQuery(text="jm-202", limit=3))]
    ledger.void(first[1], "登记错误")
    ways = []
    real = RecordRepository._probed_first_rows

    def spy(self, *args):
        page = real(self, *args)
        ways.append("walk" if page is not None else "probed" if self._probed is not None else None)
        return page
    monkeypatch.setattr(RecordRepository, "_probed_first_rows", spy)
    with ledger.db.session() as session:
        numbers = dict(session.execute(text("SELECT id, asset_number FROM ledger_computers")).all())
    for words, descending in [(w, d) for w in ["zq", "z", "室", "库房3", "jmsn", "zz", "jm-202", "jm-2023", "jmsn000", "jmsn0001", "房3"]
                              for d in (False, True)]:
        want = sorted(expected(ledger, words), key=lambda i: (numbers[i], i), reverse=descending)
        for offset in (0, 5):
            with ledger.db.session() as session:
                rows, _total = RecordRepository(session).page_with_total(
                    COMPUTERS, LedgerQuery(text=words, limit=5, offset=offset, descending=descending), count=False)
            assert [r["id"] for r in rows] == want[offset:offset + 5], (words, offset)
    assert first[1] not in expected(ledger, "jm-202")
    if not on_postgresql:
        assert "walk" in ways and "probed" in ways


def test_words_of_two_characters_find_their_rows_in_order_beyond_the_first_page(ledger):
    """A word of one or two characters (shorter than any trigram) finds exactly the rows
    holding it, in the order shown, page after page, on both engines."""
    with ledger.db.session() as session:
        numbers = dict(session.execute(text("SELECT id, asset_number FROM ledger_computers")).all())
    for word in ("zq", "小屋", "室", "栋小", "3-", "库"):
        want = sorted(expected(ledger, word), key=lambda i: (numbers[i], i))
        assert len(want) > 3, word
        got = []
        for offset in range(0, len(want) + 1, 40):
            got += [r.id for r in ledger.query("computers", LedgerQuery(text=word, limit=40, offset=offset),
                                               count=False).rows]
        assert got == want, word
        assert ledger.query("computers", LedgerQuery(text=word, limit=3)).total == len(want), word


def test_a_walk_on_postgresql_is_a_walk_in_order_without_compiling(service, small_thresholds, on_postgresql):
    """PostgreSQL: queries are not compiled (JIT: 0.8 s for a page of 57 ms at a million
    computers), and a walk is read in the order shown from the sort column's index, not by
    reading every text and sorting (the planner takes a word of one character for a rare
    one); the settings are put back after the page."""
    if not on_postgresql:
        pytest.skip("PostgreSQL's planner")
    rows = list(computer_rows(300, seed=31))
    service.create_many("computers", rows)
    with service.db.session() as session:
        assert session.execute(text("SHOW jit")).scalar() == "off"
        repo = RecordRepository(session)
        during = []
        real = session.execute

        def spy(statement, *args, **kwargs):
            if "ORDER BY" in str(statement) and "LIMIT" in str(statement):
                during.append(real(text("SELECT current_setting('enable_seqscan'), current_setting('enable_sort'), "
                                        "current_setting('enable_bitmapscan')")).one())
            return real(statement, *args, **kwargs)
        session.execute = spy
        page, _total = repo.page_with_total(COMPUTERS, LedgerQuery(text="j", limit=5), count=False)
        session.execute = real
        assert repo.broad and len(page) == 5
        assert ("off", "off", "off") in during, during
        assert session.execute(text("SHOW enable_seqscan")).scalar() == "on"
        assert session.execute(text("SHOW enable_sort")).scalar() == "on"
