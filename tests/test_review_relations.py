"""Review of the relations rework: each test here failed before the fix it comes with
(SQLite file, or PostgreSQL with MIBAO_TEST_DATABASE)."""

from __future__ import annotations

import pytest

from mibao_desktop.errors import LifecycleError
from mibao_desktop.services.repository import LedgerQuery


def carrier(**overrides):
    values = dict(carrier_number="ZT-0001", title="年度科研计划", level="机密", classified_on="2024-01-02",
                  copies=2, keeper="张伟", department="保密办")
    values.update(overrides)
    return values


def test_people_numbered_automatically_skip_the_numbers_given_in_the_same_import(service):
    result = service.create_many("people", [{"person_number": "RY-0001", "name": "甲"}, {"name": "乙"},
                                            {"person_number": "RY-0002", "name": "丙"}, {"name": "丁"}])
    assert not result.refused and len(result.created) == 4
    numbers = sorted(p.number for p in service.query("people", LedgerQuery(limit=None)).rows)
    assert numbers == ["RY-0001", "RY-0002", "RY-0003", "RY-0004"]


def test_a_copy_is_not_restored_under_a_voided_carrier(service):
    parent = service.create("carriers", carrier())
    copy = service.create("carrier_copies", {"copy_number": 1, "holder": "张伟"}, parent_id=parent.id)
    service.void(copy.id, "录入错误")
    service.void(parent.id, "录入错误")
    with pytest.raises(LifecycleError):
        service.restore(copy.id)
    assert service.get(copy.id).voided
    assert service.count("carrier_copies") == 0
