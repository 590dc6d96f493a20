"""Vendor notations: how a provider writes a model's name, back to the usual spelling.

Each normaliser is a small named function from a lower-case bare name (no route prefix,
no path) to the same model's name as its creator and most feeds write it. They only
rewrite notation (a ``p`` for a decimal point, a creator prefix, a version suffix, word
order): sizes (``7b``), tiers (mini, nano, pro, flash, lite, air, turbo), modalities
(``v``/``vl``), base vs instruct, thinking vs instruct, dates and version numbers are
kept, so two different models never become one by a normaliser (docs/data.md,
"Identity"; tests/feeds/test_notation.py names each trap).

``normalise(name, provider)`` applies the provider's own normalisers, then the ones every
feed needs. A name whose normalised form collides with another model's name is still
checked by the merge guard (schema/ingest/identity.py) before the two become one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

Normaliser = Callable[[str], str]

_FIREWORKS_POINT = re.compile(r"(?<=\d)p(?=\d)")
_BEDROCK_VERSION = re.compile(r"-v\d+(:\d+)?$|-\d+:\d+$")
_BEDROCK_CREATOR = re.compile(r"^([a-z][a-z0-9-]*)\.([a-z].*)$")
_PINNED_DATE = re.compile(r"@(\d{8}|\d{4})(?:-\d+)?$")
_PINNED_OTHER = re.compile(r"@.*$")
_OPENROUTER_VARIANT = re.compile(r":[a-z][a-z-]*$")
_QWEN_DASH = re.compile(r"^qwen-(?=\d)")
_LLAMA = re.compile(r"^(?:meta-)?llama-?(?=\d)")
_CLAUDE = re.compile(
    r"^claude-(?:(?P<v1>\d+(?:[.-]\d(?!\d))?)-(?P<t1>opus|sonnet|haiku)"
    r"|(?P<t2>opus|sonnet|haiku)-(?P<v2>\d+(?:[.-]\d(?!\d))?))(?P<rest>(?=-|$).*)$"
)
_DASHED_VERSION = re.compile(
    r"^(?P<family>gpt-|glm-|gemini-|llama-|deepseek-v|kimi-k|grok-|minimax-m|qwen|o)"
    r"(?P<major>\d+)-(?P<minor>\d)(?=$|-)"
)
_MISTRAL_OPEN = re.compile(r"^open-(?=mi[sx]tral|codestral)")


def fireworks_point(name: str) -> str:
    """Fireworks writes a decimal point as ``p``: kimi-k2p5 -> kimi-k2.5,
    deepseek-v3p2 -> deepseek-v3.2, llama-v3p3-70b-instruct -> llama-v3.3-70b-instruct."""
    return _FIREWORKS_POINT.sub(".", name)


def fireworks_llama(name: str) -> str:
    """Fireworks writes Llama versions with a ``v``: llama-v3p3-70b-instruct."""
    return re.sub(r"^llama-v(?=\d)", "llama-", name)


def bedrock_id(name: str) -> str:
    """Bedrock ids: a creator prefix and a version suffix around the model's name
    (meta.llama3-3-70b-instruct-v1:0, amazon.nova-pro-v1:0, openai.gpt-oss-120b-1:0).
    When what follows the creator is only a version (deepseek.v3.2), the creator is the
    model family: deepseek-v3.2. The Llama family's dashed versions are kept for
    :func:`dashed_version`."""
    name = _BEDROCK_VERSION.sub("", pinned_version(name))
    match = _BEDROCK_CREATOR.match(name)
    if match is None:
        return name
    creator, rest = match.groups()
    return f"{creator}-{rest}" if re.match(r"^v\d", rest) else rest


def pinned_version(name: str) -> str:
    """Vertex (and Bedrock's copies of its ids) pin a version after ``@``: a date is the
    dated snapshot (claude-sonnet-4-5@20250929 is claude-sonnet-4-5-20250929,
    mistral-large@2411-001 is mistral-large-2411); anything else (@default, @latest,
    @001) is the model itself."""
    return _PINNED_OTHER.sub("", _PINNED_DATE.sub(r"-\1", name))


def vertex_id(name: str) -> str:
    """Vertex marks partner models served as a managed API with ``-maas``
    (llama-4-maverick-17b-128e-instruct-maas) and pins versions after ``@``."""
    return re.sub(r"-maas$", "", pinned_version(name))


def openrouter_variant(name: str) -> str:
    """OpenRouter's variants of one model (``:free``, ``:thinking``, ``:extended``) are
    routes of that model at other terms."""
    return _OPENROUTER_VARIANT.sub("", name)


def groq_suffix(name: str) -> str:
    """Groq names its Llama instruct models by use: llama-3.3-70b-versatile,
    llama-3.1-8b-instant are the instruct models."""
    return re.sub(r"^(llama-[\d.]+-\d+b)-(?:versatile|instant)$", r"\1-instruct", name)


def together_turbo(name: str) -> str:
    """Together serves Meta's instruct models as ``-Instruct-Turbo`` (its quantised
    serving of the same weights): meta-llama/Llama-3.3-70B-Instruct-Turbo."""
    return re.sub(r"^(llama-.*-instruct)-turbo$", r"\1", name)


def cerebras_llama(name: str) -> str:
    """Cerebras names Meta's instruct models without ``-instruct``: llama-3.3-70b."""
    return re.sub(r"^(llama-?[\d.]+-\d+b)$", r"\1-instruct", name)


