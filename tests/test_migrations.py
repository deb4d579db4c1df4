"""Alembic migrations: an empty file, the previous revision's real file, and schema drift.

The tests that take ``db``, ``db_target`` or ``empty_db_target`` run on PostgreSQL too (see
tests/conftest.py); those about SQLite files are ``sqlite_only``."""

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from mibao_desktop.db import search_index
from mibao_desktop.ledgers.pinyin import initials
from mibao_desktop.db.database import Database, DatabaseError, alembic_config, head_revision, include_object
from mibao_desktop.db.schema import Base  # the fixed tables and every ledger's generated ones
from mibao_desktop.security import Actor
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.repository import LedgerQuery
from tests.conftest import computer

OLD_FILE = Path(__file__).parent / "data" / "mibao-rev0001.sqlite"


def _drift(db: Database):
    with db.engine.connect() as conn:
        opts = {"compare_type": True, "include_object": include_object}
        return compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)


def test_a_new_database_is_at_head_and_matches_the_models(db):
    assert db.current_revision() == head_revision()
    assert _drift(db) == []


def test_each_revision_upgrades_in_turn(empty_db_target):
    db = Database.open(empty_db_target, migrate=False)
    try:
        assert db.current_revision() is None
        revisions = [r.revision for r in reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))]
        assert revisions[-1] == head_revision()
        for revision in revisions:
            db.upgrade(backup_dir=None, target=revision)
            assert db.current_revision() == revision
        assert _drift(db) == []
    finally:
        db.close()


@pytest.mark.sqlite_only
def test_empty_file_is_created_at_head_and_matches_the_models(tmp_path):
    db = Database.open(tmp_path / "new.sqlite")
    assert db.current_revision() == head_revision()
    assert _drift(db) == []
    assert not (tmp_path / "backups").exists()  # nothing to set aside for a new file
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.sqlite_only
def test_previous_revision_file_is_copied_aside_then_upgraded(tmp_path):
    path = tmp_path / "mibao.sqlite"
    shutil.copy(OLD_FILE, path)
    db = Database.open(path)
    assert db.current_revision() == head_revision()
    assert _drift(db) == []
    saved = list((tmp_path / "backups").glob("mibao-before-upgrade-*.sqlite"))
    assert len(saved) == 1
    with sqlite3.connect(saved[0]) as old:
        assert old.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    service = LedgerService(db, Actor.local_security_admin())
    page = service.query("computers", LedgerQuery(text="老张"))
    assert [r.asset_number for r in page.rows] == ["JM-OLD-1"]
    with db.engine.connect() as conn:  # revision 0011: texts end so that a short word's trigrams exist
        texts = [t for (t,) in conn.exec_driver_sql("SELECT search_text FROM ledger_computers_search")]
        assert texts and all(t.endswith(search_index.TEXT_END) for t in texts)
        fts = search_index.fts_table("ledger_computers_search")
        assert search_index.term_ids(conn.connection.driver_connection, "ledger_computers_search", "老张", 10) \
            == ([page.rows[0].id], True)
        assert conn.exec_driver_sql(f"SELECT count(*) FROM {fts}_vocab").scalar() > 0
    assert [r.asset_number for r in service.query("computers", LedgerQuery(text="lz")).rows] == ["JM-OLD-1"]  # 0014: 老张
    with pytest.raises(Exception, match="JM-OLD-1"):  # the old uniqueness keys still hold
        service.create("computers", computer(mac_addresses="00:11:22:33:44:55"))
    service.update(page.rows[0].id, {"user": "小王"})  # and the new tables work (audit log)
    assert [h.action_label for h in service.history(page.rows[0].id)] == ["修改", "登记"]
    db.close()
    assert Database.open(path).current_revision() == head_revision()
    assert len(list((tmp_path / "backups").glob("*.sqlite"))) == 1  # no second copy when nothing changes


