"""Shared fixtures. Qt runs offscreen; one QApplication for the session (pytest-qt's qapp).

Which database. By default every test that takes ``db`` (or ``service``) gets a new SQLite
file in its own temporary folder, a copy of an empty one migrated once per session
(``migrated_sqlite``). When the environment variable ``MIBAO_TEST_DATABASE`` holds a
PostgreSQL URL (``scripts/pg-test-server start`` prints one), ``db`` is instead a fresh,
empty, migrated PostgreSQL database of its own:

- once per session, the template database ``mibao_template_<pid>`` is created empty and
  migrated to head (fresh every session, so a changed migration is always the one tested);
- per test, ``CREATE DATABASE mibao_t<pid>_<n> TEMPLATE mibao_template_<pid>`` (a file copy
  in the server, a few tens of milliseconds), dropped after the test (its connections are
  ended first); the template is dropped at the end of the session. ``<pid>`` keeps two test
  sessions on one server apart; databases left by a session that was killed are dropped
  by the next.

``db_target`` is what ``db`` opens (the SQLite path, or the PostgreSQL URL); a test that needs
several engines on one database (tests/test_concurrency.py) opens it again with
``Database.open(db_target)``. ``on_postgresql`` tells a test which one it runs on.

SQLite-only tests. A test about the SQLite file itself (backups and restore, the integrity
check, raw ``sqlite3`` access, the command line's ``--data-dir``, the crash and no-network
tests, which run the app on a data folder) carries the marker ``sqlite_only`` (per test, or
``pytestmark`` for a module); the desktop UI tests (everything under tests/ui/) count as
``sqlite_only`` as a whole. On PostgreSQL these are skipped, with the reason shown by ``-ra``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import socket
import zipfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sqlalchemy import create_engine, make_url, text  # noqa: E402

from mibao_desktop.db.database import Database, is_server_url  # noqa: E402
from mibao_desktop.security import Actor  # noqa: E402
from mibao_desktop.services.ledger_service import LedgerService  # noqa: E402

TEST_DATABASE = os.environ.get("MIBAO_TEST_DATABASE", "").strip() or None
ON_POSTGRESQL = TEST_DATABASE is not None
UI_TESTS = Path(__file__).parent / "ui"


def pytest_configure(config):
    if ON_POSTGRESQL and not is_server_url(TEST_DATABASE):
        raise pytest.UsageError(f"MIBAO_TEST_DATABASE must be a postgresql:// URL, not {TEST_DATABASE!r}")


def pytest_report_header(config):
    if ON_POSTGRESQL:
        return f"database: PostgreSQL, {make_url(TEST_DATABASE).render_as_string(hide_password=True)}"
    return "database: SQLite files (set MIBAO_TEST_DATABASE to a postgresql:// URL for PostgreSQL)"


def pytest_collection_modifyitems(config, items):
    if not ON_POSTGRESQL:
        return
    skip = pytest.mark.skip(reason="sqlite_only: about the SQLite file or the desktop; MIBAO_TEST_DATABASE is PostgreSQL")
    for item in items:
        if item.get_closest_marker("sqlite_only") or UI_TESTS in Path(item.path).parents:
            item.add_marker(skip)


class PostgresTestDatabases:
    """The session's template database and the per-test copies of it, on one server."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        if self.url.drivername == "postgresql":
            self.url = self.url.set(drivername="postgresql+psycopg")
        self.prefix = f"mibao_t{os.getpid()}_"
        self.template = f"mibao_template_{os.getpid()}"
        self.numbers = itertools.count(1)
        # CREATE and DROP DATABASE cannot run inside a transaction: an AUTOCOMMIT engine on the
        # maintenance database (the one the URL names), which no test touches.
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def _drop(self, conn, name: str) -> None:
        # Only client backends: an autovacuum worker on the database belongs to the superuser,
        # which the test role may not signal (CI once failed on exactly that), and DROP DATABASE
        # stops autovacuum workers on its own.
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :name AND pid <> pg_backend_pid() "
                          "AND backend_type = 'client backend'"), {"name": name})
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')

    def drop_leftovers(self) -> None:
        """Databases of earlier sessions whose process is gone (killed, or stopped in a debugger)."""
        with self.admin.connect() as conn:
            names = conn.scalars(text("SELECT datname FROM pg_database WHERE datname ~ '^mibao_(t|template_)[0-9]+'"))
            for name in list(names):
                pid = int(name.removeprefix("mibao_template_").removeprefix("mibao_t").split("_")[0])
                if pid != os.getpid() and not _alive(pid):
                    self._drop(conn, name)

    def make_template(self) -> None:
        with self.admin.connect() as conn:
            self._drop(conn, self.template)
            conn.exec_driver_sql(f'CREATE DATABASE "{self.template}"')
        Database.open(self.url_of(self.template)).close()  # migrated to head; no connection stays

    def create(self) -> str:
        name = f"{self.prefix}{next(self.numbers)}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def create_empty(self) -> str:
        """A database with no tables at all (not even Alembic's), for migration tests."""
        name = f"{self.prefix}{next(self.numbers)}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            self._drop(conn, name)

    def close(self) -> None:
        self.drop(self.template)
        self.admin.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def postgres_databases():
    databases = PostgresTestDatabases(TEST_DATABASE)
    databases.drop_leftovers()
    databases.make_template()
    yield databases
    databases.close()


