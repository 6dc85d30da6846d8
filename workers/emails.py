"""Emails rendered from the Jinja2 templates in `workers/templates`, and sent once per key.

A template set is three files: `{name}.subject.txt`, `{name}.txt` and `{name}.html`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Protocol, TypeVar

from fleet.ports import Mailer

T = TypeVar("T")


class Once(Protocol):
    """Runs an action at most once per (scope, key); see `fleet.idempotency.once`."""

    def __call__(self, scope: str, key: str, action: Callable[[], T]) -> T: ...


@dataclass(frozen=True)
class Email:
    """A rendered email, ready for a Mailer."""

    to: str
    subject: str
    text: str
    html: str


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("workers", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,  # a missing field is a bug, not a blank in a customer's email
        keep_trailing_newline=False,
    )


def render(name: str, to: str, **context: Any) -> Email:
    """Render the template set `name` for one recipient."""
    env = _environment()
    subject = " ".join(env.get_template(f"{name}.subject.txt").render(**context).split())
    text = env.get_template(f"{name}.txt").render(**context).strip() + "\n"
    html = env.get_template(f"{name}.html").render(**context)
    return Email(to=to, subject=subject, text=text, html=html)


def inserted_keys(event: Any, attribute: str) -> list[str]:
    """The string `attribute` of every INSERT's new image in a stream batch (what its emails are keyed by)."""
    records = event.get("Records") if isinstance(event, dict) else None
    keys: list[str] = []
    for record in records if isinstance(records, list) else []:
        image = (record.get("dynamodb") or {}).get("NewImage") or {} if isinstance(record, dict) else {}
        value = image.get(attribute) if isinstance(image, dict) else None
        if record.get("eventName") == "INSERT" and isinstance(value, dict) and isinstance(value.get("S"), str):
            keys.append(value["S"])
    return keys


def send_once(email: Email, scope: str, key: str, mailer: Mailer, once: Once) -> str:
    """Send `email` unless it was sent for (scope, key) before; return SES's message id."""
    return once(scope, key, lambda: mailer.send(email.to, email.subject, email.text, email.html))
