"""Accounts, login, lockout and passwords (账户与登录). Qt-free; the desktop and the command
line both log in here.

三员分立 (seed 002 §七): an account holds exactly one role; the system administrator manages
accounts and nothing else. Every login, failure, lockout, lock and account change is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import Account
from mibao_desktop.ledgers.normalize import clean_text
from mibao_desktop.security.passwords import SecurityPolicy, hash_password, verify_password
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.services import audit
from mibao_desktop.errors import ServiceError, ValidationFailed
from mibao_desktop.services.settings import security_policy


class AuthError(ServiceError):
    """Login refused: wrong name or password, a locked or disabled account."""


class AccountLocked(AuthError):
    def __init__(self, message: str, until: dt.datetime) -> None:
        super().__init__(message)
        self.until = until


@dataclass(frozen=True)
class AccountView:
    id: int
    name: str
    display_name: str
    role: Role
    active: bool
    locked_until: dt.datetime | None
    must_change_password: bool
    password_changed_at: dt.datetime
    last_login_at: dt.datetime | None


@dataclass(frozen=True)
class LoginResult:
    actor: Actor
    display_name: str
    must_change_password: bool
    why_change: str  # 首次登录 / 口令已由管理员重置 / 口令已使用 N 天 …
    idle_lock_minutes: int


def _view(a: Account) -> AccountView:
    return AccountView(a.id, a.name, a.display_name, Role[a.role], a.active, a.locked_until,
                       a.must_change_password, a.password_changed_at, a.last_login_at)


def _actor(a: Account) -> Actor:
    return Actor(a.name, Role[a.role])


PASSWORD_LABELS = {"password": "口令", "name": "用户名", "display_name": "姓名", "role": "角色"}


class AccountService:
    def __init__(self, db: Database, *, clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.db = db
        self.clock = clock

    # -- first start ------------------------------------------------------------------------

    def needs_setup(self) -> bool:
        with self.db.session() as session:
            return not session.scalar(select(func.count(Account.id)))

    def setup(self, accounts: Mapping[Role, tuple[str, str, str]]) -> list[AccountView]:
        """首次使用: create the three accounts, one per role, as (login name, 姓名, password).

        Allowed only while there is no account at all. The passwords chosen here are the
        people's own, so they need not be changed at the first login.
        """
        if set(accounts) != set(Role):
            raise ServiceError("须为系统管理员、安全保密管理员、安全审计员各设一个账户。")
        names = [clean_text(name) for name, _, _ in accounts.values()]
        if len({n.casefold() for n in names}) != 3:
            raise ServiceError("三个账户的用户名必须各不相同(三员分立,不得由一人兼任)。")
        with self.db.write() as session:
            if session.scalar(select(func.count(Account.id))):
                raise ServiceError("账户已经建立,不能再次初始化。")
            policy = security_policy(session)
            now = self.clock()
            made = []
            for role, (name, display, password) in accounts.items():
                account = self._new(session, policy, clean_text(name), clean_text(display), role, password, now,
                                    must_change=False)
                made.append(account)
            session.flush()
            for account in made:
                audit.append(session, _actor(account), "account.setup", account.name,
                             {"role": Role[account.role].value}, at=now)
            return [_view(a) for a in made]

    def _new(self, session: Session, policy: SecurityPolicy, name: str, display: str, role: Role, password: str,
             now: dt.datetime, *, must_change: bool) -> Account:
        errors = {}
        if not name or len(name) > 40:
            errors["name"] = "用户名须为 1 到 40 个字"
        if not display or len(display) > 40:
            errors["display_name"] = "姓名须为 1 到 40 个字"
        problems = policy.password_problems(password, name=name)
        if problems:
            errors["password"] = ";".join(problems)
        if not errors and session.scalar(select(Account.id).where(func.lower(Account.name) == name.casefold())):
            errors["name"] = f"用户名“{name}”已被使用"
        if errors:
            raise ValidationFailed(errors, PASSWORD_LABELS)
        account = Account(name=name, display_name=display, role=role.name, password_hash=hash_password(password),
                          password_changed_at=now, must_change_password=must_change, failed_logins=0,
                          active=True, created_at=now)
        session.add(account)
        return account

    # -- login ------------------------------------------------------------------------------

    def _find(self, session: Session, name: str) -> Account | None:
        """The account, locked for this transaction on PostgreSQL (SELECT … FOR UPDATE): parallel
        guesses at one password then count one after another, and the lockout holds."""
        return session.scalar(select(Account).where(func.lower(Account.name) == clean_text(name).casefold())
                              .with_for_update())

    def login(self, name: str, password: str) -> LoginResult:
        """Check a name and password. Failures count towards the lockout; all are audited."""
        now = self.clock()
        with self.db.write() as session:
            policy = security_policy(session)
            account = self._find(session, name)
            failure = self._check_password(session, account, name, password, policy, now, action="auth.login")
            if failure is None:
                result = self._logged_in(session, account, policy, now)
        if failure is not None:
            raise failure
        return result

    def _logged_in(self, session: Session, account: Account, policy: SecurityPolicy, now: dt.datetime) -> LoginResult:
        account.last_login_at = now
        audit.append(session, _actor(account), "auth.login", account.name, {}, at=now)
        age = (now - account.password_changed_at).days
        why = ""
        if account.must_change_password:
            why = "首次登录或口令已由系统管理员重置,请设置自己的新口令。"
        elif age >= policy.max_age_days:
            why = f"口令已使用 {age} 天,超过 {policy.max_age_days} 天的更换周期,请更换口令。"
        return LoginResult(_actor(account), account.display_name, bool(why), why, policy.idle_lock_minutes)

    def _check_password(self, session: Session, account: Account | None, name: str, password: str,
                        policy: SecurityPolicy, now: dt.datetime, *, action: str) -> AuthError | None:
        """None when the password is right; else the error to raise once the failure (and a
        lockout it causes) has been committed, so that raising cannot roll it back."""
        if account is None:
            audit.append(session, clean_text(name)[:60] or "(空)", f"{action}_failed", clean_text(name)[:60],
                         {"reason": "无此用户"}, at=now)
            return AuthError("用户名或口令错误。")
        if not account.active:
            audit.append(session, _actor(account), f"{action}_failed", account.name, {"reason": "账户已停用"}, at=now)
            return AuthError("该账户已停用,请联系系统管理员。")
        if account.locked_until and account.locked_until > now:
            audit.append(session, _actor(account), f"{action}_failed", account.name, {"reason": "账户锁定中"}, at=now)
            return AccountLocked(self._locked_message(account.locked_until), account.locked_until)
        if not verify_password(password, account.password_hash):
            account.failed_logins += 1
            left = policy.lockout_attempts - account.failed_logins
            audit.append(session, _actor(account), f"{action}_failed", account.name,
                         {"reason": "口令错误", "failures": account.failed_logins}, at=now)
            if left <= 0:
                account.locked_until = now + dt.timedelta(minutes=policy.lockout_minutes)
                account.failed_logins = 0
                audit.append(session, _actor(account), "auth.locked_out", account.name,
                             {"minutes": policy.lockout_minutes, "until": account.locked_until.isoformat()}, at=now)
                return AccountLocked(f"连续 {policy.lockout_attempts} 次口令错误,"
                                    + self._locked_message(account.locked_until), account.locked_until)
            return AuthError(f"用户名或口令错误。再错 {left} 次,账户将被锁定 {policy.lockout_minutes} 分钟。")
        account.failed_logins = 0
        account.locked_until = None
        return None

    @staticmethod
    def _locked_message(until: dt.datetime) -> str:
        return f"账户已锁定,请于 {until.strftime('%H:%M')} 后再试,或请系统管理员解锁。"

    def unlock_screen(self, actor: Actor, password: str) -> None:
        """解除锁屏: the same person enters their password again (failures count, as at login)."""
        now = self.clock()
        with self.db.write() as session:
            account = self._find(session, actor.name)
            failure = self._check_password(session, account, actor.name, password, security_policy(session), now,
                                           action="auth.unlock")
            if failure is None:
                audit.append(session, actor, "auth.unlock", actor.name, {}, at=now)
        if failure is not None:
            raise failure

    def record(self, actor: Actor, action: str, detail: dict | None = None) -> None:
        """Audit a session event that changes no data: auth.logout, auth.lock (idle lock)."""
        with self.db.write() as session:
            audit.append(session, actor, action, actor.name, detail or {}, at=self.clock())

    def change_password(self, actor: Actor, old: str, new: str) -> None:
        now = self.clock()
        with self.db.write() as session:
            account = self._find(session, actor.name)
            if account is None or not verify_password(old, account.password_hash):
                raise ValidationFailed({"old": "原口令不正确"}, {"old": "原口令"})
            problems = security_policy(session).password_problems(new, name=account.name)
            if old == new:
                problems.append("新口令不能与原口令相同")
            if problems:
                raise ValidationFailed({"password": ";".join(problems)}, {"password": "新口令"})
            account.password_hash = hash_password(new)
            account.password_changed_at = now
            account.must_change_password = False
            audit.append(session, actor, "account.password_change", account.name, {}, at=now)

    # -- the system administrator's work ------------------------------------------------------

    def _admin(self, actor: Actor, doing: str) -> None:
        require(actor, Role.SYSTEM_ADMIN, doing=doing)

    def accounts(self, actor: Actor) -> list[AccountView]:
        self._admin(actor, "查看账户")
        with self.db.session() as session:
            return [_view(a) for a in session.scalars(select(Account).order_by(Account.role, Account.name))]

    def create_account(self, actor: Actor, name: str, display_name: str, role: Role, password: str) -> AccountView:
        """A new account with a temporary password, to be changed at its first login."""
        self._admin(actor, "新建账户")
        now = self.clock()
        with self.db.write() as session:
            account = self._new(session, security_policy(session), clean_text(name), clean_text(display_name), role,
                                password, now, must_change=True)
            session.flush()
            audit.append(session, actor, "account.create", account.name, {"role": role.value}, at=now)
            return _view(account)

    def _target(self, session: Session, name: str) -> Account:
        account = self._find(session, name)
        if account is None:
            raise ServiceError(f"没有用户名为“{name}”的账户。")
        return account

    def reset_password(self, actor: Actor, name: str, password: str) -> None:
        """重置口令: a temporary password the person must change at the next login."""
        self._admin(actor, "重置口令")
        now = self.clock()
        with self.db.write() as session:
            account = self._target(session, name)
            problems = security_policy(session).password_problems(password, name=account.name)
            if problems:
                raise ValidationFailed({"password": ";".join(problems)}, {"password": "临时口令"})
            account.password_hash = hash_password(password)
            account.password_changed_at = now
            account.must_change_password = True
            account.failed_logins = 0
            account.locked_until = None
            audit.append(session, actor, "account.reset_password", account.name, {}, at=now)

    def set_active(self, actor: Actor, name: str, active: bool) -> None:
        self._admin(actor, "停用或启用账户")
        now = self.clock()
        with self.db.write() as session:
            account = self._target(session, name)
            if not active:
                if account.name == actor.name:
                    raise ServiceError("不能停用自己正在使用的账户。")
                others = session.scalar(select(func.count(Account.id)).where(
                    Account.role == account.role, Account.active.is_(True), Account.id != account.id))
                if not others:
                    raise ServiceError(f"这是唯一在用的{Role[account.role].value}账户,停用后将无人能履行该职责。"
                                       "请先为该角色新建账户。")
            account.active = active
            audit.append(session, actor, "account.enable" if active else "account.disable", account.name, {}, at=now)

    def unlock_account(self, actor: Actor, name: str) -> None:
        self._admin(actor, "解锁账户")
        now = self.clock()
        with self.db.write() as session:
            account = self._target(session, name)
            account.locked_until = None
            account.failed_logins = 0
            audit.append(session, actor, "account.unlock", account.name, {}, at=now)
