"""DynamoDB (and SESv2) adapters of the email feedback ports: the suppression list, the events, the statuses.

Every write is conditional on time, so that SES's events, which come in any order and
sometimes twice, change each item once and never let an older event undo a newer one:
- the suppression list keeps an address's last suppression and last lift; an event older
  than the lift does not suppress it again;
- an entry's or user's `email_status` carries `email_status_at`, the time of the event
  that set it; only a newer event changes it, and a skipped send (`suppressed`) never hides
  the bounce or complaint that caused it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from events.email_feedback import (
    BOUNCED,
    COMPLAINED,
    COMPLAINT,
    DELIVERY,
    REASON_BOUNCE,
    REASON_COMPLAINT,
    SUPPRESSED,
    Feedback,
    normalize_address,
)
from events.models import user_id_for
from events.topology import TOPOLOGY
from lambda_platform import aws, settings
from lambda_platform.adapters.dynamo import batch_get, call, from_item, get_one
from lambda_platform.errors import ConditionFailed, translate
from lambda_platform.resources import index_name, table_name
from lambda_platform.retry import retrying

SUPPRESSIONS = TOPOLOGY.table("suppressions")
EMAIL_EVENTS = TOPOLOGY.table("email_events")
SUBMISSIONS = TOPOLOGY.table("submissions")
BY_EMAIL = SUBMISSIONS.index("by_email")
USERS = TOPOLOGY.table("users")

#: An applied event is remembered this long: SNS retries and SES's late feedback come well within it.
EVENT_DAYS = 30
#: The hourly counts are kept this long (the rates read the last 24 hours).
COUNT_DAYS = 8
#: What each counted event adds to in its hour.
COUNTED = {DELIVERY: "delivered", COMPLAINT: "complained", "Reject": "rejected"}


def is_active(item: dict[str, Any]) -> bool:
    """A suppression not lifted since it was made."""
    lifted = item.get("lifted_at")
    return not lifted or str(item.get("suppressed_at", "")) > str(lifted)


def hour_of(at: str) -> str:
    """The hour bucket (`YYYY-MM-DDTHH`) of a UTC time in `utc_time` form."""
    return at[:13]


def last_hours(now: datetime, hours: int = 24) -> list[str]:
    """The buckets of the `hours` hours up to `now`, the current one included."""
    return [(now - timedelta(hours=n)).astimezone(UTC).strftime("%Y-%m-%dT%H") for n in range(hours)]


class DynamoSuppressionList:
    """The suppressions table, keyed by lower-cased address; SESv2's account-level list too, where on."""

    def suppressed(self, addresses: Iterable[str]) -> set[str]:
        """Those of `addresses` (lower-cased) suppressed now: one BatchGetItem per 100."""
        wanted = {normalize_address(a) for a in addresses}
        if not wanted:
            return set()
        found = batch_get(SUPPRESSIONS, "address", sorted(wanted), "address, suppressed_at, lifted_at")
        return {str(item["address"]) for item in found if is_active(item)}

    def suppress(self, feedback: Feedback) -> bool:
        """Put the address on the list (conditional on its state); then on SES's account-level list.

        SES's list comes after ours is decided, and is written again by a retry whose own
        write finds the address already on ours (PutSuppressedDestination is an upsert), so a
        failure between the two loses nothing.
        """
        reason = REASON_COMPLAINT if feedback.event_type == COMPLAINT else REASON_BOUNCE
        try:
            call(
                "update_item",
                TableName=table_name(SUPPRESSIONS),
                Key={"address": {"S": feedback.address}},
                UpdateExpression="SET reason = :reason, detail = :detail, suppressed_at = :at, ses_message_id = :message",
                ConditionExpression=(
                    "attribute_not_exists(address) OR "
                    "(attribute_exists(lifted_at) AND lifted_at < :at AND suppressed_at <= lifted_at)"
                ),
                ExpressionAttributeValues={
                    ":reason": {"S": reason},
                    ":detail": {"S": feedback.detail or feedback.bounce_type or reason.lower()},
                    ":at": {"S": feedback.at},
                    ":message": {"S": feedback.message_id},
                },
            )
            made = True
        except ConditionFailed:
            item = get_one(SUPPRESSIONS, "address", feedback.address)
            if item is None or not is_active(item):
                return False  # lifted after this event: the operator's word is the newer one
            made = False
        if settings.current().ses_account_suppression:
            _sesv2("put_suppressed_destination", EmailAddress=feedback.address, Reason=reason)
        return made

    def lift(self, address: str, by: str, at: str) -> bool:
        """Record the lift on the address's item (its suppression stays, as history); SES's list too, where on."""
        address = normalize_address(address)
        try:
            call(
                "update_item",
                TableName=table_name(SUPPRESSIONS),
                Key={"address": {"S": address}},
                UpdateExpression="SET lifted_at = :at, lifted_by = :by",
                ConditionExpression="attribute_exists(address) AND (attribute_not_exists(lifted_at) OR suppressed_at > lifted_at)",
                ExpressionAttributeValues={":at": {"S": at}, ":by": {"S": by}},
            )
        except ConditionFailed:
            return False
        if settings.current().ses_account_suppression:
            try:
                _sesv2("delete_suppressed_destination", EmailAddress=address)
            except Exception as exc:  # not on SES's list (added before the account's list was on): nothing to lift there
                if getattr(exc, "response", {}).get("Error", {}).get("Code") != "NotFoundException":
                    raise
        return True

    def entries(self) -> list[dict[str, Any]]:
        """Every item of the list (a Scan: the operator's command, never a worker's), with `active`."""
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": table_name(SUPPRESSIONS)}
        while True:
            page = call("scan", **request)
            items.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        for item in items:
            item["active"] = is_active(item)
        return sorted(items, key=lambda i: str(i.get("suppressed_at", "")))


