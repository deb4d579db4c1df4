"""Makes ``mibao-rev0001.sqlite``: a database as revision 0001 of MiBao left it, with records,
so that the upgrade to every later revision is tested against a real old file (kept in git).

Run once when a revision is added: ``python tests/data/make_rev0001_fixture.py``.
"""

import json
import sqlite3
from pathlib import Path

from mibao_desktop.db.database import Database

TARGET = Path(__file__).with_name("mibao-rev0001.sqlite")


def main() -> None:
    TARGET.unlink(missing_ok=True)
    db = Database.open(TARGET, migrate=False)
    with db.engine.begin() as conn:
        from alembic import command
        from mibao_desktop.db.database import alembic_config
        command.upgrade(alembic_config(conn), "0001")
    db.close()
    con = sqlite3.connect(TARGET)
    data = {"asset_number": "JM-OLD-1", "device_type": "台式机", "brand_model": "联想 M720", "serial_number": "OLD1",
            "level": "机密", "classified_on": "2020-05-01", "user": "老张", "responsible_person": "老张",
            "department": "保密办", "disk_serials": ["OLDDISK1"], "mac_addresses": ["00-11-22-33-44-55"],
            "network": "单机"}
    con.execute(
        "INSERT INTO records (id, ledger, asset_number, status, voided, data, search_text, created_at, updated_at, version)"
        " VALUES (1, 'computers', 'JM-OLD-1', '在用', 0, ?, ?, '2024-01-02 09:00:00', '2024-01-02 09:00:00', 1)",
        (json.dumps(data, ensure_ascii=False), "jm-old-1\n老张\n保密办"),
    )
    for field, value in (("asset_number", "jm-old-1"), ("disk_serials", "olddisk1"), ("mac_addresses", "00-11-22-33-44-55")):
        con.execute("INSERT INTO unique_values (scope, field, value, record_id) VALUES ('computers', ?, ?, 1)", (field, value))
    con.execute("INSERT INTO record_events (record_id, at, actor, action) VALUES (1, '2024-01-02 09:00:00', '安全保密管理员', 'create')")
    con.commit()
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("VACUUM")
    con.close()


if __name__ == "__main__":
    main()
