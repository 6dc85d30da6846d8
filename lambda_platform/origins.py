"""Web origins: the patterns of `FLEET_WEB_ORIGINS` and the exact origins they admit.

A browser sends a serialized origin, `scheme://host[:port]`: lower-case ASCII, the port
only when it is not the scheme's default, nothing after. A pattern is one too, where a
single `*` stands either for the whole port (one number, 1-65535) or for the leftmost
label of a DNS name (one label, never a dot), as in `http://127.0.0.1:*` or
`https://*.shop.example`. An Origin is admitted only when it matches a pattern whole, so
a value that is not a serialized origin (a path, `@`, a control byte) never is.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

SCHEMES = {"http": "80", "https": "443"}
WILDCARD = "*"
#: One DNS label, as browsers serialize it (IDNs arrive as punycode, `xn--...`).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
#: A port number without leading zeros, 1-65535.
_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_LABEL_RE = re.compile(_LABEL)
_PORT_RE = re.compile(_PORT)
#: A `*` label needs this many literal labels after it: `*.example` would admit every
#: name under a suffix that strangers register in.
_LABELS_AFTER_WILDCARD = 2


def normalize_pattern(text: str) -> str:
    """The canonical form of one origin pattern (lower case, no trailing `/`, no default
    port); ValueError saying why when `text` is not one."""
    pattern = text.strip().rstrip("/")
    if not pattern.isascii() or not pattern.isprintable():
        raise ValueError(f"{text!r} is not an origin: ASCII only (write an IDN host as punycode, xn--...)")
    pattern = pattern.lower()
    scheme, sep, authority = pattern.partition("://")
    if not sep or scheme not in SCHEMES:
        raise ValueError(f"{text!r} is not an origin: it must start with http:// or https://")
    if pattern.count(WILDCARD) > 1:
        raise ValueError(f"{text!r} has more than one *")
    host, port = _split_authority(authority, text)
    if port == SCHEMES[scheme]:
        port = ""  # a browser never sends the default port
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def _split_authority(authority: str, text: str) -> tuple[str, str]:
    """The host and port (maybe empty or `*`) of `host[:port]`, each checked."""
    if any(c in authority for c in "/?#@\\ "):
        raise ValueError(f"{text!r} is not an origin: only scheme://host[:port], nothing after")
    if authority.startswith("["):
        literal, bracket, rest = authority[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r} has a malformed IPv6 address")
        try:
            host = f"[{ipaddress.IPv6Address(literal).compressed}]"
        except ValueError:
            raise ValueError(f"{text!r} has a malformed IPv6 address") from None
        port = rest[1:] if rest else ""
        if rest and not port:
            raise ValueError(f"{text!r} has an empty port")
    else:
        host, colon, port = authority.partition(":")
        if colon and not port:
            raise ValueError(f"{text!r} has an empty port")
        _check_host(host, text)
    if port and port != WILDCARD and not _PORT_RE.fullmatch(port):
        raise ValueError(f"{text!r} has a port that is not 1-65535 (or * for any one port)")
    return host, port


def _check_host(host: str, text: str) -> None:
    labels = host.split(".")
    if labels[-1].isdigit():
        # The URL standard reads a name ending in a number as an IPv4 address.
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError(f"{text!r} has a malformed IPv4 address (no * in an address)") from None
        return
    if len(host) > 253:
        raise ValueError(f"{text!r} has a host longer than 253 characters")
    for index, label in enumerate(labels):
        if label == WILDCARD:
            if index != 0 or len(labels) - 1 < _LABELS_AFTER_WILDCARD:
                raise ValueError(f"{text!r}: * stands for the leftmost label, two more after, as in *.shop.example")
        elif not _LABEL_RE.fullmatch(label):
            raise ValueError(f"{text!r} has a host label {label!r} that is not letters, digits and inner dashes")


def normalize_patterns(values: Iterable[str]) -> tuple[str, ...]:
    """Each pattern of `values` in canonical form, blanks skipped; ValueError on the first bad one."""
    found: list[str] = []
    for value in values:
        if value.strip() and (pattern := normalize_pattern(value)) not in found:
            found.append(pattern)
    return tuple(found)


def pattern_regex(pattern: str) -> str:
    """The regular expression of one canonical pattern: a `*` label is one DNS label, a `*`
    port one port number, every other character itself."""
    scheme, _, authority = pattern.partition("://")
    host, port = _host_port(authority)
    host_re = _LABEL + re.escape(host[1:]) if host.startswith(WILDCARD + ".") else re.escape(host)
    port_re = "" if not port else ":" + (_PORT if port == WILDCARD else re.escape(port))
    return re.escape(scheme + "://") + host_re + port_re


def _host_port(authority: str) -> tuple[str, str]:
    if authority.startswith("["):
        literal, _, rest = authority.partition("]")
        return literal + "]", rest[1:]
    host, _, port = authority.partition(":")
    return host, port


def allowlist(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One expression admitting exactly the origins of `patterns` (use `fullmatch`); None
    when there are none, so that no origin is admitted."""
    canonical = normalize_patterns(patterns)
    if not canonical:
        return None
    return re.compile("|".join(f"(?:{pattern_regex(p)})" for p in canonical))


def s3_allowed_origins(patterns: Iterable[str]) -> list[str]:
    """The `AllowedOrigins` of an S3 CORS rule for `patterns`: the canonical patterns as they are.

    S3's one `*` matches any characters, looser than ours, but only a browser obeys CORS
    and a browser sends serialized origins. Among those, `scheme://host:*` admits just the
    host's ports (a port is all that can follow the colon), and `*.shop.example` admits
    deeper names under shop.example too, all its owner's. The rule only lets such a page
    read the answer to its POST; what may be written is the presigned policy's to say.
    """
    return sorted(normalize_patterns(patterns))


#: A loopback name, with any port or none; the whole Host must match (against DNS rebinding:
#: a page on any site can make a browser send requests to 127.0.0.1 under its own name).
_LOOPBACK_HOST = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\])(?::[0-9]{1,5})?", re.IGNORECASE | re.ASCII)


def is_loopback_host(host: str) -> bool:
    """True when `host` (a Host header, as sent) is `127.0.0.1`, `localhost` or `[::1]`, with any port."""
    return _LOOPBACK_HOST.fullmatch(host) is not None
