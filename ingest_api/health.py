"""Liveness."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """Answer 200 while the app runs."""
    return {"status": "ok"}
