"""Typed errors, each mapped once to an HTTP status and an OperationOutcome body."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 500
    code = "exception"  # OperationOutcome.issue.code (FHIR IssueType)

    def __init__(self, message: str, *, expression: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.expression = expression or []


class BadRequest(ServiceError):
    status = 400
    code = "invalid"


class Unauthorized(ServiceError):
    status = 401
    code = "login"


class NotFound(ServiceError):
    status = 404
    code = "not-found"


class MethodNotAllowed(ServiceError):
    status = 405
    code = "not-supported"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "too-costly"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "not-supported"


class PreconditionFailed(ServiceError):
    """412: data the service needs but can neither find in prefetch nor fetch."""

    status = 412
    code = "incomplete"


def operation_outcome(
    message: str, *, code: str, severity: str = "error", expression: list[str] | None = None
) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": message}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}
