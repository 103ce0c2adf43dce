"""Every error leaves as JSON: an OperationOutcome with the right status, never HTML or a trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from cds_service.api.errors import ServiceError, Unauthorized, operation_outcome

log = logging.getLogger("cds_service.errors")

_HTTP_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    413: "too-costly",
    415: "not-supported",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        if isinstance(exc, Unauthorized):  # no detail on why a JWT failed (best practices)
            return jsonify(operation_outcome("unauthorized", code=exc.code)), 401
        log.info("request rejected", extra={"status": exc.status, "path": request.path, "reason": exc.message[:200]})
        return jsonify(operation_outcome(exc.message, code=exc.code, expression=exc.expression)), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = {
            404: f"no such endpoint: {request.path}",
            405: f"method {request.method} not allowed on {request.path}",
            413: "request body too large",
        }.get(status, exc.description or exc.name)
        response = jsonify(operation_outcome(message, code=_HTTP_CODES.get(status, "exception")))
        response.status_code = status
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        # The type only: a message could carry patient data.
        log.error("unexpected error", extra={"path": request.path, "error": type(exc).__name__})
        return jsonify(
            operation_outcome("internal error: the service could not process this request", code="exception")
        ), 500
