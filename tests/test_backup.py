"""Backups: made while the database is open, rotated, checked, restored; corruption detected."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3

import pytest

from mibao_desktop import paths
from mibao_desktop.storage import backup
from mibao_desktop.storage.backup import BackupError, Rotation
from mibao_desktop.db.database import Database
from mibao_desktop.demo import computer_rows
from mibao_desktop.security import Actor
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.storage.startup import CorruptDatabase, corrupt_after_start, open_database
from tests.conftest import computer

pytestmark = pytest.mark.sqlite_only  # backups are copies of the SQLite file


def second():
    return computer(asset_number="JM-0002", serial_number="S2", disk_serials="D2", mac_addresses="00-00-00-00-00-02")


def test_backup_round_trip_keeps_the_current_file_aside(db, service, tmp_path):
    service.create("computers", computer())
    made = backup.make_backup(db.path, tmp_path / "b")  # while open, in WAL mode
    assert made.kind == "manual" and made.path.name.startswith("mibao-manual-")
    service.create("computers", second())
    db.close()
    aside = backup.restore(db.path, made.path, tmp_path / "b")
    restored = LedgerService(Database.open(db.path), Actor.local_security_admin())
    assert restored.count("computers") == 1
    kept = LedgerService(Database.open(aside.path, migrate=False), Actor.local_security_admin())
    assert kept.count("computers") == 2 and aside.kind == "before-restore"


def test_a_backup_taken_during_writes_is_consistent(db, service, tmp_path):
    service.create_many("computers", list(computer_rows(200)))
    made = backup.make_backup(db.path, tmp_path / "b")
    service.create("computers", computer())
    assert backup.integrity_problem(made.path) is None
    with sqlite3.connect(made.path) as conn:
        assert conn.execute("SELECT count(*) FROM ledger_computers").fetchone() == (200,)


def _corrupt(path, offset=8192):
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(os.urandom(4096))


def test_integrity_problems_are_found(db, service, tmp_path):
    service.create_many("computers", list(computer_rows(300)))
    db.close()
    assert backup.integrity_problem(db.path) is None
    _corrupt(db.path)
    assert backup.integrity_problem(db.path)
    text = tmp_path / "note.txt"
    text.write_text("不是数据库" * 200, encoding="utf-8")
    assert "不是可读的数据库" in backup.integrity_problem(text)
    assert backup.integrity_problem(tmp_path / "missing.sqlite") == "文件不存在"


def test_restore_refuses_a_bad_backup_and_changes_nothing(db, service, tmp_path):
    service.create("computers", computer())
    good = backup.make_backup(db.path, tmp_path / "b")
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(good.path.read_bytes())
    _corrupt(bad, 4096)
    stranger = tmp_path / "other.sqlite"
    with sqlite3.connect(stranger) as conn:
        conn.execute("CREATE TABLE t (x)")
    db.close()
    before = db.path.read_bytes()
    for wrong, message in ((bad, "不能用于恢复"), (stranger, "不是密保的数据库备份")):
        with pytest.raises(BackupError, match=message):
            backup.restore(db.path, wrong, tmp_path / "b")
        assert db.path.read_bytes() == before
    assert [b.kind for b in backup.list_backups(tmp_path / "b")] == ["manual"]


def _daily_files(folder, start: dt.datetime, days: int):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(days):
        when = start + dt.timedelta(days=i)
        (folder / f"mibao-daily-{when:%Y%m%d-%H%M%S}.sqlite").write_bytes(b"x")
    (folder / "mibao-manual-20250101-080000.sqlite").write_bytes(b"x")


def test_rotation_keeps_seven_days_four_weeks_twelve_months(tmp_path):
    start = dt.datetime(2026, 1, 1, 8, 0)
    _daily_files(tmp_path, start, 120)
    now = start + dt.timedelta(days=119)
    backup.rotate(tmp_path, Rotation(7, 4, 12), now=now)
    days = [start.date() + dt.timedelta(days=i) for i in range(120)]
    newest = sorted(days, reverse=True)
    weeks, months = [], []
    keep = set(newest[:7])
    for d in newest:
        if d.isocalendar()[:2] not in weeks and len(weeks) < 4:
            weeks.append(d.isocalendar()[:2])
            keep.add(d)
        if (d.year, d.month) not in months and len(months) < 12:
            months.append((d.year, d.month))
            keep.add(d)
    left = {b.made_at.date() for b in backup.list_backups(tmp_path) if b.kind == "daily"}
    assert left == keep
    assert (tmp_path / "mibao-manual-20250101-080000.sqlite").exists()


def test_rotation_keeps_the_three_newest_copies_made_before_an_upgrade(tmp_path):
    start = dt.datetime(2026, 1, 1, 8, 0)
    for i in range(5):
        (tmp_path / f"mibao-before-upgrade-{start + dt.timedelta(days=30 * i):%Y%m%d-%H%M%S}.sqlite").write_bytes(b"x")
    (tmp_path / "mibao-before-restore-20250101-080000.sqlite").write_bytes(b"x")
    (tmp_path / "mibao-manual-20250101-080000.sqlite").write_bytes(b"x")
    backup.rotate(tmp_path, Rotation(), now=start + dt.timedelta(days=200))
    left = sorted(b.made_at.date() for b in backup.list_backups(tmp_path) if b.kind == "before-upgrade")
    assert left == [(start + dt.timedelta(days=30 * i)).date() for i in (2, 3, 4)]
    assert (tmp_path / "mibao-before-restore-20250101-080000.sqlite").exists()
    assert (tmp_path / "mibao-manual-20250101-080000.sqlite").exists()


def test_the_copy_made_before_todays_upgrade_stays_when_the_clock_was_set_back(tmp_path):
    future = dt.datetime(2027, 6, 1, 8, 0)
    for i in range(3):  # made while the clock was ahead
        (tmp_path / f"mibao-before-upgrade-{future + dt.timedelta(days=i):%Y%m%d-%H%M%S}.sqlite").write_bytes(b"x")
    now = dt.datetime(2026, 12, 1, 9, 0)
    (tmp_path / f"mibao-before-upgrade-{now:%Y%m%d-%H%M%S}.sqlite").write_bytes(b"x")
    backup.rotate(tmp_path, Rotation(), now=now + dt.timedelta(minutes=1))
    assert (tmp_path / f"mibao-before-upgrade-{now:%Y%m%d-%H%M%S}.sqlite").exists()


def test_the_daily_backup_is_made_once_a_day(db, service, tmp_path):
    service.create("computers", computer())
    morning = dt.datetime(2026, 11, 23, 8, 0)
    first = backup.daily_backup_if_due(db.path, tmp_path / "b", now=morning)
    assert first and first.kind == "daily"
    assert backup.daily_backup_if_due(db.path, tmp_path / "b", now=morning.replace(hour=15)) is None
    assert backup.daily_backup_if_due(db.path, tmp_path / "b", now=morning + dt.timedelta(days=1))


def test_a_failed_backup_leaves_no_finished_looking_file(db, service, tmp_path, monkeypatch):
    service.create("computers", computer())

    def disk_full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup.os, "replace", disk_full)
    with pytest.raises(BackupError, match="磁盘空间"):
        backup.make_backup(db.path, tmp_path / "b")
    assert list((tmp_path / "b").iterdir()) == []
    blocked = tmp_path / "afile"
    blocked.write_text("x")
    monkeypatch.undo()
    with pytest.raises(BackupError):
        backup.make_backup(db.path, blocked)


def test_newest_good_backup_skips_a_damaged_one(db, service, tmp_path):
    service.create_many("computers", list(computer_rows(300)))
    old = backup.make_backup(db.path, tmp_path / "b", now=dt.datetime(2026, 11, 1))
    new = backup.make_backup(db.path, tmp_path / "b", now=dt.datetime(2026, 11, 2))
    _corrupt(new.path)
    assert backup.newest_good_backup(tmp_path / "b").path == old.path


def test_start_detects_a_corrupt_database_and_names_the_good_backup(data_dir):
    db = open_database(data_dir)  # makes the day's backup
    LedgerService(db, Actor.local_security_admin()).create_many("computers", list(computer_rows(300)))
    db.close()
    good = backup.make_backup(paths.database_path(data_dir), paths.backup_dir(data_dir), "manual")
    path = paths.database_path(data_dir)
    _corrupt(path)
    # a page damaged deep inside: the start goes on (in milliseconds, whatever the size), and
    # the full check run after the window names the problem and the good backup
    db = open_database(data_dir, daily_backup=False)
    found = corrupt_after_start(db, data_dir)
    db.close()
    assert "已损坏" in str(found) and good.path.name in str(found)
    # a file cut short, or whose first page is gone, is refused before anything opens it
    for damage in (lambda: os.truncate(path, path.stat().st_size // 2), lambda: _corrupt(path, 0)):
        damage()
        with pytest.raises(CorruptDatabase) as failed:
            open_database(data_dir)
        assert "已损坏" in str(failed.value) and good.path.name in str(failed.value)


# --- proposed additions (review of 2026-11-23) ---------------------------------------------

def test_a_hash_or_percent_in_the_folder_name_is_not_read_as_part_of_a_uri(db, service, tmp_path):
    """``file:C:/C#项目/mibao.sqlite?mode=ro`` would open (and create) ``C:/C`` instead."""
    service.create("computers", computer())
    db.close()
    for folder in ("C#data", "100%20done", "a?b"):
        (tmp_path / folder).mkdir()
        copy = tmp_path / folder / "mibao.sqlite"
        copy.write_bytes(db.path.read_bytes())
        assert backup.integrity_problem(copy) is None
        made = backup.make_backup(copy, tmp_path / folder / "b")
        with sqlite3.connect(made.path) as conn:
            assert conn.execute("SELECT count(*) FROM ledger_computers").fetchone() == (1,)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["100%20done", "C#data", "a?b", "data"]  # no stray "C"


