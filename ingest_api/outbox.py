"""`GET /_local/outbox`: the emails the local SES accepted, with what SES reported of each, as a page. Local stage only.

The page carries the entry page's Content-Security-Policy, so its style is a file of this
origin (`/_local/outbox.css`), never inline.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template_string

from events.email_feedback import outcome
from ingest_api.auth import public
from ingest_api.pages import page_security_headers
from ingest_api.services import services
from ingest_api.spec import documented
from lambda_platform.outbox import OutboxUnavailable, read_outbox

bp = Blueprint("outbox", __name__)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fleet outbox</title>
<link rel="stylesheet" href="/_local/outbox.css"></head>
<body><h1>Outbox</h1><p>{{ emails|length }} email{{ '' if emails|length == 1 else 's' }} accepted by the local SES, newest first.</p>
{% for email in emails %}<article>
<h2>{{ email.subject }}</h2>
<p class="meta">to {{ email.to|join(', ') }} &middot; from {{ email.source }} &middot; {{ email.message_id }}
&middot; <strong>{{ statuses[email.message_id] }}</strong></p>
{% for line in email.text_lines(6) %}<p>{{ line }}</p>{% endfor %}
</article>{% endfor %}
</body></html>"""

_UNAVAILABLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fleet outbox</title>
<link rel="stylesheet" href="/_local/outbox.css"></head>
<body><h1>Outbox</h1><p>{{ reason }}</p></body></html>"""

_STYLE = """body{font:15px system-ui,sans-serif;margin:2em;max-width:60em}
article{border-top:1px solid #ccc;padding:.5em 0}h2{font-size:1em;margin:.2em 0}
p{margin:.1em 0;color:#333}.meta{color:#666;font-size:.9em}
"""


@bp.get("/_local/outbox")
@public()
@documented(content="text/html")
def outbox():
    """Every email the local SES accepted, with its status, newest first (Jinja escapes every field); 501 on an AWS that lists none."""
    try:
        emails = list(reversed(read_outbox()))
    except OutboxUnavailable as unavailable:
        page = Response(
            render_template_string(_UNAVAILABLE, reason=str(unavailable)), 501, content_type="text/html; charset=utf-8"
        )
        page.headers.update(page_security_headers())
        return page
    events = services().email_events
    statuses = {
        e.message_id: outcome(
            [(str(x["event"]).split("#")[0], str(x.get("bounce_type", ""))) for x in events.of_message(e.message_id)]
        )
        for e in emails
    }
    page = Response(render_template_string(_PAGE, emails=emails, statuses=statuses), 200, content_type="text/html; charset=utf-8")
    page.headers.update(page_security_headers())
    return page


@bp.get("/_local/outbox.css")
@public()
@documented(content="text/css")
def outbox_style():
    """The outbox page's stylesheet."""
    return _STYLE, 200, {"Content-Type": "text/css; charset=utf-8", "Cache-Control": "no-cache"}