def test_a_database_from_a_newer_version_is_refused_plainly(db, db_target):
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    db.close()
    with pytest.raises(DatabaseError, match="更新版本的密保"):
        Database.open(db_target)
    assert db.current_revision() == "9999"  # left as it was


def test_the_core_imports_no_qt():
    code = (
        "import sys, mibao_desktop.ledgers, mibao_desktop.services.ledger_service, mibao_desktop.db.database;"
        "import pkgutil, importlib, mibao_desktop;"
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(mibao_desktop.__path__, 'mibao_desktop.')"
        " if not m.name.startswith('mibao_desktop.ui') and m.name != 'mibao_desktop.__main__'];"
        "print(sorted(m for m in sys.modules if m.startswith('PySide6')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.sqlite_only
def test_a_folder_name_with_url_like_characters_opens(tmp_path):
    for name in ("C#data", "a%20b", "x?y"):
        db = Database.open(tmp_path / name / "mibao.sqlite")
        assert db.current_revision() == head_revision()
        assert (tmp_path / name / "mibao.sqlite").exists()
        db.close()


REV5_FILE = Path(__file__).parent / "data" / "mibao-rev0005.sqlite"


def _old_records(path):
    """Every record of the revision-0005 file as its JSON said it, with status and void."""
    import json

    with sqlite3.connect(path) as old:
        rows = old.execute("SELECT id, ledger, asset_number, status, voided, void_reason, data FROM records").fetchall()
        events = dict(old.execute("SELECT record_id, count(*) FROM record_events GROUP BY record_id").fetchall())
        keys = old.execute("SELECT scope, field, value, record_id FROM unique_values").fetchall()
    return [(i, ledger, number, status, bool(voided), reason, json.loads(data)) for i, ledger, number, status, voided,
            reason, data in rows], events, keys


@pytest.mark.sqlite_only
def test_a_revision_0005_file_moves_into_ledger_tables_with_nothing_lost(tmp_path):
    from collections import Counter

    from mibao_desktop.ledgers import LEDGERS
    from mibao_desktop.services.audit_service import AuditService
    from mibao_desktop.services.repository import RecordRepository, build_search_text
    from mibao_desktop.db.schema import search_table_of
    from mibao_desktop.errors import ValidationFailed
    from mibao_desktop.security import Role

    path = tmp_path / "mibao.sqlite"
    shutil.copy(REV5_FILE, path)
    old, old_events, old_keys = _old_records(path)
    db = Database.open(path)
    assert db.current_revision() == head_revision()
    assert _drift(db) == []
    service = LedgerService(db, Actor("baomi", Role.SECURITY_ADMIN))

    # every record: same id, number, status, void, and every value as the JSON had it
    names = Counter()
    for rid, ledger_key, number, status, voided, reason, data in old:
        view = service.get(rid)
        assert (view.ledger.key, view.number, view.status, view.voided, view.void_reason) == (
            ledger_key, number, status, voided, reason)
        for name, value in data.items():
            shown = view.display(name)
            expected = "；".join(value) if isinstance(value, list) else str(value)
            assert shown == expected, (number, name)
            if name in ("user", "responsible_person"):
                names[value] += 1
                assert view.values[name].id is not None
        assert len(service.history(rid)) == old_events.get(rid, 0)
    # the people: one per name, holding what their name held
    people = service.query("people", LedgerQuery(limit=None)).rows
    assert sorted(p.display("name") for p in people) == sorted(names)
    nana = next(p for p in people if p.display("name") == "欧阳娜娜")
    held = {(r.ledger.key, r.label) for r in service.referrers(nana.id)}
    assert len(held) == 2 and all(k == "computers" for k, _ in held)
    # uniqueness keys as they were (plus the people's numbers), and still enforced
    with db.session() as s:
        from mibao_desktop.db.models import UniqueValue

        kept = {(u.scope, u.field, u.value, u.record_id) for u in s.query(UniqueValue)}
    assert set(old_keys) <= kept and len(kept) == len(old_keys) + len(people)
    computer_view = next(service.get(r[0]) for r in old if r[1] == "computers" and not r[4])
    with pytest.raises(ValidationFailed, match=computer_view.number):
        service.create("computers", computer(mac_addresses=computer_view.values["mac_addresses"][0]))
    # search and counts work on the moved data, and the search text is what the code makes
    person = computer_view.values["user"]
    found = service.query("computers", LedgerQuery(text=person.text, limit=None))
    assert computer_view.id in {r.id for r in found.rows}
    with db.session() as s:
        repo = RecordRepository(s)
        for ledger in LEDGERS.values():
            counted = repo.facet_counts(ledger, "status")
            views = service.query(ledger, LedgerQuery(limit=None)).rows
            assert counted == dict(Counter(v.status for v in views)), ledger.key
            table = search_table_of(ledger)
            stored = dict(s.execute(text(f"SELECT id, search_text FROM {table.name}")).all())
            assert all(stored[v.id] == build_search_text(ledger, v.values) for v in views), ledger.key
    # the yearly tallies (revision 0008) hold what the history holds
    import datetime as dt

    for ledger in LEDGERS.values():
        for year in {e.at.year for e in service.changes_between(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1))}:
            events = list(service.changes_between(dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1), ledger))
            expected = Counter((e.action, e.changes[0].new if e.action == "status" else "") for e in events)
            assert service.year_counts(ledger, year) == dict(expected), (ledger.key, year)
    # revisions 0011 and 0014: every stored text ends so that a short word is found from the
    # index, and carries the initials of its Chinese (a voided record's text too)
    with db.engine.connect() as conn:
        texts = dict(conn.exec_driver_sql("SELECT id, search_text FROM ledger_computers_search").all())
    assert texts and all(t.endswith(search_index.TEXT_END) for t in texts.values())
    name = computer_view.display("responsible_person")
    spoken = initials(name)[0]
    assert spoken in texts[computer_view.id].split("\n")
    assert computer_view.id in [r.id for r in service.query("computers", LedgerQuery(text=spoken, limit=None)).rows]
    assert computer_view.id in [r.id for r in service.query("computers", LedgerQuery(text=name[:2], limit=None)).rows]
    # revision 0015: every name and department carries its pinyin sort key, as the app writes it
    from mibao_desktop.db.schema import table_of
    from mibao_desktop.ledgers.pinyin import sort_key

    keyed = 0
    with db.engine.connect() as conn:
        for ledger in LEDGERS.values():
            t = table_of(ledger)
            for f in (f for f in ledger.fields if f.pinyin_sort):
                pairs = conn.execute(select(t.c[f.name], t.c[f.sort_column])).all()
                assert all(k == (sort_key(v) if v else None) for v, k in pairs), (ledger.key, f.name)
                keyed += sum(1 for v, _ in pairs if v)
    assert keyed >= len(old) + len(people) - 5  # departments of devices and names of people (a few without one)
    by_department = service.query("computers", LedgerQuery(sort="department", limit=None)).rows
    shown = [r.display("department") for r in by_department]
    assert shown == sorted(shown, key=sort_key) and len(set(shown)) > 1
    # the audit chain of revision 0005 still verifies, and goes on
    service.update(computer_view.id, {"location": "行政楼101室"})
    assert AuditService(db, Actor("shenji", Role.AUDITOR)).verify().ok
    db.close()


