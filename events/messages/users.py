"""Messages of the users queue: a signup."""

from __future__ import annotations

from marshmallow import fields

from events.emails import Email
from events.messages.base import ID, field, message


@message(id_field="signup_id")
class RegisterUser:
    """Store a new user; `user_id` is derived from the email, so one address is one user."""

    signup_id: str = field(fields.String, validate=ID)
    user_id: str = field(fields.String, validate=ID)
    email: str = field(Email)
    first_name: str = field(fields.String)
    last_name: str = field(fields.String)
    received_at: str = field(fields.String)
    locale: str = field(fields.String, default="en")
