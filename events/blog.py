"""The blog's contract: request bodies, statuses, the feed's sort key and its page cursor.

Published articles carry `feed = "published"` and `feed_key = "{published_at}#{article_id}"`;
the sparse `feed` index of the articles table lists them newest first with one Query.
A page cursor is the feed key of the last article on a page, base64url-encoded, so a
client treats it as opaque and the API can check it strictly. A comments page cursor is
likewise the `by_article` key of the last comment evaluated (`{created_at}#{comment_id}`),
behind its article's id, so that a cursor of one article is refused on another.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from events.ids import UUID, UUID_ID
from events.messages.blog import EDITABLE_FIELDS
from events.schemas import Email, StrictBoolean, Text
from events.topology import TOPOLOGY, physical_name, project_name
from events.uploads import parse_upload_key

#: The `feed` value of every published article (the partition of the `feed` index).
FEED = "published"

#: Statuses of a stored comment.
ACCEPTED = "accepted"
REJECTED = "rejected"
#: Why a comment was rejected.
ARTICLE_NOT_FOUND = "article_not_found"

#: SNS message attribute `event_type` of a comment notification.
COMMENT_POSTED = "comment_posted"

MEDIA_TYPES = ("image", "video", "audio")
SUBSCRIPTION_PROTOCOLS = ("email", "https", "sqs")
MAX_PAGE = 100
DEFAULT_PAGE = 20

ARTICLE_ID = UUID_ID
COMMENT_ID = ARTICLE_ID
_FEED_KEY = re.compile(
    r"^(?P<at>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00:00)#"
    rf"(?P<article_id>{UUID})\Z"
)
_SQS_ARN = re.compile(r"^arn:aws:sqs:[a-z0-9-]{1,32}:\d{12}:[A-Za-z0-9_-]{1,80}\Z")
#: The only port an https subscriber may listen on (see `https_endpoint_problem`).
HTTPS_PORT = 443
#: The last label of a host that is an IPv4 address in another spelling (`127.1`, `0x7f.1`).
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*", re.IGNORECASE)
#: NAT64's well-known prefix: its last 32 bits are the IPv4 address it reaches.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def feed_key(published_at: str, article_id: str) -> str:
    """The sort key of a published article in the feed index."""
    return f"{published_at}#{article_id}"


def encode_cursor(key: str) -> str:
    """The opaque cursor that resumes a listing after the article with this feed key."""
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The feed key inside a cursor; ValueError when it is not one we made."""
    key = _unwrapped(cursor, 200)
    if not _FEED_KEY.match(key):
        raise ValueError("not a cursor")
    return key


def comment_key(created_at: str, comment_id: str) -> str:
    """Where a comment sorts among its article's comments (the `by_article` index's order)."""
    return f"{created_at}#{comment_id}"


def split_comment_key(key: str) -> tuple[str, str]:
    """(created_at, comment_id) of a comment key."""
    created_at, _, comment_id = key.rpartition("#")
    return created_at, comment_id


def encode_comment_cursor(article_id: str, key: str) -> str:
    """The opaque cursor that resumes an article's comments after the comment with this key."""
    return encode_cursor(f"{article_id}/{key}")


def decode_comment_cursor(cursor: str, article_id: str) -> str:
    """The comment key inside a cursor of this article's comments; ValueError otherwise."""
    found, _, key = _unwrapped(cursor, 300).partition("/")
    # The key has a feed key's form: a time, then an id.
    if found != article_id or not _FEED_KEY.match(key):
        raise ValueError("not a cursor")
    return key


def _unwrapped(cursor: str, max_chars: int) -> str:
    if not 1 <= len(cursor) <= max_chars or not re.fullmatch(r"[A-Za-z0-9_-]+", cursor):
        raise ValueError("not a cursor")
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor") from exc


