"""Realistic sample data (演示数据): the unit's people, then every ledger's own sample rows.

Each ledger's declaration brings its sample rows (``Ledger.sample``); this module registers
them in registry order through LedgerService, like any other write, then sends a few records
through their lifecycle (a repair, a loan, a retirement) and voids one. Deterministic for a
seed, so screenshots and tests see the same ledgers.
"""

from __future__ import annotations

import datetime as dt
import random

from mibao_desktop.errors import ServiceError
from mibao_desktop.ledgers import PEOPLE, REGISTRY, children_of, exit_documents, trips
from mibao_desktop.ledgers.computers import computer_rows  # noqa: F401 (tests and benchmarks use it from here)
from mibao_desktop.ledgers.declaration import SampleContext
from mibao_desktop.ledgers.media import media_rows  # noqa: F401
from mibao_desktop.ledgers.samples import person_name
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.repository import LedgerQuery

DEMO_SEED = 20261122


def sample_people(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = person_name(rng)
        if name not in names:
            names.append(name)
    return names


def fill_demo(service: LedgerService, *, scale: float = 1.0, seed: int = DEMO_SEED) -> dict[str, int]:
    """Register the sample ledgers; a few records then change status, and one is voided."""
    rng = random.Random(seed)
    people = sample_people(rng, max(8, int(60 * scale)))
    made: dict[str, list[dict]] = {}
    counts: dict[str, int] = {}
    created: dict[str, list[int]] = {}
    for ledger in _referenced_first():
        if ledger.sample is None:
            continue
        context = SampleContext(rng=random.Random(rng.randint(0, 10**9)), scale=scale, made=made, people=people)
        rows = list(ledger.sample(context))
        result = service.create_many(ledger, rows, source="演示数据")
        if result.refused:
            raise RuntimeError(f"{ledger.title}的演示数据有误:" + ";".join(r.message for r in result.refused[:3]))
        made[ledger.key] = rows
        counts[ledger.key] = counts.get(ledger.key, 0) + len(result.created)
        created[ledger.key] = result.created
    for ledger in REGISTRY:  # once everything is there: a copy's carrier is not voided under it
        if ledger is not PEOPLE and created.get(ledger.key):
            _lifecycle(service, ledger, created[ledger.key], rng)
    return counts


def _referenced_first() -> list:
    """The ledgers in an order where every ledger comes after those it refers to (people
    before the computers in their charge, computers before the printers they use)."""
    ordered: list = []

    def visit(ledger, path=()) -> None:
        if ledger in ordered or ledger in path:
            return
        for f in ledger.reference_fields:
            for key in f.type.targets:
                visit(next(l for l in REGISTRY if l.key == key), (*path, ledger))
        if ledger.parent is not None:
            visit(next(l for l in REGISTRY if l.key == ledger.parent), (*path, ledger))
        ordered.append(ledger)

    for ledger in REGISTRY:
        visit(ledger)
    return ordered


SAMPLE_FACT_TEXTS = {"destination": ("北京", "上海分院", "西安试验基地"), "trip_purpose": ("参加型号评审会", "外场试验", "向上级汇报"),
                     "repaired_by": ("本单位信息中心", "航天信息技术服务有限公司"), "approver": ("王主任", "李处长"),
                     "beyond_scope": ("因型号评审工作需要,经主管领导批准",),
                     "circumstances": ("月度核对时未在保密柜中找到,正在查找",)}
SAMPLE_ACTIONS = ("distribute", "lend", "missing")  # what the demo does with a few copies, in this order


def _sample_facts(service: LedgerService, record_id: int, status: str, lifecycle, rng: random.Random,
                  fields=None) -> dict:
    """Plausible facts for a sample status change (or, given ``fields``, an action), whatever its
    lifecycle declares."""
    record = service.get(record_id)
    person = next((record.display(f.name) for f in record.ledger.reference_fields if f.is_person
                   and record.display(f.name)), "")
    facts: dict = {}
    for f in (lifecycle.facts_for(status) if fields is None else fields):
        if f.is_person:
            facts[f.name] = person or None
        elif f.type.editor == "date":
            facts[f.name] = dt.date.today() + dt.timedelta(days=rng.randint(3, 30))
        elif f.type.editor == "choice":
            facts[f.name] = rng.choice(f.type.choices)
        else:
            facts[f.name] = rng.choice(SAMPLE_FACT_TEXTS.get(f.name, ("演示",)))
    return facts


def _lifecycle(service: LedgerService, ledger, ids: list[int], rng: random.Random) -> None:
    lifecycle = ledger.lifecycle
    if lifecycle.actions:  # a carrier copy's status changes only through its recorded actions
        if ledger is trips.TRIPS:  # the trips and their documents go through their steps together
            _travel(service)
        elif ledger is not exit_documents.EXIT_DOCUMENTS:
            _actions(service, ledger, ids, rng)
        return
    passing = [s for s in lifecycle.statuses if s != lifecycle.initial and s not in lifecycle.closing]
    # (a lifecycle whose one status is a closing one, a person's file entry: kept, never moved)
    closing = [s for s in lifecycle.statuses if s in lifecycle.closing and s not in lifecycle.terminal
               and s != lifecycle.initial]
    if passing:
        for record_id in rng.sample(ids, k=min(len(ids), max(1, len(ids) // 40))):
            status = passing[0] if rng.random() < 0.7 else rng.choice(passing)
            service.change_status(record_id, status, facts=_sample_facts(service, record_id, status, lifecycle, rng))
    if closing and not children_of(ledger):  # a carrier closes with its copies, never on its own
        for record_id in rng.sample(ids, k=min(len(ids), max(1, len(ids) // 60))):
            if service.get(record_id).status == lifecycle.initial:
                service.change_status(record_id, closing[0], reason="超过使用年限,经审批报废",
                                      confirm_referenced=True)  # sample data: the printer keeps naming it
    if len(ids) > 10:
        try:
            service.void(ids[-1], "重复登记(演示)")
        except ServiceError:  # others refer to it, or it has records under it: leave it
            pass


def _travel(service: LedgerService) -> None:
    """The sample trips through their steps (ledgers/trips.py makes them): the first approved,
    briefed, its passport handed out, reported and returned; the second handed out and not back
    within the return period (overdue); the third waiting for approval."""
    from mibao_desktop.services.travel import TravelService

    travel, today = TravelService(service), dt.date.today()
    ago = lambda days: today - dt.timedelta(days=days)  # noqa: E731
    for number, steps in (("CJ-0001", (75, 62, 62, 50, 48)), ("CJ-0002", (40, 27, 27, None, None))):
        trip = service.find(trips.TRIPS, number)
        if trip is None or trip.status != trips.APPLIED:
            continue
        approved, briefed, handed, reported, returned = steps
        travel.approve(trip.id, {"approver": "张建国"}, effective_date=ago(approved))
        travel.brief(trip.id, {"briefed_by": "保密办 刘洋", "briefing_notes": "不携带涉密载体和工作电脑出境"},
                     effective_date=ago(briefed))
        held = [d for d in service.rows(exit_documents.EXIT_DOCUMENTS, LedgerQuery(limit=None))
                if d.values.get(exit_documents.HOLDER) == trip.values.get(trips.TRAVELLER)
                and d.status == exit_documents.IN_SAFE]
        if not held:
            continue
        name = trip.display(trips.TRAVELLER)
        travel.collect(held[0].id, trip.id, {"collector": name, "handler": "人事处 王敏"}, effective_date=ago(handed))
        if reported is not None:
            travel.report(trip.id, {"report": "按批准行程往返,境外期间无异常情况。"}, effective_date=ago(reported))
            travel.hand_back(held[0].id, {"returner": name, "handler": "人事处 王敏"}, effective_date=ago(returned))


def _actions(service: LedgerService, ledger, ids: list[int], rng: random.Random) -> None:
    """A few records of a ledger whose statuses change only through recorded actions (carrier
    copies) go through them: some distributed, some lent, one gone missing (its clock runs)."""
    from mibao_desktop.services.carrier_actions import CarrierActions

    actions = CarrierActions(service)
    declared = {a.key: a for a in ledger.lifecycle.actions}
    chosen = rng.sample(ids, k=min(len(ids), max(len(SAMPLE_ACTIONS), len(ids) // 20)))
    for n, record_id in enumerate(chosen):
        action = declared.get(SAMPLE_ACTIONS[min(n * len(SAMPLE_ACTIONS) // len(chosen), len(SAMPLE_ACTIONS) - 1)])
        if action is None or service.get(record_id).status not in action.from_:
            continue
        facts = _sample_facts(service, record_id, action.to or "", ledger.lifecycle, rng, fields=action.facts)
        try:
            actions.act(action.key, [record_id], facts)
        except ServiceError:  # a rule the sample facts do not meet (a 绝密 copy's loan): leave that copy
            pass
