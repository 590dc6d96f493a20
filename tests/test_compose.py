"""compose.yaml describes the whole stack, and every command it runs exists: PostgreSQL and
Redis with health checks, a one-shot migration, an API that scales (no fixed host port)
with a readiness check, Celery workers, and exactly one beat, all from one image."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer.main
import yaml

from api.cli import app
from tests.conftest import PROJECT_ROOT

COMPOSE = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
LLMREF_SERVICES = {
    "migrate": "migrate",
    "api": "serve",
    "worker": "worker",
    "beat": "beat",
}
"""Service name -> the `llmref` subcommand it runs."""


def _command(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return command if isinstance(command, list) else command.split()


def _llmref_subcommands() -> set[str]:
    group = typer.main.get_command(app)
    return set(group.commands)  # type: ignore[attr-defined]


def test_the_services_are_the_whole_stack() -> None:
    assert set(SERVICES) == {"postgres", "redis", *LLMREF_SERVICES}


@pytest.mark.parametrize(("service", "subcommand"), sorted(LLMREF_SERVICES.items()))
def test_each_llmref_service_runs_an_existing_subcommand(service: str, subcommand: str) -> None:
    command = _command(service)
    assert command[:2] == ["llmref", subcommand]
    assert subcommand in _llmref_subcommands()


@pytest.mark.parametrize("service", sorted(LLMREF_SERVICES))
def test_each_llmref_service_is_the_same_image_on_postgres_and_redis(service: str) -> None:
    definition = SERVICES[service]
    assert definition["build"] == "."
    assert definition["image"] == SERVICES["api"]["image"]
    environment = definition["environment"]
    database = environment["LLMREF_DATABASE_URL"]
    assert database.startswith("postgresql+psycopg://")
    assert re.search(r"@postgres:5432/", database), database
    assert re.fullmatch(r"redis://redis:6379/\d+", environment["LLMREF_REDIS_URL"])
    assert definition["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_the_migration_runs_once_and_the_rest_start_after_it() -> None:
    assert SERVICES["migrate"]["restart"] == "no"
    assert "migrate" not in SERVICES["migrate"]["depends_on"]
    for service in ("api", "worker", "beat"):
        assert SERVICES[service]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert SERVICES[service]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_the_api_scales_and_reports_readiness() -> None:
    api = SERVICES["api"]
    assert _command("api")[2:] == ["--host", "0.0.0.0", "--port", "8000"]
    # Container port only: Docker picks a host port per replica, so --scale api=N works.
    assert api["ports"] == ["8000"]
    assert "deploy" not in api  # no pinned replica count
    check = " ".join(api["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/readyz" in check


def test_there_is_exactly_one_beat() -> None:
    beat = SERVICES["beat"]
    assert beat["deploy"]["replicas"] == 1
    assert "ports" not in beat
    assert sum(1 for name in SERVICES if _is_llmref(name) and _command(name)[1] == "beat") == 1


def _is_llmref(service: str) -> bool:
    return "command" in SERVICES[service] and _command(service)[0] == "llmref"


def test_postgres_redis_and_the_api_have_health_checks() -> None:
    assert SERVICES["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert SERVICES["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert SERVICES["api"]["healthcheck"]["test"][0] == "CMD"
    worker_check = SERVICES["worker"]["healthcheck"]["test"]
    assert "inspect ping" in " ".join(worker_check)


def test_the_image_holds_what_the_commands_need() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\S+)", dockerfile, flags=re.MULTILINE))
    assert {"alembic", "schema", "api", "workers"} <= copied
    assert "alembic.ini" in dockerfile
    [cmd] = re.findall(r"^CMD (.+)$", dockerfile, flags=re.MULTILINE)
    assert yaml.safe_load(cmd)[:2] == ["llmref", "serve"]
