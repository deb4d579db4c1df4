"""The composition root: every service, built in one place for one person at work. Qt-free.

The desktop and the command line ask a :class:`Services` for what they need
(``services.ledgers``, ``services.printing`` …) and never build a service themselves, so that
each service gets the same database, person and clock, and a service that needs another (the
print service reads records) is handed that same one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

from mibao_desktop.db.database import Database
from mibao_desktop.security import Actor


@dataclass
class Services:
    db: Database
    actor: Actor | None = None
    data_dir: Path | None = None
    clock: Callable[[], dt.datetime] = field(default=dt.datetime.now)

    def acting_as(self, actor: Actor) -> "Services":
        """The services of the person who just logged in (with the unit's levels as they are
        now: another workstation may have changed them)."""
        self.db.take_unit_levels()
        return Services(self.db, actor, self.data_dir, self.clock)

    @cached_property
    def accounts(self):
        from mibao_desktop.services.accounts import AccountService

        return AccountService(self.db, clock=self.clock)

    @cached_property
    def ledgers(self):
        from mibao_desktop.services.ledger_service import LedgerService

        return LedgerService(self.db, self.actor, clock=self.clock)

    @cached_property
    def carrier_actions(self):
        from mibao_desktop.services.carrier_actions import CarrierActions

        return CarrierActions(self.ledgers)

    @cached_property
    def carrier_watch(self):
        from mibao_desktop.services.carrier_watch import CarrierWatchService

        return CarrierWatchService(self.db, self.actor, ledgers=self.ledgers, clock=self.clock)

    @cached_property
    def stocktaking(self):
        """盘点 of the labelled ledgers and the carriers' checks (月核对, 季检查, 年终清退归档)."""
        from mibao_desktop.services.stocktaking import StocktakeService

        return StocktakeService(self.ledgers, actions=lambda: self.carrier_actions)

    @cached_property
    def carrier_registers(self):
        from mibao_desktop.services.carrier_registers import CarrierRegisters

        return CarrierRegisters(self.ledgers)

    @cached_property
    def training(self):
        from mibao_desktop.services.training import TrainingService

        return TrainingService(self.ledgers)

    @cached_property
    def departure(self):
        from mibao_desktop.services.departure import DepartureService

        return DepartureService(self.ledgers, actions=lambda: self.carrier_actions)

    @cached_property
    def travel(self):
        from mibao_desktop.services.travel import TravelService

        return TravelService(self.ledgers)

    @cached_property
    def due(self):
        from mibao_desktop.services.due import DueService
        from mibao_desktop.services.reminders import RULES

        data_dir = self.data_dir or (self.db.path.parent if self.db.path else None)
        return DueService(self.db, self.actor, RULES, data_dir=data_dir, clock=self.clock)

    @cached_property
    def declassification(self):
        from mibao_desktop.services.declassification import DeclassificationService

        return DeclassificationService(self.ledgers)

    @cached_property
    def bulk_edit(self):
        from mibao_desktop.services.bulk_edit import BulkEditService

        return BulkEditService(self.ledgers)

    @cached_property
    def printing(self):
        from mibao_desktop.services.print_service import PrintService

        return PrintService(self.db, self.actor, clock=self.clock, ledgers=self.ledgers)

    @cached_property
    def outputs(self):
        from mibao_desktop.services.output_service import OutputService

        return OutputService(self.db, self.actor, clock=self.clock)

    @cached_property
    def settings(self):
        from mibao_desktop.services.settings import SettingsService

        return SettingsService(self.db, self.actor, clock=self.clock)

    @cached_property
    def audit(self):
        from mibao_desktop.services.audit_service import AuditService

        return AuditService(self.db, self.actor, clock=self.clock)

    @cached_property
    def oversight(self):
        from mibao_desktop.services.oversight import OversightService

        return OversightService(self.db, self.actor, clock=self.clock)

    @cached_property
    def backups(self):
        from mibao_desktop.services.backup_service import BackupService

        return BackupService(self.data_dir or (self.db.path.parent if self.db.path else Path.cwd()), self.actor,
                             clock=self.clock)
