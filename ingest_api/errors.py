"""One error format for every response: `{"error": {"code", "message", "fields"?}}`."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from lambda_platform.errors import RetryLater

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answer with a status, a machine-readable code and, maybe, field errors."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        #: Extra response headers (`Retry-After`, `WWW-Authenticate`).
        self.headers = headers or {}


def error_document(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body of an error answer in the one format (the app's and the HTTP server's alike)."""
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def error_response(status: int, code: str, message: str, fields: dict[str, Any] | None = None):
    """A JSON error response in the one format."""
    response = jsonify(error_document(code, message, fields))
    response.status_code = status
    return response


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested error messages as `{"field.sub": [messages]}`."""
    if isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            return {prefix or "_body": messages}
        return {prefix or "_body": [str(m) for m in messages]}
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = "_body" if key == "_schema" and not prefix else f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten(value, name))
        return flat
    return {prefix or "_body": [str(messages)]}


_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def http_error_code(status: int, name: str | None = None) -> str:
    """The `code` of an error that is only its HTTP status: `payload_too_large`, `request_timeout`."""
    return _HTTP_CODES.get(status) or (name or HTTP_STATUS_CODES.get(status, "error")).lower().replace(" ", "_")


def register_error_handlers(app: Flask) -> None:
    """Answer every error, ours or Werkzeug's, in the one JSON format."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        response = error_response(exc.status, exc.code, exc.message, exc.fields)
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError):
        return error_response(422, "invalid_fields", "Some fields are invalid.", flatten(exc.messages))

    @app.errorhandler(RetryLater)
    def _retry_later(exc: RetryLater):
        log.warning("downstream busy: %s", exc)
        response = error_response(503, "unavailable", "Busy; try again shortly.")
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        code = http_error_code(status, exc.name)
        response = error_response(status, code, exc.description or exc.name)
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.error("unhandled error", exc_info=exc)
        return error_response(500, "internal", "Internal error.")
