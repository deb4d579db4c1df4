"""A kill -9 in the middle of a large import, and a whole session that never opens a socket."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mibao_desktop.storage import backup
from mibao_desktop.db.database import Database
from mibao_desktop.demo import computer_rows
from mibao_desktop.ledgers import get_ledger
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.accounts import AccountService
from mibao_desktop.services.ledger_service import LedgerService

PASSWORDS = {"xitong": "Sys-Admin-2026", "baomi": "Sec-Admin-2026", "shenji": "Aud-Itor-2026"}
ROLES = {"xitong": Role.SYSTEM_ADMIN, "baomi": Role.SECURITY_ADMIN, "shenji": Role.AUDITOR}

pytestmark = pytest.mark.sqlite_only  # the app on a data folder: its SQLite file, no sockets at all


def with_accounts(path: Path) -> Database:
    db = Database.open(path)
    AccountService(db).setup({ROLES[n]: (n, n, p) for n, p in PASSWORDS.items()})
    return db


def write_csv(path: Path, rows: list[dict]) -> None:
    ledger = get_ledger("computers")
    names = list(rows[0])
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        out = csv.writer(handle)
        out.writerow([ledger.field(n).label for n in names])
        for row in rows:
            out.writerow([";".join(v) if isinstance(v, list) else v for v in (row[n] for n in names)])


def test_kill_9_during_a_large_import_leaves_it_whole_or_absent(tmp_path):
    data = tmp_path / "data"
    with_accounts(data / "mibao.sqlite").close()
    rows = list(computer_rows(20_000))
    source = tmp_path / "big.csv"
    write_csv(source, rows)
    env = dict(os.environ, MIBAO_PASSWORD=PASSWORDS["baomi"])
    proc = subprocess.Popen([sys.executable, "-m", "mibao_desktop", "--data-dir", str(data), "--user", "baomi",
                             "import", "computers", str(source)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wal = data / "mibao.sqlite-wal"
    deadline = time.monotonic() + 120
    # wait until the import's transaction is writing pages, then kill it without warning
    while time.monotonic() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > 2_000_000:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the import ended before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL
    assert backup.integrity_problem(data / "mibao.sqlite") is None
    service = LedgerService(Database.open(data / "mibao.sqlite"), Actor("baomi", Role.SECURITY_ADMIN))
    assert service.count("computers") in (0, len(rows))
    assert service.count("computers") == 0  # killed before its commit: nothing half-stored


def test_a_whole_session_never_touches_the_network(no_network, tmp_path):
    from mibao_desktop.cli import main
    from mibao_desktop.excel import export_ledger, import_ledger
    from mibao_desktop.services.audit_service import AuditService
    from tests.conftest import computer

    data = tmp_path / "data"
    db = with_accounts(data / "mibao.sqlite")
    accounts = AccountService(db)
    actor = accounts.login("baomi", PASSWORDS["baomi"]).actor
    ledgers = LedgerService(db, actor)
    record = ledgers.create("computers", computer())
    ledgers.update(record.id, {"department": "科研一处"})
    out = tmp_path / "out.xlsx"
    export_ledger(ledgers, ledgers.ledger("computers"), out)
    ledgers.void(record.id, "测试")
    import_ledger(ledgers, ledgers.ledger("computers"), out)
    accounts.record(actor, "auth.logout")
    auditor = accounts.login("shenji", PASSWORDS["shenji"]).actor
    assert AuditService(db, auditor).verify().ok
    db.close()
    os.environ["MIBAO_PASSWORD"] = PASSWORDS["baomi"]
    try:
        assert main(["--data-dir", str(data), "--user", "baomi", "backup"]) == 0
    finally:
        del os.environ["MIBAO_PASSWORD"]
    assert no_network == []
