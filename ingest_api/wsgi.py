"""The WSGI entry point that Zappa's API stage serves (`app_function`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ingest_api import create_app

app = create_app()
_serve = app.wsgi_app


def _with_lambda_context(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    # Zappa puts the Lambda context in the environ: its function ARN names the account, so
    # the queue URLs are built without a GetQueueUrl on a new process's first request.
    context = environ.get("lambda.context")
    if context is not None:
        from lambda_platform import aws

        if aws.known_account_id() is None:
            aws.remember_lambda_context(context)
    return _serve(environ, start_response)


# Flask's documented way to add WSGI middleware; mypy refuses any assignment to a method.
app.wsgi_app = _with_lambda_context  # type: ignore[method-assign]
