"""Build schema/feeds/bundled/ (the offline catalog snapshots) from the recorded feeds.

    .venv/bin/python scripts/build_bundled_feeds.py [SHARED_FEEDS] [--out DIR] [--check]

SHARED_FEEDS defaults to ../shared/feeds next to the repository. Output is deterministic:
the same input gives the same bytes (gzip without timestamp or file name, sorted walks,
numbers copied as written). ``--check`` builds in memory and fails if the bundled files
differ, without writing.

Copied verbatim (only gzip-compressed): OpenRouter ``models.json``, the LiteLLM file and
its 2026-07-01 / 2026-07-03 history snapshots, genai-prices ``data.json``.
Derived here (see bundled/SOURCES.md):
* ``models.dev/api.json``: the shape of https://models.dev/api.json built from the TOML
  tree: every provider with model files; ``base_model`` files merged over
  ``models/<lab>/<id>.toml`` (provider fields win, tables merged key by key, lists
  replaced, ``base_model_omit`` paths removed), ``base_model`` kept, ``id`` = file path.
* ``llm-prices/vendors.json``: ``{"vendors": [<data/*.json>, ...]}`` with the vendor files'
  bytes unchanged, so the dated price history is kept.
* ``llm-prices/current-v1.json``: the shape of https://www.llm-prices.com/current-v1.json,
  computed as upstream's build does (the price whose ``to_date`` is null).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO.parent / "shared" / "feeds"
DEFAULT_OUT = REPO / "schema" / "feeds" / "bundled"
LLM_PRICES_DATA_DATE = "2026-08-06"
"""Commit date of the recorded simonw/llm-prices snapshot (723ef0b), the derived updated_at."""
MAX_LINK_HOPS = 8

VERBATIM = {
    "openrouter/models.json.gz": ("openrouter", "openrouter/models.json"),
    "litellm/model_prices_and_context_window.json.gz": (
        "litellm",
        "litellm/model_prices_and_context_window.json",
    ),
    "litellm/history/2026-07-01_f32e5ff0.json.gz": (
        "litellm",
        "litellm/history/2026-07-01_f32e5ff0.json",
    ),
    "litellm/history/2026-07-03_f6ae3781.json.gz": (
        "litellm",
        "litellm/history/2026-07-03_f6ae3781.json",
    ),
    "genai-prices/data.json.gz": ("genai-prices", "genai-prices/data.json"),
}
CATALOG = {
    "openrouter": "openrouter/models.json.gz",
    "litellm": "litellm/model_prices_and_context_window.json.gz",
    "models.dev": "models.dev/api.json.gz",
    "genai-prices": "genai-prices/data.json.gz",
    "llm-prices": "llm-prices/vendors.json.gz",
}
"""The one snapshot per feed kind that the offline catalog loads."""


def build(shared: Path) -> dict[str, bytes]:
    """Every bundled file's bytes, keyed by its path under bundled/."""
    contents: dict[str, tuple[str, bytes, bool]] = {
        target: (kind, (shared / source).read_bytes(), False)
        for target, (kind, source) in VERBATIM.items()
    }
    contents["models.dev/api.json.gz"] = ("models.dev", models_dev_api(shared / "models.dev"), True)
    vendor_files = sorted((shared / "llm-prices" / "data").glob("*.json"))
    contents["llm-prices/vendors.json.gz"] = ("llm-prices", llm_prices_vendors(vendor_files), True)
    contents["llm-prices/current-v1.json.gz"] = (
        "llm-prices",
        llm_prices_current(vendor_files),
        True,
    )
    files = {
        target: gzip.compress(data, compresslevel=9, mtime=0)
        for target, (_, data, _) in contents.items()
    }
    manifest = {
        "catalog": CATALOG,
        "files": [
            {
                "path": target,
                "kind": kind,
                "derived": derived,
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
            }
            for target, (kind, data, derived) in sorted(contents.items())
        ],
    }
    files["manifest.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
    return files


# --- models.dev ---------------------------------------------------------------------------------


def models_dev_api(root: Path) -> bytes:
    api: dict[str, Any] = {}
    for provider_dir in sorted(path for path in (root / "providers").iterdir() if path.is_dir()):
        models_dir = provider_dir / "models"
        model_files = sorted(models_dir.rglob("*.toml")) if models_dir.is_dir() else []
        if not model_files:
            continue
        provider = {"id": provider_dir.name, **load_toml(provider_dir / "provider.toml")}
        models: dict[str, Any] = {}
        for path in model_files:
            model_id = path.relative_to(models_dir).with_suffix("").as_posix()
            models[model_id] = {"id": model_id, **resolve_base_model(load_toml(path), root)}
        api[provider_dir.name] = {**provider, "models": models}
    return dump_json(api)


def load_toml(path: Path) -> dict[str, Any]:
    """A TOML file, following symlinks, including ones stored as a file holding the link
    target (how the recorded snapshot keeps upstream's relative symlinks)."""
    for _ in range(MAX_LINK_HOPS):
        text = path.read_text(encoding="utf-8")
        target = text.strip()
        if "\n" in target or "=" in target or not target.endswith(".toml"):
            return tomllib.loads(text, parse_float=Decimal)
        path = (path.parent / target).resolve()
    raise ValueError(f"{path}: too many link hops")


def resolve_base_model(model: dict[str, Any], root: Path) -> dict[str, Any]:
    base_id = model.get("base_model")
    if base_id is None:
        return model
    base = load_toml(root / "models" / f"{base_id}.toml")
    merged = merge(base, {key: value for key, value in model.items() if key != "base_model_omit"})
    for dotted in model.get("base_model_omit", []):
        omit(merged, dotted.split("."))
    return merged


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def omit(target: dict[str, Any], parts: list[str]) -> None:
    """Remove a dotted path, then any table it leaves empty."""
    head, *rest = parts
    if not rest:
        target.pop(head, None)
        return
    child = target.get(head)
    if isinstance(child, dict):
        omit(child, rest)
        if not child:
            del target[head]


# --- llm-prices ---------------------------------------------------------------------------------


def llm_prices_vendors(vendor_files: list[Path]) -> bytes:
    parts = [path.read_bytes().strip() for path in vendor_files]
    return b'{"vendors": [\n' + b",\n".join(parts) + b"\n]}\n"


def llm_prices_current(vendor_files: list[Path]) -> bytes:
    prices = []
    for path in vendor_files:
        vendor_file = json.loads(path.read_bytes(), parse_float=Decimal)
        for model in vendor_file["models"]:
            current = next((p for p in model["price_history"] if p["to_date"] is None), None)
            if current is not None:
                prices.append(
                    {
                        "id": model["id"],
                        "vendor": vendor_file["vendor"],
                        "name": model["name"],
                        "input": current["input"],
                        "output": current["output"],
                        "input_cached": current["input_cached"],
                    }
                )
    return dump_json({"updated_at": LLM_PRICES_DATA_DATE, "prices": prices})


# --- output -------------------------------------------------------------------------------------


def dump_json(value: Any) -> bytes:
    """JSON with two-space indentation that writes Decimals exactly as parsed (no float)."""
    return (_encode(value, "") + "\n").encode("utf-8")


def _encode(value: Any, indent: str) -> str:
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = (
            f"{inner}{json.dumps(str(key), ensure_ascii=False)}: {_encode(item, inner)}"
            for key, item in value.items()
        )
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(inner + _encode(item, inner) for item in value) + f"\n{indent}]"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as JSON")
        return str(value)
    if isinstance(value, date | datetime):
        return json.dumps(value.isoformat())
    return json.dumps(value, ensure_ascii=False)


def write(files: dict[str, bytes], out: Path) -> None:
    for target, data in files.items():
        path = out / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def differences(files: dict[str, bytes], out: Path) -> list[str]:
    """Bundled files missing or not byte-identical to a fresh build."""
    return sorted(
        target
        for target, data in files.items()
        if not (out / target).is_file() or (out / target).read_bytes() != data
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared", nargs="?", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="fail if the bundle is out of date")
    args = parser.parse_args(argv)
    if not (args.shared / "SOURCES.md").is_file():
        parser.error(
            f"no recorded feeds at {args.shared} (their SOURCES.md is missing): "
            "pass the folder that holds them"
        )
    files = build(args.shared)
    if args.check:
        stale = differences(files, args.out)
        for target in stale:
            print(f"out of date: {args.out / target}", file=sys.stderr)
        return 1 if stale else 0
    write(files, args.out)
    for target, data in sorted(files.items()):
        print(f"{len(data):>10,}  {args.out / target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