def test_revision_0026_tallies_the_training_hours_already_stored_and_keeps_them(empty_db_target):
    """Sessions and attendees stored before 0026 are summed per person and year by the upgrade
    (an attendee's own 学时 over the session's; nothing voided; each session's own year); after
    it the triggers keep the tally as rows change (they exist at head: a later rebuild of either
    table would drop them)."""
    import datetime as dt

    import sqlalchemy as sa

    db = Database.open(empty_db_target, migrate=False)
    try:
        db.upgrade(backup_dir=None, target="0025")
        now = dt.datetime(2026, 11, 30, 9)
        kept = dict(created_at=now, updated_at=now, version=1)
        records = sa.table("records", sa.column("id"), sa.column("ledger"), sa.column("label"), sa.column("voided"))
        sessions = sa.table("ledger_trainings", sa.column("id"), sa.column("training_number"),
                            sa.column("held_on", sa.Date()), sa.column("hours"), sa.column("status"),
                            sa.column("voided"), sa.column("created_at"), sa.column("updated_at"), sa.column("version"))
        attendees = sa.table("ledger_training_attendances", sa.column("id"), sa.column("parent_id"),
                             sa.column("person"), sa.column("attended_hours"), sa.column("status"),
                             sa.column("voided"), sa.column("created_at"), sa.column("updated_at"),
                             sa.column("version"))
        with db.engine.begin() as conn:
            conn.execute(records.insert(), [{"id": i, "ledger": "people", "label": f"人{i}", "voided": False}
                                            for i in (1, 2, 3)])
            # 10: 2025-12-31, 2 学时; 11: 2026-03-01, 3.5 学时; 12: voided; 13: 2026, 1.5 学时
            conn.execute(records.insert(), [{"id": i, "ledger": "trainings", "label": f"PX-{i}", "voided": i == 12}
                                            for i in (10, 11, 12, 13)])
            conn.execute(sessions.insert(), [
                {"id": 10, "training_number": "PX-10", "held_on": dt.date(2025, 12, 31), "hours": 20,
                 "status": "已举办", "voided": False, **kept},
                {"id": 11, "training_number": "PX-11", "held_on": dt.date(2026, 3, 1), "hours": 35,
                 "status": "已举办", "voided": False, **kept},
                {"id": 12, "training_number": "PX-12", "held_on": dt.date(2026, 4, 1), "hours": 40,
                 "status": "已举办", "voided": True, **kept},
                {"id": 13, "training_number": "PX-13", "held_on": dt.date(2026, 5, 1), "hours": 15,
                 "status": "已举办", "voided": False, **kept}])
            rows = [(100, 10, 1, None, False), (101, 11, 1, None, False), (102, 11, 2, 10, False),
                    (103, 12, 1, None, False), (104, 13, 1, None, False), (105, 13, 2, None, True),
                    (106, 13, 3, 5, False)]
            conn.execute(records.insert(), [{"id": r[0], "ledger": "training_attendances", "label": "",
                                             "voided": r[4]} for r in rows])
            conn.execute(attendees.insert(), [{"id": i, "parent_id": p, "person": who, "attended_hours": own,
                                               "status": "已参加", "voided": v, **kept} for i, p, who, own, v in rows])
        db.upgrade(backup_dir=None, target="0026")
        tally = sa.table("training_hours", sa.column("year"), sa.column("person"), sa.column("tenths"),
                         sa.column("sessions"))

        def stored():
            with db.engine.connect() as conn:
                return {(y, p): (t, n) for y, p, t, n in conn.execute(sa.select(tally)) if n}

        assert stored() == {(2025, 1): (20, 1), (2026, 1): (35 + 15, 2), (2026, 2): (10, 1), (2026, 3): (5, 1)}
        with db.engine.begin() as conn:  # the triggers keep it: a session moved to 2027, an attendee restored
            conn.execute(sessions.update().where(sessions.c.id == 13).values(held_on=dt.date(2027, 1, 2)))
            conn.execute(attendees.update().where(attendees.c.id == 105).values(voided=False))
        assert stored() == {(2025, 1): (20, 1), (2026, 1): (35, 1), (2026, 2): (10, 1), (2027, 1): (15, 1),
                            (2027, 2): (15, 1), (2027, 3): (5, 1)}
        db.upgrade(backup_dir=None)
        assert db.current_revision() == head_revision()
        with db.engine.begin() as conn:  # still kept at head
            conn.execute(sessions.update().where(sessions.c.id == 10).values(hours=30))
        assert stored()[(2025, 1)] == (30, 1)
    finally:
        db.close()
