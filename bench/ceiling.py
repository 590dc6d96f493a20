"""The ceiling for bench/comparison.py: a plain Starlette endpoint returning fixed bytes.

Run by bench/comparison.py as `uvicorn bench.ceiling:app` with LLMREF_CEILING_BODY naming
a file that holds the exact response body of the comparison query.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = Path(os.environ["LLMREF_CEILING_BODY"]).read_bytes()


async def graphql(_request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
