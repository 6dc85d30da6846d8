"""One process, more than one principal: `aws.signing_as` picks the credentials of one thread's calls."""

from __future__ import annotations

import threading

from lambda_platform import aws


def test_a_profile_in_effect_gets_its_own_clients_in_its_own_thread_only(monkeypatch):
    """`aws.signing_as` picks the credentials of one thread's calls; the others keep the process's."""
    made: list[tuple[str, str]] = []
    monkeypatch.setattr(aws, "_client", lambda service, region, endpoint, profile="": made.append((service, profile)) or profile)
    seen: dict[str, object] = {}
    with aws.signing_as("fleet-local-pipes"):
        seen["inside"] = aws.client("sqs")
        other = threading.Thread(target=lambda: seen.__setitem__("other thread", aws.client("sqs")))
        other.start()
        other.join()
    seen["after"] = aws.client("sqs")
    assert seen == {"inside": "fleet-local-pipes", "other thread": "", "after": ""}