def amazon_nova(name: str) -> str:
    """Amazon's Nova is written nova-pro (Bedrock), nova-pro-v1 (OpenRouter) and
    amazon-nova-pro (LiteLLM): nova-pro."""
    return re.sub(r"^(?:amazon-)?(nova-[a-z0-9.-]+?)(?:-v\d+)?$", r"\1", name)


def cerebras_qwen(name: str) -> str:
    """Cerebras writes qwen-3-32b for Qwen's qwen3-32b."""
    return _QWEN_DASH.sub("qwen", name)


def llama_version(name: str) -> str:
    """Meta's Llama is written llama-3.3, llama3.3 and Llama-3.3: llama-3.3."""
    return _LLAMA.sub("llama-", name)


def claude_order(name: str) -> str:
    """Claude's tier and version come in either order and with a dash or a point
    (claude-4.5-haiku at llm-prices, claude-haiku-4-5 at Anthropic, claude-haiku-4.5 at
    OpenRouter, claude-3-5-sonnet): one form, claude-<tier>-<version>. Anthropic's
    claude-sonnet-4-0 is version 4: claude-sonnet-4."""
    match = _CLAUDE.match(name)
    if match is None:
        return name
    tier = match["t1"] or match["t2"]
    version = (match["v1"] or match["v2"]).replace("-", ".").removesuffix(".0")
    return f"claude-{tier}-{version}{match['rest']}"


def dashed_version(name: str) -> str:
    """A version written with a dash for the point in a known family's name:
    deepseek-v3-1 -> deepseek-v3.1, gpt-5-1-codex-max -> gpt-5.1-codex-max,
    glm-4-5 -> glm-4.5, llama-3-3-70b -> llama-3.3-70b. A dash before more than one digit
    is a size or a date (glm-4-32b-0414, gpt-4-0613) and stays."""
    return _DASHED_VERSION.sub(r"\g<family>\g<major>.\g<minor>", name)


def mistral_open(name: str) -> str:
    """Mistral's API keeps legacy ``open-`` names: open-mistral-7b, open-mixtral-8x7b,
    open-mistral-nemo."""
    return _MISTRAL_OPEN.sub("", name)


def latest_alias(name: str) -> str:
    """A ``-latest`` name is the provider's moving alias of the undated name
    (grok-4.5-latest); when it is priced unlike the undated name at that provider, the
    merge guard keeps the two apart (mistral-small-latest and legacy mistral-small)."""
    return re.sub(r"-latest$", "", name)


BY_PROVIDER: dict[str, tuple[Normaliser, ...]] = {
    "fireworks": (fireworks_point, fireworks_llama),
    "amazon-bedrock": (bedrock_id,),
    "google-vertex": (vertex_id,),
    "openrouter": (openrouter_variant,),
    "groq": (groq_suffix,),
    "cerebras": (cerebras_llama,),
    "together": (together_turbo,),
}
"""Normalisers of one provider's notation (canonical provider slug)."""
EVERYWHERE: tuple[Normaliser, ...] = (
    openrouter_variant,
    cerebras_qwen,
    amazon_nova,
    llama_version,
    claude_order,
    dashed_version,
    mistral_open,
    latest_alias,
)
"""Normalisers safe for any name: each rewrites only its family's notation."""


@lru_cache(maxsize=65536)
def normalise(name: str, provider: str | None = None) -> str:
    """The usual spelling of a bare model name (lower case) as ``provider`` writes it
    (kept per process: every apply resolves every feed's names again)."""
    name = name.strip().lower()
    for normaliser in (*BY_PROVIDER.get(provider or "", ()), *EVERYWHERE):
        name = normaliser(name)
    return name


def local_name(name: str, provider: str) -> str:
    """A bare name with only the provider's own decorations removed (lower case): two ids
    of one provider with the same local name are one route of one model."""
    name = name.strip().lower()
    for normaliser in BY_PROVIDER.get(provider, ()):
        name = normaliser(name)
    return name


def normalise_any(name: str) -> str:
    """A name from nowhere in particular (resolveModel): every provider's notation that
    cannot change another notation's meaning, then the common ones."""
    name = name.strip().lower()
    for normaliser in (
        vertex_id,
        fireworks_point,
        fireworks_llama,
        *EVERYWHERE,
    ):
        name = normaliser(name)
    return name
