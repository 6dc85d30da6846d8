"""Whether moto's process enforces IAM now, and the switch that turns it on or off.

moto keeps the state in two places: `moto.settings.INITIAL_NO_AUTH_ACTION_COUNT`, the
number of calls it lets through unchecked, and `ActionAuthenticatorMixin.request_count`,
the calls it has let through so far. It enforces once the second reaches the first.
`POST /moto-api/reset-auth` with a number in the body (`0` on, `inf` off) sets the first and
zeroes the second: the same switch over HTTP, for a server in another process. Its body must
not be sent as a form: moto reads the raw body, which werkzeug empties when it parses a form,
and answers 500 (`urllib.request` sends `application/x-www-form-urlencoded` by default; send
`Content-Type: text/plain`, or none, as `requests` does for bytes). `POST /moto-api/reset`
keeps the switch as it is but deletes every IAM user, role and policy, so a fleet that
provisions again after a reset needs `reset-auth inf` (or `enforce(False)`) first, and its
credentials created again, before it turns enforcement back on.
"""

from __future__ import annotations


def enforce(on: bool) -> None:
    """Make moto's server in this process check every call from now on (or none)."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if on else float("inf")
    ActionAuthenticatorMixin.request_count = 0


def enforcing() -> bool:
    """True while moto checks calls: its own test, made without counting a call."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    return bool(ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT)
