"""The stage's standing as a sender, from its own counts: bounce and complaint rates over 24 hours, suppressions.

`workers.email_feedback` counts every event it applies by the hour (the email_events table).
Over the last 24 hours:
- bounce rate = permanent bounces / emails with an outcome (delivered, bounced either way);
- complaint rate = complaints / deliveries.
SES puts an account under review above 5 % bounces or 0.1 % complaints, measured over its
own window on its own counts; Fleet's alarms are at half of each (`BOUNCE_ALARM_RATE`,
`COMPLAINT_ALARM_RATE`): on AWS, CloudWatch alarms on SES's Reputation metrics
(`fleet.provision.alarms`); here and everywhere, `fleet status` and the dashboard on these
counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.email_feedback import BOUNCE_ALARM_RATE, COMPLAINT_ALARM_RATE
from lambda_platform.adapters.email_feedback import last_hours
from lambda_platform.ports import EmailEvents, SuppressionList

#: The window of the rates.
HOURS = 24


@dataclass(frozen=True)
class EmailHealth:
    """What SES reported over the window, and the suppression list's size now."""

    delivered: int
    bounced: int
    transient_bounces: int
    complained: int
    rejected: int
    #: Addresses on the suppression list now.
    suppressed: int
    hours: int = HOURS

    @property
    def bounce_rate(self) -> float | None:
        """Permanent bounces over emails with an outcome; None without any."""
        outcomes = self.delivered + self.bounced + self.transient_bounces
        return self.bounced / outcomes if outcomes else None

    @property
    def complaint_rate(self) -> float | None:
        """Complaints over deliveries; None without any."""
        return self.complained / self.delivered if self.delivered else None

    @property
    def alarms(self) -> list[str]:
        """The rates over their alarm thresholds, as sentences for a person."""
        found = []
        if self.bounce_rate is not None and self.bounce_rate > BOUNCE_ALARM_RATE:
            found.append(f"bounce rate {_percent(self.bounce_rate)} is over the {_percent(BOUNCE_ALARM_RATE)} alarm")
        if self.complaint_rate is not None and self.complaint_rate > COMPLAINT_ALARM_RATE:
            found.append(f"complaint rate {_percent(self.complaint_rate)} is over the {_percent(COMPLAINT_ALARM_RATE)} alarm")
        return found

    def document(self) -> dict[str, Any]:
        """The `emails` part of `fleet status --json` and of the dashboard's state."""
        return {
            "hours": self.hours,
            "delivered": self.delivered,
            "bounced": self.bounced,
            "transient_bounces": self.transient_bounces,
            "complained": self.complained,
            "rejected": self.rejected,
            "bounce_rate": self.bounce_rate,
            "complaint_rate": self.complaint_rate,
            "bounce_alarm_rate": BOUNCE_ALARM_RATE,
            "complaint_alarm_rate": COMPLAINT_ALARM_RATE,
            "suppressed": self.suppressed,
            "alarms": self.alarms,
        }

    def lines(self) -> list[str]:
        """What `fleet status` prints under the queues."""
        rates = (
            f"emails ({self.hours} h): {self.delivered} delivered, {self.bounced} bounced"
            f" ({_percent(self.bounce_rate)}; alarm over {_percent(BOUNCE_ALARM_RATE)}),"
            f" {self.complained} complaints ({_percent(self.complaint_rate)}; alarm over {_percent(COMPLAINT_ALARM_RATE)}),"
            f" {self.suppressed} addresses suppressed"
        )
        return [rates, *(f"ALARM: {alarm}: see fleet suppression list" for alarm in self.alarms)]


def _percent(rate: float | None) -> str:
    if rate is None:
        return "-"
    return f"{rate * 100:.2f} %".replace(".00 %", " %")


def email_health(events: EmailEvents, suppressions: SuppressionList, now: datetime) -> EmailHealth:
    """The counts of the last HOURS hours up to `now`, and the addresses suppressed now."""
    counts = events.counts(last_hours(now, HOURS))
    return EmailHealth(
        delivered=counts.get("delivered", 0),
        bounced=counts.get("bounced", 0),
        transient_bounces=counts.get("transient_bounces", 0),
        complained=counts.get("complained", 0),
        rejected=counts.get("rejected", 0),
        suppressed=sum(1 for item in suppressions.entries() if item["active"]),
    )
