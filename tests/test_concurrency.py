"""Several workstations at once: each thread opens the database itself (its own engine and
connections, as another workstation would) and they all write at the same moment.

Runs on a SQLite file, and on PostgreSQL when MIBAO_TEST_DATABASE is set (tests/conftest.py).
What would break without the locks (each checked by taking the lock out once):
- without the row lock on the account (PostgreSQL) or BEGIN IMMEDIATE (SQLite), parallel
  guesses all read the same failure count and far more than five passwords get checked;
- without the advisory lock (PostgreSQL), two appenders read the same last hash and the
  audit chain forks; without BEGIN IMMEDIATE (SQLite), writers that read first fail with
  "database is locked" when they come to write.
"""

from __future__ import annotations

import collections
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import Account, AuditEntry
from mibao_desktop.security import Actor, Role
from mibao_desktop.services import audit
from mibao_desktop.services.accounts import AccountLocked, AccountService, AuthError
from mibao_desktop.services.settings import security_policy
from mibao_desktop.errors import ValidationFailed

WORKSTATIONS = 8
PASSWORDS = {Role.SYSTEM_ADMIN: "Sys-Admin-2026", Role.SECURITY_ADMIN: "Sec-Admin-2026", Role.AUDITOR: "Aud-Itor-2026"}
NAMES = {Role.SYSTEM_ADMIN: "xitong", Role.SECURITY_ADMIN: "baomi", Role.AUDITOR: "shenji"}
TIMEOUT = 120  # seconds for the whole run: a deadlock fails the test instead of hanging CI


@pytest.fixture
def workstations(db, db_target):
    """WORKSTATIONS more Databases on the same file or server database, each its own engine."""
    opened = [Database.open(db_target) for _ in range(WORKSTATIONS)]
    yield opened
    for database in opened:
        database.close()


def at_once(workstations, jobs: int, job) -> list:
    """Run ``job(database, n)`` for n in range(jobs), spread over one thread per workstation,
    all released together; returns the results (or exceptions) in job order."""
    start = threading.Barrier(len(workstations))
    numbers = iter(range(jobs))
    take = threading.Lock()
    results: list = [None] * jobs

    def workstation(database):
        start.wait()
        while True:
            with take:
                n = next(numbers, None)
            if n is None:
                return
            try:
                results[n] = job(database, n)
            except Exception as exc:  # kept to be counted (a refused login) or reported
                results[n] = exc

    with ThreadPoolExecutor(len(workstations)) as pool:
        for running in [pool.submit(workstation, d) for d in workstations]:
            running.result(timeout=TIMEOUT)
    return results


def test_parallel_wrong_passwords_lock_the_account_after_exactly_five(db, workstations):
    AccountService(db).setup({role: (NAMES[role], f"{role.value}甲", PASSWORDS[role]) for role in Role})
    with db.session() as session:
        attempts = security_policy(session).lockout_attempts
    assert attempts == 5
    guesses = 40

    results = at_once(workstations, guesses,
                      lambda database, n: AccountService(database).login("baomi", f"Wrong-Guess-{n:04d}"))

    unexpected = [r for r in results if not isinstance(r, AuthError)]
    assert unexpected == []  # every guess refused, none failed otherwise (a deadlock, "database is locked")
    kinds = collections.Counter(type(r).__name__ for r in results)
    assert kinds == {"AuthError": attempts - 1, "AccountLocked": guesses - attempts + 1}
    with db.session() as session:
        failed = session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login_failed")
                                 .order_by(AuditEntry.id)).all()
        reasons = collections.Counter(e.detail["reason"] for e in failed)
        assert reasons == {"口令错误": attempts, "账户锁定中": guesses - attempts}  # 5 passwords checked, no more
        # each failure counted once, one after the other: no two guesses read the same count
        assert [e.detail["failures"] for e in failed if e.detail["reason"] == "口令错误"] == list(range(1, attempts + 1))
        assert session.scalar(select(func.count()).where(AuditEntry.action == "auth.locked_out")) == 1
        account = session.scalar(select(Account).where(Account.name == "baomi"))
        assert account.locked_until is not None and account.failed_logins == 0
        result = audit.verify(session)
        assert result.ok, result.message  # one chain, no fork
        assert result.checked == session.scalar(select(func.count(AuditEntry.id)))
    with pytest.raises(AccountLocked):  # the right password too, while locked
        AccountService(db).login("baomi", PASSWORDS[Role.SECURITY_ADMIN])