def cached_paths(article_id: str) -> tuple[str, ...]:
    """The edge paths that hold copies of an article: itself, its comments' pages and the list's."""
    return (f"/v1/articles/{article_id}", f"/v1/articles/{article_id}/comments*", "/v1/articles*")


def article_of_feed_key(key: str) -> str:
    """The article id at the end of a feed key."""
    return key.rpartition("#")[2]


class MediaSchema(Schema):
    """An article's media: an upload of an article, or a URL, and its type."""

    class Meta:
        unknown = RAISE

    type = Text(required=True, validate=validate.OneOf(MEDIA_TYPES, error="Must be one of: {choices}."))
    upload_key = Text(validate=validate.Length(min=1, max=512))
    url = fields.Url(schemes={"https", "http"}, validate=validate.Length(max=2048))

    @validates_schema
    def _one_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("upload_key" in data) == ("url" in data):
            raise ValidationError("Give exactly one of upload_key or url.", "url")
        key = data.get("upload_key")
        if key is not None:
            parsed = parse_upload_key(key)
            if parsed is None or parsed.kind != "articles":
                raise ValidationError("Must be an article's upload (uploads/articles/...).", "upload_key")


class ArticleRequestSchema(Schema):
    """The body of `POST /v1/articles`."""

    class Meta:
        unknown = RAISE

    title = Text(required=True, validate=validate.Length(min=1, max=200))
    content = Text(required=True, validate=validate.Length(min=1, max=50_000))
    author = Text(required=True, validate=validate.Length(min=1, max=100))
    published = StrictBoolean(load_default=True)
    media = fields.Nested(MediaSchema, load_default=None, allow_none=True)


class ArticlePatchSchema(Schema):
    """The body of `PATCH /v1/articles/{article_id}`: the fields to change, at least one;
    `media: null` removes the media."""

    class Meta:
        unknown = RAISE

    title = Text(validate=validate.Length(min=1, max=200))
    content = Text(validate=validate.Length(min=1, max=50_000))
    author = Text(validate=validate.Length(min=1, max=100))
    published = StrictBoolean()
    media = fields.Nested(MediaSchema, allow_none=True)

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError(f"Send at least one of {', '.join(EDITABLE_FIELDS)}.")


class CommentRequestSchema(Schema):
    """The body of `POST /v1/articles/{article_id}/comments`."""

    class Meta:
        unknown = RAISE

    author = Text(required=True, validate=validate.Length(min=1, max=100))
    email = Email(required=True, validate=validate.Length(max=254))
    body = Text(required=True, validate=validate.Length(min=1, max=5_000))


