"""Which kinds of failure typically cause which: the backbone of root-cause-first ranking.

Signature-level hints (`causes` / `caused_by` in the catalog) are more precise and
are checked first; this category graph covers findings without a signature and
pairs of signatures the catalog does not link.
"""

from __future__ import annotations

from loglens.model import Category

C = Category

CATEGORY_CAUSES: dict[Category, frozenset[Category]] = {
    C.OOM: frozenset({C.CRASHLOOP, C.PROBE_FAILURE, C.DEPENDENCY, C.APPLICATION_ERROR, C.NETWORK}),
    C.STORAGE: frozenset(
        {C.CRASHLOOP, C.PROBE_FAILURE, C.DEPENDENCY, C.APPLICATION_ERROR, C.DEPLOYMENT}
    ),
    C.DNS: frozenset({C.NETWORK, C.DEPENDENCY, C.APPLICATION_ERROR, C.PROBE_FAILURE}),
    C.NETWORK: frozenset({C.DEPENDENCY, C.APPLICATION_ERROR, C.PROBE_FAILURE}),
    C.TLS: frozenset({C.DEPENDENCY, C.APPLICATION_ERROR, C.NETWORK}),
    C.AUTH: frozenset({C.DEPENDENCY, C.APPLICATION_ERROR, C.CRASHLOOP}),
    C.CONFIG: frozenset(
        {C.CRASHLOOP, C.DEPLOYMENT, C.APPLICATION_ERROR, C.PROBE_FAILURE, C.DEPENDENCY}
    ),
    C.IMAGE_PULL: frozenset({C.DEPLOYMENT, C.DEPENDENCY}),
    C.RESOURCE_PRESSURE: frozenset(
        {C.SCHEDULING, C.CRASHLOOP, C.PROBE_FAILURE, C.DEPENDENCY, C.OOM}
    ),
    C.NODE: frozenset(
        {C.SCHEDULING, C.CRASHLOOP, C.PROBE_FAILURE, C.NETWORK, C.DEPENDENCY, C.CONTROL_PLANE}
    ),
    C.CONTROL_PLANE: frozenset({C.SCHEDULING, C.DEPLOYMENT, C.DEPENDENCY}),
    C.SCHEDULING: frozenset({C.DEPLOYMENT, C.DEPENDENCY}),
    C.CRASHLOOP: frozenset({C.PROBE_FAILURE, C.DEPENDENCY, C.APPLICATION_ERROR, C.NETWORK}),
    C.PROBE_FAILURE: frozenset({C.DEPENDENCY, C.APPLICATION_ERROR}),
    C.LIMIT_EXCEEDED: frozenset({C.APPLICATION_ERROR, C.DEPENDENCY}),
    C.DEPENDENCY: frozenset({C.APPLICATION_ERROR}),
}


def category_causes(cause: Category, effect: Category) -> bool:
    return effect in CATEGORY_CAUSES.get(cause, frozenset())
