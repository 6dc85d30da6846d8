"""Every queued write answers the same way: 202, `status: queued`, and where to follow it."""

from __future__ import annotations

from ingest_api.queued import queued


def test_a_queued_write_with_a_status_url_says_where_to_follow_it():
    assert queued(article_id="a1", change_id="c1", status_url="/v1/articles/a1") == (
        {"article_id": "a1", "change_id": "c1", "status": "queued", "status_url": "/v1/articles/a1"},
        202,
        {"Location": "/v1/articles/a1"},
    )


def test_a_queued_write_without_one_has_no_location():
    assert queued(todo_id="t1") == ({"todo_id": "t1", "status": "queued"}, 202, {})
