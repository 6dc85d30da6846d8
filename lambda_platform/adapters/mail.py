"""The SES (v1) adapter of the Mailer port."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from events.email_feedback import is_tag_text
from lambda_platform import aws, resources, settings
from lambda_platform.errors import translate
from lambda_platform.retry import retrying
from lambda_platform.telemetry import logger


class SesMailer:
    """Sends from the configured, verified sender, with the stage's configuration set (so SES
    reports each email's bounces, complaints and deliveries); throttling becomes RetryLater."""

    def __init__(self, sender: str | None = None) -> None:
        self.sender = sender or settings.current().sender
        self.configuration_set = resources.configuration_set_name()

    def send(self, to: str, subject: str, text: str, html: str, *, tags: Iterable[tuple[str, str]] = ()) -> str:
        """Send one email with a text and an HTML part, and its message tags; return SES's message id."""
        request: dict[str, Any] = {
            "Source": self.sender,
            "ConfigurationSetName": self.configuration_set,
            "Destination": {"ToAddresses": [to]},
            "Message": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": text, "Charset": "UTF-8"},
                    "Html": {"Data": html, "Charset": "UTF-8"},
                },
            },
        }
        message_tags = ses_tags(tags)
        if message_tags:
            request["Tags"] = message_tags
        try:
            response = retrying(lambda: aws.client("ses").send_email(**request))
        except Exception as exc:  # Throttling and MaxSendingRateExceeded -> RetryLater
            raise translate(exc) from exc
        message_id: str = response["MessageId"]
        return message_id


def ses_tags(tags: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """SES's `Tags` of the valid (name, value) pairs, the first of each name; a pair SES would refuse is left out.

    SES refuses the whole send for one bad tag (InvalidParameterValue); a tag only helps
    read the email's feedback, so it never costs the email.
    """
    kept: dict[str, str] = {}
    for name, value in tags:
        if is_tag_text(name) and is_tag_text(value):
            kept.setdefault(name, value)
        else:
            logger.warning("message tag left out: not a valid SES tag", extra={"tag": str(name)[:64]})
    return [{"Name": name, "Value": value} for name, value in kept.items()]
