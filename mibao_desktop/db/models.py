"""The fixed tables: the register of every record's id, uniqueness keys, links between
records, facet counts, history, settings, audit log, accounts and the output register.

Each ledger's own table (``ledger_computers`` …) is generated from its declaration in
``mibao_desktop.db.schema``; the tables here are the same for every ledger. Types stay portable
between SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Record(Base):
    """Every record of every ledger, by id (台账记录登记): which ledger holds it and what a
    reference to it shows (its number; a person's name). History, uniqueness keys and
    references point here, so that a record is one id whatever ledger it is in."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ledger: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    voided: Mapped[bool] = mapped_column(Boolean, default=False)

    events: Mapped[list["RecordEvent"]] = relationship(
        back_populates="record", order_by="RecordEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_records_ledger_label", "ledger", "label"),)


class RecordLink(Base):
    """One reference of a many-valued reference field (a printer's connected computers), so
    that "who refers to this record" is an index look-up."""

    __tablename__ = "record_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    field: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_record_links_record", "record_id"), Index("ix_record_links_target", "target_id"))


class FacetCount(Base):
    """How many records (not voided) of a ledger hold each value of a facet field (状态, 密级,
    部门 …). Kept up to date in the transaction of every write, so that the counts by level,
    the list of departments and the yearly summary never count a million rows."""

    __tablename__ = "facet_counts"

    ledger: Mapped[str] = mapped_column(String(40), primary_key=True)
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class EventTally(Base):
    """How many events of each kind a ledger had in a year (新增, each status moved into, 作废 …),
    kept with every event in SQL (``count = count + n``): the yearly summary of a ledger of a
    million records reads a few rows."""

    __tablename__ = "event_tallies"

    ledger: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(50), primary_key=True)  # the status moved into ("" otherwise)
    count: Mapped[int] = mapped_column(Integer, default=0)


class TrainingHours(Base):
    """Each person's training hours in a calendar year (tenths of an hour, and how many sessions),
    kept by database triggers on the training sessions and their attendees (revision 0026): the
    compliance list of 20,000 people reads a year's rows instead of summing its attendances."""

    __tablename__ = "training_hours"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    person: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenths: Mapped[int] = mapped_column(Integer)
    sessions: Mapped[int] = mapped_column(Integer)


class UniqueValue(Base):
    """A value that must not repeat within a uniqueness scope (asset numbers, serials, MACs).

    A separate table because a computer has several disks and MACs, each of which must be
    unique; the database constraint backs up the service's friendly check.
    """

    __tablename__ = "unique_values"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(200))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))

    __table_args__ = (
        UniqueConstraint("scope", "field", "value", name="uq_unique_values_scope_field_value"),
        Index("ix_unique_values_record", "record_id"),
    )


class RecordEvent(Base):
    """One change to a record: created, edited, status changed, voided or restored."""

    __tablename__ = "record_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    ledger: Mapped[str] = mapped_column(String(40))  # the record's ledger, for the year's counts per ledger
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    effective_date: Mapped[dt.date | None] = mapped_column(Date, default=None)

    record: Mapped[Record] = relationship(back_populates="events")
    changes: Mapped[list["FieldChange"]] = relationship(
        back_populates="event", order_by="FieldChange.id", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_record_events_record", "record_id"), Index("ix_record_events_at", "at"),
                      Index("ix_record_events_ledger_at", "ledger", "at"))


class FieldChange(Base):
    """Old and new value of one field in one event, as displayed text.

    A reference's text is the number or name it showed then, which may since belong to another
    record (renumbered, renamed, a namesake): ``old_ids``/``new_ids`` keep the ids it held (one
    per line), so that undoing the edit puts back the very records and people (revision 0010;
    None for other fields and for history written before)."""

    __tablename__ = "field_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("record_events.id"))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text, default=None)
    new_value: Mapped[str | None] = mapped_column(Text, default=None)
    old_ids: Mapped[str | None] = mapped_column(Text, default=None)
    new_ids: Mapped[str | None] = mapped_column(Text, default=None)

    event: Mapped[RecordEvent] = relationship(back_populates="changes")

    __table_args__ = (Index("ix_field_changes_event", "event_id"),)


class Setting(Base):
    """A unit's own setting (training hours, password policy, label offsets …)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(60))


class AuditEntry(Base):
    """The audit log (审计日志): append-only, each entry holding the hash of the one before."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_log_at", "at"),)