def test_parallel_guesses_at_an_unknown_name_lock_it_after_exactly_five(db, workstations):
    """A name that is no account locks like one (else 账户已锁定 would tell the real names):
    parallel guesses from several workstations count one after another, 4 plain refusals then
    账户已锁定, as for an account, with one lockout recorded and the chain unbroken."""
    AccountService(db).setup({role: (NAMES[role], f"{role.value}甲", PASSWORDS[role]) for role in Role})
    guesses = 24

    results = at_once(workstations, guesses,
                      lambda database, n: AccountService(database).login("nosuchuser", f"Wrong-Guess-{n:04d}"))

    assert [r for r in results if not isinstance(r, AuthError)] == []
    kinds = collections.Counter(type(r).__name__ for r in results)
    assert kinds == {"AuthError": 4, "AccountLocked": guesses - 4}
    with db.session() as session:
        assert session.scalar(select(func.count()).where(AuditEntry.action == "auth.locked_out")) == 1
        assert session.scalar(select(func.count()).where(AuditEntry.action == "auth.login_failed")) == guesses
        result = audit.verify(session)
        assert result.ok, result.message


def test_parallel_guesses_by_login_unlock_and_password_change_stop_at_the_limit(db, workstations):
    """An account the system administrator made and the security administrator granted, logged
    in on one workstation; guesses at once through the login, the idle lock's prompt and the
    change-password dialog's old password: each is a password checked, all count, and no more
    than the policy's limit are checked before the account locks (issue 11: a wrong old
    password was neither counted nor audited)."""
    accounts = AccountService(db)
    accounts.setup({role: (NAMES[role], f"{role.value}甲", PASSWORDS[role]) for role in Role})
    accounts.create_account(Actor("xitong", Role.SYSTEM_ADMIN), "baomi2", "保密员乙", "GH-0002", "Temp-Pass-2026")
    accounts.grant_role(Actor("baomi", Role.SECURITY_ADMIN), "baomi2", Role.SECURITY_ADMIN)
    session = accounts.login("baomi2", "Temp-Pass-2026").actor
    guesses = 36

    def guess(database, n):
        service = AccountService(database)
        wrong = f"Wrong-Guess-{n:04d}"
        if n % 3 == 0:
            return service.login("baomi2", wrong)
        if n % 3 == 1:
            return service.unlock_screen(session, wrong)
        return service.change_password(session, wrong, "Brand-New-2026")

    results = at_once(workstations, guesses, guess)

    assert [r for r in results if not isinstance(r, (AuthError, ValidationFailed))] == []
    with db.session() as session_:
        checked = session_.scalars(select(AuditEntry).where(AuditEntry.action.in_(
            ["auth.login_failed", "auth.unlock_failed", "auth.password_change_failed"]),
            AuditEntry.target == "baomi2").order_by(AuditEntry.id)).all()
        wrong = [e for e in checked if e.detail["reason"] == "口令错误"]
        assert [e.detail["failures"] for e in wrong] == [1, 2, 3, 4, 5]  # five checked, one after the other
        assert len(checked) == guesses  # every guess recorded, whichever way it came
        assert session_.scalar(select(func.count()).where(AuditEntry.action == "auth.locked_out")) == 1
        assert audit.verify(session_).ok
    assert sum(isinstance(r, AccountLocked) for r in results) == guesses - 5 + 1


def test_parallel_audit_appends_make_one_unbroken_chain(db, workstations):
    appends = 120
    actor = Actor("baomi", Role.SECURITY_ADMIN)

    def append(database, n):
        with database.write() as session:
            return audit.append(session, actor, "test.parallel", f"第{n}条", {"n": n}).id

    first = append(db, -1)  # the chain has a head already: what follows must chain onto it

    ids = at_once(workstations, appends, append)

    assert [i for i in ids if not isinstance(i, int)] == []
    assert sorted(ids) == list(range(first + 1, first + 1 + appends))  # contiguous: nothing lost or doubled
    with db.session() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert sorted(e.detail["n"] for e in entries) == list(range(-1, appends))
        result = audit.verify(session)
        assert result.ok, result.message  # each entry holds the hash of the one before: no fork
        assert result.checked == appends + 1