def test_the_backup_holds_committed_wal_pages_and_not_an_open_transaction(db, service, tmp_path):
    service.create("computers", computer())
    wal = db.path.with_name(db.path.name + "-wal")
    writer = sqlite3.connect(db.path, timeout=5)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("BEGIN IMMEDIATE")  # another writer is in the middle of a transaction
    writer.execute("DELETE FROM ledger_computers")
    assert wal.stat().st_size > 0  # the committed record is (at least partly) only in the WAL
    made = backup.make_backup(db.path, tmp_path / "b")
    writer.rollback()
    writer.close()
    with sqlite3.connect(made.path) as conn:
        assert conn.execute("SELECT count(*) FROM ledger_computers").fetchone() == (1,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_rotation_over_sixty_days_with_two_a_day_keeps_the_expected_files(tmp_path):
    start = dt.datetime(2026, 3, 1, 8, 0)
    made = []
    for i in range(60):
        for hour in (8, 20):
            when = start + dt.timedelta(days=i, hours=hour - 8)
            path = tmp_path / f"mibao-daily-{when:%Y%m%d-%H%M%S}.sqlite"
            path.write_bytes(b"x")
            made.append((when, path))
    manual = tmp_path / "mibao-manual-20260301-090000.sqlite"
    upgrade = tmp_path / "mibao-before-upgrade-20260302-090000.sqlite"
    for p in (manual, upgrade):
        p.write_bytes(b"x")
    # Expected, worked out by hand: the last day is 2026-04-29 (a Wednesday, ISO week 18).
    # daily 7: Apr 23..29; weekly 4: weeks 18, 17, 16, 15 -> Apr 29, Apr 26, Apr 19, Apr 12 (Sundays);
    # monthly 3: Apr 29, Mar 31 (and Mar's newest is Mar 31); only the 20:00 copy of each kept day.
    kept_days = {dt.date(2026, 4, d) for d in range(23, 30)} | {
        dt.date(2026, 4, 26), dt.date(2026, 4, 19), dt.date(2026, 4, 12), dt.date(2026, 3, 31)}
    deleted = backup.rotate(tmp_path, Rotation(daily=7, weekly=4, monthly=3), now=made[-1][0])
    expected_left = {p for when, p in made if when.date() in kept_days and when.hour == 20}
    left = {b.path for b in backup.list_backups(tmp_path) if b.kind == "daily"}
    assert left == expected_left and len(left) == 10
    assert set(deleted) == {p for _, p in made} - expected_left
    assert manual.exists() and upgrade.exists()


def test_restore_over_a_corrupt_database_keeps_its_raw_bytes_and_wal(db, service, tmp_path):
    service.create_many("computers", list(computer_rows(300)))
    good = backup.make_backup(db.path, tmp_path / "b")
    db.close()
    _corrupt(db.path)
    wal = db.path.with_name(db.path.name + "-wal")
    wal.write_bytes(b"pretend WAL left by a crash")
    damaged = db.path.read_bytes()
    aside = backup.restore(db.path, good.path, tmp_path / "b")
    assert aside.kind == "before-restore" and aside.path.read_bytes() == damaged
    assert aside.path.with_name(aside.path.name + "-wal").read_bytes() == b"pretend WAL left by a crash"
    assert not wal.exists() and backup.integrity_problem(db.path) is None
    # the kept WAL sits beside its database; it is not listed as a backup of its own
    assert sorted(b.kind for b in backup.list_backups(tmp_path / "b")) == ["before-restore", "manual"]


def test_an_empty_file_is_not_a_good_backup(tmp_path):
    empty = tmp_path / "mibao-manual-20260101-080000.sqlite"
    empty.write_bytes(b"")
    assert backup.integrity_problem(empty)
    assert backup.newest_good_backup(tmp_path) is None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="file size limit is POSIX only")
