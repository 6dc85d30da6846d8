"""The OpenAPI 3 document, built from the app's routes and what each view declared with `documented`.

Not a blueprint, since every view imports `documented`; `ingest_api.openapi` serves the document.

Every rule of the URL map becomes an operation; its request body is the marshmallow
schema the view declared with `documented(...)`, turned into JSON Schema by apispec's
MarshmallowPlugin, and its security follows the route's class (public, API key, user).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask

from ingest_api.auth import API_KEY, USER, route_class

_ARG = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        }
    },
}


def documented(
    body: Any = None, status: int = 200, query: dict[str, dict[str, Any]] | None = None, content: str = "application/json"
) -> Callable:
    """Say what a view takes (a marshmallow schema, query parameters) and what it answers on success."""

    def decorate(view: Callable) -> Callable:
        # Read back by build_spec from the view function: mypy knows no attributes on a function.
        view.openapi = {"body": body, "status": status, "query": query or {}, "content": content}  # type: ignore[attr-defined]
        return view

    return decorate


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every route of `app`."""
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    spec = APISpec(title="Fleet API", version="1.0.0", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("ApiKey", {"type": "apiKey", "in": "header", "name": "x-api-key"})
    spec.components.security_scheme("Bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Error", _ERROR)
    error = {
        "description": "An error, in the one format",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }

    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        path = _ARG.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(spec, rule, view, error)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(spec: Any, rule: Any, view: Callable, error: dict[str, Any]) -> dict[str, Any]:
    doc = getattr(view, "openapi", {"body": None, "status": 200, "query": {}, "content": "application/json"})
    kind = route_class(view)
    summary = (view.__doc__ or rule.endpoint).strip().splitlines()[0]
    operation: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": summary[:120],
        "description": summary,
        "tags": [rule.endpoint.split(".")[0]],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            for name in _ARG.findall(rule.rule)
        ]
        + [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in doc["query"].items()],
        "responses": {
            str(doc["status"]): {
                "description": "Success",
                "content": {
                    doc["content"]: {"schema": {"type": "object"} if doc["content"] == "application/json" else {"type": "string"}}
                },
            },
            "default": error,
        },
    }
    if doc["status"] == 204:
        operation["responses"]["204"] = {"description": "Done; no body"}
    if doc["body"] is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": doc["body"]}}}
    if kind == API_KEY:
        operation["security"] = [{"ApiKey": []}]
        # `scope` rides on the view function (ingest_api.auth.api_key): mypy knows no attributes on a function.
        operation["description"] += f" Needs an API key with the scope `{view.scope}`."  # type: ignore[attr-defined]
    elif kind == USER:
        operation["security"] = [{"Bearer": []}]
    else:
        operation["security"] = []
    return operation
