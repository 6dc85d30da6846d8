"""The local outbox: the emails that the local SES accepted.

Read from the emulator's own listing of sent mail: moto's `/moto-api/data.json` (the
embedded AWS), MiniStack's `/_ministack/ses/messages`, LocalStack's `/_aws/ses`. Any other
AWS has none: `OutboxUnavailable` says so. moto keeps only the HTML body of a message sent
with text and HTML, so the text lines shown here are derived from the HTML when there is
one. Local stage only: real SES has no such listing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from lambda_platform import settings

_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table", "ul", "ol"}


class OutboxUnavailable(RuntimeError):
    """The AWS at the endpoint lists no sent mail that Fleet can read."""


@dataclass(frozen=True)
class OutboxEmail:
    """One email the local SES accepted."""

    message_id: str
    source: str
    to: tuple[str, ...]
    subject: str
    html: str

    text: str = ""

    def text_lines(self, limit: int | None = None) -> list[str]:
        """The body's non-blank lines of text, derived from its HTML (or its text, without HTML)."""
        lines = html_to_lines(self.html) if self.html else text_to_lines(self.text)
        return lines if limit is None else lines[:limit]


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("style", "script", "head", "title"):
            self._skip += 1
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title"):
            self._skip = max(0, self._skip - 1)
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_lines(document: str) -> list[str]:
    """The visible text of an HTML body, one non-blank line per block."""
    parser = _TextExtractor()
    parser.feed(document)
    parser.close()
    text = "".join(parser.parts)
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


def text_to_lines(text: str) -> list[str]:
    """The non-blank lines of a plain-text body, spaces folded."""
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


def parse_moto_data(data: dict[str, Any]) -> list[OutboxEmail]:
    """The sent emails in moto's `/moto-api/data.json` document, oldest first."""
    emails = []
    for message in (data.get("ses") or {}).get("Message", []):
        destinations = message.get("destinations") or {}
        to = tuple(destinations.get("ToAddresses", [])) + tuple(destinations.get("CcAddresses", []))
        emails.append(
            OutboxEmail(
                message_id=message.get("id", ""),
                source=message.get("source", ""),
                to=to,
                subject=message.get("subject", ""),
                html=message.get("body", ""),
            )
        )
    return emails


def parse_ministack_messages(data: dict[str, Any]) -> list[OutboxEmail]:
    """The sent emails in MiniStack's `/_ministack/ses/messages` document (every account), oldest first."""
    emails = []
    for messages in (data.get("messages") or {}).values():
        for message in messages:
            emails.append(
                OutboxEmail(
                    message_id=message.get("MessageId", ""),
                    source=message.get("Source", ""),
                    to=tuple(message.get("To") or ()) + tuple(message.get("CC") or ()),
                    subject=message.get("Subject") or "",
                    html=message.get("BodyHtml") or "",
                    text=message.get("BodyText") or "",
                )
            )
    return emails


def parse_localstack_messages(data: dict[str, Any]) -> list[OutboxEmail]:
    """The sent emails in LocalStack's `/_aws/ses` document, oldest first."""
    emails = []
    for message in data.get("messages") or []:
        destination = message.get("Destination") or {}
        body = message.get("Body") or {}
        emails.append(
            OutboxEmail(
                message_id=message.get("Id", ""),
                source=message.get("Source", ""),
                to=tuple(destination.get("ToAddresses") or ()) + tuple(destination.get("CcAddresses") or ()),
                subject=message.get("Subject") or "",
                html=body.get("html_part") or "",
                text=body.get("text_part") or "",
            )
        )
    return emails


#: Each emulator's listing of sent mail, and how to read it, tried in this order.
LISTINGS = (
    ("moto", "/moto-api/data.json", parse_moto_data),
    ("MiniStack", "/_ministack/ses/messages", parse_ministack_messages),
    ("LocalStack", "/_aws/ses", parse_localstack_messages),
)


def read_outbox(
    endpoint_url: str | None = None, timeout: float = 10.0, attempts: int = 4, pause: float = 0.25
) -> list[OutboxEmail]:
    """The emails the local SES has accepted, from the first listing of sent mail the endpoint answers.

    moto's (see `read_moto_outbox`), MiniStack's or LocalStack's; `OutboxUnavailable` when it
    answers none of them (a 404, a page that is not theirs).
    """
    current = settings.current()
    endpoint = endpoint_url or current.endpoint_url
    if not current.local or not endpoint:
        raise RuntimeError("the outbox exists on the local stage only")
    from urllib.error import HTTPError, URLError

    tried = []
    for name, path, parse in LISTINGS:
        try:
            if name == "moto":
                return read_moto_outbox(endpoint, timeout=timeout, attempts=attempts, pause=pause)
            return parse(_get_json(f"{endpoint.rstrip('/')}{path}", timeout))
        except HTTPError as error:
            if name == "moto" and error.code >= 500:
                raise  # moto's, failing again and again: its error, not a missing listing
        except URLError as error:
            raise OutboxUnavailable(f"outbox unavailable: cannot reach {endpoint} ({error.reason})") from None
        except (ValueError, AttributeError, TypeError):  # an answer that is not that listing
            pass
        tried.append(path)
    raise OutboxUnavailable(
        f"outbox unavailable on this AWS ({endpoint}): it answers none of the sent-mail listings Fleet reads "
        f"({', '.join(tried)}); its SES may well send, Fleet cannot show what"
    )


def _get_json(url: str, timeout: float) -> dict[str, Any]:
    import json
    from urllib.request import urlopen

    with urlopen(url, timeout=timeout) as response:
        data = json.load(response)
    if not isinstance(data, dict):
        raise ValueError(f"{url}: not a JSON object")
    return data


def read_moto_outbox(endpoint: str, timeout: float = 10.0, attempts: int = 4, pause: float = 0.25) -> list[OutboxEmail]:
    """The emails a moto server at `endpoint` has accepted, from its `/moto-api/data.json`.

    moto builds that document from every model it holds while the fleet goes on writing,
    and now and then fails with a 500 (a record changing as it is serialised): such an
    answer is asked again, up to `attempts` times.
    """
    import json
    import time
    from urllib.error import HTTPError
    from urllib.request import urlopen

    url = f"{endpoint.rstrip('/')}/moto-api/data.json"

    def read() -> list[OutboxEmail]:
        with urlopen(url, timeout=timeout) as response:
            return parse_moto_data(json.load(response))

    for attempt in range(1, attempts):
        try:
            return read()
        except HTTPError as error:
            if error.code < 500:
                raise
        time.sleep(pause * attempt)
    return read()  # the last attempt: its error is the caller's
