"""API keys and the local development token issuer.

Keys: `fleet_` and 43 random URL-safe characters (256 bits); only their sha256 is stored,
so a stolen table holds nothing usable, and a high-entropy key needs no slow hash.

A key's `campaigns:*` scopes reach the campaigns it is bound to (`campaigns`), or every
campaign when it says so (`all_campaigns`); a key made before keys were bound has
neither and reaches every campaign, as it always did. `articles:write` reaches the
articles the key created; `articles:admin` beside it, every article.

The development issuer stands in for a Cognito user pool on the local stage: an RSA key
kept in the state dir (`.fleet/`, never committed) signs tokens shaped as Cognito's access
tokens, and the API serves its public half as a JWKS under the issuer URL, so the API
verifies local tokens exactly as it verifies Cognito's.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from events.ids import CAMPAIGN_ID
from events.text import is_blank, is_one_line

KEY_PREFIX = "fleet_"
#: Scopes a key may carry.
SCOPES = ("articles:write", "articles:admin", "subscriptions:write", "campaigns:write", "campaigns:read")
#: The scopes that reach campaigns: a key holding one is bound to its campaigns, or to all.
CAMPAIGN_SCOPES = ("campaigns:write", "campaigns:read")
#: The scope that lets an `articles:write` key change articles that other keys created.
ARTICLES_ADMIN = "articles:admin"
KEY_FILE = "dev-issuer-key.pem"
#: The longest a token may be good for: Cognito's own ceiling for access and id tokens,
#: and so the local issuer's too.
MAX_TOKEN_SECONDS = 86400
#: The local issuer lives under the API: its JWKS is `{issuer}/.well-known/jwks.json`, as Cognito's.
LOCAL_ISSUER_PATH = "/_local/issuer"


def hash_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_key(
    name: str, scopes: Sequence[str], store: Any, campaigns: Sequence[str] = (), all_campaigns: bool = False
) -> tuple[str, dict[str, Any]]:
    """Make a key, store its hash with its name, scopes and campaigns; return the key (shown
    once) and the record. ValueError for an unknown scope, a campaigns:* key that names no
    campaign and is not `all_campaigns`, or a binding without a campaigns:* scope."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    if is_blank(name) or not is_one_line(name):
        # A name is printed in `fleet keys list` and in each review the key records.
        raise ValueError("a key's name must show something and hold no control, line separator or bidi characters")
    if ARTICLES_ADMIN in scopes and "articles:write" not in scopes:
        raise ValueError(f"{ARTICLES_ADMIN} widens articles:write: give both")
    binds = any(scope in CAMPAIGN_SCOPES for scope in scopes)
    if (campaigns or all_campaigns) and not binds:
        raise ValueError("--campaign and --all-campaigns bind a key's campaigns:* scopes, and this key has none")
    if binds and not campaigns and not all_campaigns:
        raise ValueError("a key with campaigns:* scopes names its campaigns (--campaign ID, repeatable) or says --all-campaigns")
    if campaigns and all_campaigns:
        raise ValueError("--campaign and --all-campaigns exclude each other")
    bad = sorted(c for c in set(campaigns) if not CAMPAIGN_ID.match(c))
    if bad:
        raise ValueError(f"not a campaign id: {', '.join(repr(c) for c in bad)} (lowercase letters, digits and dashes)")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    record: dict[str, Any] = {
        "key_hash": hash_key(key),
        "key_id": secrets.token_hex(4),
        "name": name,
        "scopes": sorted(set(scopes)),
        "revoked": False,
        "created_at": datetime.now(UTC).isoformat(),
    }
    if binds:
        record["all_campaigns"] = all_campaigns
        if not all_campaigns:
            record["campaigns"] = sorted(set(campaigns))
    store.put(record)
    return key, record


def campaigns_of(record: Mapping[str, Any]) -> frozenset[str] | None:
    """The campaigns a key's campaigns:* scopes reach; None for every campaign (a key made
    with --all-campaigns, or before keys were bound)."""
    if record.get("all_campaigns") or "campaigns" not in record:
        return None
    return frozenset(record.get("campaigns") or ())


def reaches_campaign(record: Mapping[str, Any], campaign_id: str) -> bool:
    """True when a key's campaigns:* scopes reach this campaign."""
    bound = campaigns_of(record)
    return bound is None or campaign_id in bound


def reach(record: Mapping[str, Any]) -> str:
    """What a key's campaigns:* scopes reach, for a person: nothing to say for a key without them."""
    if not any(scope in CAMPAIGN_SCOPES for scope in record.get("scopes") or ()):
        return ""
    bound = campaigns_of(record)
    if bound is not None:
        return f"campaigns {', '.join(sorted(bound))}" if bound else "no campaign"
    return "all campaigns" if record.get("all_campaigns") else "all campaigns (made before binding)"


def revoke(selector: str, store: Any) -> list[dict[str, Any]]:
    """Revoke the keys whose key id or name is `selector`; return their records."""
    chosen = [r for r in store.list() if selector in (r.get("key_id"), r.get("name")) and not r.get("revoked")]
    for record in chosen:
        store.revoke(record["key_hash"])
    return chosen


def local_issuer(api_url: str) -> str:
    """The development issuer's URL for an API served at `api_url`."""
    return api_url.rstrip("/") + LOCAL_ISSUER_PATH


def signing_key(state_dir: str | os.PathLike[str], create: bool = True) -> Any:
    """The development issuer's RSA private key, made (mode 0600) on first use."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = Path(state_dir) / KEY_FILE
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not create:
        raise FileNotFoundError(f"{path}: no development signing key; start `fleet up` first")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


def _kid(public_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def jwks(private_key: Any) -> dict[str, Any]:
    """The public JWKS of the development issuer."""
    from jwt.algorithms import RSAAlgorithm

    public = private_key.public_key()
    jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    jwk.update(kid=_kid(public), use="sig", alg="RS256")
    return {"keys": [jwk]}


def user_sub(username: str) -> str:
    """The stable subject of a local user, a UUID as Cognito's `sub`."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fleet-local-user:{username}"))


def issue_token(
    private_key: Any, issuer: str, client_id: str, username: str, ttl_seconds: int = 3600, now: float | None = None
) -> str:
    """A signed access token for `username`, shaped as a Cognito user pool's, good for
    `ttl_seconds` (1 to `MAX_TOKEN_SECONDS`; ValueError otherwise)."""
    import jwt

    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or not 1 <= ttl_seconds <= MAX_TOKEN_SECONDS:
        raise ValueError(f"a token is good for 1 to {MAX_TOKEN_SECONDS} seconds, not {ttl_seconds!r}")
    now = int(now if now is not None else time.time())
    claims = {
        "sub": user_sub(username),
        "username": username,
        "iss": issuer,
        "client_id": client_id,
        "token_use": "access",
        "scope": "openid",
        "auth_time": now,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": _kid(private_key.public_key())})
