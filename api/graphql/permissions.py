"""The ops role check for fields marked (ops) in the contract.

A plain helper rather than a strawberry BasePermission: one permission class raises one
fixed error, and the contract needs two codes (UNAUTHENTICATED for no or an unknown key,
FORBIDDEN for a key without the role). Resolvers call it first, before touching anything.
"""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.types import Info

from api.auth import authenticate
from api.context import Context
from schema.auth import OPS_ROLE


async def require_ops(info: Info[Context, None]) -> None:
    caller = await authenticate(info.context)
    if not caller.presented:
        raise GraphQLError(
            "this needs an API key with the ops role: send Authorization: Bearer <key>",
            extensions={"code": "UNAUTHENTICATED"},
        )
    if caller.role is None:
        raise GraphQLError(
            "the API key is unknown or revoked", extensions={"code": "UNAUTHENTICATED"}
        )
    if caller.role != OPS_ROLE:
        raise GraphQLError(
            f"the API key has the role {caller.role!r}; this needs the {OPS_ROLE!r} role",
            extensions={"code": "FORBIDDEN"},
        )


async def has_ops_role(info: Info[Context, None]) -> bool:
    """For fields that answer null, not an error, to other callers."""
    return (await authenticate(info.context)).role == OPS_ROLE
