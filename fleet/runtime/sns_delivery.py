"""The embedded SNS delivers as SNS does: each subscription on its own, https after Publish returns.

moto delivers inside Publish, one subscription after another, and the first that fails (a
queue deleted since it subscribed, an https endpoint that refuses) fails the Publish and
starves every subscription after it; its https POST has no timeout, so an endpoint that
never answers holds the Publish, and the worker's batch, for good. On AWS, Publish only
accepts the message: each subscription's deliveries are retried by its own policy and never
touch the others'. `install` makes the moto of this process do the same:
- a delivery that fails (to SQS, or any other in-process one) is logged and fails nothing
  else: the Publish succeeds, as it would on AWS;
- an http(s) delivery runs on a few background threads once Publish has returned, within
  timeouts, following no redirect, and only to a host whose every address is public: the
  API's check at subscription, made again at delivery, for a name that leads elsewhere
  since, or a subscription made on SNS directly.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from events.blog import is_ip_literal, is_public_address
from lambda_platform.adapters.notifications import resolve_host

log = logging.getLogger("fleet.runtime.sns")

#: Seconds to connect to an https subscriber, and to wait for its answer.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
#: https deliveries in flight at once; more wait their turn, and Publish never waits.
DELIVERERS = 4

_jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
_started: list[threading.Thread] = []
_lock = threading.Lock()


class RefusedEndpoint(Exception):
    """An http(s) subscriber whose host leads to an address that is not public, or nowhere."""


def install() -> None:
    """Make moto's SNS, in this process, deliver each subscription on its own (idempotent)."""
    from moto.sns import models

    if getattr(models.Subscription.publish, "isolated", False):
        return
    moto_publish = models.Subscription.publish

    def publish(subscription: Any, message: str, message_id: str, **kwargs: Any) -> None:
        def deliver() -> None:
            _deliver(moto_publish, subscription, message, message_id, kwargs)

        if subscription.protocol in ("http", "https"):
            _submit(deliver)
        else:
            deliver()

    # Replacing moto's method and its `requests` is the point; mypy refuses both (an attribute
    # on a function, an assignment to a method, a module replaced by an object).
    publish.isolated = True  # type: ignore[attr-defined]
    models.Subscription.publish = publish  # type: ignore[method-assign,assignment]
    # moto's SNS posts with `requests.post` and nothing else of requests.
    models.requests = _PublicPoster()  # type: ignore[assignment]


def post_to_public_host(url: str, **kwargs: Any) -> Any:
    """POST to an http(s) subscriber whose every address is public; RefusedEndpoint if not."""
    import requests

    host = urlsplit(url).hostname or ""
    addresses = (host,) if is_ip_literal(host) else resolve_host(host)
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise RefusedEndpoint(f"{host or url!r} leads to {', '.join(addresses) or 'no address'}, not a public one")
    response = requests.post(url, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), allow_redirects=False, **kwargs)
    response.raise_for_status()  # SNS counts anything but a 2xx as a failed delivery
    return response


class _PublicPoster:
    """What moto's SNS module calls `requests`: its one `post`, bounded and public only."""

    def post(self, url: str, **kwargs: Any) -> Any:
        """POST as `post_to_public_host` does."""
        return post_to_public_host(url, **kwargs)


def _deliver(moto_publish: Callable[..., None], subscription: Any, message: str, message_id: str, kwargs: Any) -> None:
    try:
        moto_publish(subscription, message, message_id, **kwargs)
    except Exception as exc:  # noqa: BLE001 - one subscription's failed delivery is its own, never the Publish's
        log.warning("SNS delivery to %s (%s) failed: %s", subscription.endpoint, subscription.arn, exc)


def _submit(job: Callable[[], None]) -> None:
    with _lock:
        while len(_started) < DELIVERERS:
            thread = threading.Thread(target=_work, name=f"sns-delivery-{len(_started)}", daemon=True)
            thread.start()
            _started.append(thread)
    _jobs.put(job)


def _work() -> None:
    while True:
        _jobs.get()()  # a job never raises: _deliver logs what fails
