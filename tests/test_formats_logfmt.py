"""The logfmt pair pattern: the faster form finds exactly the pairs the plain form finds."""

from __future__ import annotations

import random
import re

import pytest

from loglens.parsing.formats import _LOGFMT_PAIR_RE, parse_logfmt

# The pattern in its plain form (no look-behind, no possessive key), the reference.
_PLAIN_PAIR_RE = re.compile(r'([\w.@/\-]+)="?((?<==")[^"\\]*(?:\\.[^"\\]*)*|[^\s"]*)"?\s*')

_PIECES = [
    "a",
    "k",
    "=",
    '"',
    " ",
    "\\",
    "x1",
    ".",
    "-",
    ":",
    "\t",
    "é",
    "\n",
    '=""',
    'key="v w"',
    '\\"',
    "ab.cd/ef",
    "_",
    "\x1c",
    "\u00a0",
    "٣",
    "@",
]


def test_pairs_match_the_plain_pattern_on_random_text() -> None:
    rng = random.Random(20261120)
    for _ in range(30_000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 16)))
        assert _LOGFMT_PAIR_RE.findall(text) == _PLAIN_PAIR_RE.findall(text), repr(text)


@pytest.mark.parametrize(
    "text",
    [
        'level=info msg="request handled" status=200 path=/api/v1/items/7',
        ' "MountVolume started for volume \\"kube-api\\" (UniqueName: '
        '\\"kubernetes.io/projected/2575250d-ef91-499e-a786-d3748421599e-kube-api-access\\")'
        ' " pod="kube-system/alloy-7j2jl"',
        "plain words only, no pairs at all",
        'a:b=c d,e=f ="x" =y g= h="unterminated',
    ],
)
def test_pairs_match_the_plain_pattern_on_real_shapes(text: str) -> None:
    assert _LOGFMT_PAIR_RE.findall(text) == _PLAIN_PAIR_RE.findall(text)


def test_escaped_values_are_unescaped_and_others_kept() -> None:
    pairs = parse_logfmt('query="{ns=\\"llm\\"}" path=C:\\\\tmp plain=yes')
    assert pairs == {"query": '{ns="llm"}', "path": "C:\\tmp", "plain": "yes"}
