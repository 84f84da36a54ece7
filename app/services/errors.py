"""Errors services raise; the HTTP and bot layers decide how each one is shown."""

from __future__ import annotations


class ServiceError(Exception):
    pass


class NotFound(ServiceError):
    """Missing, or not the caller's: the two are deliberately indistinguishable."""


class Conflict(ServiceError):
    """The request contradicts the current state (e.g. skipping a step already done)."""


class Invalid(ServiceError):
    """Input that is well-formed but impossible; `loc` names the offending field."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message
