"""parse_snapshot: whole-snapshot checks that reject a feed run before anything changes."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from feed_helpers import AS_OF, encode, fixture_bytes, fixture_json

from schema.feeds.parse import parse_snapshot
from schema.feeds.records import SnapshotError

SAMPLES = {
    "openrouter": ("openrouter", "models.json"),
    "litellm": ("litellm", "2026-07-03_f6ae3781.json"),
    "models.dev": ("models.dev", "api.json"),
    "genai-prices": ("genai-prices", "data.json"),
    "llm-prices": ("llm-prices", "current-v1.json"),
}


def sample(kind: str) -> bytes:
    return fixture_bytes(*SAMPLES[kind])


def rejects(kind: str, raw: bytes, message: str, **options: int) -> None:
    with pytest.raises(SnapshotError, match=f"^{re.escape(kind)}: .*{message}"):
        parse_snapshot(kind, raw, as_of=AS_OF, **options)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_sample_parses(kind: str) -> None:
    snapshot = parse_snapshot(kind, sample(kind), as_of=AS_OF)
    assert snapshot.feed == kind
    assert snapshot.records
    assert snapshot.invalid == []


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda raw: b"", "empty"),
        (lambda raw: b" \n\t", "empty"),
        (lambda raw: raw[: len(raw) // 2], "not valid JSON"),  # truncated
        (lambda raw: raw[:-3], "not valid JSON"),  # truncated at the very end
        (lambda raw: raw.replace(b":", b"=", 1), "not valid JSON"),  # malformed
        (lambda raw: b"\xff\xfe\xfa" + raw, "not valid JSON"),  # not UTF-8
        (lambda raw: b"null", "wrong format"),
        (lambda raw: b"[1, 2, 3]", "wrong format"),
    ],
)
def test_damaged_snapshot_is_rejected(
    kind: str, damage: Callable[[bytes], bytes], message: str
) -> None:
    rejects(kind, damage(sample(kind)), message)


@pytest.mark.parametrize(
    ("kind", "other"),
    [
        ("openrouter", "litellm"),
        ("litellm", "openrouter"),
        ("models.dev", "genai-prices"),
        ("genai-prices", "models.dev"),
        ("llm-prices", "litellm"),
        ("models.dev", "litellm"),
    ],
)
def test_another_feeds_snapshot_is_wrong_format(kind: str, other: str) -> None:
    rejects(kind, sample(other), "wrong format")


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_oversized_snapshot_is_rejected(kind: str) -> None:
    raw = sample(kind)
    rejects(kind, raw, "over the .*-byte limit", max_bytes=len(raw) - 1)
    assert parse_snapshot(kind, raw, max_bytes=len(raw), as_of=AS_OF).records


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(SnapshotError, match="unknown feed kind 'helicone'"):
        parse_snapshot("helicone", sample("openrouter"))


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("openrouter", b'{"data": []}'),
        ("llm-prices", b'{"updated_at": "2026-08-06", "prices": []}'),
        # only out-of-scope entries: an embedding model
        (
            "litellm",
            b'{"text-embedding-3-small": {"litellm_provider": "openai", "mode": "embedding"}}',
        ),
    ],
)
def test_snapshot_without_usable_records_is_rejected(kind: str, raw: bytes) -> None:
    rejects(kind, raw, "no usable records")


def test_snapshot_of_only_invalid_records_names_the_first() -> None:
    raw = b'{"data": [{"name": "no id"}]}'
    rejects("openrouter", raw, r"no usable records \(1 invalid; first: openrouter: record '#0'")


@pytest.mark.parametrize(("broken", "accepted"), [(1, True), (2, False)])
def test_more_than_a_fifth_invalid_is_a_wrong_format(broken: int, accepted: bool) -> None:
    document = fixture_json("openrouter", "models.json")  # 5 models
    for model in document["data"][:broken]:
        model["pricing"]["prompt"] = "n/a"
    raw = encode(document)
    if accepted:  # 1 of 5 is 20%, not more
        snapshot = parse_snapshot("openrouter", raw)
        assert [item.field for item in snapshot.invalid] == ["pricing.prompt"]
        assert len(snapshot.records) == 4
    else:
        rejects("openrouter", raw, r"wrong format: 2 of 5 records are invalid \(more than 20%\)")
