"""Who is calling: the API key presented with a request, and the role it grants.

Over HTTP the key comes as `Authorization: Bearer <key>`; over websockets either as that
header on the upgrade request or in the connection_init payload as
`{"authorization": "Bearer <key>"}` (strawberry stores the payload in the context's
`connection_params`). Keys are stored only as hashes (schema.auth); the lookup by prefix
goes through the request's loader, so it runs once per request however many fields ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from schema.auth import key_prefix, matching_key

if TYPE_CHECKING:
    from api.context import Context

_SCHEME = "bearer"


@dataclass(frozen=True)
class Caller:
    """The outcome of authenticating one request."""

    presented: bool
    """Whether the request carried a key at all (to tell "no key" from "unknown key")."""
    key_id: int | None = None
    role: str | None = None


ANONYMOUS = Caller(presented=False)
UNKNOWN_KEY = Caller(presented=True)


def presented_key(context: Context) -> str | None:
    """The bearer key of the request, or None when it carries none."""
    value = _authorization(context)
    if value is None:
        return None
    scheme, _, key = value.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != _SCHEME or not key:
        return None
    return key


def _authorization(context: Context) -> str | None:
    headers = getattr(context.request, "headers", None)
    value: Any = headers.get("authorization") if headers is not None else None
    if value is None:
        params = getattr(context, "connection_params", None)
        if isinstance(params, dict):
            value = params.get("authorization", params.get("Authorization"))
    return value if isinstance(value, str) and value.strip() else None


async def authenticate(context: Context) -> Caller:
    """The caller behind the request's key (a malformed header counts as an unknown key)."""
    if _authorization(context) is None:
        return ANONYMOUS
    key = presented_key(context)
    prefix = key_prefix(key) if key is not None else None
    if key is None or prefix is None:
        return UNKNOWN_KEY
    candidates = await context.loaders.active_api_keys_by_prefix.load(prefix)
    row = matching_key(candidates, key)
    if row is None:
        return UNKNOWN_KEY
    return Caller(presented=True, key_id=row.id, role=row.role)


async def caller_role(context: Context) -> str | None:
    """The role of the request's key; None without a valid (known, unrevoked) key."""
    return (await authenticate(context)).role
