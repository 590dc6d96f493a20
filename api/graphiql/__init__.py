"""GraphiQL served by llmref itself, so that it works without the internet.

The page (page.html) loads pinned browser builds of GraphiQL, React and ReactDOM from
``static/``, vendored from the npm registry by scripts/vendor_graphiql.sh with their
licences (static/README.md lists them). They are stored gzip-compressed and sent as they
are to browsers that accept gzip (all do), decompressed for any client that does not.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

HERE = Path(__file__).parent
STATIC = HERE / "static"
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
ASSET_PATH = "/graphiql/{name}"
"""Where the page finds its assets: beside /graphql, as the page refers to them relatively."""


def graphiql_page() -> HTMLResponse:
    return HTMLResponse((HERE / "page.html").read_text(encoding="utf-8"))


def _assets() -> dict[str, tuple[bytes, str, str]]:
    """name -> (gzip bytes, media type, ETag) for every vendored asset."""
    found = {}
    for path in sorted(STATIC.glob("*.gz")):
        name = path.name.removesuffix(".gz")
        data = path.read_bytes()
        found[name] = (data, MEDIA_TYPES[Path(name).suffix], hashlib.sha256(data).hexdigest()[:16])
    return found


ASSETS = _assets()


async def graphiql_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        return Response("not found", status_code=404, media_type="text/plain")
    data, media_type, etag = ASSETS[name]
    headers = {
        "ETag": f'"{etag}"',
        "Cache-Control": "public, max-age=86400",
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            data, media_type=media_type, headers={**headers, "Content-Encoding": "gzip"}
        )
    return Response(gzip.decompress(data), media_type=media_type, headers=headers)


routes = [Route(ASSET_PATH, graphiql_asset, methods=["GET", "HEAD"])]
