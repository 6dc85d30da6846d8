"""The local outbox: the emails that the local SES (moto) accepted.

moto keeps only the HTML body of a message sent with text and HTML, so the text lines
shown here are derived from that HTML. Local stage only: real SES has no such listing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from lambda_platform import settings

_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table", "ul", "ol"}


@dataclass(frozen=True)
class OutboxEmail:
    """One email the local SES accepted."""

    message_id: str
    source: str
    to: tuple[str, ...]
    subject: str
    html: str

    def text_lines(self, limit: int | None = None) -> list[str]:
        """The body's non-blank lines of text, derived from its HTML."""
        lines = html_to_lines(self.html)
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


def read_outbox(
    endpoint_url: str | None = None, timeout: float = 10.0, attempts: int = 4, pause: float = 0.25
) -> list[OutboxEmail]:
    """The emails the local SES has accepted, read from moto's data endpoint (see `read_moto_outbox`)."""
    current = settings.current()
    endpoint = endpoint_url or current.endpoint_url
    if not current.local or not endpoint:
        raise RuntimeError("the outbox exists on the local stage only")
    return read_moto_outbox(endpoint, timeout=timeout, attempts=attempts, pause=pause)


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