def test_a_full_disk_during_the_copy_names_the_backup_folder(db, service, tmp_path):
    import resource
    import signal

    service.create_many("computers", list(computer_rows(300)))
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, old_limit[1]))  # the copy cannot grow past 64 KB
    try:
        with pytest.raises(BackupError) as failed:
            backup.make_backup(db.path, tmp_path / "b")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert str(tmp_path / "b") in str(failed.value) and "磁盘" in str(failed.value)
    assert list((tmp_path / "b").iterdir()) == []


def test_a_database_that_opens_but_fails_the_check_is_reported(db, service, tmp_path):
    """Not every damage raises: here SQLite opens the file and integrity_check lists the fault."""
    service.create("computers", computer())
    db.close()
    data = bytearray(db.path.read_bytes())
    data[36:40] = (5).to_bytes(4, "big")  # header: number of free pages, now wrong
    db.path.write_bytes(bytes(data))
    with sqlite3.connect(f"file:{db.path}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() != ("ok",)  # no exception
    assert "完整性检查未通过" in backup.integrity_problem(db.path)
    with pytest.raises(BackupError):
        backup.make_backup(db.path, tmp_path / "b")  # a copy of a damaged file is refused
    assert not (tmp_path / "b").exists() or list((tmp_path / "b").iterdir()) == []
