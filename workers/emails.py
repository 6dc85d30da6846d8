"""Emails rendered from the Jinja2 templates in `workers/templates`, and sent once per key.

A template set is three files: `{name}.subject.txt`, `{name}.txt` and `{name}.html`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lambda_platform.ports import Mailer, Once
from lambda_platform.telemetry import EMAILS_SUPPRESSED, count, logger

#: What is recorded, in place of SES's message id, for an email not sent to a suppressed address.
NOT_SENT = "suppressed"


@dataclass(frozen=True)
class Email:
    """A rendered email, ready for a Mailer."""

    to: str
    subject: str
    text: str
    html: str
    #: What the email is about, as SES message tags (`events.email_feedback.TAG_ENTRY`, `TAG_USER`):
    #: SES hands them back in the email's events, so its delivery marks that entry or user alone.
    tags: tuple[tuple[str, str], ...] = ()


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("workers", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,  # a missing field is a bug, not a blank in a customer's email
        keep_trailing_newline=False,
    )


def render(name: str, to: str, tags: tuple[tuple[str, str], ...] = (), **context: Any) -> Email:
    """Render the template set `name` for one recipient; the email carries `tags` (see `Email.tags`)."""
    env = _environment()
    subject = " ".join(env.get_template(f"{name}.subject.txt").render(**context).split())
    text = env.get_template(f"{name}.txt").render(**context).strip() + "\n"
    html = env.get_template(f"{name}.html").render(**context)
    return Email(to=to, subject=subject, text=text, html=html, tags=tags)


def inserted_keys(event: Any, attribute: str) -> list[str]:
    """The string `attribute` of every INSERT's new image in a stream batch (what its emails are keyed by)."""
    return [image[attribute]["S"] for image in stream_images(event, ("INSERT",)) if _is_string(image.get(attribute))]


def changed_keys(event: Any, attribute: str) -> list[str]:
    """The string `attribute` of every INSERT's and MODIFY's new image in a stream batch."""
    return [image[attribute]["S"] for image in stream_images(event) if _is_string(image.get(attribute))]


def stream_images(event: Any, names: tuple[str, ...] = ("INSERT", "MODIFY")) -> list[dict[str, Any]]:
    """The new images, as DynamoDB sent them (typed), of a stream batch's records named `names`."""
    records = event.get("Records") if isinstance(event, dict) else None
    images: list[dict[str, Any]] = []
    for record in records if isinstance(records, list) else []:
        image = (record.get("dynamodb") or {}).get("NewImage") or {} if isinstance(record, dict) else {}
        if isinstance(image, dict) and record.get("eventName") in names:
            images.append(image)
    return images


def _is_string(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("S"), str)


def send_once(email: Email, scope: str, key: str, mailer: Mailer, once: Once, suppressed: Callable[[str], bool]) -> str:
    """Send `email` unless it was sent for (scope, key) before; return SES's message id, or NOT_SENT."""
    return once(scope, key, lambda: deliver(email, mailer, suppressed))


def deliver(email: Email, mailer: Mailer, suppressed: Callable[[str], bool]) -> str:
    """Send `email` unless its address is suppressed; SES's message id, or NOT_SENT (a skip, not a failure)."""
    if suppressed(email.to):
        count(EMAILS_SUPPRESSED)
        logger.info("email not sent: the address is suppressed", extra={"subject": email.subject})
        return NOT_SENT
    return mailer.send(email.to, email.subject, email.text, email.html, tags=email.tags)


def suppression_lookup(addresses: Iterable[str], read: Callable[[list[str]], set[str]]) -> Callable[[str], bool]:
    """Whether an address is suppressed: the batch's `addresses` read at once, on the first question."""
    from events.email_feedback import normalize_address

    batch = sorted({normalize_address(a) for a in addresses})

    @functools.cache
    def everything() -> frozenset[str]:
        return frozenset(read(batch)) if batch else frozenset()

    def suppressed(address: str) -> bool:
        wanted = normalize_address(address)
        return wanted in everything() if wanted in batch else wanted in read([wanted])

    return suppressed


def addresses_of(event: Any, names: tuple[str, ...] = ("INSERT", "MODIFY")) -> list[str]:
    """The `email` of every new image in a stream batch."""
    return [image["email"]["S"] for image in stream_images(event, names) if _is_string(image.get("email"))]
