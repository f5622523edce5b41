"""Masking of variable tokens and tokenising of masked text, ahead of template mining.

Masking turns a message into its *masked form*: every value that varies between
occurrences of one event (numbers, hex, UUIDs, IPs with ports, timestamps, sizes,
quoted values after `key=`, pod hash suffixes, anything holding a digit) becomes
`<*>`. The rules are data (`MaskRule`), one generic list serves every kind of log,
and a user may add rules from the config file.

The masked form is then split into tokens that keep `key=`, `:` and brackets as
their own constant tokens, so `user=root` and `user=admin` differ in one token only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from loglens.errors import ConfigError

WILDCARD = "<*>"

# Characters that end a value: a value is masked up to them, never across them.
_DELIMS = r"\s=:,;()\[\]{}\"'|"


@dataclass(frozen=True, slots=True)
class MaskRule:
    """One masking rule: every match of `regex` is replaced with `replace`."""

    name: str
    regex: str
    replace: str = WILDCARD
    # The rule can only match text holding one of these strings: others skip the regex.
    needs: tuple[str, ...] = ()

    def compile(self) -> re.Pattern[str]:
        try:
            return re.compile(self.regex)
        except re.error as exc:
            raise ConfigError(
                f"mask {self.name!r} has an invalid regex {self.regex!r}: {exc}",
                hint="fix the regex in the masks section of the config file",
            ) from exc


_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_SIZE = r"\b\d+(?:\.\d+)?\s?(?:[KMGTP]i?B|B|bytes)\b"

# Order matters: wide structures first, so their parts are not masked one by one.
DEFAULT_MASKS: tuple[MaskRule, ...] = (
    # scheme://anything: a URL is one value, whatever its path and query hold.
    MaskRule("url", r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]*[^\s\"'<>:,;.)\]]", needs=("://",)),
    MaskRule(
        "ctime",
        rf"\b{_WEEKDAY}\s+{_MONTH}\s+\d{{1,2}}\s+\d{{1,2}}:\d{{2}}:\d{{2}}(?:\s+\d{{4}})?\b",
    ),
    MaskRule(
        "iso_timestamp",
        r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?",
    ),
    MaskRule(
        "uuid", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
    ),
    MaskRule("mac", r"\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\b", needs=(":",)),
    # Eight hex groups or, with `::`, fewer holding a digit; clock times are 3 groups.
    MaskRule(
        "ipv6",
        r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:.])",
        needs=(":",),
    ),
    MaskRule(
        "ipv6_compressed",
        r"(?<![\w:.])(?=[0-9A-Fa-f:]*\d)(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)?::"
        r"(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)?(?![\w:.])",
        needs=("::",),
    ),
    MaskRule("ip_port", r"/?\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b"),
    # Host names are lower case: `state.clipTopAmount:180` is a key and a value.
    MaskRule("host_port", r"\b(?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*:\d{1,5}\b"),
    # An absolute path of two or more segments (`/var/log/x`, `/api/v1/pods?watch=1`).
    # A segment may hold a bracketed part: `/logs/[2017-07-03_15,47,15]-x.txt`.
    MaskRule(
        "path",
        r"(?<![^\s\"'=(\[,:])/(?:[^\s\"'/()\[\],;:]|\[[^\s\]/]*\])+"
        r"(?:/(?:[^\s\"'/()\[\],;:]|\[[^\s\]/]*\])*)+",
        needs=("/",),
    ),
    # A bounded duration is one value: `lifetime <1 sec` is the event of `lifetime 00:01`.
    MaskRule(
        "bounded_duration",
        r"(?<![^\s(])[<>~]=?\s?\d+(?:\.\d+)?\s?"
        r"(?:ns|us|µs|ms|s|sec|secs|seconds?|min|mins|minutes?|h|hrs?|hours?)\b(?!\.\w)",
        needs=("<", ">", "~"),
    ),
    # A size, optionally followed by the same size in other units: `1190 bytes (1.16 KB)`.
    MaskRule("size", rf"{_SIZE}(?:\s*\({_SIZE}\))?"),
    MaskRule("clock_duration", r"\b\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\b"),
    # Table leaders: `depth.........0` keeps its dots and masks the value only.
    MaskRule("dot_leader", r"(\.{2,})[0-9A-Fa-fx]+\b", r"\1<*>"),
    MaskRule("quoted_value", r"(?<==)(?:\"[^\"]*\"|'[^']*')", '"<*>"'),
    # Kubernetes pod names: <deployment>-<replicaset hash>-<pod hash>; keep the deployment.
    MaskRule("pod_hash", r"\b([a-z][a-z0-9-]*?)-[a-z0-9]{8,10}-[a-z0-9]{5}\b", r"\1-<*>"),
    MaskRule(
        "boolean_null", r"(?<![^" + _DELIMS + r"])(?i:true|false|null|nil)(?![^" + _DELIMS + r"])"
    ),
    # Any run of non-delimiters holding a digit; trailing dots stay (end of sentence).
    # Words with one trailing digit (ssh2, eth0, sda1, utf8) are names, not values.
    MaskRule(
        "has_digit",
        rf"(?<![^{_DELIMS}])(?![A-Za-z]{{2,}}\d\.?(?:[{_DELIMS[2:]}\s]|$))"
        rf"[^{_DELIMS}]*?\d(?:[^{_DELIMS}]*[^{_DELIMS}.])?",
    ),
)

# `<*><*>` and `<*>:<*>:<*>`: one compound value (host:port, a PCI or MAC address).
_ADJACENT_WILDCARDS = re.compile(r"<\*>(?::?<\*>)+")
_WILDCARD_RUN = re.compile(r"<\*>(?:(?:\s+|\s*,\s*)<\*>)+")
_TOKEN = re.compile(rf"[^{_DELIMS}]+|\s+|[{_DELIMS[2:]}]")
_WHITESPACE = re.compile(r"\s+")


class Masker:
    """Apply mask rules in order; user rules run before the defaults."""

    def __init__(self, extra_rules: Sequence[MaskRule] = (), *, defaults: bool = True) -> None:
        rules = [*extra_rules, *(DEFAULT_MASKS if defaults else ())]
        self.rules: tuple[MaskRule, ...] = tuple(rules)
        self._compiled = [(rule.compile(), rule.replace, rule.needs) for rule in rules]

    def mask(self, text: str) -> str:
        """The masked form of `text`, whitespace normalised to single spaces."""
        for pattern, replace, needs in self._compiled:
            if not needs or any(need in text for need in needs):
                text = pattern.sub(replace, text)
        if "<*><*>" in text or "<*>:<*>" in text:
            text = _ADJACENT_WILDCARDS.sub(WILDCARD, text)
        return _WHITESPACE.sub(" ", text).strip()


def collapse_wildcard_runs(masked: str) -> str:
    """`a <*> <*> b`, `a <*>,<*> b` → `a <*> b`: a variable spanning a varying count of words."""
    return _WILDCARD_RUN.sub(WILDCARD, masked)


def tokenize(masked: str) -> tuple[str, ...]:
    """Split masked text into words, single delimiters and single spaces."""
    return tuple(" " if tok[0].isspace() else tok for tok in _TOKEN.findall(masked))


def is_word(token: str) -> bool:
    """Whether a token is a word (a candidate for becoming a variable), not a delimiter."""
    return len(token) > 1 or (token not in " =:,;()[]{}\"'|")
