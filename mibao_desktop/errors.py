"""Errors a service raises; each message is plain Chinese that tells the user what to do."""

from __future__ import annotations

from dataclasses import dataclass, field


class ServiceError(Exception):
    @property
    def message(self) -> str:
        return str(self)


class PermissionDenied(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class StaleRecord(ServiceError):
    """Someone else changed the record since it was opened."""


class LifecycleError(ServiceError):
    """The status change is not allowed (e.g. a destroyed device cannot be brought back)."""


class Cancelled(ServiceError):
    def __init__(self, message: str = "操作已取消,数据未作任何改动") -> None:
        super().__init__(message)


@dataclass
class ValidationFailed(ServiceError):
    """One or more fields are wrong. ``errors`` maps field name → message; ``labels`` the
    field's Chinese label, so that a summary can name each field."""

    errors: dict[str, str]
    labels: dict[str, str] = field(default_factory=dict)
    # the summary's first line; a record that cannot be restored has nothing to correct in it
    lead: str = "请改正以下内容后再保存:"

    def __post_init__(self) -> None:
        super().__init__(self.summary())

    def summary(self) -> str:
        lines = [f"{self.labels.get(name, name)}:{msg}" for name, msg in self.errors.items()]
        return self.lead + "\n" + "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


class DatabaseError(Exception):
    """The database cannot be opened or upgraded; the message says why in plain Chinese."""
