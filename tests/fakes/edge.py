"""An in-memory EdgeCache: the invalidations asked of it, in order."""

from __future__ import annotations

from collections.abc import Sequence

from lambda_platform.errors import RetryLater


class FakeEdgeCache:
    """An EdgeCache that records each invalidation's paths; `absent` plays a stage with no edge,
    `throttled` an edge that refuses the next N invalidations (CloudFront's in-progress limit)."""

    def __init__(self, absent: bool = False, throttled: int = 0) -> None:
        self.invalidations: list[tuple[str, ...]] = []
        self.absent = absent
        self.throttled = throttled

    def invalidate(self, paths: Sequence[str]) -> str | None:
        """Record the paths (one invalidation); None when absent or nothing to invalidate."""
        if not paths or self.absent:
            return None
        if self.throttled:
            self.throttled -= 1
            raise RetryLater("TooManyInvalidationsInProgress: too many invalidations in progress")
        self.invalidations.append(tuple(paths))
        return f"fake-{len(self.invalidations)}"

    @property
    def paths(self) -> list[str]:
        """Every path invalidated so far, in order."""
        return [path for batch in self.invalidations for path in batch]


class ScriptedOrigin:
    """An origin for the local edge (`ApiOrigin.fetch`'s shape) that answers from a script.

    `answers` maps a target (path and query) to a list of answers given in turn, the last
    one repeated: each a (status, headers, body) tuple or an exception to raise. Every call
    is recorded in `asked` as (method, target, headers)."""

    def __init__(self, answers: dict | None = None) -> None:
        self.answers: dict[str, list] = answers or {}
        self.asked: list[tuple[str, str, dict[str, str]]] = []
        self.bytes_sent = 0

    def fetch(self, method: str, target: str, headers, body: bytes | None = None):
        from fleet.edge.origins import OriginAnswer

        self.asked.append((method, target, {k.lower(): v for k, v in headers.items()}))
        script = self.answers.get(target) or self.answers.get(target.split("?")[0]) or [(404, {}, b"")]
        answer = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(answer, BaseException):
            raise answer
        status, fields, content = answer(method, target, headers) if callable(answer) else answer
        content = content if isinstance(content, list) else [content]
        self.bytes_sent += sum(len(c) for c in content)
        return OriginAnswer(status, {k.lower(): v for k, v in fields.items()}, iter(content))

    def targets(self) -> list[str]:
        """Every target asked for, in order."""
        return [target for _, target, _ in self.asked]


class ScriptedSite:
    """The site bucket for the local edge (`SiteOrigin.fetch`'s shape) over a `ScriptedOrigin`:
    an object key is asked for as the target `/key`, with `If-None-Match` and `Range` as headers."""

    def __init__(self, origin: ScriptedOrigin) -> None:
        self.origin = origin

    def fetch(self, key: str, if_none_match: str | None = None, byte_range: str | None = None):
        asked = {name: value for name, value in (("if-none-match", if_none_match), ("range", byte_range)) if value}
        return self.origin.fetch("GET", "/" + key, asked)
