"""Accounts and the three roles, login and lockout, password age, the audit chain."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from sqlalchemy import text

from mibao_desktop.excel.audit_export import export_audit
from mibao_desktop.security.passwords import SecurityPolicy, hash_password, verify_password
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.accounts import AccountLocked, AccountService, AuthError
from mibao_desktop.services.audit_service import AuditFilter, AuditService
from mibao_desktop.errors import PermissionDenied, ServiceError, ValidationFailed
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.oversight import OversightService
from mibao_desktop.services.repository import LedgerQuery
from mibao_desktop.services.settings import SettingsService
from tests.conftest import computer

PASSWORDS = {Role.SYSTEM_ADMIN: "Sys-Admin-2026", Role.SECURITY_ADMIN: "Sec-Admin-2026", Role.AUDITOR: "Aud-Itor-2026"}
NAMES = {Role.SYSTEM_ADMIN: "xitong", Role.SECURITY_ADMIN: "baomi", Role.AUDITOR: "shenji"}


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 2, 9, 0, 0)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(microseconds=1)  # each audit entry its own instant
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def accounts(db, clock):
    service = AccountService(db, clock=clock)
    service.setup({role: (NAMES[role], f"{role.value}甲", PASSWORDS[role]) for role in Role})
    return service


def actor(role: Role) -> Actor:
    return Actor(NAMES[role], role)


def test_passwords_are_hashed_with_scrypt_and_salted():
    stored = hash_password("Sec-Admin-2026")
    assert stored.startswith("scrypt$16384$8$1$") and "Sec-Admin-2026" not in stored
    assert stored != hash_password("Sec-Admin-2026")
    assert verify_password("Sec-Admin-2026", stored) and not verify_password("sec-admin-2026", stored)
    assert not verify_password("x", "md5$abc")


def test_the_policy_follows_seed_002_by_default():
    policy = SecurityPolicy()
    assert (policy.min_length, policy.min_classes, policy.max_age_days) == (10, 3, 7)
    assert policy.password_problems("Abcdefgh12") == []
    assert "长度不少于 10 位" in policy.password_problems("Abc-12")[0]
    assert any("至少 3 种" in p for p in policy.password_problems("abcdefghijkl"))
    assert any("用户名" in p for p in policy.password_problems("Baomi-2026-x", name="baomi"))


def test_setup_makes_three_accounts_once(db, clock):
    service = AccountService(db, clock=clock)
    assert service.needs_setup()
    with pytest.raises(ServiceError, match="各不相同"):
        service.setup({role: ("same", "某人", PASSWORDS[role]) for role in Role})
    with pytest.raises(ValidationFailed) as weak:
        service.setup({role: (NAMES[role], f"{role.value}甲", "short") for role in Role})
    assert "口令" in str(weak.value)
    with pytest.raises(ServiceError, match="同一人“某人”"):  # one person cannot hold the three roles
        service.setup({role: (NAMES[role], "某人", PASSWORDS[role]) for role in Role})
    assert service.needs_setup()  # nothing half-made
    service.setup({role: (NAMES[role], f"{role.value}甲", PASSWORDS[role]) for role in Role})
    assert not service.needs_setup()
    with pytest.raises(ServiceError, match="不能再次初始化"):
        service.setup({role: (NAMES[role] + "2", f"{role.value}乙", PASSWORDS[role]) for role in Role})


def test_login_gives_the_account_its_one_role(accounts):
    for role in Role:
        result = accounts.login(NAMES[role].upper(), PASSWORDS[role])  # names are case-insensitive
        assert result.actor == actor(role)
        assert not result.must_change_password
    with pytest.raises(AuthError, match="用户名或口令错误"):
        accounts.login("nobody", "whatever")


ROLE_MATRIX = [
    # (what, the one role allowed)
    ("ledger.create", Role.SECURITY_ADMIN),
    ("ledger.read", Role.SECURITY_ADMIN),
    ("ledger.export", Role.SECURITY_ADMIN),
    ("settings.policy", Role.SECURITY_ADMIN),
    ("accounts.list", Role.SYSTEM_ADMIN),
    ("accounts.create", Role.SYSTEM_ADMIN),
    ("accounts.reset", Role.SYSTEM_ADMIN),
    ("audit.read", Role.AUDITOR),
    ("audit.verify", Role.AUDITOR),
    ("audit.export", Role.AUDITOR),
]


def _do(what: str, who: Actor, db, accounts, clock, tmp_path):
    from mibao_desktop.excel import export_ledger

    ledgers = LedgerService(db, who, clock=clock)
    n = len(list(tmp_path.iterdir()))
    return {
        "ledger.create": lambda: ledgers.create("computers", computer(asset_number=f"JM-{n}", serial_number=f"S{n}",
                                                                     disk_serials=f"D{n}",
                                                                     mac_addresses=f"00-00-00-00-01-{n:02X}")),
        "ledger.read": lambda: ledgers.query("computers", LedgerQuery()),
        "ledger.export": lambda: export_ledger(ledgers, ledgers.ledger("computers"), tmp_path / f"e{n}.xlsx"),
        "settings.policy": lambda: SettingsService(db, who, clock=clock).set_security_policy(SecurityPolicy(max_age_days=30)),
        "accounts.list": lambda: accounts.accounts(who),
        "accounts.create": lambda: accounts.create_account(who, f"user{n}", "新人", f"GH-{n}", "Temp-Pass-2026"),
        "accounts.reset": lambda: accounts.reset_password(who, NAMES[Role.AUDITOR], "Temp-Pass-2027"),
        "audit.read": lambda: AuditService(db, who, clock=clock).entries(),
        "audit.verify": lambda: AuditService(db, who, clock=clock).verify(),
        "audit.export": lambda: export_audit(AuditService(db, who, clock=clock), tmp_path / f"a{n}.xlsx"),
    }[what]()


@pytest.mark.parametrize("what, allowed", ROLE_MATRIX)
@pytest.mark.parametrize("role", list(Role))
def test_each_role_does_exactly_its_job(what, allowed, role, db, accounts, clock, tmp_path):
    if role is allowed:
        _do(what, actor(role), db, accounts, clock, tmp_path)
    else:
        with pytest.raises(PermissionDenied) as refused:
            _do(what, actor(role), db, accounts, clock, tmp_path)
        assert role.value in str(refused.value) and allowed.value in str(refused.value)


def test_five_wrong_passwords_lock_the_account_for_thirty_minutes(accounts, clock):
    name = NAMES[Role.SECURITY_ADMIN]
    for _ in range(4):
        with pytest.raises(AuthError, match="用户名或口令错误。连续 5 次口令错误,账户将被锁定 30 分钟"):
            accounts.login(name, "wrong-Password-1")
    with pytest.raises(AccountLocked, match="连续 5 次口令错误") as locked:
        accounts.login(name, "wrong-Password-1")
    assert locked.value.until - clock.now > dt.timedelta(minutes=29)
    with pytest.raises(AccountLocked, match="账户已锁定"):
        accounts.login(name, PASSWORDS[Role.SECURITY_ADMIN])  # the right password does not help while locked
    clock.advance(minutes=29)
    with pytest.raises(AccountLocked):
        accounts.login(name, PASSWORDS[Role.SECURITY_ADMIN])
    clock.advance(minutes=2)
    assert accounts.login(name, PASSWORDS[Role.SECURITY_ADMIN]).actor.role is Role.SECURITY_ADMIN
    auditor = AuditService(accounts.db, actor(Role.AUDITOR), clock=clock)
    assert auditor.count(AuditFilter(action="auth.login_failed")) == 7
    assert auditor.count(AuditFilter(action="auth.locked_out")) == 1


def test_the_system_administrator_can_unlock_and_the_policy_is_a_setting(accounts, db, clock):
    SettingsService(db, actor(Role.SECURITY_ADMIN), clock=clock).set_security_policy(
        SecurityPolicy(lockout_attempts=3, lockout_minutes=60))
    name = NAMES[Role.AUDITOR]
    for _ in range(2):
        with pytest.raises(AuthError):
            accounts.login(name, "nope-Nope-123")
    with pytest.raises(AccountLocked, match="连续 3 次"):
        accounts.login(name, "nope-Nope-123")
    accounts.unlock_account(actor(Role.SYSTEM_ADMIN), name)
    assert accounts.login(name, PASSWORDS[Role.AUDITOR])
    with pytest.raises(ValidationFailed, match="口令最短长度"):
        SettingsService(db, actor(Role.SECURITY_ADMIN), clock=clock).set_security_policy(SecurityPolicy(min_length=3))


def test_password_age_and_reset_force_a_change(accounts, clock):
    name = NAMES[Role.SECURITY_ADMIN]
    clock.advance(days=6)
    assert not accounts.login(name, PASSWORDS[Role.SECURITY_ADMIN]).must_change_password
    clock.advance(days=1)
    result = accounts.login(name, PASSWORDS[Role.SECURITY_ADMIN])
    assert result.must_change_password and "7 天" in result.why_change
    with pytest.raises(ValidationFailed, match="不能与原口令相同"):
        accounts.change_password(result.actor, PASSWORDS[Role.SECURITY_ADMIN], PASSWORDS[Role.SECURITY_ADMIN])
    with pytest.raises(ValidationFailed, match="原口令不正确"):
        accounts.change_password(result.actor, "wrong", "New-Password-2026")
    accounts.change_password(result.actor, PASSWORDS[Role.SECURITY_ADMIN], "New-Password-2026")
    assert not accounts.login(name, "New-Password-2026").must_change_password
    accounts.reset_password(actor(Role.SYSTEM_ADMIN), name, "Temp-Pass-2026")
    again = accounts.login(name, "Temp-Pass-2026")
    assert again.must_change_password and "重置" in again.why_change


def test_an_account_cannot_be_left_without_its_role(accounts):
    admin = actor(Role.SYSTEM_ADMIN)
    with pytest.raises(ServiceError, match="唯一在用"):
        accounts.set_active(admin, NAMES[Role.AUDITOR], False)
    with pytest.raises(ServiceError, match="自己"):
        accounts.set_active(admin, NAMES[Role.SYSTEM_ADMIN], False)
    accounts.create_account(admin, "shenji2", "审计员乙", "GH-0002", "Temp-Pass-2026")
    with pytest.raises(ServiceError, match="唯一在用"):  # made, but no auditor until it is granted
        accounts.set_active(admin, NAMES[Role.AUDITOR], False)
    accounts.grant_role(actor(Role.SECURITY_ADMIN), "shenji2", Role.AUDITOR)
    accounts.set_active(admin, NAMES[Role.AUDITOR], False)
    with pytest.raises(AuthError, match="已停用"):
        accounts.login(NAMES[Role.AUDITOR], PASSWORDS[Role.AUDITOR])
    assert accounts.login("shenji2", "Temp-Pass-2026").must_change_password


# -- the audit chain -------------------------------------------------------------------------


@pytest.fixture
def logged(accounts, db, clock):
    """A short real session: logins, a failure, a write, an export."""
    ledgers = LedgerService(db, actor(Role.SECURITY_ADMIN), clock=clock)
    accounts.login(NAMES[Role.SECURITY_ADMIN], PASSWORDS[Role.SECURITY_ADMIN])
    with pytest.raises(AuthError):
        accounts.login(NAMES[Role.AUDITOR], "bad-Password-1")
    record = ledgers.create("computers", computer())
    ledgers.update(record.id, {"department": "科研一处"})
    accounts.record(actor(Role.SECURITY_ADMIN), "auth.logout")
    return AuditService(db, actor(Role.AUDITOR), clock=clock)


def _raw(db):
    """Straight to the tables, past the services, as someone tampering with the database would;
    committed when the block ends (SQLite file or PostgreSQL alike)."""
    return db.engine.begin()


def test_every_event_is_in_the_log_and_the_chain_verifies(logged):
    actions = [row.action for row in reversed(logged.entries())]
    # the computer's 使用人 张伟 was new: the person is registered first, then the computer. The
    # failed login on the auditor's account is the security administrator's to review, not the
    # auditor's (the auditor's view leaves out entries made as 安全审计员)
    assert actions[-5:] == ["auth.login", "record.create", "record.create", "record.update", "auth.logout"]
    assert [e.target for e in logged.entries(AuditFilter(action="record.create"))] == ["computers:JM-0001",
                                                                                       "people:RY-0001"]
    update = logged.entries(AuditFilter(action="record.update"))[0]
    assert update.detail["fields"] == ["部门"] and update.actor == NAMES[Role.SECURITY_ADMIN]
    assert logged.entries(AuditFilter(actor=NAMES[Role.AUDITOR])) == []
    oversight = OversightService(logged.db, actor(Role.SECURITY_ADMIN))
    assert [e.action for e in oversight.auditor_actions()] == ["auth.login_failed", "account.setup"]
    result = logged.verify()
    assert result.ok and result.checked == len(actions) + 2  # every entry, the auditor's two too
    assert oversight.auditor_actions()[0].action == "audit.verify"  # the check is itself recorded


def test_a_changed_entry_is_named(logged, db):
    with _raw(db) as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'someone' WHERE id = 5"))
    result = logged.verify()
    assert not result.ok and result.broken_id == 5 and "第 5 条" in result.message and "改动" in result.message


def test_a_deleted_entry_is_named_by_the_one_after_it(logged, db):
    with _raw(db) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 4"))
    result = logged.verify()
    assert not result.ok and result.broken_id == 5 and "第 3 条" in result.message


def test_an_inserted_entry_is_named(logged, db):
    with _raw(db) as conn:
        last_id, last_hash = conn.execute(text("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")).one()
        conn.execute(text("UPDATE audit_log SET id = id + 100 WHERE id = :id"), {"id": last_id})
        conn.execute(text("INSERT INTO audit_log (id, at, actor, role, action, target, detail, prev_hash, hash) "
                          "VALUES (:id, '2026-11-02 09:00:00', 'x', '', 'record.create', '', '{}', :prev, :hash)"),
                     {"id": last_id, "prev": "0" * 64, "hash": "f" * 64})
    result = logged.verify()
    assert not result.ok and result.broken_id == last_id


def test_entries_removed_from_the_end_are_seen(logged, db):
    with _raw(db) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)"))
    result = logged.verify()
    assert not result.ok and "末尾" in result.message


def test_the_auditor_exports_the_filtered_log(logged, tmp_path):
    out = tmp_path / "审计.xlsx"
    count = export_audit(logged, out, AuditFilter(action="auth."))
    sheet = openpyxl.load_workbook(out).active
    assert sheet["A3"].value.startswith("填报单位:")  # as every export has it (issue 12: the unit on every export)
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    assert count == len(rows) == 2  # the failed login on the auditor's account is not the auditor's to review
    assert [r[4] for r in rows] == ["登录", "退出"]
    exported = OversightService(logged.db, actor(Role.SECURITY_ADMIN)).auditor_actions()[0]
    assert exported.action == "audit.export" and exported.detail["count"] == 2  # recorded, for the reviewer


def test_every_audit_action_has_its_chinese_label_without_the_accounts_module():
    """An export that never imports services.accounts (the command line's audit export) still
    shows the account actions in Chinese: their labels are in audit_service's own table."""
    import subprocess
    import sys

    code = ("from mibao_desktop.services.audit_service import action_label;"
            "print('|'.join(action_label(a) for a in ('account.grant_role', 'auth.login_after_reset',"
            " 'auth.password_change_failed', 'auth.session_ended')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "授予角色并启用|口令重置后首次登录|修改口令时原口令错误|会话结束(账户已停用或角色已变)"


def test_the_system_administrator_records_a_missing_person_id_once_and_never_one_of_another_role(accounts, db):
    """Accounts made before revision 0012 have no 工号, which one-person-one-role is checked
    by: the system administrator records it (audited), once, and never one that an account of
    another role holds (or one awaiting its grant, or another person's of the same role)."""
    from sqlalchemy import select

    from mibao_desktop.db.models import AuditEntry

    xitong, baomi = actor(Role.SYSTEM_ADMIN), actor(Role.SECURITY_ADMIN)
    assert {a.name: a.person_id for a in accounts.accounts(xitong)} == {"xitong": "", "baomi": "", "shenji": ""}
    for other in (baomi, actor(Role.AUDITOR)):
        with pytest.raises(PermissionDenied):
            accounts.set_person_id(other, "baomi", "GH-0001")
    done = accounts.set_person_id(xitong, "baomi", " GH-0001 ")
    assert done.person_id == "GH-0001"
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "account.set_person_id")).one()
    assert (entry.actor, entry.role, entry.target) == ("xitong", "系统管理员", "baomi")
    assert entry.detail == {"工号": "GH-0001", "姓名": "安全保密管理员甲", "role": "安全保密管理员"}
    with pytest.raises(ServiceError, match="已登记工号 GH-0001,不能更改"):
        accounts.set_person_id(xitong, "baomi", "GH-0009")
    with pytest.raises(ServiceError, match="已属于安全保密管理员“baomi”.*三员分立"):
        accounts.set_person_id(xitong, "shenji", "gh-0001")  # the same 工号 in another case
    accounts.create_account(xitong, "zhangsan", "张三", "GH-0002", "Temp-Pass-2026")
    with pytest.raises(ServiceError, match="已属于待授权的账户“zhangsan”"):
        accounts.set_person_id(xitong, "shenji", "GH-0002")
    with pytest.raises(ValidationFailed):
        accounts.set_person_id(xitong, "shenji", "")
    with pytest.raises(ValidationFailed):
        accounts.set_person_id(xitong, "shenji", "GH\x00-3")
    with pytest.raises(ServiceError, match="没有用户名"):
        accounts.set_person_id(xitong, "nobody", "GH-0003")
    assert accounts.set_person_id(xitong, "shenji", "GH-0003").person_id == "GH-0003"
    with db.write() as session:  # an account made before 工号 were asked for
        session.execute(text("UPDATE accounts SET person_id = NULL WHERE name = 'zhangsan'"))
    accounts.grant_role(baomi, "zhangsan", Role.AUDITOR)
    with pytest.raises(ServiceError, match="已属于“安全审计员甲”.*不是同一人"):
        accounts.set_person_id(xitong, "zhangsan", "GH-0003")  # same role, another 姓名
    assert [a.person_id for a in accounts.accounts(xitong) if a.name == "zhangsan"] == [""]


