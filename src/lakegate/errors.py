"""One exception tree for everything a user can get wrong or that can go wrong.

    LakegateError                  code, message, hint; transient or terminal
    ├── ConfigError                bad lakegate.yaml, bad environment override, missing home
    ├── StorageError               an object store operation failed
    ├── CatalogError               the catalog database refused or is unreachable
    ├── EventsError                an event source (webhook body, SQS queue) is unusable
    ├── QueryError                 a query failed while running (timeout, memory, engine error)
    │   └── GuardError             a statement was refused before it ran
    └── Rejection                  a landed object cannot be accepted; it goes to quarantine

Every error carries a stable ``code`` (``area.reason``) that scripts and tests can match,
and ``transient`` tells retry logic whether trying again can help.
"""

from __future__ import annotations

from typing import Any


class LakegateError(Exception):
    """Root of every error lakegate raises on purpose."""

    code: str = "lakegate.error"
    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        hint: str | None = None,
        transient: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if transient is not None:
            self.transient = transient
        self.hint = hint
        self.details: dict[str, Any] = details or {}

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (ingest worker processes): keep code, hint and the rest.
        state = {"code": self.code, "hint": self.hint, "transient": self.transient, "details": self.details}
        return (_rebuild, (type(self), self.message, state))

    def one_line(self) -> str:
        """The form the CLI prints: ``error[code]: message (hint)``."""
        return f"error[{self.code}]: {self}"


def _rebuild(cls: type[LakegateError], message: str, state: dict[str, Any]) -> LakegateError:
    error = cls.__new__(cls)
    LakegateError.__init__(error, message, **state)
    return error


class ConfigError(LakegateError):
    code = "config.invalid"


class StorageError(LakegateError):
    code = "storage.failed"


class CatalogError(LakegateError):
    code = "catalog.failed"


class EventsError(LakegateError):
    code = "events.failed"


class QueryError(LakegateError):
    code = "query.failed"


class GuardError(QueryError):
    code = "guard.refused"


class Rejection(LakegateError):
    """A landed object that cannot be accepted. The code becomes the quarantine reason."""

    code = "reject.invalid"


class AuthError(LakegateError):
    """Who is asking could not be established (HTTP 401), or may not do this (``auth.forbidden``, 403)."""

    code = "auth.invalid"
