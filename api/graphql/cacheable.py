"""Which GraphQL documents the response cache may answer, and the key of each document.

The response cache (api/response_cache.py) reads no GraphQL: the app hands it
`cacheable_digest`, so the cache stays a plain HTTP layer and the rules about operations and
root fields stay here, with the schema they name.
"""

from __future__ import annotations

import functools
import hashlib

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse
from graphql.language import print_ast

from api.response_cache import Cacheable

CACHEABLE_ROOT_FIELDS = frozenset(
    {"model", "models", "provider", "providers", "resolveModel", "comparison", "__typename"}
)
"""Public root fields that read nothing but the catalog (ops fields and priceChanges are
left out: they read runs and events, which the catalog generation does not follow)."""

DOCUMENT_PLANS = 512


@functools.lru_cache(maxsize=DOCUMENT_PLANS)
def cacheable_digest(query: str, operation_name: str | None) -> Cacheable | None:
    """SHA-256 of the printed document (so spacing and comments do not matter) and the
    operation's name when its operation is a query whose root fields can all be cached,
    else None (also for a document that does not parse: executing it reports the error)."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return None
    names = set()
    for selection in operations[0].selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None
        names.add(selection.name.value)
    if not names <= CACHEABLE_ROOT_FIELDS:
        return None
    name = operations[0].name
    return Cacheable(
        hashlib.sha256(print_ast(document).encode()).hexdigest(), name.value if name else None
    )
