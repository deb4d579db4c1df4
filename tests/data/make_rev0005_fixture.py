"""Makes ``mibao-rev0005.sqlite``: a database as revision 0005 of MiBao left it (every record
in ``records`` with its fields as JSON), holding the demo data plus edits, status changes,
voids, a restore and accounts with an audit chain — so that the upgrade to the ledger tables
of revision 0006 is tested against a real old file (kept in git).

It must run on the code of revision 0005 (commit 8a926ca or earlier), e.g.:

    git worktree add /tmp/old5 8a926ca
    cd /tmp/old5 && PYTHONPATH=. /work/main/.venv/bin/python /work/main/tests/data/make_rev0005_fixture.py OUT
"""

import datetime as dt
import sqlite3
import sys
from pathlib import Path

from mibao_desktop.db.database import Database
from mibao_desktop.demo import fill_demo
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.accounts import AccountService
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.repository import LedgerQuery

PASSWORD = "Fixture-Pass-2026"
WHEN = dt.datetime(2026, 11, 20, 9, 0, 0)


def main(target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    db = Database.open(target, backup_dir=target.parent / "fixture-backups")
    assert db.current_revision() == "0005"
    accounts = AccountService(db)
    accounts.setup({Role.SYSTEM_ADMIN: ("xitong", "王系统", PASSWORD), Role.SECURITY_ADMIN: ("baomi", "李保密", PASSWORD),
                    Role.AUDITOR: ("shenji", "赵审计", PASSWORD)})
    actor = accounts.login("baomi", PASSWORD).actor
    service = LedgerService(db, actor)
    fill_demo(service, scale=0.2, seed=5)
    computers = service.query("computers", LedgerQuery(limit=None, sort="asset_number")).rows
    edited, moved, voided = computers[0], computers[1], computers[2]
    service.update(edited.id, {"user": "欧阳娜娜", "location": "综合楼501室", "mac_addresses":
                               edited.display("mac_addresses") + "；AA-BB-CC-00-00-01"})
    service.update(moved.id, {"department": "档案室", "responsible_person": "欧阳娜娜"})
    service.change_status(moved.id, "维修", facts={"repaired_by": "信息中心", "escort": "张伟", "storage_removed": "否"},
                          effective_date=dt.date(2026, 11, 1))
    service.change_status(computers[3].id, "报废", reason="超过使用年限")
    service.change_status(computers[3].id, "已销毁", reason="交承销单位销毁")
    service.void(voided.id, "重复登记")
    restored = computers[4]
    service.void(restored.id, "误作废")
    service.restore(restored.id)
    media = service.query("media", LedgerQuery(limit=None)).rows
    service.change_status(media[0].id, "借出", facts={"borrower": "李娜", "due_back": dt.date(2026, 12, 1)})
    service.void(media[1].id, "录入错误")
    accounts.record(actor, "auth.logout")
    db.close()
    con = sqlite3.connect(target)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("VACUUM")
    con.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("mibao-rev0005.sqlite"))
