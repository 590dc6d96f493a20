"""Documents used by the bounded-work tests and by bench/hostile.py."""

from __future__ import annotations

AMPLIFICATION = (
    "{ providers { offerings { provider { offerings { model { offerings { id } } } } } } }"
)
"""Depth 7, no alias: once 76 s, 25.8 MB and 2 GB of RSS (issue 12)."""

AMPLIFICATION_WITH_FRAGMENTS = """
query { ...P }
fragment P on Query { providers { offerings { ...O } } }
fragment O on Offering { provider { offerings { model { offerings { id provider { slug } } } } } }
"""
"""The same shape through fragments."""


def many_aliases(count: int = 100_000) -> str:
    """A document of ``count`` aliased fields (5.7 MB at 100,000)."""
    return "{ " + " ".join(f"a{index}: __typename" for index in range(count)) + " }"


MODELS_PAGE = """{ models(first: 50) { totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id slug name releasedOn contextWindow maxOutputTokens license openWeights
    creator { slug name } capabilities decisionTags
    offerings { id providerModelId region contextWindow status updatedAt provider { slug name url }
      price { inputPerMTok outputPerMTok cachedInputPerMTok currency complete effectiveFrom source
        tiers { minInputTokens inputPerMTok outputPerMTok cachedInputPerMTok } } }
    cheapestOffering { provider { slug } price { inputPerMTok outputPerMTok } } } } } }"""
"""The catalog page a frontend asks for: 50 models with their routes and prices."""

FULL_COMPARISON = """query($models: [String!]!, $traffic: TrafficInput) {
  comparison(models: $models, traffic: $traffic) {
    __typename
    ... on Comparison {
      key generatedAt lastReviewedOn verdict costDelta deepDive
      models { id slug name creator { slug name } releasedOn contextWindow maxOutputTokens
        parametersBillions architecture license openWeights knowledgeCutoff inputModalities
        outputModalities capabilities decisionTags lastReviewedOn
        aliases { name source } sources { name url retrievedAt field value }
        benchmarks { benchmark { slug name higherIsBetter } score source }
        offerings { id providerModelId region contextWindow status updatedAt
          provider { id slug name url }
          price { inputPerMTok outputPerMTok cachedInputPerMTok currency complete effectiveFrom source
            tiers { minInputTokens inputPerMTok outputPerMTok cachedInputPerMTok } } }
        cheapestOffering { id provider { slug } } }
      traffic { inputTokensPerMonth outputTokensPerMonth cachedInputShare averageInputTokensPerRequest }
      recommended { slug name }
      scorecard { signal values leader { slug } }
      tradeoffs { model { slug } reasons }
      monthlyCosts { model { slug } available monthlyUsd reason
        offering { id providerModelId provider { slug name } price { inputPerMTok outputPerMTok } } }
      switchFriction { from { slug } to { slug } sharedProviders { slug name } notes }
      capabilityMatrix { capability label values }
      sharedBenchmarks { benchmark { slug name higherIsBetter } scores }
      faq { question answer }
      related { key models { slug name } }
    }
    ... on ComparisonError { code message unknownSlugs }
  }
}"""
"""Every field of the contract's Comparison, with the models' facts, routes and prices."""
