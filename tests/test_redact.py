"""Tests for loglens.parsing.redact over the corpora in tests/testdata/redaction/."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from loglens.errors import ConfigError
from loglens.parsing.redact import Redactor, default_redactor

CORPUS_DIR = Path(__file__).parent / "testdata" / "redaction"
MIN_RECALL = 0.99
PLACEHOLDER = re.compile(r"<redacted(?::\w+)?>")


@dataclass(frozen=True)
class Positive:
    kind: str
    secrets: tuple[str, ...]
    line: str


def _corpus_lines(name: str) -> list[str]:
    text = (CORPUS_DIR / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _load_positives() -> list[Positive]:
    cases = []
    for row in _corpus_lines("positives.txt"):
        kind, *secrets, line = row.split("\t")
        assert secrets, f"positive case without a secret: {row!r}"
        cases.append(Positive(kind, tuple(secrets), line))
    return cases


POSITIVES = _load_positives()
NEGATIVES = _corpus_lines("negatives.txt")


BLANK = "\x00"


def _pairs(text: str) -> Counter[str]:
    """Adjacent character pairs of `text`, leaving out those that touch a blank."""
    pairs = (text[i : i + 2] for i in range(len(text) - 1))
    return Counter(pair for pair in pairs if BLANK not in pair)


def _caught(case: Positive, redactor: Redactor) -> bool:
    """True when no piece of any secret of two characters or more survives.

    With placeholders blanked, the output may only hold character pairs that the
    line holds with its secrets blanked; an extra pair is a leaked fragment (such
    as the "&3" of "Tr0ub4dor&3" cut short at the "&"). Redacting more than the
    secret (a whole JWT for its signature) is allowed.
    """
    visible = PLACEHOLDER.sub(BLANK, redactor.redact(case.line))
    without_secrets = case.line
    for secret in case.secrets:
        without_secrets = without_secrets.replace(secret, BLANK)
    return not (_pairs(visible) - _pairs(without_secrets))


def test_corpora_are_large_enough() -> None:
    assert len(POSITIVES) >= 60
    assert len(NEGATIVES) >= 60


def test_positive_secrets_occur_in_their_lines() -> None:
    broken = [case for case in POSITIVES if not all(s in case.line for s in case.secrets)]
    assert not broken


def test_recall_over_positive_corpus() -> None:
    redactor = default_redactor()
    missed = [case for case in POSITIVES if not _caught(case, redactor)]
    recall = 1 - len(missed) / len(POSITIVES)
    per_kind = Counter(case.kind for case in missed)
    details = "\n".join(f"  [{c.kind}] {redactor.redact(c.line)}" for c in missed)
    assert recall >= MIN_RECALL, f"recall {recall:.3f}; missed per kind {dict(per_kind)}\n{details}"


def test_positives_get_the_expected_typed_placeholder() -> None:
    redactor = default_redactor()
    wrong = [
        f"  expected <redacted:{case.kind}>: {redactor.redact(case.line)}"
        for case in POSITIVES
        if f"<redacted:{case.kind}>" not in redactor.redact(case.line)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_false_positives_on_negative_corpus() -> None:
    redactor = default_redactor()
    changed = [(line, redactor.redact(line)) for line in NEGATIVES if redactor.redact(line) != line]
    per_kind = Counter(kind for _, out in changed for kind in PLACEHOLDER.findall(out))
    details = "\n".join(f"  {out}" for _, out in changed)
    assert not changed, (
        f"{len(changed)} negatives changed, per placeholder {dict(per_kind)}\n{details}"
    )


@pytest.mark.parametrize("line", NEGATIVES)
def test_clean_text_comes_back_as_the_same_object(line: str) -> None:
    assert default_redactor().redact(line) is line
    assert not default_redactor().has_secret(line)


@pytest.mark.parametrize("case", POSITIVES, ids=lambda case: case.kind)
def test_redaction_is_idempotent(case: Positive) -> None:
    redactor = default_redactor()
    once = redactor.redact(case.line)
    assert redactor.redact(once) == once
    assert redactor.has_secret(case.line)
    assert not redactor.has_secret(once)


def test_password_pair_keeps_key_and_surrounding_text() -> None:
    redacted = default_redactor().redact("user=bob password=hunter2 ip=10.0.0.4")
    assert redacted == "user=bob password=<redacted:password> ip=10.0.0.4"


def test_url_keeps_user_and_host_and_redacts_only_the_password() -> None:
    redacted = default_redactor().redact("dsn=postgres://app:s3cret@db:5432/orders")
    assert redacted == "dsn=postgres://app:<redacted:password>@db:5432/orders"


def test_json_value_keeps_quotes() -> None:
    redacted = default_redactor().redact('{"password": "x9y8z7", "user": "bob"}')
    assert redacted == '{"password": "<redacted:password>", "user": "bob"}'


def test_multiline_pem_block_is_redacted_whole() -> None:
    text = (
        "loading key\n-----BEGIN EC PRIVATE KEY-----\n"
        "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oqvT\n"
        "oAoGCCqGSM49AwEHoUQDQgAE\n-----END EC PRIVATE KEY-----\ndone"
    )
    assert default_redactor().redact(text) == "loading key\n<redacted:private_key>\ndone"


def test_unterminated_pem_block_is_redacted_to_the_end() -> None:
    text = "key=-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
    assert default_redactor().redact(text) == "key=<redacted:private_key>"


def test_weak_colon_form_redacts_only_credential_like_values() -> None:
    redactor = default_redactor()
    assert redactor.redact("token: expired") == "token: expired"
    assert redactor.redact("token: 9f8e7d6c5b") == "token: <redacted:token>"


def test_redact_many_keeps_order_and_clean_objects() -> None:
    clean = "GET /healthz 200"
    out = default_redactor().redact_many([clean, "pwd=abc123", clean])
    assert out == [clean, "pwd=<redacted:password>", clean]
    assert out[0] is clean


def test_extra_patterns_are_redacted() -> None:
    redactor = Redactor(extra_patterns=[r"ACME-\d{6}", r"cust_[a-z0-9]{8}"])
    text = "order ACME-123456 for cust_ab12cd34 shipped"
    assert redactor.redact(text) == "order <redacted> for <redacted> shipped"
    assert default_redactor().redact(text) is text


def test_invalid_extra_pattern_raises_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"\(unclosed"):
        Redactor(extra_patterns=["fine", "(unclosed"])


def test_extra_patterns_keep_their_own_flags() -> None:
    redactor = Redactor(extra_patterns=[r"(?i)internal-host-\d+", r"(?i)ticket#\d+"])
    assert redactor.redact("INTERNAL-HOST-7 ticket#42") == "<redacted> <redacted>"


def test_extra_pattern_matching_empty_string_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="empty string"):
        Redactor(extra_patterns=["a*"])


def test_trigger_inside_another_trigger_still_runs_its_rule() -> None:
    text = "-----BEGIN PRIVATE KEY-----x-----END PRIVATE KEY----- api_key=k3y9zz"
    assert default_redactor().redact(text) == "<redacted:private_key> api_key=<redacted:api_key>"


def test_default_redactor_is_cached() -> None:
    assert default_redactor() is default_redactor()
