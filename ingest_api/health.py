"""Liveness."""

from __future__ import annotations

from flask import Blueprint

from ingest_api.auth import public

bp = Blueprint("health", __name__)


@bp.get("/health")
@public()
def health():
    """Answer 200 while the app runs."""
    return {"status": "ok"}
