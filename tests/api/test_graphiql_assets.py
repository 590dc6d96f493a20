"""The vendored GraphiQL assets as llmref serves them (no database needed)."""

from __future__ import annotations

import gzip

import httpx
from starlette.applications import Starlette

from api.graphiql import STATIC, routes

NAMES = [
    "graphiql.min.js",
    "graphiql.min.css",
    "react.production.min.js",
    "react-dom.production.min.js",
]


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=Starlette(routes=routes)), base_url="http://llmref.test"
    )


async def test_every_asset_is_served_compressed_to_browsers_and_plain_to_others() -> None:
    async with _client() as client:
        for name in NAMES:
            original = gzip.decompress((STATIC / f"{name}.gz").read_bytes())
            zipped = await client.get(f"/graphiql/{name}", headers={"accept-encoding": "gzip"})
            assert zipped.status_code == 200
            assert zipped.headers["content-encoding"] == "gzip"
            assert zipped.content == original  # httpx decodes it
            plain = await client.get(f"/graphiql/{name}", headers={"accept-encoding": "identity"})
            assert "content-encoding" not in plain.headers
            assert plain.content == original
            expected_type = "text/css" if name.endswith(".css") else "text/javascript"
            assert plain.headers["content-type"].startswith(expected_type)
            again = await client.get(
                f"/graphiql/{name}", headers={"if-none-match": plain.headers["etag"]}
            )
            assert again.status_code == 304


async def test_an_unknown_asset_is_not_found() -> None:
    async with _client() as client:
        for name in ["nope.js", "README.md", "LICENSE.react", "..%2Fpage.html"]:
            assert (await client.get(f"/graphiql/{name}")).status_code == 404


def test_every_vendored_file_has_its_licence_listed() -> None:
    listing = (STATIC / "README.md").read_text(encoding="utf-8")
    for path in STATIC.iterdir():
        if path.name != "README.md":
            assert path.name in listing, f"{path.name} is not listed in static/README.md"
