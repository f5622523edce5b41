"""Redaction of secrets and personal data in log text before it leaves loglens.

Every example line, evidence line and prompt passes through a `Redactor` before it
reaches the LLM, the vector store, a report or our own logs. Each secret is
replaced by a typed placeholder such as ``<redacted:jwt>`` and the text around it
is kept, so ``password=hunter2`` becomes ``password=<redacted:password>`` and
``https://bob:pw@db`` becomes ``https://bob:<redacted:password>@db``.

Rules, applied in this order (placeholder kind in brackets):

- ``pem_private_key`` [private_key]: ``-----BEGIN ... PRIVATE KEY-----`` blocks, on
  one line with ``\\n`` escapes or over several lines; an unterminated block is
  redacted to the end of the text.
- ``jwt`` [jwt]: three base64url segments, the first starting ``eyJ`` (this
  covers Kubernetes service-account tokens).
- ``auth_header`` [bearer / basic]: the credential after ``Authorization:`` with
  a Bearer, Basic or Token scheme, whatever it looks like.
- ``bearer`` [bearer]: ``bearer <token>`` in prose, only when the word after
  "bearer" looks like a credential (see `_looks_like_credential`), so "missing
  Bearer token" is kept.
- ``url_password`` [password]: the password of ``scheme://user:password@host``.
- ``aws_access_key_id`` [aws_key], ``gcp_api_key`` [gcp_api_key],
  ``github_token`` [github_token], ``openai_key`` [openai_key] (``sk-``,
  ``sk-proj-``; mixed case and a digit are required so that pod names such as
  ``sk-worker-7d9f8`` are kept), ``slack_token`` [slack_token],
  ``slack_webhook`` [slack_webhook]: vendor formats recognised by shape.
- ``key_value`` [password / secret / token / api_key / private_key]: the value of
  a secret-bearing key in logfmt, query-string, env, CLI-flag, JSON, escaped JSON,
  Go ``%+v`` and YAML-ish forms. The rule for keys: the *last word* of the key
  must be a secret word (``password``, ``passwd``, ``pwd``, ``passphrase``,
  ``secret``, ``token``, ``api_key``/``apikey``, ``access_token``,
  ``client_secret``, ``secret_key``, ``secret_access_key``, ``private_key``,
  ...), with any prefix (``DB_PASSWORD``, ``--password``, ``clientSecret``).
  Keys that merely start with a secret word name something else and are kept:
  ``password_reset_count=3``, ``token_count=512``, ``max_tokens=256``,
  ``secretName: db-creds``, ``secret-name``, ``secretRef``, ``private_key_id``.
  Values that are not secrets are kept: empty, ``null``/``none``/``true``/
  ``false``, only ``*``, an existing placeholder, ``${VAR}`` references,
  absolute paths (``PWD=/app``, ``secret=/var/run/secrets/...``), Java object
  references (``token: android.os.BinderProxy@2bd79ce``), object renderings
  (``token=Token{78af589 ...}``) and a word ending in ``:`` (the next YAML key).
  With ``=``, ``:`` directly followed by the value, or a quoted value, any other
  value is redacted. With ``key: value`` (colon, space, bare word, typical of
  prose and error messages such as ``invalid token: expired``) the value is
  redacted only when it looks generated: at least 6 characters and a digit or a
  symbol other than ``-_.``, or at least 24 mixed-case characters; so
  ``secret: db-creds`` is kept and ``password: hunter`` is (knowingly) missed.
- ``email`` [email]: ``local@domain.tld`` with a letter-only top-level domain,
  so image references (``nginx@sha256:...``), ``pod@node``, ``user@10.0.0.1``
  and ``pkg@1.2.3`` are kept; so is a URL user without a password
  (``https://user@registry.internal/``), since the address follows a ``/``.
- extra patterns from settings [redacted]: each match becomes ``<redacted>``.

Speed: a line is first lower-cased and checked against one regex of trigger
substrings (``bearer``, ``eyj``, ``@``, ``pass``, ``token``, ``key``, ...); lines
without any trigger are returned unchanged, as the same object (about 1 µs for a
170-character line). Only rules whose own triggers occur in the line run on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from loglens.errors import ConfigError

__all__ = ["PLACEHOLDER_PREFIX", "RULE_NAMES", "Redactor", "default_redactor"]

# Every placeholder starts with this: "<redacted:jwt>", or "<redacted>" for extra patterns.
PLACEHOLDER_PREFIX = "<redacted"

# An RFC 6750 bearer credential: token characters, then optional "=" padding.
_TOKEN = r"[A-Za-z0-9._~+/-]{6,}=*(?![A-Za-z0-9._~+/=-])"
_SYMBOLS_THAT_ARE_NOT_SEPARATORS = frozenset("!#$%&*+/:;<=>?@^|~()[]{}\\,'\"`")
# Java/Android object identity such as "android.os.BinderProxy@2bd79ce".
_OBJECT_REFERENCE = re.compile(r"[A-Za-z_$][\w.$]*@[0-9a-f]{1,8}")
_NOT_SECRET_VALUES = frozenset({"", "null", "none", "nil", "true", "false", "undefined", "-"})


@dataclass(frozen=True, slots=True)
class _Rule:
    """One kind of secret: where it is found and how it is replaced.

    `triggers` are lower-case substrings one of which every match contains; the
    rule is skipped on lines that have none of them. `replace` receives a match
    and returns the replacement text for the whole match.
    """

    name: str
    pattern: re.Pattern[str]
    triggers: tuple[str, ...]
    replace: Callable[[re.Match[str]], str]


def _placeholder(kind: str) -> str:
    return f"<redacted:{kind}>"


def _redact_group(group: str, kind: str) -> Callable[[re.Match[str]], str]:
    """Replacement that swaps only `group` for the placeholder, keeping the rest."""
    placeholder = _placeholder(kind)

    def replace(match: re.Match[str]) -> str:
        return _splice(match, group, placeholder)

    return replace


def _redact_whole(kind: str) -> Callable[[re.Match[str]], str]:
    placeholder = _placeholder(kind)
    return lambda _match: placeholder


def _splice(match: re.Match[str], group: str, replacement: str) -> str:
    start, end = match.span(group)
    whole_start = match.start()
    whole = match.group(0)
    return whole[: start - whole_start] + replacement + whole[end - whole_start :]


def _looks_like_credential(value: str) -> bool:
    """True for opaque strings (random tokens), False for ordinary words.

    Used where the context alone ("bearer", "token: ...") does not prove that the
    next word is a secret: it must contain a digit or a symbol, or be long and
    mixed-case, the way generated credentials are.
    """
    value = value.rstrip("=")
    if len(value) < 6:
        return False
    if any(ch.isdigit() for ch in value):
        return True
    if any(ch in _SYMBOLS_THAT_ARE_NOT_SEPARATORS for ch in value):
        return True
    return len(value) >= 24 and not value.islower() and not value.isupper()


def _is_plain_value(value: str) -> bool:
    """True for values that are certainly not secrets (see the module docstring)."""
    lowered = value.lower()
    return (
        lowered in _NOT_SECRET_VALUES
        or lowered.startswith((PLACEHOLDER_PREFIX, "[redacted", "[filtered", "${", "$("))
        or set(value) == {"*"}
        or (value.startswith("/") and " " not in value)
        or _OBJECT_REFERENCE.fullmatch(value) is not None
    )


# --- vendor and structural rules ------------------------------------------------------

_PEM = re.compile(
    r"-----BEGIN[A-Z ]*PRIVATE KEY-----(?:.*?-----END[A-Z ]*PRIVATE KEY-----|.*)", re.DOTALL
)
_JWT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_AUTH_HEADER = re.compile(
    r"(?=[Aa])(?i:authorization)\\?[\"']?\s*[:=]\s*\[?\\?[\"']?(?P<scheme>(?i:bearer|basic|token))\s+"
    rf"(?P<value>{_TOKEN})"
)
_BEARER = re.compile(rf"(?=[Bb])(?<![A-Za-z0-9])(?i:bearer)\s+(?P<value>{_TOKEN})")
_URL_PASSWORD = re.compile(r"://[^\s:/@\"'<>]*:(?P<value>[^\s@/\"'<>]+)@")
_AWS_ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Z0-9])")
_GCP_API_KEY = re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])")
_GITHUB_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})"
)
_OPENAI_KEY = re.compile(r"(?<![A-Za-z0-9_-])sk-(?:[a-z]+-)?[A-Za-z0-9_-]{20,}")
_SLACK_TOKEN = re.compile(r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}")
_SLACK_WEBHOOK = re.compile(
    r"(?i)hooks\.slack\.com/services/(?P<value>T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+)"
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+/-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?![A-Za-z0-9-])"
)


def _replace_bearer(match: re.Match[str]) -> str:
    if not _looks_like_credential(match.group("value")):
        return match.group(0)
    return _splice(match, "value", _placeholder("bearer"))


def _replace_auth_header(match: re.Match[str]) -> str:
    kind = "basic" if match.group("scheme").lower() == "basic" else "bearer"
    return _splice(match, "value", _placeholder(kind))


def _replace_openai_key(match: re.Match[str]) -> str:
    key = match.group(0)
    is_mixed_case = not key.islower() and not key.isupper()
    if is_mixed_case and any(ch.isdigit() for ch in key):
        return _placeholder("openai_key")
    return key


# --- key = value pairs ----------------------------------------------------------------

_TOKEN_KEY_PREFIXES = ("access", "refresh", "id", "auth", "session", "bearer", "api", "csrf")
# Last word of a secret-bearing key, in the placeholder kind it maps to.
_SECRET_KEY_WORDS: dict[str, str] = {
    r"pass(?:word|wd|phrase)": "password",
    r"pwd": "password",
    r"secret(?:[_-]?access)?[_-]?key": "secret",
    r"client[_-]?secret": "secret",
    r"secret": "secret",
    **{rf"{prefix}[_-]?token": "token" for prefix in _TOKEN_KEY_PREFIXES},
    r"token": "token",
    r"api[_-]?key": "api_key",
    r"access[_-]?key": "api_key",
    r"private[_-]?key": "private_key",
}
_KEY_FIRST_LETTERS = "".join(sorted({w[0] + w[0].upper() for w in _SECRET_KEY_WORDS}))
_KEY_WORD_KINDS = [
    (re.compile(word, re.IGNORECASE), kind) for word, kind in _SECRET_KEY_WORDS.items()
]

# A bare value ends at whitespace, a delimiter or a closing bracket, and does not open
# with a bracket (those are structures or placeholders); a word followed by a bracket
# is an object rendering (Android "token=Token{a64f992 ...}"), not a value at all.
# After "=" a bare value also ends at "&" (query strings); after ":" an "&" is part
# of the value (YAML, Go %+v).
_BARE_AFTER_COLON = r"[^\s,;\"'\\)\]}(\[{<][^\s,;\"'\\)\]}(\[{<]*+(?![(\[{<])"
_BARE_AFTER_EQUALS = r"[^\s&,;\"'\\)\]}(\[{<][^\s&,;\"'\\)\]}(\[{<]*+(?![(\[{<])"
_KEY_VALUE = re.compile(
    # The match starts at the secret word, not at the start of the key: any prefix
    # (DB_, --, client) is allowed. The look-ahead on first letters lets the engine
    # skip most positions; a bare (?i) over the whole pattern is three times slower.
    rf"(?=[{_KEY_FIRST_LETTERS}])(?P<key>(?i:"
    + "|".join(_SECRET_KEY_WORDS)
    + r"))(?P<keyquote>\\?[\"'])?(?P<sep>[ \t]*(?:(?P<colon>:)|=)[ \t]*)(?:"
    r"\\\"(?P<escaped>(?:[^\\\n]|\\(?!\"))*)\\\""
    r"|\"(?P<double>(?:[^\"\\\n]|\\.)*)\""
    r"|'(?P<single>[^'\n]*)'"
    rf"|(?P<bare>(?(colon){_BARE_AFTER_COLON}|{_BARE_AFTER_EQUALS})))"
)


def _key_kind(key_word: str) -> str:
    for word, kind in _KEY_WORD_KINDS:
        if word.fullmatch(key_word):
            return kind
    return "secret"


def _replace_key_value(match: re.Match[str]) -> str:
    group = next(g for g in ("escaped", "double", "single", "bare") if match.group(g) is not None)
    value = match.group(group)
    if _is_plain_value(value) or (group == "bare" and value.endswith(":")):
        return match.group(0)
    is_prose = group == "bare" and _is_prose_separator(match.group("sep"))
    if is_prose and not _looks_like_credential(value):
        return match.group(0)
    return _splice(match, group, _placeholder(_key_kind(match.group("key"))))


def _is_prose_separator(separator: str) -> bool:
    """``key: value`` with a space after the colon, as in YAML and error messages."""
    stripped = separator.strip()
    return stripped == ":" and separator.endswith((" ", "\t"))


_RULES: tuple[_Rule, ...] = (
    _Rule("pem_private_key", _PEM, ("private key",), _redact_whole("private_key")),
    _Rule("jwt", _JWT, ("eyj",), _redact_whole("jwt")),
    _Rule("auth_header", _AUTH_HEADER, ("authorization",), _replace_auth_header),
    _Rule("bearer", _BEARER, ("bearer",), _replace_bearer),
    _Rule("url_password", _URL_PASSWORD, ("@",), _redact_group("value", "password")),
    _Rule(
        "aws_access_key_id", _AWS_ACCESS_KEY_ID, ("akia", "asia", "a3t"), _redact_whole("aws_key")
    ),
    _Rule("gcp_api_key", _GCP_API_KEY, ("aiza",), _redact_whole("gcp_api_key")),
    _Rule(
        "github_token",
        _GITHUB_TOKEN,
        ("ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"),
        _redact_whole("github_token"),
    ),
    _Rule("openai_key", _OPENAI_KEY, ("sk-",), _replace_openai_key),
    _Rule("slack_token", _SLACK_TOKEN, ("xox",), _redact_whole("slack_token")),
    _Rule(
        "slack_webhook", _SLACK_WEBHOOK, ("hooks.slack",), _redact_group("value", "slack_webhook")
    ),
    _Rule("key_value", _KEY_VALUE, ("pass", "pwd", "secret", "token", "key"), _replace_key_value),
    _Rule("email", _EMAIL, ("@",), _redact_whole("email")),
)
RULE_NAMES: tuple[str, ...] = tuple(rule.name for rule in _RULES)


def _trigger_pattern(triggers: Iterable[str]) -> re.Pattern[str]:
    """One regex for all trigger substrings, grouped by first character.

    ``a(?:iza|kia)|b...`` lets the engine pick one branch per position instead of
    trying every trigger, which halves the cost of the check on clean lines.
    """
    by_first: dict[str, set[str]] = {}
    for trigger in triggers:
        by_first.setdefault(trigger[0], set()).add(trigger[1:])
    branches = []
    for first, rests in sorted(by_first.items()):
        tails = sorted((re.escape(rest) for rest in rests), key=len, reverse=True)
        branch = re.escape(first)
        if tails != [""]:
            branch += "(?:" + "|".join(tails) + ")"
        branches.append(branch)
    return re.compile("|".join(branches))


_ALL_TRIGGERS = frozenset(trigger for rule in _RULES for trigger in rule.triggers)
_TRIGGERS = _trigger_pattern(_ALL_TRIGGERS)


class Redactor:
    """Replaces secrets in text with typed placeholders; see the module docstring.

    `extra_patterns` are regular expressions (from `Settings.redact_patterns`) whose
    matches are replaced with ``<redacted>``; an invalid one raises `ConfigError`.
    """

    def __init__(self, extra_patterns: Sequence[str] = ()) -> None:
        self._extra = _compile_extra_patterns(extra_patterns)

    def redact(self, text: str) -> str:
        """Return `text` with every secret replaced; the same object when there is none."""
        redacted = text
        lowered = text.lower()
        if _TRIGGERS.search(lowered):
            found_triggers = {trigger for trigger in _ALL_TRIGGERS if trigger in lowered}
            for rule in _RULES:
                if not found_triggers.isdisjoint(rule.triggers):
                    redacted = rule.pattern.sub(rule.replace, redacted)
        for pattern in self._extra:
            redacted = pattern.sub("<redacted>", redacted)
        return text if redacted == text else redacted

    def redact_many(self, texts: Iterable[str]) -> list[str]:
        """Redact each text; cheap for batches of mostly clean lines."""
        redact = self.redact
        return [redact(text) for text in texts]

    def has_secret(self, text: str) -> bool:
        """True when `redact` would change `text`."""
        return self.redact(text) is not text


def _compile_extra_patterns(patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    # Compiled one by one, not joined: each may carry its own flags such as (?i).
    return tuple(_compile_extra_pattern(pattern) for pattern in patterns)


def _compile_extra_pattern(pattern: str) -> re.Pattern[str]:
    hint = "fix or remove it in LOGLENS_REDACT_PATTERNS or the config file"
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ConfigError(
            f"redact pattern {pattern!r} is not a valid regular expression: {exc}", hint=hint
        ) from exc
    if compiled.fullmatch(""):
        raise ConfigError(
            f"redact pattern {pattern!r} matches the empty string, so it would redact nothing "
            "and insert placeholders everywhere",
            hint=hint,
        )
    return compiled


@cache
def default_redactor() -> Redactor:
    """The shared redactor with the built-in rules and no extra patterns."""
    return Redactor()