def _sesv2(operation: str, **kwargs: Any) -> Any:
    try:
        return retrying(lambda: getattr(aws.client("sesv2"), operation)(**kwargs))
    except Exception as exc:  # translated, never swallowed
        raise translate(exc) from exc


class DynamoEmailEvents:
    """The email_events table: one item per applied event, and one counting item per hour."""

    def record(self, feedback: Feedback) -> bool:
        """A conditional put of the event and an ADD to its hour's counts, in one transaction."""
        at = datetime.fromisoformat(feedback.at.replace("Z", "+00:00"))
        kind = COUNTED.get(feedback.event_type) or ("bounced" if feedback.suppresses else "transient_bounces")
        name = table_name(EMAIL_EVENTS)
        event = {
            "message_id": {"S": feedback.message_id},
            "event": {"S": f"{feedback.event_type}#{feedback.address}"},
            "at": {"S": feedback.at},
            "bounce_type": {"S": feedback.bounce_type},
            "detail": {"S": feedback.detail},
            "expires_at": {"N": str(int((at + timedelta(days=EVENT_DAYS)).timestamp()))},
        }
        try:
            call(
                "transact_write_items",
                TransactItems=[
                    {
                        "Put": {
                            "TableName": name,
                            "Item": event,
                            "ConditionExpression": "attribute_not_exists(message_id)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": name,
                            "Key": {"message_id": {"S": f"hour#{hour_of(feedback.at)}"}, "event": {"S": "counts"}},
                            "UpdateExpression": "ADD #kind :one SET expires_at = :expires",
                            "ExpressionAttributeNames": {"#kind": kind},
                            "ExpressionAttributeValues": {
                                ":one": {"N": "1"},
                                ":expires": {"N": str(int((at + timedelta(days=COUNT_DAYS)).timestamp()))},
                            },
                        }
                    },
                ],
            )
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") == "TransactionCanceledException":
                reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
                if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                    return False  # applied before: SNS or SES delivered it again
            raise
        return True

    def counts(self, hours: Sequence[str]) -> dict[str, int]:
        """The hours' counting items, read at once, summed."""
        if not hours:
            return {}
        keys = [{"message_id": {"S": f"hour#{h}"}, "event": {"S": "counts"}} for h in dict.fromkeys(hours)]
        totals: dict[str, int] = {}
        name = table_name(EMAIL_EVENTS)
        for start in range(0, len(keys), 100):
            pending: dict[str, Any] = {name: {"Keys": keys[start : start + 100]}}
            while pending:
                response = call("batch_get_item", RequestItems=pending)
                for item in response.get("Responses", {}).get(name, []):
                    for kind, value in from_item(item).items():
                        if isinstance(value, int) and kind not in ("expires_at",):
                            totals[kind] = totals.get(kind, 0) + value
                pending = response.get("UnprocessedKeys") or {}
        return totals

    def of_message(self, message_id: str) -> list[dict[str, Any]]:
        """One Query of the email's events."""
        page = call(
            "query",
            TableName=table_name(EMAIL_EVENTS),
            KeyConditionExpression="message_id = :id",
            ExpressionAttributeValues={":id": {"S": message_id}},
        )
        return [from_item(i) for i in page.get("Items", [])]


class DynamoEmailStatuses:
    """`email_status` and `email_status_at` on the submissions and users tables."""

    def mark_address(self, address: str, status: str, at: str) -> int:
        """The address's entries by the `by_email` index, then its user (its id derives from the address)."""
        address = normalize_address(address)
        request: dict[str, Any] = {
            "TableName": table_name(SUBMISSIONS),
            "IndexName": index_name(SUBMISSIONS, BY_EMAIL),
            "KeyConditionExpression": "email_lower = :address",
            "ExpressionAttributeValues": {":address": {"S": address}},
            "ProjectionExpression": "submission_id",
        }
        ids: list[str] = []
        while True:
            page = call("query", **request)
            ids.extend(str(from_item(i)["submission_id"]) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        marked = sum(self.mark_entry(i, status, at) for i in ids)
        return marked + self.mark_user(user_id_for(address), status, at)

    def mark_entry(self, submission_id: str, status: str, at: str) -> bool:
        """One conditional UpdateItem of the entry."""
        return _mark(SUBMISSIONS.name, "submission_id", submission_id, status, at)

    def mark_user(self, user_id: str, status: str, at: str) -> bool:
        """One conditional UpdateItem of the user."""
        return _mark(USERS.name, "user_id", user_id, status, at)


def _mark(table: str, key: str, value: str, status: str, at: str) -> bool:
    condition = f"attribute_exists({key}) AND (attribute_not_exists(email_status_at) OR email_status_at < :at)"
    values = {":status": {"S": status}, ":at": {"S": at}}
    if status == SUPPRESSED:  # a skipped send never hides the bounce or complaint behind it
        condition += " AND NOT email_status IN (:bounced, :complained)"
        values.update({":bounced": {"S": BOUNCED}, ":complained": {"S": COMPLAINED}})
    try:
        call(
            "update_item",
            TableName=table_name(table),
            Key={key: {"S": value}},
            UpdateExpression="SET email_status = :status, email_status_at = :at",
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
    except ConditionFailed:
        return False
    return True
