"""The one rule for an email address we take: what SES will send to.

SES refuses a non-ASCII local part (it speaks no SMTPUTF8), and an address whose domain
is an IP literal or a single label reaches nobody on the public internet. So an address
is `local@domain` where:

- the local part is an RFC 5321 dot-atom of ASCII characters, at most 64 of them;
- the domain has at least two labels, each 1-63 letters, digits and hyphens (no hyphen
  at either end), and a top-level label that is not all digits;
- an internationalised domain is taken and stored as its punycode (`xn--`) form, but only
  when that form spells exactly the name that was typed: the `idna` codec (IDNA 2003)
  maps some names to others (`faß.de` to `fass.de`), and mail must not go to another domain.

`ingest_api/web/entry.js` checks the same syntax before a form is sent; only the punycode
conversion is the server's alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields, validate

#: RFC 5321 atext, dot-separated: no quoted strings, no comments, no spaces.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
#: An LDH label: letters, digits and hyphens, 1 to 63, no hyphen first or last.
_LDH_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")

MAX_LOCAL = 64
MAX_DOMAIN = 253


class NotAnEmail(ValueError):
    """The text is not an address we take; the message says why, for a person."""


_NOT_EMAIL = "Not a valid email address."
_LOCAL_RULE = f"{_NOT_EMAIL} Before the @ use ASCII letters, digits and !#$%&'*+-/=?^_`{{|}}~, with single dots between."
_DOMAIN_RULE = f"{_NOT_EMAIL} After the @ give a public DNS name such as example.com."


def email_address(text: str) -> str:
    """The address as we store and send it (IDN domain in punycode); NotAnEmail when it is not one."""
    local, at, domain = text.rpartition("@")
    if not at or not local:
        raise NotAnEmail(_NOT_EMAIL)
    if len(local) > MAX_LOCAL or not _DOT_ATOM.fullmatch(local):
        raise NotAnEmail(_LOCAL_RULE)
    typed = domain.split(".")
    # A bracketed IP literal or a bare host name fails here, before any conversion.
    if len(typed) < 2 or typed[-1].isdecimal():
        raise NotAnEmail(_DOMAIN_RULE)
    labels = [_ascii_label(label) for label in typed]
    ascii_domain = ".".join(labels)
    if len(ascii_domain) > MAX_DOMAIN or not all(_LDH_LABEL.fullmatch(label) for label in labels):
        raise NotAnEmail(_DOMAIN_RULE)
    return f"{local}@{ascii_domain}"


def _ascii_label(label: str) -> str:
    # An ASCII label is kept as typed; the LDH rule judges it afterwards.
    if label.isascii():
        return label
    # Letters, marks, digits and inner hyphens: the class the entry page checks too.
    if label.startswith("-") or label.endswith("-") or not all(_idn_character(c) for c in label):
        raise NotAnEmail(_DOMAIN_RULE)
    try:
        converted = label.encode("idna").decode("ascii")
        spelled = converted.encode("ascii").decode("idna")
    except UnicodeError:
        raise NotAnEmail(_DOMAIN_RULE) from None
    if spelled != label.lower():
        raise NotAnEmail(f'{_NOT_EMAIL} The domain has no exact DNS (punycode) form: "{label}" would become "{converted}".')
    return converted


def _idn_character(c: str) -> bool:
    return c == "-" or unicodedata.category(c)[0] in "LMN"


class Email(fields.Email):
    """An email field: stripped, held to `email_address`, its IDN domain in punycode;
    compared case-insensitively elsewhere."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # One rule for every email field, not marshmallow's looser regex as well (it takes a
        # Unicode local part, `localhost`, IP literals); the class stays for OpenAPI's format.
        self.validators = [v for v in self.validators if not isinstance(v, validate.Email)]

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        if isinstance(value, str):
            value = value.strip()
        try:
            # No control character or lone surrogate passes the rule's character classes.
            return email_address(super()._deserialize(value, attr, data, **kwargs))
        except NotAnEmail as exc:
            raise ValidationError(str(exc)) from None
