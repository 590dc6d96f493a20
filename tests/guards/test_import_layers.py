"""The request path reads top-down: GraphQL types and resolvers, then services, then the
core. Read from the source (every import statement, also inside functions and
TYPE_CHECKING blocks), so a lazy import cannot slip past."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

GRAPHQL = ("api.graphql", "strawberry", "graphql")
BELOW_GRAPHQL = ["api/services", "api/cache.py", "api/response_cache.py", "schema"]
FORBIDDEN = [
    *((below, GRAPHQL) for below in BELOW_GRAPHQL),
    ("schema", ("api", "workers")),
    ("api", ("workers",)),
    ("workers", ("api",)),
]


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of each import in the file; `from a import b` also gives a.b."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            assert node.module is not None
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def sources(under: str) -> list[Path]:
    root = PROJECT_ROOT / under
    return [root] if root.is_file() else sorted(root.rglob("*.py"))


def is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def broken(under: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(PROJECT_ROOT)}:{line} imports {module}"
        for path in sources(under)
        for line, module in imported_modules(path)
        if any(is_within(module, package) for package in forbidden)
    ]


@pytest.mark.parametrize(("under", "forbidden"), FORBIDDEN)
def test_layer_imports_nothing_above_it(under: str, forbidden: tuple[str, ...]) -> None:
    assert sources(under), f"{under} has no Python sources (moved?)"
    assert broken(under, forbidden) == []


def test_the_guard_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from api.graphql import schema\n    import strawberry\n")
    found = [name for _line, name in imported_modules(module)]
    assert "api.graphql.schema" in found and "strawberry" in found