@pytest.fixture
def on_postgresql() -> bool:
    return ON_POSTGRESQL


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def db_target(request, data_dir: Path):
    """What ``db`` opens: a SQLite file's path, or the URL of this test's own PostgreSQL database."""
    if not ON_POSTGRESQL:
        yield data_dir / "mibao.sqlite"
        return
    databases = request.getfixturevalue("postgres_databases")
    name = databases.create()
    yield databases.url_of(name)
    databases.drop(name)


@pytest.fixture
def empty_db_target(request, tmp_path: Path):
    """Like ``db_target``, but nothing in it: no tables, not migrated."""
    if not ON_POSTGRESQL:
        yield tmp_path / "empty" / "mibao.sqlite"
        return
    databases = request.getfixturevalue("postgres_databases")
    name = databases.create_empty()
    yield databases.url_of(name)
    databases.drop(name)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An empty SQLite file migrated to head by the real migrations, once per session (so a
    changed revision is always the one tested, and a broken one fails every test that takes
    ``db``). Migrating a new file takes about half a second; a copy of this one a few ms."""
    path = tmp_path_factory.mktemp("migrated") / "mibao.sqlite"
    Database.open(path).close()
    # the last connection's close checkpoints the WAL into the file: the file alone is the database
    assert not path.with_name(path.name + "-wal").exists(), "the migrated template kept a WAL file"
    return path


def _copy_migrated(template: Path, path: Path) -> None:
    """What ``Database.open`` would have made of a new file, without running the migrations
    again: the same bytes, in a folder made as ``Database.open`` makes it, with the mode SQLite
    gives a new file (0644 less the umask; shutil.copyfile alone would give 0666 less it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o644 & ~umask)


@pytest.fixture(scope="session")
def libreoffice_profile(tmp_path_factory) -> str:
    """soffice's ``-env:UserInstallation`` argument: one LibreOffice profile for the session.
    The first start makes it (several seconds); later starts reuse it. The conversions of one
    session run one after another, so no two LibreOffice processes share it at once."""
    return f"-env:UserInstallation={tmp_path_factory.mktemp('libreoffice').as_uri()}"


@pytest.fixture(scope="session")
def zip_bomb(tmp_path_factory) -> Path:
    """An .xlsx whose one sheet unpacks to 400 MB of zeros (about 400 KB packed): past the
    size limit and the packing ratio both. Made once: deflating 400 MB takes seconds. Tests
    only read it."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (400 * 1024 * 1024))
    return path


@pytest.fixture
def new_sqlite(migrated_sqlite):
    """For a test that builds a data folder of its own: ``new_sqlite(path)`` puts there the new,
    migrated SQLite file ``Database.open(path)`` would have made (a copy of ``migrated_sqlite``)
    and returns the path. Not for tests about making a new file, which open it themselves."""
    def make(path: Path) -> Path:
        _copy_migrated(migrated_sqlite, path)
        return path
    return make


@pytest.fixture
def db(request, db_target):
    if not ON_POSTGRESQL and not Path(db_target).exists():
        _copy_migrated(request.getfixturevalue("migrated_sqlite"), Path(db_target))
    database = Database.open(db_target)
    yield database
    database.close()  # before db_target drops the database


@pytest.fixture
def service(db: Database) -> LedgerService:
    return LedgerService(db, Actor.local_security_admin())


def today() -> dt.date:
    """Read at each call, never once at import: a run that crosses midnight must not compare
    yesterday with the services' today."""
    return dt.date.today()


def computer(**overrides):
    """A valid classified computer; override fields to make the case at hand."""
    values = dict(
        asset_number="JM-0001", device_type="台式机", brand_model="联想 启天M437", serial_number="PC0A1B2C",
        level="机密", classified_on="2023-03-05", user="张伟", responsible_person="张伟",
        department="保密办", disk_serials="WD-WCC6Y0123456", mac_addresses="00-1A-2B-3C-4D-5E",
        location="行政楼301", network="单机",
    )
    values.update(overrides)
    return values


def medium(**overrides):
    values = dict(
        asset_number="JMU-0001", media_type="U盘", brand_model="金士顿 DT50", serial_number="KS1234567",
        capacity="64GB", level="秘密", responsible_person="李娜", department="科研一处",
    )
    values.update(overrides)
    return values


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open an internet socket fails the test (and is recorded)."""
    attempts = []
    real = socket.socket

    class Guarded(real):
        def __init__(self, family=socket.AF_INET, *args, **kwargs):
            if family in (socket.AF_INET, socket.AF_INET6):
                attempts.append((family, args))
                raise AssertionError("MiBao opened a network socket")
            super().__init__(family, *args, **kwargs)

    monkeypatch.setattr(socket, "socket", Guarded)
    for name in ("create_connection", "getaddrinfo", "gethostbyname"):
        monkeypatch.setattr(socket, name, lambda *a, **k: attempts.append(a) or (_ for _ in ()).throw(
            AssertionError("MiBao looked up or connected to a network address")))
    return attempts
