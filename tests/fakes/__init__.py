"""In-memory fakes of the ports in `lambda_platform.ports`, behaving as their boto3 adapters do.

One module per adapter module (`lambda_platform.adapters.tables` ~ `tests.fakes.tables`, and so
on). The unit tests and the benchmarks share them; nothing in production imports them.
"""

from __future__ import annotations

from typing import Any

from lambda_platform.composition import Ports, port_names
from tests.fakes.access import FakeApiKeys, FakeRateLimiter, FakeTodos, FakeUserFiles
from tests.fakes.blog import FakeArticles, FakeComments, FakeCommentTopic
from tests.fakes.codes import FakeCodes
from tests.fakes.draws import FakeDraws
from tests.fakes.edge import FakeEdgeCache
from tests.fakes.email_feedback import FakeEmailEvents, FakeEmailStatuses, FakeSuppressionList
from tests.fakes.entries import FakeEntries
from tests.fakes.mail import FakeMailer, FakeUsers, MemoryPersistence, once_over
from tests.fakes.monitor import FakeMonitor
from tests.fakes.receipts import FakeReceiptFlags, FakeReceiptIndex
from tests.fakes.tables import FakeCampaigns, FakeQueue, FakeRequestKeys, FakeSubmissions
from tests.fakes.uploads import FakeObjects, FakeSigner, FakeUploads


def fake_ports(**overrides: Any) -> dict[str, Any]:
    """A new fake of every port of the composition root's `Ports`, by name; `overrides` replace some.

    `Ports(**fake_ports(campaigns=FakeCampaigns(campaign("summer"))))`: a `Ports` that never
    builds an adapter, for the API, a worker or a command alike.
    """
    persistence = MemoryPersistence()
    ports: dict[str, Any] = {
        "submissions_queue": FakeQueue(),
        "campaigns": FakeCampaigns(),
        "submissions": FakeSubmissions(),
        "request_keys": FakeRequestKeys(),
        "uploads": FakeUploads(),
        "upload_signer": FakeSigner(),
        "users_queue": FakeQueue(),
        "blog_queue": FakeQueue(),
        "articles": FakeArticles(),
        "comments": FakeComments(),
        "comment_topic": FakeCommentTopic(),
        "monitor": FakeMonitor(),
        "api_keys": FakeApiKeys(),
        "rate_limiter": FakeRateLimiter(),
        "todos_queue": FakeQueue(),
        "todos": FakeTodos(),
        "user_files": FakeUserFiles(),
        "campaign_admin_queue": FakeQueue(),
        "entries": FakeEntries(),
        "codes": FakeCodes(),
        "draws": FakeDraws(),
        "receipt_index": FakeReceiptIndex(),
        "receipt_flags": FakeReceiptFlags(),
        "objects": FakeObjects(),
        "users": FakeUsers(),
        "mailer": FakeMailer(),
        "suppressions": FakeSuppressionList(),
        "email_events": FakeEmailEvents(),
        "email_statuses": FakeEmailStatuses(),
        "edge": FakeEdgeCache(),
        "once": lambda context=None: once_over(persistence),
        "batch_once": lambda scope, keys, context=None: once_over(persistence),
    }
    unknown = sorted(set(overrides) - set(ports))
    if unknown:
        raise TypeError(f"no port named {', '.join(unknown)}")
    ports.update(overrides)
    entries, submissions = ports["entries"], ports["submissions"]
    if "entries" not in overrides and isinstance(submissions, FakeSubmissions):
        entries.items = submissions.items  # one table: what the submissions fake stores, the entries list
    keys, limiter = ports["request_keys"], ports["rate_limiter"]
    if isinstance(keys, FakeRequestKeys) and keys.limiter is None:
        # One table holds the counters whichever port counts in it.
        keys.limiter = limiter if isinstance(limiter, FakeRateLimiter) else FakeRateLimiter()
    return ports


def replaced(ports: Ports, **given: Any) -> Ports:
    """A copy of `ports` (one the tests built from fakes) with some of them replaced."""
    held = {name: value for name, value in vars(ports).items() if name in port_names()}
    return Ports(**{**held, **given})
