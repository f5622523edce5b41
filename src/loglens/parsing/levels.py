"""Normalising the many spellings of a log level to `Level`, and guessing one from text.

`normalize_level` maps what loggers write ("WARNING", "warn", "W", "err", "CRIT",
pino's 50, slog's "INFO+2") to one `Level`. `keyword_level` looks for level words
in a free-text line (used for plain lines that carry no level field), careful
with phrases that mention errors without being one ("error=nil", "0 failed").
"""

from __future__ import annotations

import re

from loglens.model import Level

_SPELLINGS: dict[Level, tuple[str, ...]] = {
    Level.TRACE: ("trace", "trc", "finest", "finer", "verbose", "verb", "t"),
    Level.DEBUG: ("debug", "dbg", "fine", "d", "debug1", "debug2", "debug3", "debug4", "debug5"),
    Level.INFO: (
        "info",
        "inf",
        "information",
        "informational",
        "notice",
        "i",
        "log",
        "detail",
        "hint",
        "context",
        "statement",
        "query",
        "location",
    ),
    Level.WARN: ("warn", "warning", "wrn", "w"),
    Level.ERROR: ("error", "err", "eror", "e", "severe", "dpanic"),
    Level.FATAL: ("fatal", "critical", "crit", "panic", "f", "emerg", "emergency", "alert"),
}


def _build_lookup() -> dict[str, Level]:
    lookup: dict[str, Level] = {}
    for level, words in _SPELLINGS.items():
        for word in words:
            for variant in (word, word.upper(), word.capitalize()):
                lookup[variant] = level
    return lookup


# Exact-spelling lookup first (no .lower() per line on the hot path).
LEVEL_LOOKUP = _build_lookup()


def normalize_level(value: object) -> Level:
    """The `Level` a logger meant by `value` (a name, a letter or a number); UNKNOWN if none."""
    if isinstance(value, str):
        level = LEVEL_LOOKUP.get(value)
        if level is not None:
            return level
        text = value.strip().lower()
        level = LEVEL_LOOKUP.get(text)
        if level is not None:
            return level
        # slog writes levels between the named ones as "INFO+2", "WARN-4".
        base = text.rstrip("0123456789").rstrip("+-")
        return LEVEL_LOOKUP.get(base, Level.UNKNOWN) if base != text else Level.UNKNOWN
    if isinstance(value, bool):
        return Level.UNKNOWN
    if isinstance(value, int | float):
        return level_from_number(int(value))
    return Level.UNKNOWN


def level_from_number(number: int) -> Level:
    """pino/bunyan numeric levels (10..60); small numbers are syslog severities (0..7)."""
    if number >= 10:
        if number <= 10:
            return Level.TRACE
        if number <= 20:
            return Level.DEBUG
        if number <= 30:
            return Level.INFO
        if number <= 40:
            return Level.WARN
        if number <= 50:
            return Level.ERROR
        return Level.FATAL
    if number < 0:
        return Level.UNKNOWN
    return _SYSLOG_SEVERITY[min(number, 7)]


_SYSLOG_SEVERITY = (
    Level.FATAL,
    Level.FATAL,
    Level.FATAL,
    Level.ERROR,
    Level.WARN,
    Level.INFO,
    Level.INFO,
    Level.DEBUG,
)

# Level words in free text. Upper-case level tokens are what loggers print; the
# lower-case words are weaker hints. Negative look-arounds drop "error=nil",
# "err: <nil>", "failed=0", "no error", "0 failed" and the like.
_NOT_A_PROBLEM = r"(?![=:]\s*(?:(?:nil|null|none|false|0)\b|<nil>))(?!=\"\")(?!=$)"
_KEYWORD_RE = re.compile(
    r"(?<![\w-])(?<!\bno )(?<!\b0 )(?<!without )(?:"
    r"(FATAL|PANIC|CRITICAL|CRIT|EMERG|[Ff]atal error|[Pp]anic:|panic\()"
    r"|(ERROR|ERR|SEVERE|FAILED|Error|error|Err|err|Failed|failed|[Ff]ailure"
    r"|[A-Z]\w*Error|\w*Exception|Traceback|OOMKilled|CrashLoopBackOff)"
    r"|(WARN|WARNING|Warning|warning|[Ww]arn)"
    r")(?![\w-])" + _NOT_A_PROBLEM
)

# Cheap substring pre-check: most lines hold none of these, and `in` is much
# faster than running the keyword regex.
_HINTS = (
    "rr",
    "RR",
    "ail",
    "AIL",
    "arn",
    "ARN",
    "ATAL",
    "atal",
    "anic",
    "ANIC",
    "RIT",
    "xception",
    "aceback",
)
_KEYWORD_LEVEL = (Level.FATAL, Level.ERROR, Level.WARN)


def keyword_level(line: str, default: Level = Level.UNKNOWN) -> Level:
    """The level suggested by level words in free text, or `default` when there are none."""
    for hint in _HINTS:
        if hint in line:
            break
    else:
        if "EMERG" not in line and "OOMKilled" not in line and "BackOff" not in line:
            return default
    match = _KEYWORD_RE.search(line)
    if match is None:
        return default
    return _KEYWORD_LEVEL[match.lastindex - 1 if match.lastindex else 1]
