"""What `make conformance-edge` expects of the local edge: the pinned suite, its score, and each
required test the edge fails on purpose, with why.

A required test may fail only for one of these reasons, each checked against its source:
CloudFront documents that it behaves that way (the local edge stands in for CloudFront,
so it does what CloudFront does), the test contradicts RFC 9111 (the suite's current source
agrees with the RFC), or the test cannot be passed by any cache. docs/edge.md lists the same
tests (tests/unit/test_conformance_list.py keeps the two in step).
"""

from __future__ import annotations

#: The suite, as npm has it (its only release); the lockfile beside this file pins its bytes.
SUITE = "http-cache-tests@0.4.5"
#: Required tests that pass, measured 2026-12-07: fewer is a regression.
BASELINE = 122

_NOT_INVALIDATED = (
    "CloudFront does not invalidate on a write: a cached answer is removed by an invalidation or replaced "
    'by a versioned name ("Invalidating files"), and only GET and HEAD (and OPTIONS) answers are cached '
    '("Request and response behavior for custom origins", HTTP methods). Fleet\'s writes invalidate what they change.'
)
_NO_SUCH_METHOD = (
    "CloudFront accepts DELETE, GET, HEAD, OPTIONS, PATCH, POST and PUT only "
    '("Request and response behavior for custom origins", HTTP methods): another method is a 403.'
)
_NO_SURROGATE_CONTROL = (
    "CloudFront's lifetime of an object is Cache-Control's max-age or s-maxage, or Expires, within the "
    'behaviour\'s TTLs ("Managing how long content stays in the cache (expiration)"); it reads no Surrogate-Control.'
)
_ERROR_BY_MAX_AGE = (
    "CloudFront caches an error for the larger of the error caching minimum TTL (0 here) and the origin's "
    'Cache-Control max-age or s-maxage ("How CloudFront processes and caches HTTP 4xx and 5xx status codes from '
    "your origin\"); this test's error is fresh by Expires alone, which that page does not count."
)
_ERROR_NOT_CACHED = (
    "CloudFront caches 404, 414, 500, 501, 502, 503 and 504, and 400, 403, 405, 412 and 415 with a max-age, and no "
    'other error ("How CloudFront processes and caches HTTP 4xx and 5xx status codes from your origin").'
)
_AGE_IGNORED = (
    "RFC 9111 §5.1: a cache ignores an Age that is not a non-negative integer and reads the first of several; "
    "this release wants the answer treated as stale (the suite's current source expects the RFC's reading)."
)
_UNPASSABLE = (
    "No cache can pass it in this release: the origin closes the connection, so no answer can carry the "
    "Server-Request-Count the test reads (reworked in the suite's current source, which the edge passes)."
)

#: Every required test the edge fails on purpose, and why.
EXPECTED_FAILURES: dict[str, str] = {
    **dict.fromkeys(
        (
            "age-parse-nonnumeric",
            "age-parse-negative",
            "age-parse-float",
            "age-parse-prefix-twoline",
            "age-parse-dup-0",
            "age-parse-dup-0-twoline",
            "age-parse-dup-old",
            "age-parse-parameter",
            "age-parse-numeric-parameter",
        ),
        _AGE_IGNORED,
    ),
    **dict.fromkeys(
        ("stale-close-must-revalidate", "stale-close-proxy-revalidate", "stale-close-no-cache", "stale-close-s-maxage=2"),
        _UNPASSABLE,
    ),
    **dict.fromkeys(
        (
            "invalidate-POST",
            "invalidate-PUT",
            "invalidate-DELETE",
            "invalidate-POST-location",
            "invalidate-PUT-location",
            "invalidate-DELETE-location",
            "invalidate-POST-cl",
            "invalidate-PUT-cl",
            "invalidate-DELETE-cl",
        ),
        _NOT_INVALIDATED,
    ),
    **dict.fromkeys(("invalidate-M-SEARCH", "invalidate-M-SEARCH-location", "invalidate-M-SEARCH-cl"), _NO_SUCH_METHOD),
    **dict.fromkeys(
        (
            "surrogate-max-age-other-target",
            "surrogate-max-age-age",
            "surrogate-max-age-0",
            "surrogate-max-age-0-expires",
            "surrogate-max-age-long-cc-max-age",
            "surrogate-no-store-cc-fresh",
            "surrogate-fresh-cc-nostore",
        ),
        _NO_SURROGATE_CONTROL,
    ),
    **dict.fromkeys(
        ("status-400-stale", "status-404-stale", "status-500-stale", "status-502-stale", "status-503-stale", "status-504-stale"),
        _ERROR_BY_MAX_AGE,
    ),
    **dict.fromkeys(
        ("status-410-stale", "status-499-stale", "status-599-stale", "status-599-must-understand"), _ERROR_NOT_CACHED
    ),
    "304-etag-update-response-ETag": (
        "RFC 9111 §4.3.4: a 304 whose strong ETag matches no stored answer must not update any, so the edge asks "
        "again, which the test reads as a retry (in the suite's current source this is a check, not a requirement)."
    ),
}
