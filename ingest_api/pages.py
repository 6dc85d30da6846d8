"""What the API's HTML pages share: the site's response headers policy (CSP and friends).

The same declaration (`events.edge.ResponseHeaders`, on the topology's distribution) that
CloudFront's response headers policy and the local edge apply to the site's pages, so the
entry page carries the same headers from the API as through the edge. HSTS is every API
answer's already (`ingest_api.security`).

Not a blueprint: the entry page and the local outbox both import it.
"""

from __future__ import annotations

from events.edge import ResponseHeaders
from events.topology import TOPOLOGY
from ingest_api.services import services


def page_security_headers() -> dict[str, str]:
    """CSP (scripts, styles and fetches from this origin; uploads to the bucket's), and friends."""
    declared = TOPOLOGY.site.distribution.response_headers if TOPOLOGY.site is not None else ResponseHeaders()
    return declared.fields(services().upload_signer.origins(), secure=False)
