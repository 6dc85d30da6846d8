"""The fields the edge's cache reads, parsed strictly: HTTP-dates, Age, Cache-Control."""

from __future__ import annotations

import calendar

import pytest

from fleet.edge.fields import DELTA_SECONDS_CAP, age_seconds, delta_seconds, directives, http_date

NOON = calendar.timegm((1994, 11, 6, 8, 49, 37, 0, 0, 0))


@pytest.mark.parametrize(
    "value",
    ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"],
)
def test_the_three_forms_of_an_http_date(value):
    assert http_date(value) == NOON


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "0",
        "-1",
        "Thursday",
        "Sun, 06 Nov 1994 08:49:37",  # no zone
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 6 Nov 1994 08:49:37 GMT",  # one digit for the day
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "sun, 06 nov 1994 08:49:37 gmt",
        "Sun, 06 Nov 1994 08:49:37 GMT trailing",
    ],
)
def test_anything_else_is_no_date(value):
    assert http_date(value) is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3600", 3600),
        ("0", 0),
        ("3600, 0", 3600),  # the first member
        ("abc", 0),  # invalid: ignored (RFC 9111 §5.1)
        ("-7200", 0),
        ("7200.0", 0),
        ("99999999999999", DELTA_SECONDS_CAP),
        (None, 0),
    ],
)
def test_age_is_its_first_member_digits_only(value, seconds):
    assert age_seconds(value) == seconds


def test_delta_seconds_and_directives():
    assert delta_seconds("60") == 60 and delta_seconds("6O") is None and delta_seconds("+60") is None
    assert directives('max-age="60", No-Cache, private=x') == {"max-age": "60", "no-cache": None, "private": "x"}
    assert directives("max-age=1, max-age=60") == {"max-age": "1"}  # the first one
