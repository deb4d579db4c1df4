"""Shared fixtures. Qt runs offscreen; one QApplication for the session (pytest-qt's qapp)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.security import Actor  # noqa: E402
from mibao_desktop.services.ledger_service import LedgerService  # noqa: E402


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def db(data_dir: Path):
    database = Database.open(data_dir / "mibao.sqlite")
    yield database
    database.close()


@pytest.fixture
def service(db: Database) -> LedgerService:
    return LedgerService(db, Actor.local_security_admin())


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
