"""The SES (v1) adapter of the Mailer port."""

from __future__ import annotations

from lambda_platform import aws, resources, settings
from lambda_platform.errors import translate
from lambda_platform.retry import retrying


class SesMailer:
    """Sends from the configured, verified sender, with the stage's configuration set (so SES
    reports each email's bounces, complaints and deliveries); throttling becomes RetryLater."""

    def __init__(self, sender: str | None = None) -> None:
        self.sender = sender or settings.current().sender
        self.configuration_set = resources.configuration_set_name()

    def send(self, to: str, subject: str, text: str, html: str) -> str:
        """Send one email with a text and an HTML part; return SES's message id."""
        try:
            response = retrying(
                lambda: aws.client("ses").send_email(
                    Source=self.sender,
                    ConfigurationSetName=self.configuration_set,
                    Destination={"ToAddresses": [to]},
                    Message={
                        "Subject": {"Data": subject, "Charset": "UTF-8"},
                        "Body": {
                            "Text": {"Data": text, "Charset": "UTF-8"},
                            "Html": {"Data": html, "Charset": "UTF-8"},
                        },
                    },
                )
            )
        except Exception as exc:  # Throttling and MaxSendingRateExceeded -> RetryLater
            raise translate(exc) from exc
        message_id: str = response["MessageId"]
        return message_id
