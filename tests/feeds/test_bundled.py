"""The bundled offline snapshots parse in full, with counts that match SOURCES.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from feed_helpers import AS_OF, BUNDLED, build_script, bundled_bytes, by_route

from schema.feeds.parse import parse_snapshot

# path under bundled/, kind, records, invalid, providers. Where a count differs from SOURCES.md:
# litellm keeps chat/completion/responses entries with a per-token price: in the current
# file 2,406 such entries, minus 142 without any token price (per second, per character,
# code interpreter), plus 18 priced only through tiered_pricing = 2,282.
# llm-prices lists 142 models, but xai.json has "grok-4-fast" twice (same prices, names
# "Grok 4 Fast" and "Grok 4 Fast ≤128k"): the second is reported invalid as a duplicate.
FULL_SNAPSHOTS = [
    ("openrouter/models.json.gz", "openrouter", 364, 0, 1),
    ("litellm/model_prices_and_context_window.json.gz", "litellm", 2282, 0, None),
    ("litellm/history/2026-07-01_f32e5ff0.json.gz", "litellm", 2254, 0, None),
    ("litellm/history/2026-07-03_f6ae3781.json.gz", "litellm", 2257, 0, None),
    ("models.dev/api.json.gz", "models.dev", 832, 0, 18),  # 832 provider-model files, 18 providers
    ("genai-prices/data.json.gz", "genai-prices", 1466, 0, 36),  # all 1,466 models, 36 providers
    ("llm-prices/vendors.json.gz", "llm-prices", 141, 1, 11),  # 11 vendor files
    ("llm-prices/current-v1.json.gz", "llm-prices", 141, 1, 11),
]


@pytest.mark.parametrize(("path", "kind", "records", "invalid", "providers"), FULL_SNAPSHOTS)
def test_full_bundled_snapshot(
    path: str, kind: str, records: int, invalid: int, providers: int | None
) -> None:
    snapshot = parse_snapshot(kind, bundled_bytes(path), as_of=AS_OF)
    assert len(snapshot.invalid) == invalid
    assert all(item.reason.startswith("duplicate") for item in snapshot.invalid)
    assert len(snapshot.records) == records
    assert len(by_route(snapshot)) == records  # (provider, model id) is unique
    if providers is not None:
        assert len({record.provider for record in snapshot.records}) == providers


def test_openrouter_routers_are_the_only_unpriced_models() -> None:
    snapshot = parse_snapshot("openrouter", bundled_bytes("openrouter/models.json.gz"))
    unpriced = {record.provider_model_id for record in snapshot.records if record.price is None}
    assert unpriced == {"openrouter/auto", "openrouter/pareto-code", "openrouter/bodybuilder"}
    free = [
        r
        for r in snapshot.records
        if r.price and r.price.input_per_mtok == 0 == r.price.output_per_mtok
    ]
    assert len(free) == 29  # SOURCES.md: 29 free ("0"/"0")


def test_litellm_pair_changes_exactly_the_claude_sonnet_5_routes() -> None:
    before, after = (
        {
            (record.provider, record.provider_model_id): (
                record.price and (record.price.input_per_mtok, record.price.output_per_mtok)
            )
            for record in parse_snapshot("litellm", bundled_bytes(path)).records
        }
        for path in (
            "litellm/history/2026-07-01_f32e5ff0.json.gz",
            "litellm/history/2026-07-03_f6ae3781.json.gz",
        )
    )
    changed = {route for route in before.keys() & after.keys() if before[route] != after[route]}
    # SOURCES.md: 20 input/output prices changed, the same cut on every claude-sonnet-5 route
    assert len(changed) == 10
    assert all("claude-sonnet-5" in model for _, model in changed)
    route = ("bedrock_converse", "anthropic.claude-sonnet-5")
    assert (before[route], after[route]) == ((3, 15), (2, 10))


def test_genai_prices_dated_and_tiered_counts() -> None:
    snapshot = parse_snapshot(
        "genai-prices", bundled_bytes("genai-prices/data.json.gz"), as_of=AS_OF
    )
    # SOURCES.md: 13 models with start_date history (2 DeepSeek time windows carry none)
    assert sum(1 for record in snapshot.records if record.price_history) == 13
    # 23 models have context tiers; claude-opus-4-6 and claude-sonnet-4-6 only in their
    # price before 2026-03-13, which is history now
    tiered = {
        (r.provider, r.provider_model_id) for r in snapshot.records if r.price and r.price.tiers
    }
    past_tiers = {
        (r.provider, r.provider_model_id)
        for r in snapshot.records
        if any(price.tiers for price in r.price_history)
    }
    assert len(tiered) == 21
    assert past_tiers - tiered == {
        ("anthropic", "claude-opus-4-6"),
        ("anthropic", "claude-sonnet-4-6"),
    }


def test_models_dev_derivation_merges_base_models_and_links() -> None:
    api = json.loads(bundled_bytes("models.dev/api.json.gz"))
    stepfun = api["openrouter"]["models"]["stepfun/step-3.5-flash"]
    # base_model_omit = ["limit.input"] drops the base's limit.input = 256_000
    assert stepfun["limit"] == {"context": 262144, "output": 65536}
    assert stepfun["base_model"] == "stepfun/step-3.5-flash"
    assert "base_model_omit" not in stepfun
    # providers/zhipuai/models/glm-4.5.toml is a link to ../../zai/models/glm-4.5.toml
    assert api["zhipuai"]["models"]["glm-4.5"] == api["zai"]["models"]["glm-4.5"]
    assert sum("base_model" in model for p in api.values() for model in p["models"].values()) == 186


def test_manifest_lists_every_bundled_file() -> None:
    manifest = json.loads((BUNDLED / "manifest.json").read_text())
    listed = {item["path"] for item in manifest["files"]}
    assert listed == {str(path.relative_to(BUNDLED)) for path in BUNDLED.rglob("*.json.gz")}
    assert set(manifest["catalog"].values()) <= listed
    assert {item["path"] for item in manifest["files"] if item["derived"]} == {
        "models.dev/api.json.gz",
        "llm-prices/vendors.json.gz",
        "llm-prices/current-v1.json.gz",
    }


def test_bundle_is_reproducible_from_the_recorded_feeds() -> None:
    script = build_script()
    if not (script.DEFAULT_SHARED / "SOURCES.md").is_file():
        pytest.skip(f"recorded feeds not present at {script.DEFAULT_SHARED}")
    files = script.build(script.DEFAULT_SHARED)
    assert files == script.build(script.DEFAULT_SHARED)  # deterministic
    assert script.differences(files, BUNDLED) == []  # and the committed bundle is current


def test_the_build_script_names_the_missing_recorded_feeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_script().main([str(tmp_path / "nowhere")])
    assert exited.value.code == 2
    assert f"no recorded feeds at {tmp_path / 'nowhere'}" in capsys.readouterr().err
