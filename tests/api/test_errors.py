"""What clients and logs see when something goes wrong: transport errors as GraphQL JSON,
expected errors with their code in one log line, unexpected ones masked and logged whole."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schema.feeds.fetch import TransientFetchError
from schema.jobs import retry_delay_or_give_up
from schema.models import FeedRun, FeedSource
from schema.settings import Settings
from tests.conftest import app_settings, asgi_client, graphql

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code"),
    [
        ({"content": b"{not json", "headers": JSON}, 400, "INVALID_JSON"),
        ({"content": b"\xff\xfe", "headers": JSON}, 400, "INVALID_JSON"),
        ({"json": {"query": ""}}, 400, "MISSING_QUERY"),
        ({"json": {}}, 400, "MISSING_QUERY"),
        ({"json": [{"query": "{ __typename }"}] * 2}, 400, "BATCH_NOT_SUPPORTED"),
        ({"json": "{ __typename }"}, 400, "BAD_REQUEST"),
        (
            {"content": b"query={__typename}", "headers": {"content-type": "text/plain"}},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ({"content": b"{}", "headers": {}}, 415, "UNSUPPORTED_MEDIA_TYPE"),
        ({"json": {"query": "{ __typename }", "variables": [1]}}, 400, "BAD_REQUEST"),
    ],
)
async def test_transport_errors_are_graphql_json_with_a_code(
    sqlite_client: httpx.AsyncClient, request_kwargs: dict[str, object], status: int, code: str
) -> None:
    response = await sqlite_client.post("/graphql", **request_kwargs)  # type: ignore[arg-type]
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == code
    assert error["message"]
    assert response.headers["x-request-id"]


async def test_request_ids_are_echoed_or_made(sqlite_client: httpx.AsyncClient) -> None:
    given = await sqlite_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": "abc-123"}
    )
    assert given.headers["x-request-id"] == "abc-123"
    hostile = await sqlite_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": "a b\nc"}
    )
    assert hostile.headers["x-request-id"] not in ("a b\nc", "")


async def test_an_expected_error_keeps_its_code_and_logs_one_line(
    sqlite_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="llmref.graphql"):
        body = await graphql(sqlite_client, "{ models(first: 1000) { totalCount } }")
    (error,) = body["errors"]  # type: ignore[misc]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "first must be between 0 and 200, got 1000"
    (record,) = [r for r in caplog.records if r.name == "llmref.graphql"]
    assert record.exc_info is None
    assert "BAD_USER_INPUT" in record.getMessage() and "\n" not in record.getMessage()


async def test_syntax_and_validation_errors_get_codes(sqlite_client: httpx.AsyncClient) -> None:
    body = await graphql(sqlite_client, "{ models(")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"  # type: ignore[index]
    body = await graphql(sqlite_client, "{ noSuchField }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # type: ignore[index]


async def test_an_unexpected_error_is_masked_and_logged_whole_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A database that was never migrated: the resolver's SQL fails for real."""
    settings = app_settings(f"sqlite:///{tmp_path / 'never-migrated.db'}")
    async with asgi_client(settings) as http:
        with caplog.at_level(logging.INFO, logger="llmref.graphql"):
            response = await http.post("/graphql", json={"query": "{ providers { slug } }"})
    body = response.json()
    (error,) = body["errors"]
    request_id = response.headers["x-request-id"]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    assert request_id in error["message"]
    assert "providers" not in error["message"] and "sqlite" not in error["message"].lower()
    (record,) = [r for r in caplog.records if r.name == "llmref.graphql"]
    assert record.exc_info is not None
    assert "no such table: providers" in str(record.exc_info[1])
    assert request_id in record.getMessage()


async def test_fetch_failures_are_logged_with_feed_attempt_and_reason(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(fetch_retries=2, retry_backoff_seconds=1)
    with sessions.begin() as session:
        source = session.scalar(select(FeedSource).where(FeedSource.slug == "litellm"))
        assert source is not None
        run = FeedRun(source_id=source.id, status="RUNNING")
        session.add(run)
        session.flush()
        run_id = run.id
    error = TransientFetchError("ReadTimeout: the server sent nothing for 30 s")
    with caplog.at_level(logging.INFO, logger="llmref.jobs"):
        delays = [
            retry_delay_or_give_up(sessions, settings, run_id, error, attempt=attempt)
            for attempt in range(3)
        ]
    assert delays[0] is not None and delays[1] is not None and delays[2] is None
    lines = [r.getMessage() for r in caplog.records if r.name == "llmref.jobs"]
    assert len(lines) == 3
    for attempt, line in enumerate(lines, start=1):
        assert "feed litellm" in line
        assert f"attempt {attempt} of 3" in line
        assert "ReadTimeout: the server sent nothing" in line
    assert "giving up" in lines[-1]
    assert [r.levelname for r in caplog.records if r.name == "llmref.jobs"] == [
        "WARNING",
        "WARNING",
        "ERROR",
    ]