class Account(Base):
    """A person who may log in (账户), holding at most one of the three roles (三员分立).

    The system administrator creates an account with no role; the security administrator
    grants its role and so activates it (revision 0012): no grant of power rests with one
    person. Until then it cannot log in."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)  # the login name
    display_name: Mapped[str] = mapped_column(String(40))
    # a Role's name: SYSTEM_ADMIN, SECURITY_ADMIN, AUDITOR; None until the security administrator grants one
    role: Mapped[str | None] = mapped_column(String(30), nullable=True)
    person_id: Mapped[str | None] = mapped_column(String(40), default=None)  # 工号或身份证号: tells namesakes apart
    created_by: Mapped[str | None] = mapped_column(String(40), default=None)
    granted_by: Mapped[str | None] = mapped_column(String(40), default=None)  # who granted the role
    granted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    reset_by: Mapped[str | None] = mapped_column(String(40), default=None)  # the last reset not yet followed by a change
    reset_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    password_hash: Mapped[str] = mapped_column(String(200))
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class OutputEntry(Base):
    """输出登记: each report written to removable media, with its size and SHA-256."""

    __tablename__ = "output_register"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(60))
    what: Mapped[str] = mapped_column(String(200))  # 涉密计算机台账(共 300 条), 2026 年度报表 …
    file_name: Mapped[str] = mapped_column(String(260))
    target: Mapped[str] = mapped_column(String(500))  # the drive and folder written to
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    marking: Mapped[str] = mapped_column(String(20))
    records: Mapped[int] = mapped_column(Integer, default=0)
    # the audit chain's head when the report was written (N:HASH16, revision 0013): the register
    # names what the copy on the medium can be checked against
    anchor: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Stocktake(Base):
    """A stocktaking (盘点) of one labelled ledger's records in a scope (a department, a place or
    all), or a check of the carriers' copies (月核对, 季检查, 年终清退归档; seed 003 保密工作制度
    第十条: the copies ledger with a kind, a period, and a person's scope too): who opened and who
    closed it. While open, what was seen are its items; closing it stores every finding with what
    the record said then (``stocktake_items``), after which nothing changes (services/stocktaking.py;
    revision 0028 moved the carriers' own check tables here)."""

    __tablename__ = "stocktakes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ledger: Mapped[str] = mapped_column(String(40))  # the ledger's key
    kind: Mapped[str | None] = mapped_column(String(20), nullable=True)  # 月核对, 季检查, 年终清退归档 (the copies')
    period: Mapped[str | None] = mapped_column(String(40), nullable=True)  # 2026年11月, 2026年第四季度, 2026年度
    scope: Mapped[str] = mapped_column(String(20))  # 部门, 存放位置, 人员, 全部
    scope_value: Mapped[str] = mapped_column(String(100), default="")  # the department, place or person as shown
    person_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), nullable=True)  # a person's check
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime)
    opened_by: Mapped[str] = mapped_column(String(60))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(60), nullable=True)
    checkers: Mapped[str | None] = mapped_column(String(200), nullable=True)  # 盘点人, as signed on the report
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # the counts when closed
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_stocktakes_open", "closed_at", "ledger"),)


class StocktakeItem(Base):
    """One record (or one code MiBao does not know, ``code``) in a stocktaking: seen while it is
    open, with how often (a label seen twice is a duplicate); at its close every finding with the
    record as it was then, so that the report reads the same whatever happens afterwards."""

    __tablename__ = "stocktake_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stocktake_id: Mapped[int] = mapped_column(ForeignKey("stocktakes.id"))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), nullable=True)
    code: Mapped[str | None] = mapped_column(String(200), nullable=True)  # an unknown code as scanned
    finding: Mapped[str] = mapped_column(String(20))
    seen_how: Mapped[str | None] = mapped_column(String(10), nullable=True)
    seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    times_seen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    number: Mapped[str | None] = mapped_column(String(60), nullable=True)
    part: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a carrier copy's 份号
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    level: Mapped[str | None] = mapped_column(String(10), nullable=True)
    person: Mapped[str | None] = mapped_column(String(60), nullable=True)
    department: Mapped[str | None] = mapped_column(String(60), nullable=True)
    place: Mapped[str | None] = mapped_column(String(60), nullable=True)
    status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    belongs: Mapped[str | None] = mapped_column(String(200), nullable=True)  # where the record says it should be
    followed: Mapped[str | None] = mapped_column(String(200), nullable=True)  # 已标为下落不明 (after the close)

    __table_args__ = (UniqueConstraint("stocktake_id", "record_id", name="uq_stocktake_items_record"),
                      UniqueConstraint("stocktake_id", "code", name="uq_stocktake_items_code"),
                      Index("ix_stocktake_items_finding", "stocktake_id", "finding"))
