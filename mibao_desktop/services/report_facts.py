"""What a report prints about where it comes from: the unit's name (打印设置) and the 姓名 of
the person who made it (填表人). Qt-free.

A paper ledger is signed by a person, not by a login such as ``baomi``: the account's 姓名 is
looked up; for an actor with no account (the demo, the command line's local actor) the line is
left blank, to be written by hand.
"""

from __future__ import annotations

from sqlalchemy import select

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import Account
from mibao_desktop.services import settings
from mibao_desktop.services.print_service import UNIT_NAME


def unit_name(db: Database) -> str:
    """The unit's name as set in 打印设置 ("" when not set)."""
    with db.session() as session:
        return settings.read(session, UNIT_NAME, "") or ""


def display_name(db: Database, login: str) -> str:
    """The account's 姓名 ("" when no account has this login)."""
    with db.session() as session:
        name = session.scalar(select(Account.display_name).where(Account.name == login))
    return name or ""
