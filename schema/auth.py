"""API keys: created once and shown once, stored only as SHA-256 hashes, compared in
constant time. A key is `llmref_<prefix>_<secret>`; the prefix finds the row."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from schema.models import ApiKey

OPS_ROLE = "ops"
CLIENT_ROLE = "client"
ROLES = {
    OPS_ROLE: "feed sources and runs, re-syncs, held price changes: the fields marked (ops)",
    CLIENT_ROLE: "a frontend or other consumer: what anonymous callers may do, under its own name",
}
"""Every role a key can have, with what it grants."""
_SCHEME = "llmref"


class ApiKeyError(ValueError):
    pass


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str | None:
    """The public part of a key, or None when the text is not shaped like one of ours."""
    scheme, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != _SCHEME or len(prefix) != 8 or not secret:
        return None
    return prefix


def create_api_key(session: Session, *, name: str, role: str, now: datetime) -> tuple[ApiKey, str]:
    """A new key row and the key itself (shown once, never stored)."""
    if role not in ROLES:
        raise ApiKeyError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if not name.strip():
        raise ApiKeyError("a key needs a name (who or what uses it)")
    prefix = secrets.token_hex(4)
    key = f"{_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        name=name.strip(), role=role, prefix=prefix, key_hash=hash_key(key), created_at=now
    )
    session.add(row)
    session.flush()
    return row, key


def select_active_keys(prefix: str) -> Select[ApiKey]:
    return select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))


def matching_key(candidates: list[ApiKey], presented: str) -> ApiKey | None:
    """The candidate whose hash equals the presented key's, compared in constant time."""
    presented_hash = hash_key(presented)
    found = None
    for row in candidates:
        if hmac.compare_digest(row.key_hash, presented_hash):
            found = row
    return found


def revoke_api_key(session: Session, key_id: int, *, now: datetime) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise ApiKeyError(f"no API key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at = now
    return row