class SubscriptionRequestSchema(Schema):
    """The body of `POST /v1/articles/{article_id}/subscriptions`: `{email}` or `{endpoint, protocol}`."""

    class Meta:
        unknown = RAISE

    email = Email(validate=validate.Length(max=254))
    protocol = Text(validate=validate.OneOf(SUBSCRIPTION_PROTOCOLS, error="Must be one of: {choices}."))
    endpoint = Text(validate=validate.Length(min=1, max=2048))

    @validates_schema
    def _one_endpoint(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "email" in data:
            if "endpoint" in data or "protocol" in data:
                raise ValidationError("Give either email, or endpoint and protocol.", "_schema")
            return
        missing = {f: ["Missing data for required field."] for f in ("endpoint", "protocol") if f not in data}
        if missing:
            raise ValidationError(missing)
        protocol, endpoint = data["protocol"], data["endpoint"]
        if protocol == "email":
            try:
                Email().deserialize(endpoint)
            except ValidationError:
                raise ValidationError("Not a valid email address.", "endpoint") from None
            return
        problem = https_endpoint_problem(endpoint) if protocol == "https" else sqs_endpoint_problem(endpoint)
        if problem is not None:
            raise ValidationError(problem, "endpoint")


def subscription_target(data: dict[str, Any]) -> tuple[str, str]:
    """(protocol, endpoint) of a loaded subscription request."""
    if "email" in data:
        return "email", data["email"]
    if data["protocol"] == "email":  # stored as the email field stores it: an IDN domain in punycode
        return "email", Email().deserialize(data["endpoint"])
    return data["protocol"], data["endpoint"]


# --- Where a subscription may point: never at the fleet itself, never at the machine ----------
# The schema refuses what is wrong on its face; whether a queue exists and what a host name
# resolves to are asked through the CommentTopic port, and judged here.


def sqs_queue_of(arn: str) -> tuple[str, str, str]:
    """(region, account, queue name) of an SQS queue ARN that the schema has taken."""
    region, account, name = arn.split(":")[3:6]
    return region, account, name


def is_topology_queue(name: str) -> bool:
    """True for a queue of the topology, or its dead-letter queue, in any stage."""
    prefix = project_name("")
    for queue in TOPOLOGY.queue_names():
        stage = name[len(prefix) : len(name) - len(queue) - 1]
        if physical_name(stage, queue) == name:
            return True
    return False


def sqs_endpoint_problem(endpoint: str) -> str | None:
    """Why an SQS endpoint is refused on its face, or None (whether it exists is SQS's to say)."""
    if not _SQS_ARN.match(endpoint):
        return "Must be an SQS queue ARN."
    if is_topology_queue(sqs_queue_of(endpoint)[2]):
        return "Must not be one of the fleet's own queues, in any stage."
    return None


def https_endpoint_problem(endpoint: str) -> str | None:
    """Why an https endpoint is refused on its face, or None (its host's addresses are judged apart)."""
    if any(c.isspace() or not c.isprintable() for c in endpoint):
        return "Not a valid https URL."
    # Our resolver and the deliverer could encode a non-ASCII name differently (IDNA 2003
    # and 2008), and so reach different hosts: only the punycode form is taken.
    if not endpoint.isascii():
        return "Must be ASCII: give an international host name in punycode (xn--...)."
    parts = urlsplit(endpoint)
    if parts.scheme != "https":
        return "Must be an https URL: the protocol and the URL's scheme must agree."
    if "@" in parts.netloc:
        return "Must not carry a user name or password."
    try:
        port = parts.port
    except ValueError:
        return "Not a valid https URL."
    # The host is vouched for, not whatever else listens on it.
    if port not in (None, HTTPS_PORT):
        return f"Must use the https port, {HTTPS_PORT}."
    if is_ip_literal(parts.hostname or ""):
        return "Must name a host, not an IP address."
    try:
        fields.Url(schemes={"https"}).deserialize(endpoint)
    except ValidationError:
        return "Not a valid https URL."
    return None


def https_host(endpoint: str) -> str:
    """The host name of an https endpoint that the schema has taken."""
    return urlsplit(endpoint).hostname or ""


def is_ip_literal(host: str) -> bool:
    """True for a host that is an IP address, in any spelling a resolver takes (`127.1`, `0x7f.1`)."""
    if ":" in host:  # no DNS name has one; an IPv6 literal, with or without a zone, does
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    # No top-level domain is numeric: such a last label makes an IPv4 address of the name.
    return bool(_NUMERIC_LABEL.fullmatch(host.rstrip(".").rpartition(".")[2]))


def is_public_address(address: str) -> bool:
    """True for a public internet address; never loopback, private, link-local, multicast, reserved or unspecified.

    An IPv6 address that carries an IPv4 one (mapped, 6to4, Teredo, NAT64) must be public
    and reach a public IPv4 address.
    """
    try:
        ip = ipaddress.ip_address(address.partition("%")[0])
    except ValueError:
        return False
    reached: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            reached.append(embedded)
    # is_global alone lets multicast through (224.0.0.0/4 and ff00::/8 are not "private").
    return all(
        a.is_global
        and not (a.is_private or a.is_loopback or a.is_link_local or a.is_unspecified)
        and not (a.is_multicast or a.is_reserved)
        for a in reached
    )
