"""Reciprocal rank fusion: one ranking out of a vector ranking and a lexical one.

Both store backends fuse on the client with the same function, so a hybrid score means the
same thing whichever store answered: sum over rankings of 1 / (k + rank), rank from 1.
With k = 60 (the constant of Cormack et al., 2009, and the default of LanceDB's RRFReranker),
an item first in both lists scores 2/61 ≈ 0.033; first in one list only, 1/61.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from loglens.retrieval.store import Hit

RRF_K: Final = 60
# The best fused score of two rankings (first in both); hybrid scores are shown over it.
BEST_FUSED_SCORE: Final = 2.0 / (RRF_K + 1)


def candidate_pool(limit: int) -> int:
    """How many results to ask each half of a hybrid search for, to fuse `limit` well."""
    return max(2 * limit, 20)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hit]], *, limit: int, k: int = RRF_K
) -> list[Hit]:
    """Fuse best-first rankings; each returned Hit carries its fused score.

    Ties are broken by the best single rank an item had, then by id (stable output).
    """
    fused: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    first_seen: dict[str, Hit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            fused[hit.id] = fused.get(hit.id, 0.0) + 1.0 / (k + rank)
            best_rank[hit.id] = min(best_rank.get(hit.id, rank), rank)
            first_seen.setdefault(hit.id, hit)
    order = sorted(fused, key=lambda hit_id: (-fused[hit_id], best_rank[hit_id], hit_id))
    return [
        Hit(
            id=hit_id,
            score=fused[hit_id],
            text=first_seen[hit_id].text,
            payload=first_seen[hit_id].payload,
        )
        for hit_id in order[:limit]
    ]