def test_the_system_administrator_cannot_record_a_person_id_on_his_own_account(accounts):
    """A 工号 he chose for himself would let a second account of his, with his 姓名 and his real
    工号, pass for a namesake at the grant of another role (review: set_person_id bypass)."""
    xitong, baomi = actor(Role.SYSTEM_ADMIN), actor(Role.SECURITY_ADMIN)
    with pytest.raises(ServiceError, match="不能为自己的账户登记工号"):
        accounts.set_person_id(xitong, "xitong", "FAKE-1")
    assert {a.name: a.person_id for a in accounts.accounts(xitong)}["xitong"] == ""
    accounts.create_account(xitong, "xitong2", "系统管理员甲", "GH-9", "Temp-Pass-2026")
    with pytest.raises(ServiceError, match="三员分立"):
        accounts.grant_role(baomi, "xitong2", Role.AUDITOR)


def test_a_person_id_recorded_after_the_fact_tells_no_namesake_apart(accounts):
    """Through a second system administrator account of his own (one person may hold two of one
    role), his old account gets a made-up 工号; his third account, with his 姓名 and real 工号,
    is still the same person at the grant. Namesakes whose accounts were both made with their own
    工号 are still two people."""
    xitong, baomi = actor(Role.SYSTEM_ADMIN), actor(Role.SECURITY_ADMIN)
    accounts.create_account(xitong, "xitong-b", "系统管理员甲", "GH-8", "Temp-Pass-2026")
    accounts.grant_role(baomi, "xitong-b", Role.SYSTEM_ADMIN)  # the same role: allowed
    accounts.set_person_id(Actor("xitong-b", Role.SYSTEM_ADMIN), "xitong", "FAKE-1")
    accounts.create_account(xitong, "xitong2", "系统管理员甲", "GH-9", "Temp-Pass-2026")
    with pytest.raises(ServiceError, match="已是系统管理员.*三员分立.*事后登记的工号未经第二人核对") as refused:
        accounts.grant_role(baomi, "xitong2", Role.AUDITOR)
    assert "xitong" in str(refused.value)
    assert [a.role for a in accounts.accounts(xitong) if a.name == "xitong2"] == [None]
    # namesakes both made with their own 工号: two people
    accounts.create_account(xitong, "wangwu", "王五", "GH-3001", "Temp-Pass-2026")
    accounts.grant_role(baomi, "wangwu", Role.SECURITY_ADMIN)
    accounts.create_account(xitong, "wangwu-b", "王五", "GH-3002", "Temp-Pass-2026")
    assert accounts.grant_role(baomi, "wangwu-b", Role.AUDITOR).role is Role.AUDITOR
