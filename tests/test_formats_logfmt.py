"""logfmt pairs: the split parser agrees with the regex on logfmt; the regex forms agree."""

from __future__ import annotations

import random
import re

import pytest

from loglens.parsing.formats import _LOGFMT_PAIR_RE, _unquote_values, parse_logfmt

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


def _regex_pairs(text: str) -> dict[str, str]:
    """The pairs as the regex reads them (what parse_logfmt did before it split)."""
    pairs = dict(_LOGFMT_PAIR_RE.findall(text))
    _unquote_values(pairs)
    return pairs


_KEY_CHARS = "abcxyz_.@/-09"
_VALUE_CHARS = ["a", "Z", "0", "=", ":", "/", "é", "{", "}", ","]
_QUOTED_CHARS = [*_VALUE_CHARS, " ", "\t", '\\"', "\\\\", "\\n", "="]


def _random_logfmt(rng: random.Random) -> str:
    """A well-formed logfmt line: keys, bare or quoted values (with escapes), any spacing."""
    pairs = []
    for _ in range(rng.randint(1, 8)):
        key = "".join(rng.choice(_KEY_CHARS) for _ in range(rng.randint(1, 6)))
        if rng.random() < 0.5:
            value = "".join(rng.choice(_VALUE_CHARS) for _ in range(rng.randint(0, 6)))
        else:
            inner = "".join(rng.choice(_QUOTED_CHARS) for _ in range(rng.randint(0, 8)))
            value = f'"{inner}"'
        pairs.append(f"{key}={value}")
    return "".join(pair + rng.choice([" ", "  ", "\t"]) for pair in pairs).rstrip()


def test_split_parser_reads_well_formed_logfmt_as_the_regex_does() -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        text = _random_logfmt(rng)
        assert parse_logfmt(text) == _regex_pairs(text), repr(text)


def test_a_line_holding_the_stand_in_characters_takes_the_regex() -> None:
    text = 'msg="a \\"b\\" \x00" level=warn'
    assert parse_logfmt(text) == {"msg": 'a "b" \x00', "level": "warn"}


def test_text_inside_quotes_never_becomes_a_pair() -> None:
    pairs = parse_logfmt('msg="Post https://svc:443/validate?timeout=10s" status=500')
    assert pairs == {"msg": "Post https://svc:443/validate?timeout=10s", "status": "500"}
