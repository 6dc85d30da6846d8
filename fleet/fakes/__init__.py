"""In-memory fakes of the ports in `fleet.ports`, behaving as their boto3 adapters do.

One module per adapter module (`fleet.adapters.tables` ~ `fleet.fakes.tables`, and so
on). The unit tests and the benchmarks share them; nothing in production imports them.
"""

from __future__ import annotations

from typing import Any

from fleet.fakes.access import FakeApiKeys, FakeRateLimiter, FakeTodos, FakeUserFiles
from fleet.fakes.blog import FakeArticles, FakeComments, FakeCommentTopic
from fleet.fakes.monitor import FakeMonitor
from fleet.fakes.entries import FakeEntries
# The receipts' ports are the workers' (and the benchmarks'): no view uses them, so fake_ports has none.
from fleet.fakes.receipts import FakeReceiptFlags, FakeReceiptIndex  # noqa: F401
from fleet.fakes.tables import FakeCampaigns, FakeQueue, FakeRequestKeys, FakeSubmissions
from fleet.fakes.uploads import FakeSigner, FakeUploads


def fake_ports(**overrides: Any) -> dict[str, Any]:
    """A new fake of every port of the API's `Services`, by name; `overrides` replace some.

    `Services(**fake_ports(campaigns=FakeCampaigns(campaign("summer"))))`: keyword
    arguments, not `Services`, so that `fleet` never imports the API.
    """
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
