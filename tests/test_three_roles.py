"""三员 with two people for every grant, and the details of authentication (issue 11).

Each test here failed on the code before issue 11: an account the system administrator made
could log in at once with the role he chose, a reset went unmentioned, a disabled account's
session went on writing, a password typed into the name field was stored in the audit log, an
unknown name was answered faster and in other words than a known one, a wrong old password was
free, the policy could be loosened to endless guesses, and a control character or a lone
surrogate ended in a traceback. Runs on a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time

import pytest
from sqlalchemy import select

from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import PermissionDenied, ServiceError, ValidationFailed
from mibao_desktop.security import Actor, Role
from mibao_desktop.security.passwords import SecurityPolicy
from mibao_desktop.security.roles import SessionEnded
from mibao_desktop.services.accounts import AccountLocked, AccountService, AuthError
from mibao_desktop.services.context import Services
from mibao_desktop.services.settings import SettingsService
from tests.conftest import computer
from tests.test_security import NAMES, PASSWORDS, Clock, actor

XITONG, BAOMI, SHENJI = (actor(r) for r in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def accounts(db, clock):
    service = AccountService(db, clock=clock)
    service.setup({role: (NAMES[role], f"{role.value}甲", PASSWORDS[role]) for role in Role})
    return service


def entries(db, action: str | None = None) -> list[AuditEntry]:
    with db.session() as session:
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        return list(session.scalars(stmt))


def test_an_account_the_system_administrator_makes_cannot_log_in_until_the_security_administrator_grants_it(
        accounts, db):
    made = accounts.create_account(XITONG, "zhangsan", "张三", "GH-1001", "Temp-Pass-2026")
    assert made.role is None and made.status_text == "待授权" and made.created_by == "xitong"
    with pytest.raises(AuthError, match="尚未由安全保密管理员授予角色"):
        accounts.login("zhangsan", "Temp-Pass-2026")
    with pytest.raises(AuthError, match="^用户名或口令错误"):  # the state is told only to who knows the password
        accounts.login("zhangsan", "Wrong-Pass-2026")
    # the system administrator cannot grant it, nor enable it, nor can the auditor
    with pytest.raises(PermissionDenied):
        accounts.grant_role(XITONG, "zhangsan", Role.SECURITY_ADMIN)
    with pytest.raises(PermissionDenied):
        accounts.grant_role(SHENJI, "zhangsan", Role.SECURITY_ADMIN)
    with pytest.raises(ServiceError, match="须由安全保密管理员授权"):
        accounts.set_active(XITONG, "zhangsan", True)
    assert [a.name for a in accounts.awaiting_grant(BAOMI)] == ["zhangsan"]
    granted = accounts.grant_role(BAOMI, "zhangsan", Role.AUDITOR)
    assert granted.role is Role.AUDITOR and granted.granted_by == "baomi" and granted.active
    result = accounts.login("zhangsan", "Temp-Pass-2026")
    assert result.actor.role is Role.AUDITOR and result.must_change_password and "首次登录" in result.why_change
    assert accounts.awaiting_grant(BAOMI) == []
    grant = entries(db, "account.grant_role")[-1]
    assert (grant.actor, grant.role, grant.target) == ("baomi", "安全保密管理员", "zhangsan")
    assert grant.detail["role"] == "安全审计员" and grant.detail["建立人"] == "xitong"
    # a disabled account comes back only through the security administrator as well
    accounts.set_active(XITONG, "zhangsan", False)
    assert [a.name for a in accounts.awaiting_grant(BAOMI)] == ["zhangsan"]
    accounts.grant_role(BAOMI, "zhangsan", Role.AUDITOR)
    assert accounts.login("zhangsan", "Temp-Pass-2026").actor.role is Role.AUDITOR


def test_one_person_holds_one_role(accounts):
    # the system administrator's own 姓名 on an auditor account: refused at the grant
    accounts.create_account(XITONG, "puppet", "系统管理员甲", "X-0001", "Temp-Pass-2026")
    with pytest.raises(ServiceError, match="已是系统管理员.*一人只能担任一个角色"):
        accounts.grant_role(BAOMI, "puppet", Role.AUDITOR)
    # one 工号, one account
    accounts.create_account(XITONG, "lisi", "李四", "GH-2001", "Temp-Pass-2026")
    with pytest.raises(ValidationFailed, match="一人只能有一个账户"):
        accounts.create_account(XITONG, "lisi2", "李四", "gh-2001", "Temp-Pass-2026")
    with pytest.raises(ValidationFailed, match="工号或身份证号"):
        accounts.create_account(XITONG, "nobody", "某人", "", "Temp-Pass-2026")
    # namesakes with their own 工号 are two people
    accounts.grant_role(BAOMI, "lisi", Role.SECURITY_ADMIN)
    accounts.create_account(XITONG, "lisi-b", "李四", "GH-2002", "Temp-Pass-2026")
    assert accounts.grant_role(BAOMI, "lisi-b", Role.AUDITOR).role is Role.AUDITOR
    with pytest.raises(ServiceError, match="不能给自己的账户授权"):
        accounts.grant_role(BAOMI, "baomi", Role.AUDITOR)


def test_a_reset_is_told_at_the_next_login_and_shown_to_the_auditor(accounts, db, clock):
    accounts.login("baomi", PASSWORDS[Role.SECURITY_ADMIN])
    clock.advance(hours=1)
    accounts.reset_password(XITONG, "baomi", "Reset-Pass-2026")
    result = accounts.login("baomi", "Reset-Pass-2026")
    assert result.must_change_password
    assert "已于 2026-11-02 10:00 由系统管理员“xitong”重置" in result.why_change
    assert "上次登录:2026-11-02 09:00" in result.why_change  # a login since that was not theirs would show
    with pytest.raises(ServiceError, match="不能重置自己的口令"):
        accounts.reset_password(XITONG, "xitong", "Reset-Pass-2027")
    accounts.change_password(result.actor, "Reset-Pass-2026", "Own-Secret-2026")
    assert not accounts.login("baomi", "Own-Secret-2026").must_change_password  # told once
    accounts.create_account(XITONG, "wangwu", "王五", "GH-3001", "Temp-Pass-2026")
    accounts.grant_role(BAOMI, "wangwu", Role.SYSTEM_ADMIN)
    alerts = Services(db, SHENJI, clock=clock).oversight.alerts()
    assert [(a.action_label, a.target) for a in alerts] == [  # newest first
        ("授予角色并启用", "wangwu"), ("口令重置后首次登录", "baomi"), ("重置口令", "baomi")]
    assert alerts[1].detail["重置人"] == "xitong"
    for other in (BAOMI, XITONG):
        with pytest.raises(PermissionDenied):
            Services(db, other, clock=clock).oversight.alerts()


def test_the_security_administrator_audits_the_auditors_own_actions_and_only_those(accounts, db, clock):
    auditor = accounts.login("shenji", PASSWORDS[Role.AUDITOR]).actor
    Services(db, auditor, clock=clock).audit.verify()
    accounts.login("baomi", PASSWORDS[Role.SECURITY_ADMIN])
    seen = Services(db, BAOMI, clock=clock).oversight.auditor_actions()
    assert [e.action for e in seen][:2] == ["audit.verify", "auth.login"]
    assert {e.role for e in seen} == {"安全审计员"} and {e.actor for e in seen} == {"shenji"}
    for other in (SHENJI, XITONG):
        with pytest.raises(PermissionDenied):
            Services(db, other, clock=clock).oversight.auditor_actions()


def test_a_disabled_accounts_session_ends_at_its_next_action(accounts, db, clock):
    accounts.create_account(XITONG, "baomi2", "保密员乙", "GH-4001", "Temp-Pass-2026")
    accounts.grant_role(BAOMI, "baomi2", Role.SECURITY_ADMIN)
    session = accounts.login("baomi2", "Temp-Pass-2026").actor
    accounts.change_password(session, "Temp-Pass-2026", "Own-Secret-2026")  # the first login's one task
    told = []
    accounts.session_listeners.append(lambda who, why: told.append((who.name, why)))
    ledgers = Services(db, clock=clock).acting_as(session).ledgers
    ledgers.create("computers", computer())
    accounts.set_active(XITONG, "baomi2", False)
    with pytest.raises(SessionEnded, match="该账户已被停用,本次登录已结束"):
        ledgers.create("computers", computer(asset_number="JM-0002", serial_number="S2", disk_serials="D2",
                                             mac_addresses="00-00-00-00-00-02"))
    with pytest.raises(SessionEnded):
        ledgers.count("computers")  # and every action after
    with pytest.raises(SessionEnded):
        accounts.change_password(session, "Temp-Pass-2026", "Other-Pass-2026")
    assert told == [("baomi2", "该账户已被停用")]
    assert Services(db, BAOMI).ledgers.count("computers") == 1  # the refused write left nothing
    ended = entries(db, "auth.session_ended")
    assert len(ended) == 1 and ended[0].actor == "baomi2" and ended[0].detail["reason"] == "该账户已被停用"


def test_a_password_typed_into_the_name_field_is_not_recorded(accounts, db, tmp_path):
    from mibao_desktop.excel.audit_export import export_audit

    with pytest.raises(AuthError):
        accounts.login(PASSWORDS[Role.SECURITY_ADMIN], "")
    failed = entries(db, "auth.login_failed")[-1]
    assert failed.actor == "未知用户名" and failed.target == "" and failed.detail == {"reason": "无此用户", "length": 14}
    stored = json.dumps([[e.actor, e.target, e.detail] for e in entries(db)], ensure_ascii=False)
    assert "Sec-Admin" not in stored
    out = tmp_path / "审计.xlsx"
    export_audit(Services(db, SHENJI).audit, out)
    import openpyxl

    cells = [str(c) for row in openpyxl.load_workbook(out).active.iter_rows(values_only=True) for c in row]
    assert not any("Sec-Admin" in c for c in cells) and any("未知用户名" in c for c in cells)


def test_an_unknown_and_a_known_name_get_the_same_answer_in_the_same_time(accounts):
    def attempt(name: str) -> tuple[float, str]:
        start = time.perf_counter()
        with pytest.raises(AuthError) as refused:
            accounts.login(name, "Wrong-Guess-2026")
        return time.perf_counter() - start, refused.value.message

    known, unknown = [], []
    for n in range(4):  # alternated, so that the machine's load falls on both alike
        known.append(attempt("shenji"))
        unknown.append(attempt(f"nosuchuser{n}"))
    assert {m for _, m in known} == {m for _, m in unknown} == {"用户名或口令错误。连续 5 次口令错误,账户将被锁定 30 分钟。"}
    k, u = statistics.median(t for t, _ in known), statistics.median(t for t, _ in unknown)
    assert 0.5 < u / k < 2, (k, u)  # one scrypt check either way (about 50 ms), not 1 ms against 50


def test_a_wrong_old_password_counts_towards_the_lockout_and_is_audited(accounts, db):
    session = accounts.login("baomi", PASSWORDS[Role.SECURITY_ADMIN]).actor
    for _ in range(4):
        with pytest.raises(ValidationFailed, match="原口令不正确"):
            accounts.change_password(session, "Not-Mine-2026", "New-Secret-2026")
    with pytest.raises(AccountLocked, match="连续 5 次口令错误"):
        accounts.change_password(session, "Not-Mine-2026", "New-Secret-2026")
    with pytest.raises(AccountLocked):
        accounts.login("baomi", PASSWORDS[Role.SECURITY_ADMIN])
    failed = entries(db, "auth.password_change_failed")
    assert [e.detail["failures"] for e in failed] == [1, 2, 3, 4, 5] and {e.actor for e in failed} == {"baomi"}
    assert len(entries(db, "auth.locked_out")) == 1


def test_the_policy_has_floors_nobody_goes_under(accounts, db, clock):
    settings = SettingsService(db, BAOMI, clock=clock)
    for loose in (dict(lockout_attempts=11), dict(lockout_minutes=9), dict(min_length=7), dict(min_classes=1)):
        with pytest.raises(ValidationFailed):
            settings.set_security_policy(SecurityPolicy(**loose))
    settings.set_security_policy(SecurityPolicy(min_length=8, min_classes=2, lockout_attempts=10, lockout_minutes=10))
    # written past the service (an older version, or by hand): read back within the floors
    stored = SecurityPolicy.from_dict({"lockout_attempts": 50, "lockout_minutes": 1, "min_length": 4, "min_classes": 1})
    assert (stored.lockout_attempts, stored.lockout_minutes, stored.min_length, stored.min_classes) == (10, 10, 8, 2)
    assert "10 次" in SecurityPolicy.FLOORS and "10 分钟" in SecurityPolicy.FLOORS


@pytest.mark.parametrize("bad", ["bao\x00mi", "bao\x1bmi", "baomi\ud800", "\udcff"])
def test_control_characters_and_lone_surrogates_are_refused_in_plain_chinese(accounts, db, bad):
    with pytest.raises(AuthError, match="用户名或口令含有"):
        accounts.login(bad, PASSWORDS[Role.SECURITY_ADMIN])
    with pytest.raises(AuthError, match="用户名或口令含有"):
        accounts.login("baomi", bad)
    assert entries(db, "auth.login_failed")[-1].actor == "未知用户名"
    with pytest.raises(ValidationFailed, match="用户名:含有"):
        accounts.create_account(XITONG, bad, "某人", "GH-9", "Temp-Pass-2026")
    with pytest.raises(ValidationFailed, match="姓名:含有"):
        accounts.create_account(XITONG, "someone", bad, "GH-9", "Temp-Pass-2026")
    with pytest.raises(ValidationFailed, match="口令:含有"):
        accounts.create_account(XITONG, "someone", "某人", "GH-9", "Temp-" + bad + "-2026A")
    with pytest.raises(ValidationFailed, match="新口令:含有"):
        accounts.change_password(BAOMI, PASSWORDS[Role.SECURITY_ADMIN], "New-" + bad + "-2026A")
    assert accounts.login("baomi", PASSWORDS[Role.SECURITY_ADMIN]).actor.role is Role.SECURITY_ADMIN


@pytest.mark.parametrize("bad", ["JM\ud800", "\udcffJM", "JM\x00", "JM\x1b"])
def test_a_search_or_a_record_with_a_control_character_or_lone_surrogate_is_refused_in_words(db, bad):
    from mibao_desktop.services.repository import LedgerQuery

    ledgers = Services(db, BAOMI).ledgers
    for ask in (lambda: ledgers.query("computers", LedgerQuery(text=bad)),
                lambda: ledgers.count("computers", LedgerQuery(text=bad))):
        with pytest.raises(ValidationFailed, match="搜索词:含有"):
            ask()
    with pytest.raises(ValidationFailed, match="使用人:含有"):
        ledgers.create("computers", computer(user="张" + bad))
    assert ledgers.count("computers") == 0


def test_the_auditor_audits_the_other_two_and_not_themselves(accounts, db, clock, tmp_path):
    """The auditor's listing, count, user list and export leave out every entry made as 安全审计员
    (theirs and another auditor's); the security administrator sees exactly those. Verifying
    still walks every entry."""
    from mibao_desktop.excel.audit_export import export_audit
    from mibao_desktop.services.audit_service import AuditFilter

    auditor = accounts.login("shenji", PASSWORDS[Role.AUDITOR]).actor
    accounts.create_account(XITONG, "shenji2", "审计员乙", "GH-5001", "Temp-Pass-2026")
    accounts.grant_role(BAOMI, "shenji2", Role.AUDITOR)
    accounts.login("shenji2", "Temp-Pass-2026")  # another auditor's entry
    accounts.login("baomi", PASSWORDS[Role.SECURITY_ADMIN])
    log = Services(db, auditor, clock=clock).audit
    log.verify()
    shown = log.entries(limit=None)
    assert shown and not [e for e in shown if e.role == "安全审计员"]
    assert "auth.login" in {e.action for e in shown if e.actor == "baomi"}
    assert "shenji" not in log.actors() and "shenji2" not in log.actors() and "baomi" in log.actors()
    assert log.count() == len(shown) and log.count(AuditFilter(actor="shenji")) == 0
    assert log.entries(AuditFilter(action="audit.verify")) == []
    stored = entries(db)
    own = [e for e in stored if e.role == "安全审计员"]
    assert {e.actor for e in own} == {"shenji", "shenji2"}
    assert log.count() == len(stored) - len(own)
    assert {e.id for e in Services(db, BAOMI, clock=clock).oversight.auditor_actions()} == {e.id for e in own}
    out = tmp_path / "审计.xlsx"
    assert export_audit(log, out) == len(stored) - len(own)
    import openpyxl

    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert any("本人及其他审计员的操作由安全保密管理员审查" in str(c) for row in rows for c in row)
    assert not [row for row in rows if row[3] == "安全审计员"]
    assert log.verify().checked == len(entries(db)) - 1  # every entry before the check's own


def test_an_unknown_name_locks_after_as_many_failures_as_an_account(accounts, db, clock):
    """A guesser cannot tell a real name from an unknown one by locking it: both answer
    用户名或口令错误 four times, then 账户已锁定 until the lockout ends, then count again. The
    unknown name is counted by a keyed tag and found nowhere in the database."""
    def answers(name: str, times: int) -> list[tuple[str, str]]:
        got = []
        for _ in range(times):
            with pytest.raises(AuthError) as refused:
                accounts.login(name, "Wrong-Guess-2026")
            got.append((type(refused.value).__name__, refused.value.message))
        return got

    known, unknown = answers("shenji", 6), answers("nosuchuser", 6)
    assert known == unknown
    assert [kind for kind, _ in unknown] == ["AuthError"] * 4 + ["AccountLocked"] * 2
    assert "账户已锁定" in unknown[-1][1] and "连续 5 次口令错误" in unknown[4][1]
    assert answers("NoSuchUser", 1) == known[-1:]  # names are counted as logins look them up, case aside
    assert answers("nosuchuser2", 1) == known[:1]  # another name has its own count
    clock.advance(minutes=31)
    again = answers("shenji", 5)  # counted afresh after the lockout, then locked again
    assert again == answers("nosuchuser", 5) and [kind for kind, _ in again] == ["AuthError"] * 4 + ["AccountLocked"]
    with db.session() as session:
        from mibao_desktop.db.models import Setting

        stored = json.dumps([[s.key, s.value, s.updated_by] for s in session.scalars(select(Setting))],
                            ensure_ascii=False)
    logged = json.dumps([[e.actor, e.target, e.detail] for e in entries(db)], ensure_ascii=False)
    assert "nosuchuser" not in stored.casefold() and "nosuchuser" not in logged.casefold()
    locked = [e for e in entries(db, "auth.locked_out") if e.actor == "未知用户名"]
    assert len(locked) == 2 and locked[0].detail["length"] == 10  # told to the auditor, by length only


def test_a_session_whose_password_must_be_changed_may_only_change_it(accounts, db, clock):
    """After a reset (or a first login, or past its age) the services refuse every action of
    the session but the change itself, whatever calls them, not only the desktop's dialog."""
    from mibao_desktop.security import PasswordChangeRequired

    accounts.reset_password(XITONG, "baomi", "Reset-Pass-2026")
    session = accounts.login("baomi", "Reset-Pass-2026").actor
    work = Services(db, clock=clock).acting_as(session)
    for act in (lambda: work.ledgers.count("computers"), lambda: work.ledgers.create("computers", computer()),
                lambda: work.settings.set_security_policy(SecurityPolicy()), lambda: work.oversight.auditor_actions()):
        with pytest.raises(PasswordChangeRequired, match="须先修改口令"):
            act()
    assert Services(db, BAOMI).ledgers.count("computers") == 0
    accounts.change_password(session, "Reset-Pass-2026", "Own-Secret-2026")
    assert work.ledgers.count("computers") == 0 and work.ledgers.create("computers", computer())
    # a reset during a session holds it too, until the temporary password is changed
    accounts.reset_password(XITONG, "baomi", "Reset-Pass-2027")
    with pytest.raises(PasswordChangeRequired):
        work.ledgers.count("computers")
    # a password past its age, told at the login, is changed before anything else as well
    accounts.change_password(session, "Reset-Pass-2027", "Own-Secret-2027")
    clock.advance(days=8)
    aged = accounts.login("baomi", "Own-Secret-2027")
    assert aged.must_change_password and "超过 7 天" in aged.why_change
    aged_work = Services(db, clock=clock).acting_as(aged.actor)
    with pytest.raises(PasswordChangeRequired):
        aged_work.ledgers.count("computers")
    accounts.change_password(aged.actor, "Own-Secret-2027", "Own-Secret-2028")
    assert aged_work.ledgers.count("computers") == 1


def test_carried_entries_follow_the_auditors_rule_by_their_original_role_on_both_engines(accounts, db, clock):
    """audit.carried entries (a restore's, written with no role) are shown by the role of the
    entry they carry, also carried twice: the SQL that looks inside them runs on SQLite and
    PostgreSQL alike (the restore itself is SQLite's; its test is in test_restore_trust)."""
    from mibao_desktop.services import audit

    def carried(entry_id: int, role: str, action: str, depth: int) -> dict:
        entry = {"id": entry_id, "at": "2026-11-01 09:00:00", "actor": "x", "role": role, "action": action,
                 "target": "", "detail": {}, "hash": "0" * 64}
        for _ in range(depth - 1):
            entry = {"id": entry_id, "at": entry["at"], "actor": "baomi", "role": "", "action": audit.CARRIED,
                     "target": f"原第 {entry_id} 条", "detail": entry, "hash": "1" * 64}
        return entry

    with db.write() as session:
        audit.carry(session, [carried(900, "安全审计员", "audit.verify", 1), carried(901, "安全审计员", "audit.export", 2),
                              carried(902, "系统管理员", "account.reset_password", 2),
                              carried(903, "安全保密管理员", "record.create", 1)], at=clock(), actor=BAOMI)
    kinds = {}
    for e in entries(db, audit.CARRIED):
        inner = e.detail
        while inner["action"] == audit.CARRIED:
            inner = inner["detail"]
        kinds[inner["action"]] = e.id
    log = Services(db, SHENJI, clock=clock).audit
    shown = {e.id for e in log.entries(limit=None)}
    assert kinds["account.reset_password"] in shown and kinds["record.create"] in shown
    assert kinds["audit.verify"] not in shown and kinds["audit.export"] not in shown
    assert log.count() == len(shown)
    review = {e.id for e in Services(db, BAOMI, clock=clock).oversight.auditor_actions()}
    assert review >= {kinds["audit.verify"], kinds["audit.export"]}
    assert not review & {kinds["account.reset_password"], kinds["record.create"]}
    alerts = {e.id for e in Services(db, SHENJI, clock=clock).oversight.alerts()}
    assert kinds["account.reset_password"] in alerts and kinds["record.create"] not in alerts


def test_a_filter_by_person_finds_the_entries_a_restore_carried_in_by_their_original_actor(accounts, db, clock):
    """AuditFilter(actor=…) finds an entry a restore carried in (written as the one who
    restored) by the person who made the original, also carried twice, on both engines; the
    list of people offers that person (before: found only under the restorer's name)."""
    from mibao_desktop.services import audit
    from mibao_desktop.services.audit_service import AuditFilter

    inner = {"id": 900, "at": "2026-11-01 09:00:00", "actor": "zhaoliu", "role": "系统管理员",
             "action": "account.create", "target": "wangwu", "detail": {}, "hash": "0" * 64}
    twice = {"id": 901, "at": "2026-11-01 09:00:00", "actor": "baomi", "role": "", "action": audit.CARRIED,
             "target": "原第 901 条", "detail": dict(inner, id=901, actor="qianqi"), "hash": "1" * 64}
    with db.write() as session:
        audit.carry(session, [inner, twice], at=clock(), actor=BAOMI)
    ids = {e.detail["id"]: e.id for e in entries(db, audit.CARRIED)}
    log = Services(db, SHENJI, clock=clock).audit
    assert [e.id for e in log.entries(AuditFilter(actor="zhaoliu"))] == [ids[900]]
    assert [e.id for e in log.entries(AuditFilter(actor="qianqi"))] == [ids[901]]
    assert log.count(AuditFilter(actor="qianqi")) == 1
    assert {ids[900], ids[901]} <= {e.id for e in log.entries(AuditFilter(actor=BAOMI.name), limit=None)}
    assert {"zhaoliu", "qianqi"} <= set(log.actors())
