"""Accounts, login, lockout and passwords (账户与登录). Qt-free; the desktop and the command
line both log in here.

三员分立 (seed 002 §七), with two people for every grant: the system administrator creates
accounts (with no role) and resets passwords; the security administrator grants each account
its role, which activates it. One person holds one role: 姓名 with 工号 is unique across the
roles. A logged-in session asks at each action whether its account is still enabled and still
holds its role. Every login, failure, lockout, lock and account change is audited; a name that
is no account is recorded as 未知用户名 with its length only (it may be a password typed into
the wrong field).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from dataclasses import dataclass
from typing import Callable, Mapping

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import Account, AuditEntry, Setting
from mibao_desktop.ledgers.normalize import clean_text
from mibao_desktop.security.inputs import unreadable
from mibao_desktop.security.passwords import SecurityPolicy, hash_password, name_tag, verify_password
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.security.roles import PasswordChangeRequired, SessionEnded
from mibao_desktop.services import audit
from mibao_desktop.errors import ServiceError, ValidationFailed
from mibao_desktop.services import settings as settings_module
from mibao_desktop.services.settings import security_policy

UNKNOWN_NAME = "未知用户名"
# The failed logins of names that are no account, kept so that such a name locks after as many
# failures as an account does (else “账户已锁定” would tell which names exist): in the settings,
# {"key": the installation's key, "names": {tag: {"failures": n, "until": iso}}}, by tag only
# (security.passwords.name_tag), never by the name.
UNKNOWN_NAMES = "unknown_name_failures"
UNKNOWN_LOCK = 0x4D42_0002  # PostgreSQL advisory lock: parallel guesses at unknown names count in turn

# What the auditor is shown as alerts: each is a moment where one person could have taken
# another's power (a reset password, a new grant, someone using a reset password).
ALERT_ACTIONS = ("account.reset_password", "account.grant_role", "auth.login_after_reset")


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
    role: Role | None  # None: waiting for the security administrator's grant (待授权)
    active: bool
    locked_until: dt.datetime | None
    must_change_password: bool
    password_changed_at: dt.datetime
    last_login_at: dt.datetime | None
    person_id: str = ""
    created_by: str = ""
    created_at: dt.datetime | None = None
    granted_by: str = ""
    granted_at: dt.datetime | None = None

    @property
    def role_text(self) -> str:
        return self.role.value if self.role else "待授权"

    @property
    def status_text(self) -> str:
        if self.role is None:
            return "待授权"
        return "在用" if self.active else "已停用"


@dataclass(frozen=True)
class LoginResult:
    actor: Actor
    display_name: str
    must_change_password: bool
    why_change: str  # 首次登录 / 口令已由管理员重置 / 口令已使用 N 天 …
    idle_lock_minutes: int


def _view(a: Account) -> AccountView:
    return AccountView(a.id, a.name, a.display_name, Role[a.role] if a.role else None, a.active, a.locked_until,
                       a.must_change_password, a.password_changed_at, a.last_login_at, a.person_id or "",
                       a.created_by or "", a.created_at, a.granted_by or "", a.granted_at)


def _actor(a: Account) -> Actor | str:
    """Who the audit entry names: the account with its role, or its bare name while it has none."""
    return Actor(a.name, Role[a.role]) if a.role else a.name


def _same_person(a: Account, display: str, person_id: str | None, *, recorded_later: bool = False) -> bool:
    """One person, by 姓名 and 工号: the same 工号 is the same person; the same 姓名 is too
    unless both carry a 工号, given when their accounts were made, and they differ (two namesakes).

    ``recorded_later``: either account's 工号 was 登记 after it was made (:meth:`AccountService.
    set_person_id`, for accounts older than revision 0012). Such a 工号 was typed by the system
    administrator alone and checked by nobody: he could give his own old account a made-up one,
    then make a second account with his 姓名 and his real 工号 and have it granted another role
    (事后登记的工号未经第二人核对,不能用来区分同名者). So two accounts of one 姓名 count as one
    person unless both 工号 were given at creation, which the security administrator checks at
    the grant of that very account. Namesakes made with their own 工号 are not held back; an old
    account's namesake needs its own account made anew with its 工号."""
    if a.person_id and person_id and a.person_id.casefold() == person_id.casefold():
        return True
    if a.display_name != display:
        return False
    return not (a.person_id and person_id) or recorded_later


def _person_ids_recorded_later(session: Session) -> set[str]:
    """The accounts whose 工号 was 登记 after they were made (account.set_person_id in the
    audit log, whose chain shows any entry taken out): such a 工号 distinguishes no namesake."""
    return set(session.scalars(select(AuditEntry.target).where(AuditEntry.action == "account.set_person_id")))


PASSWORD_LABELS = {"password": "口令", "name": "用户名", "display_name": "姓名", "role": "角色",
                   "person_id": "工号或身份证号"}
_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A hash no password matches, checked for a name that is no account: the answer then takes
    the same scrypt time as for a real account, so timing does not tell which names exist."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(os.urandom(16).hex()))
    return _DUMMY_HASH[0]


class AccountService:
    def __init__(self, db: Database, *, clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.db = db
        self.clock = clock
        # Called (from whatever thread acted) when a logged-in session is ended because its
        # account was disabled: the desktop goes back to its login window.
        self.session_listeners: list[Callable[[Actor, str], None]] = []

    # -- first start ------------------------------------------------------------------------

    def needs_setup(self) -> bool:
        with self.db.session() as session:
            return not session.scalar(select(func.count(Account.id)))

    def setup(self, accounts: Mapping[Role, tuple[str, ...]], *, unit_name: str = "") -> list[AccountView]:
        """首次使用: create the three accounts, one per role, as (login name, 姓名, password[, 工号]),
        and keep the unit's name (单位名称, printed on every form, label sheet and export) when given.

        Allowed only while there is no account at all: the three people set their own accounts
        together, so these alone are granted their roles without a second step. Their passwords
        are their own, so they need not be changed at the first login.
        """
        unit_name = settings_module.clean_unit_name(unit_name)
        if set(accounts) != set(Role):
            raise ServiceError("须为系统管理员、安全保密管理员、安全审计员各设一个账户。")
        names = [self._clean(chosen[0], "用户名") for chosen in accounts.values()]
        if len({n.casefold() for n in names}) != 3:
            raise ServiceError("三个账户的用户名必须各不相同(三员分立,不得由一人兼任)。")
        people = [(self._clean(c[1], "姓名"), self._clean(c[3] if len(c) > 3 else "", "工号或身份证号"))
                  for c in accounts.values()]
        for i, (display, person_id) in enumerate(people):
            for other_display, other_id in people[:i]:
                if (person_id and other_id and person_id.casefold() == other_id.casefold()) or (
                        display == other_display and not (person_id and other_id)):
                    raise ServiceError(f"三个账户属于同一人“{display}”:三员须由三人分别担任。"
                                       "如确为同名的两人,请分别填写工号或身份证号。")
        with self.db.write() as session:
            if session.scalar(select(func.count(Account.id))):
                raise ServiceError("账户已经建立,不能再次初始化。")
            policy = security_policy(session)
            now = self.clock()
            made = []
            for role, chosen in accounts.items():
                name, display, password = chosen[:3]
                account = self._new(session, policy, self._clean(name, "用户名"), self._clean(display, "姓名"),
                                    self._clean(chosen[3] if len(chosen) > 3 else "", "工号或身份证号"), password,
                                    now, must_change=False)
                account.role, account.granted_at = role.name, now
                made.append(account)
            session.flush()
            for account in made:
                audit.append(session, _actor(account), "account.setup", account.name,
                             {"role": Role[account.role].value}, at=now)
            if unit_name:  # the security administrator's setting, given by the three together
                keeper = next(a for a in made if a.role == Role.SECURITY_ADMIN.name)
                settings_module.write(session, settings_module.UNIT_NAME, unit_name, keeper.name, now)
                audit.append(session, _actor(keeper), "settings.change", settings_module.UNIT_NAME,
                             {"unit": unit_name}, at=now)
            return [_view(a) for a in made]

    @staticmethod
    def _clean(text: str, label: str) -> str:
        why = unreadable(text or "")
        if why:
            raise ValidationFailed({"field": why}, {"field": label})
        return clean_text(text or "")

    def _new(self, session: Session, policy: SecurityPolicy, name: str, display: str, person_id: str,
             password: str, now: dt.datetime, *, must_change: bool, created_by: str | None = None) -> Account:
        errors = {}
        if not name or len(name) > 40:
            errors["name"] = "用户名须为 1 到 40 个字"
        if not display or len(display) > 40:
            errors["display_name"] = "姓名须为 1 到 40 个字"
        if len(person_id) > 40:
            errors["person_id"] = "工号或身份证号不能超过 40 个字"
        problems = policy.password_problems(password, name=name)
        if problems:
            errors["password"] = ";".join(problems)
        if not errors and session.scalar(select(Account.id).where(func.lower(Account.name) == name.casefold())):
            errors["name"] = f"用户名“{name}”已被使用"
        if not errors and person_id:
            holder = session.scalar(select(Account).where(func.lower(Account.person_id) == person_id.casefold()))
            if holder is not None:
                errors["person_id"] = (f"工号“{person_id}”已属于账户“{holder.name}”({holder.display_name}):"
                                       "一人只能有一个账户")
        if errors:
            raise ValidationFailed(errors, PASSWORD_LABELS)
        account = Account(name=name, display_name=display, role=None, person_id=person_id or None,
                          created_by=created_by, password_hash=hash_password(password), password_changed_at=now,
                          must_change_password=must_change, failed_logins=0, active=True, created_at=now)
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
            why = unreadable(name or "") or unreadable(password or "")
            account = None if why else self._find(session, name)
            failure = self._check_password(session, account, name, password, policy, now, action="auth.login",
                                           unreadable_input=why)
            if failure is None and account.role is None:
                audit.append(session, account.name, "auth.login_failed", account.name, {"reason": "尚未授权"}, at=now)
                failure = AuthError("该账户尚未由安全保密管理员授予角色并启用,暂不能登录。请联系安全保密管理员。")
            if failure is None:
                result = self._logged_in(session, account, policy, now)
        if failure is not None:
            raise failure
        return result

    def _logged_in(self, session: Session, account: Account, policy: SecurityPolicy, now: dt.datetime) -> LoginResult:
        previous_login, account.last_login_at = account.last_login_at, now
        age = (now - account.password_changed_at).days
        why = ""
        if account.must_change_password and account.reset_at is not None:
            # Told to whoever logs in: the owner learns of a reset they did not ask for (and of a
            # login since that was not theirs), and the auditor sees this login among the alerts.
            last = f"该账户上次登录:{previous_login:%Y-%m-%d %H:%M}。" if previous_login else ""
            why = (f"您的口令已于 {account.reset_at:%Y-%m-%d %H:%M} 由系统管理员“{account.reset_by}”重置。{last}"
                   "如果不是您本人申请的重置,或上次登录不是您本人,请立即报告安全审计员。请设置自己的新口令。")
            audit.append(session, _actor(account), "auth.login_after_reset", account.name,
                         {"重置人": account.reset_by, "重置时间": account.reset_at.isoformat(timespec="seconds")},
                         at=now)
        else:
            audit.append(session, _actor(account), "auth.login", account.name, {}, at=now)
            if account.must_change_password:
                why = "首次登录,请设置自己的新口令。"
            elif age >= policy.max_age_days:
                why = f"口令已使用 {age} 天,超过 {policy.max_age_days} 天的更换周期,请更换口令。"
        aged = bool(why) and not account.must_change_password  # past the policy's age, at this login
        actor = Actor(account.name, Role[account.role],
                      still_valid=self._guard(account.id, aged=aged, changed_at=account.password_changed_at))
        return LoginResult(actor, account.display_name, bool(why), why, policy.idle_lock_minutes)

    def _guard(self, account_id: int, *, aged: bool = False,
               changed_at: dt.datetime | None = None) -> Callable[..., None]:
        """The check a logged-in session makes at each action (security.require calls it): its
        account still enabled and still holding the role it logged in with, and its password not
        waiting to be changed (after a reset, a first login, or past its age at the login), which
        is all such a session may do (``changing_password=True``: the change itself, the unlock
        of the screen). Enforced here and not only by the desktop's dialog and the command line's
        refusal, so that no other way in (a script on the services) skips the change."""
        ended: list[str] = []

        def still_valid(actor: Actor, *, changing_password: bool = False) -> None:
            if not ended:
                with self.db.session() as session:
                    row = session.execute(select(Account.active, Account.role, Account.must_change_password,
                                                 Account.password_changed_at)
                                          .where(Account.id == account_id)).first()
                if row is not None and row.active and row.role == actor.role.name:
                    if changing_password:
                        return
                    # The flag is set by a reset (also one during this session) and cleared by a
                    # change; a password past its age is changed once it is no longer the one of
                    # the login.
                    if row.must_change_password or (aged and row.password_changed_at == changed_at):
                        raise PasswordChangeRequired(
                            "须先修改口令:口令为首次登录的临时口令、已由系统管理员重置或已超过更换周期。"
                            "修改口令之前,不能进行其他操作。")
                    return
                ended.append("该账户已被停用" if row is None or not row.active else "该账户的角色已被更改")
                with self.db.write() as session:
                    audit.append(session, Actor(actor.name, actor.role), "auth.session_ended", actor.name,
                                 {"reason": ended[0]}, at=self.clock())
                for listener in list(self.session_listeners):
                    listener(actor, ended[0])
            raise SessionEnded(f"{ended[0]},本次登录已结束,未完成的操作没有保存。")

        return still_valid

    def _check_password(self, session: Session, account: Account | None, name: str, password: str,
                        policy: SecurityPolicy, now: dt.datetime, *, action: str,
                        unreadable_input: str | None = None) -> AuthError | None:
        """None when the password is right; else the error to raise once the failure (and a
        lockout it causes) has been committed, so that raising cannot roll it back.

        A name that is no account and a wrong password for a real one take the same time (one
        scrypt check either way), get the same words and lock after the same number of failures
        (:meth:`_unknown_name_failed`), so none of it tells which names exist. The unknown name is
        not recorded: it is often a password typed into the name field."""
        wrong = AuthError(f"用户名或口令错误。连续 {policy.lockout_attempts} 次口令错误,"
                          f"账户将被锁定 {policy.lockout_minutes} 分钟。")
        if unreadable_input:
            verify_password(password, _dummy_hash())  # the same time as any other answer
            audit.append(session, UNKNOWN_NAME, f"{action}_failed", "", {"reason": "含有无法识别的字符",
                                                                          "length": len(name or "")}, at=now)
            return AuthError(f"用户名或口令{unreadable_input}。")
        if account is None:
            return self._unknown_name_failed(session, name, policy, now, action, wrong)
        right = verify_password(password, account.password_hash)
        if account.locked_until and account.locked_until > now:
            audit.append(session, _actor(account), f"{action}_failed", account.name, {"reason": "账户锁定中"}, at=now)
            return AccountLocked(self._locked_message(account.locked_until), account.locked_until)
        if not right:
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
            return wrong
        if not account.active:  # told only to whoever knows the password
            audit.append(session, _actor(account), f"{action}_failed", account.name, {"reason": "账户已停用"}, at=now)
            return AuthError("该账户已停用,请联系安全保密管理员。")
        account.failed_logins = 0
        account.locked_until = None
        return None

    def _unknown_name_failed(self, session: Session, name: str, policy: SecurityPolicy, now: dt.datetime,
                             action: str, wrong: AuthError) -> AuthError:
        """A failed login of a name that is no account, counted as an account's would be: after
        ``lockout_attempts`` failures it answers 账户已锁定 until the lockout ends, then counts
        from nought, so that a guesser cannot tell it from a real account by locking it. Counted
        by the name's tag (its scrypt under the installation's key, which takes the time of the
        password check a real account gets); the name itself is kept nowhere."""
        if session.get_bind().dialect.name == "postgresql":  # SQLite's write transactions already queue
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UNKNOWN_LOCK})
        row = session.get(Setting, UNKNOWN_NAMES)
        stored = dict(row.value or {}) if row is not None else {}
        try:
            key = base64.b64decode(stored["key"], validate=True)
        except (KeyError, TypeError, ValueError):
            key = b""
        if len(key) < 16:
            key, stored = os.urandom(16), {}
        tag = name_tag(clean_text(name or "").casefold(), key)

        def locked_until(state: dict) -> dt.datetime | None:
            try:
                until = dt.datetime.fromisoformat(str(state.get("until")))
            except ValueError:
                return None
            return until if until > now else None

        # Only what still matters is kept: a count under the limit, or a lockout not yet over
        # (an entry past both is the same as none).
        names = {t: v for t, v in dict(stored.get("names") or {}).items()
                 if isinstance(v, dict) and (v.get("failures") or locked_until(v))}
        state = names.get(tag, {})
        length = len(name or "")
        until = locked_until(state)
        if until is not None:
            audit.append(session, UNKNOWN_NAME, f"{action}_failed", "",
                         {"reason": "无此用户(锁定中)", "length": length}, at=now)
            failure: AuthError = AccountLocked(self._locked_message(until), until)
        else:
            failures = int(state.get("failures") or 0) + 1
            audit.append(session, UNKNOWN_NAME, f"{action}_failed", "", {"reason": "无此用户", "length": length},
                         at=now)
            if failures >= policy.lockout_attempts:
                until = now + dt.timedelta(minutes=policy.lockout_minutes)
                names[tag] = {"failures": 0, "until": until.isoformat()}
                audit.append(session, UNKNOWN_NAME, "auth.locked_out", "",
                             {"reason": "无此用户", "length": length, "minutes": policy.lockout_minutes,
                              "until": until.isoformat()}, at=now)
                failure = AccountLocked(f"连续 {policy.lockout_attempts} 次口令错误,"
                                        + self._locked_message(until), until)
            else:
                names[tag] = {"failures": failures}
                failure = wrong
        value = {"key": base64.b64encode(key).decode(), "names": names}
        if row is None:
            session.add(Setting(key=UNKNOWN_NAMES, value=value, updated_at=now, updated_by=UNKNOWN_NAME))
        else:
            row.value, row.updated_at, row.updated_by = value, now, UNKNOWN_NAME
        return failure

    @staticmethod
    def _locked_message(until: dt.datetime) -> str:
        return f"账户已锁定,请于 {until.strftime('%H:%M')} 后再试,或请系统管理员解锁。"

    def unlock_screen(self, actor: Actor, password: str) -> None:
        """解除锁屏: the same person enters their password again (failures count, as at login).
        A session whose account was disabled meanwhile ends here instead of waiting at the lock."""
        if actor.still_valid is not None:
            actor.still_valid(actor, changing_password=True)
        now = self.clock()
        with self.db.write() as session:
            account = self._find(session, actor.name)
            failure = self._check_password(session, account, actor.name, password, security_policy(session), now,
                                           action="auth.unlock", unreadable_input=unreadable(password or ""))
            if failure is None:
                audit.append(session, actor, "auth.unlock", actor.name, {}, at=now)
        if failure is not None:
            raise failure

    def record(self, actor: Actor, action: str, detail: dict | None = None) -> None:
        """Audit a session event that changes no data: auth.logout, auth.lock (idle lock)."""
        with self.db.write() as session:
            audit.append(session, actor, action, actor.name, detail or {}, at=self.clock())

    def change_password(self, actor: Actor, old: str, new: str) -> None:
        """A wrong old password is a guess like a wrong one at the login: counted towards the
        lockout and audited (a session left open must not be a free guessing ground). The one
        thing a session whose password must be changed may do."""
        if actor.still_valid is not None:
            actor.still_valid(actor, changing_password=True)
        now = self.clock()
        with self.db.write() as session:
            policy = security_policy(session)
            account = self._find(session, actor.name)
            failure = self._check_password(session, account, actor.name, old, policy, now,
                                           action="auth.password_change", unreadable_input=unreadable(old or ""))
            if failure is None:
                problems = policy.password_problems(new, name=account.name)
                if old == new:
                    problems.append("新口令不能与原口令相同")
                if problems:
                    raise ValidationFailed({"password": ";".join(problems)}, {"password": "新口令"})
                account.password_hash = hash_password(new)
                account.password_changed_at = now
                account.must_change_password = False
                account.reset_by = account.reset_at = None
                audit.append(session, actor, "account.password_change", account.name, {}, at=now)
        if isinstance(failure, AccountLocked):
            raise failure
        if failure is not None:
            message = failure.message.split("。", 1)[1] if failure.message.startswith("用户名或口令错误") else ""
            raise ValidationFailed({"old": "原口令不正确" + (f"({message.rstrip('。')})" if message else "")},
                                   {"old": "原口令"})

    # -- the system administrator's work ------------------------------------------------------

    def _admin(self, actor: Actor, doing: str) -> None:
        require(actor, Role.SYSTEM_ADMIN, doing=doing)

    def accounts(self, actor: Actor) -> list[AccountView]:
        self._admin(actor, "查看账户")
        with self.db.session() as session:
            return [_view(a) for a in session.scalars(select(Account).order_by(Account.role, Account.name))]

    def create_account(self, actor: Actor, name: str, display_name: str, person_id: str,
                       password: str) -> AccountView:
        """A new account with a temporary password and no role: it cannot log in until the
        security administrator grants it a role, and must change the password at its first login."""
        self._admin(actor, "新建账户")
        name, display_name = self._clean(name, "用户名"), self._clean(display_name, "姓名")
        person_id = self._clean(person_id, "工号或身份证号")
        if not person_id:
            raise ValidationFailed({"person_id": "请填写,安全保密管理员授权时据此核对本人"}, PASSWORD_LABELS)
        now = self.clock()
        with self.db.write() as session:
            account = self._new(session, security_policy(session), name, display_name, person_id, password, now,
                                must_change=True, created_by=actor.name)
            session.flush()
            audit.append(session, actor, "account.create", account.name,
                         {"姓名": account.display_name, "工号": person_id, "role": "待授权"}, at=now)
            return _view(account)

    def set_person_id(self, actor: Actor, name: str, person_id: str) -> AccountView:
        """登记工号: the 工号 (or ID number) of an account made before they were asked for
        (revision 0012), which the one-person-one-role check needs. Only a missing one is set: a
        工号 on record is what the security administrator checked at the grant, and changing it
        would undo that check. Refused when an account of another role (or one awaiting its grant)
        holds it, or one of the same role that is another person (another 姓名), and on the
        actor's own account. Such a 工号, checked by nobody, never tells two people of one 姓名
        apart at a grant (:func:`_same_person`): one of them made up would otherwise pass a second
        account of the same person, with the real 工号, off as a namesake."""
        self._admin(actor, "登记工号")
        person_id = self._clean(person_id, "工号或身份证号")
        if not person_id:
            raise ValidationFailed({"person_id": "请填写工号或身份证号"}, PASSWORD_LABELS)
        if len(person_id) > 40:
            raise ValidationFailed({"person_id": "工号或身份证号不能超过 40 个字"}, PASSWORD_LABELS)
        now = self.clock()
        with self.db.write() as session:
            account = self._target(session, name)
            if account.name == actor.name:  # a 工号 of his own choosing would pass him off as someone else
                raise ServiceError("不能为自己的账户登记工号:工号用于核对一人只担任一个角色,须由另一位系统管理员登记。")
            if account.person_id:
                raise ServiceError(f"账户“{account.name}”已登记工号 {account.person_id},不能更改"
                                   "(授权时已据此核对本人)。如确有错误,请新建账户并由安全保密管理员授权。")
            for holder in session.scalars(select(Account).where(
                    Account.id != account.id, func.lower(Account.person_id) == person_id.casefold())):
                if holder.role != account.role:
                    held = Role[holder.role].value if holder.role else "待授权的账户"
                    raise ServiceError(f"工号“{person_id}”已属于{held}“{holder.name}”({holder.display_name}):"
                                       "三员分立,一人只能担任一个角色,不能登记给"
                                       + (f"{Role[account.role].value}" if account.role else "待授权的")
                                       + f"账户“{account.name}”。")
                if holder.display_name != account.display_name:
                    raise ServiceError(f"工号“{person_id}”已属于“{holder.display_name}”(账户“{holder.name}”),"
                                       f"与“{account.display_name}”不是同一人。")
            account.person_id = person_id
            audit.append(session, actor, "account.set_person_id", account.name,
                         {"工号": person_id, "姓名": account.display_name,
                          "role": Role[account.role].value if account.role else "待授权"}, at=now)
            return _view(account)

    def _target(self, session: Session, name: str) -> Account:
        account = self._find(session, name)
        if account is None:
            raise ServiceError(f"没有用户名为“{name}”的账户。")
        return account

    def reset_password(self, actor: Actor, name: str, password: str) -> None:
        """重置口令: a temporary password the person must change at the next login, where they
        are told who reset it and when; the auditor sees the reset among the alerts."""
        self._admin(actor, "重置口令")
        now = self.clock()
        with self.db.write() as session:
            account = self._target(session, name)
            if account.name == actor.name:
                raise ServiceError("不能重置自己的口令,请用“修改口令”。")
            problems = security_policy(session).password_problems(password, name=account.name)
            if problems:
                raise ValidationFailed({"password": ";".join(problems)}, {"password": "临时口令"})
            account.password_hash = hash_password(password)
            account.password_changed_at = now
            account.must_change_password = True
            account.reset_by, account.reset_at = actor.name, now
            account.failed_logins = 0
            account.locked_until = None
            audit.append(session, actor, "account.reset_password", account.name,
                         {"role": Role[account.role].value if account.role else "待授权"}, at=now)

    def set_active(self, actor: Actor, name: str, active: bool) -> None:
        """停用 is the system administrator's; enabling an account again gives its power back,
        so it is a grant: the security administrator's (:meth:`grant_role`)."""
        self._admin(actor, "停用账户")
        if active:
            raise ServiceError("启用账户须由安全保密管理员授权(三员分立:每次授权须经两人)。"
                               "请安全保密管理员在“账户授权”中启用。")
        now = self.clock()
        with self.db.write() as session:
            account = self._target(session, name)
            if account.name == actor.name:
                raise ServiceError("不能停用自己正在使用的账户。")
            if account.role is not None and account.active:
                others = session.scalar(select(func.count(Account.id)).where(
                    Account.role == account.role, Account.active.is_(True), Account.id != account.id))
                if not others:
                    raise ServiceError(f"这是唯一在用的{Role[account.role].value}账户,停用后将无人能履行该职责。"
                                       "请先为该角色新建账户并由安全保密管理员授权。")
            account.active = False
            audit.append(session, actor, "account.disable", account.name, {}, at=now)

    def unlock_account(self, actor: Actor, name: str) -> None:
        self._admin(actor, "解锁账户")
        now = self.clock()
        with self.db.write() as session:
            account = self._target(session, name)
            account.locked_until = None
            account.failed_logins = 0
            audit.append(session, actor, "account.unlock", account.name, {}, at=now)

    # -- the security administrator's grant -----------------------------------------------------

    def awaiting_grant(self, actor: Actor) -> list[AccountView]:
        """Accounts with no role yet, or disabled: what the security administrator may grant."""
        require(actor, Role.SECURITY_ADMIN, doing="授予角色")
        with self.db.session() as session:
            rows = session.scalars(select(Account).where((Account.role.is_(None)) | (Account.active.is_(False)))
                                   .order_by(Account.created_at, Account.name))
            return [_view(a) for a in rows]

    def grant_role(self, actor: Actor, name: str, role: Role) -> AccountView:
        """授予角色并启用: the second person of every grant. The account is one the system
        administrator made (or disabled); one person holds one role, so an account of the same
        person (姓名 with 工号) in another role refuses the grant."""
        require(actor, Role.SECURITY_ADMIN, doing="授予角色")
        now = self.clock()
        with self.db.write() as session:
            account = self._target(session, name)
            if account.name == actor.name:
                raise ServiceError("不能给自己的账户授权。")
            if account.role is not None and account.active:
                raise ServiceError(f"账户“{account.name}”已是在用的{Role[account.role].value},无需授权。")
            later = _person_ids_recorded_later(session)
            for other in session.scalars(select(Account).where(Account.id != account.id, Account.role.is_not(None),
                                                               Account.role != role.name,
                                                               Account.active.is_(True))):
                recorded_later = bool({account.name, other.name} & later)
                if _same_person(other, account.display_name, account.person_id, recorded_later=recorded_later):
                    raise ServiceError(
                        f"“{account.display_name}”" + (f"(工号 {account.person_id})" if account.person_id else "")
                        + f"已是{Role[other.role].value}(账户“{other.name}”):三员分立,一人只能担任一个角色。"
                        + ("" if account.person_id and other.person_id
                           and account.person_id.casefold() == other.person_id.casefold() else
                           "如确为同名的两人,两个账户都须在新建时填写各自的工号(事后登记的工号未经第二人核对,"
                           "不能区分同名者):请系统管理员为其新建账户并填写工号。"))
            previous = account.role
            account.role, account.active = role.name, True
            account.granted_by, account.granted_at = actor.name, now
            audit.append(session, actor, "account.grant_role", account.name,
                         {"role": role.value, "姓名": account.display_name, "工号": account.person_id or "",
                          "建立人": account.created_by or "", "原角色": Role[previous].value if previous else "待授权"},
                         at=now)
            return _view(account)
