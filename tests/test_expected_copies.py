"""The copies a check of the carriers expects, read a block at a time (services/expected_copies.py,
issue 13 item 8): the same lines, in the same order, as making every line at once, for each
kind of scope; the counts by state without making a line; a copy placed by its id; a line
replaced or added as in a list; a copy voided after the read keeps its place."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from mibao_desktop.db.models import Record
from mibao_desktop.security import Actor
from mibao_desktop.services import carrier_checks as CC
from mibao_desktop.services import expected_copies as E
from mibao_desktop.services.context import Services
from tests.test_carrier_checks import carrier  # (the same carrier, registered the same way)
from tests.conftest import today


@pytest.fixture
def services(db):
    s = Services(db, Actor.local_security_admin())
    for name, dept in (("李娜", "科研一处"), ("张伟", "科研一处"), ("王芳", "科研二处")):
        s.ledgers.create("people", {"name": name, "department": dept})
    # registered out of number order, so that the order shown is not the order of the ids
    for number, n in (("ZT-2026-007", 4), ("ZT-2026-002", 1), ("ZT-2026-005", 3), ("ZT-2026-001", 2)):
        s.carrier_actions.register(carrier(number, n))
    s.carrier_actions.register(carrier("ZT-2026-009", 2, department="科研二处", keeper="王芳", location="科研二处保密柜"))
    one, seven = copy_ids(s, "ZT-2026-001"), copy_ids(s, "ZT-2026-007")
    s.carrier_actions.lend([seven[1]], {"borrower": "王芳", "due_back": (today() + dt.timedelta(days=7)).isoformat(),
                                        "approver": "王处长"})
    s.carrier_actions.distribute([seven[2]], {"recipient": "王芳", "approver": "王处长"})
    s.carrier_actions.distribute([one[0]], {"recipient_unit": "市保密局", "approver": "王处长"})
    s.carrier_actions.missing([seven[3]], {"circumstances": "清点时未找到"})
    return s


def copy_ids(s, number):
    c = s.ledgers.find("carriers", number)
    return [x.id for x in s.carrier_actions.copies(c.id)]


def person_id(s, name):
    with s.ledgers._read() as session:
        return session.scalar(select(Record.id).where(Record.ledger == "people", Record.label == name))


def made_at_once(session, info, seen):
    """Every line made at once, through the same helpers, in 登记编号 then 份号 order."""
    rows = sorted(CC._fetch(session, CC._scope_query(info)), key=CC._BY_NUMBER)
    names = CC._labels(session, {r[CC._PERSON] for r in rows})
    lines = [CC._line(r, names, seen.get(r[0])) for r in rows]
    sent = CC._sent(session, lines)
    if info.scope == CC.PERSON:
        for r, x in zip(rows, lines):
            x.held = CC._held(r[CC._STATUS], sent.get(r[0]))
    return rows, lines


def state(x):
    return CC.PRESENT if x.held else CC.record_state(x.status)


SCOPES = [(CC.DEPARTMENT, "科研一处", None), (CC.PLACE, "科研一处保密柜", None), (CC.PERSON, "王芳", "王芳"),
          (CC.ALL, "", None)]


def test_the_lines_read_a_block_at_a_time_are_those_made_at_once(services, monkeypatch):
    s = services
    monkeypatch.setattr(E, "BLOCK", 3)  # blocks of a few lines: a carrier's copies never split
    monkeypatch.setattr(E, "SWEEP", 4)
    seen = {copy_ids(s, "ZT-2026-005")[1]: "扫描"}
    # the copies away or missing read from the status index (few in the ledger), or counted by carrier
    for (scope, value, person), few in [(x, few) for x in SCOPES for few in (E.FEW_AWAY, -1)]:
        monkeypatch.setattr(E, "FEW_AWAY", few)
        info = SimpleNamespace(scope=scope, scope_value=value, person_id=person and person_id(s, person))
        with s.ledgers._read() as session:
            expected = E.read(session, info, seen, s.ledgers._read)
            rows, lines = made_at_once(session, info, seen)
        assert lines and len(expected) == len(lines)
        assert list(expected) == lines  # walked whole (the close)
        assert [expected[i] for i in reversed(range(len(lines)))] == lines[::-1]  # looked at anywhere (the table)
        assert expected[1:3] == lines[1:3] and expected[-1] == lines[-1]
        assert expected.states == Counter(map(state, lines))  # counted without a line made
        for k, r in enumerate(rows):
            assert expected.position(r[0], s.ledgers.get(r[0]).parent_id) == k
        if scope != CC.ALL:  # a copy the check does not list
            other = copy_ids(s, "ZT-2026-009")[0] if scope != CC.PERSON else copy_ids(s, "ZT-2026-002")[0]
            assert expected.position(other, s.ledgers.get(other).parent_id) is None


@pytest.mark.parametrize("few", [E.FEW_AWAY, -1])
def test_the_counts_and_the_lines_of_a_persons_check(services, monkeypatch, few):
    """Lent or distributed to the person: expected with them (在位); what went to a unit is not theirs."""
    s = services
    monkeypatch.setattr(E, "FEW_AWAY", few)
    seven = copy_ids(s, "ZT-2026-007")
    info = SimpleNamespace(scope=CC.PERSON, scope_value="王芳", person_id=person_id(s, "王芳"))
    with s.ledgers._read() as session:
        expected = E.read(session, info, {}, s.ledgers._read)
        assert E.seen_states(session, info, [seven[1], seven[2], copy_ids(s, "ZT-2026-001")[0]]) == {
            seven[1]: CC.PRESENT, seven[2]: CC.PRESENT}
    assert {x.copy_id if hasattr(x, "copy_id") else x.record_id for x in expected} >= {seven[1], seven[2]}
    assert expected.states[CC.PRESENT] == len(expected) and not expected.states[CC.ABSENT]


def test_a_line_replaced_or_added_and_a_copy_voided_after_the_read(services):
    s = services
    info = SimpleNamespace(scope=CC.DEPARTMENT, scope_value="科研一处", person_id=None)
    with s.ledgers._read() as session:
        expected = E.read(session, info, {}, s.ledgers._read)
        _rows, lines = made_at_once(session, info, {})
    n = len(expected)
    expected[0] = lines[1]
    expected.append(lines[2])
    assert len(expected) == n + 1 and expected[0] == lines[1] and expected[n] == lines[2]
    assert list(expected)[0] == lines[1] and list(expected)[-1] == lines[2]
    expected[n] = lines[3]
    assert expected[-1] == lines[3]
    with pytest.raises(IndexError):
        expected[n + 1]
    # voided while the check is open: kept in its place, said so (not shifting the lines after it)
    two = copy_ids(s, "ZT-2026-002")[0]
    s.ledgers.void(two, "登记有误")
    with s.ledgers._read() as session:
        again = E.read(session, info, {}, s.ledgers._read)
    assert len(again) == n - 1  # a new read no longer lists it
    row = next(i for i in range(n) if getattr(lines[i], "copy_id", getattr(lines[i], "record_id", None)) == two)
    kept = E.ExpectedCopies(expected._groups, expected.states, expected._make)
    assert kept[row].belongs == "已作废" and kept[row + 1] == lines[row + 1]



@pytest.mark.parametrize("few", [E.FEW_AWAY, -1])
def test_a_line_made_after_its_copy_changed_counts_as_the_read_had_it(services, monkeypatch, few):
    """A copy given back (or lent) after the list was read and before its line was made: the line
    counts in the state the counts were made from, so that a scan taking it off them (the dialog's
    live counts: the old line's count down, the scan's up) leaves them as a new read has them
    (found by this session's reviewer: 已核对 1, 未核对 2, 外出 1 where a new read says 1, 3, 0)."""
    from mibao_desktop.services import stocktaking as ST

    s = services
    monkeypatch.setattr(E, "FEW_AWAY", few)
    seven, five = copy_ids(s, "ZT-2026-007"), copy_ids(s, "ZT-2026-005")
    info = SimpleNamespace(scope=CC.DEPARTMENT, scope_value="科研一处", person_id=None)
    with s.ledgers._read() as session:
        expected = E.read(session, info, {}, s.ledgers._read)
    expected.seen_states = {}
    tally = ST.tally_of(expected)
    s.carrier_actions.give_back([seven[1]], {})  # read as 外出, now 在位
    s.carrier_actions.lend([five[0]], {"borrower": "张伟", "due_back": (today() + dt.timedelta(days=7)).isoformat(),
                                       "approver": "王处长"})  # read as 在位, now 外出
    returned, lent = (expected[expected.position(i)] for i in (seven[1], five[0]))  # made now
    assert (returned.status, lent.status) == ("在管", "借出")  # the lines show the copies as they are
    assert ST.count_key(None, returned) == ST.ABSENT and ST.count_key(None, lent) == ST.UNCHECKED
    assert Counter(ST.count_key(None, x) for x in expected) == tally
    row = expected.position(seven[1])  # scanned: the dialog's put
    with s.ledgers._read() as session:
        scanned, _listed = CC.COPIES_CHECK.describe(session, info, seven[1])
    scanned.seen_how = "扫描"
    tally[ST.count_key(None, expected[row])] -= 1
    tally[ST.count_key(None, scanned)] += 1
    s.carrier_actions.give_back([five[0]], {})  # (as it was read: the new read's counts alike)
    with s.ledgers._read() as session:
        fresh = E.read(session, info, {}, s.ledgers._read)
        fresh.seen_states = E.seen_states(session, info, [seven[1]])
    assert +tally == +ST.tally_of(fresh)
