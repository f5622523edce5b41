"""The packaged signature catalog loads, is consistent, and user files extend it."""

from __future__ import annotations

import importlib.resources
import re
from collections import Counter
from pathlib import Path

import pytest

from loglens.detect.catalog import FROM_LABELS, SignatureCatalog, default_catalog, load_catalog
from loglens.errors import ConfigError
from loglens.model import Category, Severity

_SNAKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def catalog() -> SignatureCatalog:
    return load_catalog()


def test_catalog_yaml_ships_in_the_package() -> None:
    assert importlib.resources.files("loglens.detect").joinpath("catalog.yaml").is_file()


def test_catalog_has_at_least_100_signatures_with_unique_ids(catalog: SignatureCatalog) -> None:
    ids = [signature.id for signature in catalog.signatures]
    assert len(ids) >= 100
    assert len(set(ids)) == len(ids)


def test_every_field_uses_the_shared_vocabularies(catalog: SignatureCatalog) -> None:
    for signature in catalog.signatures:
        assert isinstance(signature.category, Category)
        assert isinstance(signature.severity, Severity)
        assert signature.component == FROM_LABELS or _SNAKE.match(signature.component)
        assert signature.root_cause and signature.action
        assert signature.benign == (signature.category is Category.NONE), signature.id


def test_every_causal_hint_names_an_existing_signature(catalog: SignatureCatalog) -> None:
    for signature in catalog.signatures:
        for target in (*signature.causes, *signature.caused_by):
            assert target in catalog, f"{signature.id} -> {target}"


def test_every_regex_is_compiled(catalog: SignatureCatalog) -> None:
    for signature in catalog.signatures:
        assert signature.patterns
        assert all(isinstance(p, re.Pattern) for p in signature.patterns + signature.exclude)


def test_every_signature_has_keywords_and_matches_its_examples(catalog: SignatureCatalog) -> None:
    for signature in catalog.signatures:
        assert signature.keywords, f"{signature.id} has no keywords"
        assert signature.examples, f"{signature.id} has no examples"
        for example in signature.examples:
            found = catalog.match(example.message, example.labels)
            assert found is not None, f"{signature.id} does not match {example.message!r}"
            assert found.id == signature.id, f"{example.message!r} -> {found.id}"


def test_catalog_covers_every_failure_category(catalog: SignatureCatalog) -> None:
    per_category = Counter(signature.category for signature in catalog.signatures)
    assert set(per_category) == set(Category)
    print(sorted((category.value, count) for category, count in per_category.items()))


def test_match_prefers_higher_priority_then_labels(catalog: SignatureCatalog) -> None:
    line = 'level=error msg=flush err="write /var/loki/x: no space left on device"'
    ids = [signature.id for signature in catalog.match_all(line)]
    assert ids[0] == "storage.no_space"
    access = '1.2.3.4 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 502 10 "-" "curl"'
    assert catalog.match(access).id == "http.server_error"  # type: ignore[union-attr]
    gateway = catalog.match(access, {"container": "envoy"})
    assert gateway is not None and gateway.id == "http.gateway_error"


def test_match_returns_none_for_ordinary_lines(catalog: SignatureCatalog) -> None:
    assert catalog.match("GET /health 200 in 3ms") is None
    assert catalog.match_all("") == []


def test_case_rules_are_honoured(catalog: SignatureCatalog) -> None:
    assert catalog.match("KeyError: 'model'") is not None
    key_error = catalog.get("python.key_error")
    assert key_error is not None
    assert key_error.match_length("keyerror: 'model'", None) == -1
    assert catalog.match("CONNECTION REFUSED by upstream") is not None


def test_component_capture_group(catalog: SignatureCatalog) -> None:
    line = "Memory cgroup out of memory: Killed process 4242 (llama-server) total-vm:1kB"
    signature = catalog.match(line)
    assert signature is not None and signature.matched_component(line) == "llama-server"


def test_default_catalog_is_loaded_once() -> None:
    assert default_catalog() is default_catalog()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "signatures.yaml"
    path.write_text(text, encoding="utf-8")
    return path


USER_SIGNATURE = """
signatures:
  - id: {id}
    title: Widget queue stuck
    category: {category}
    severity: critical
    component: widget_worker
    keywords: [widget]
    patterns: ['widget queue (?:is )?stuck']
    root_cause: The widget queue stopped draining.
    action: Restart the widget worker.
    causes: {causes}
"""


def test_user_catalog_adds_signatures(tmp_path: Path) -> None:
    path = _write(
        tmp_path, USER_SIGNATURE.format(id="acme.widget_stuck", category="dependency", causes="[]")
    )
    catalog = load_catalog(path)
    assert len(catalog) == len(load_catalog()) + 1
    found = catalog.match("ERROR widget queue is stuck for 5m")
    assert found is not None and found.id == "acme.widget_stuck"
    assert found.component == "widget_worker"


def test_user_catalog_overrides_packaged_id(tmp_path: Path) -> None:
    path = _write(tmp_path, USER_SIGNATURE.format(id="k8s.oomkilled", category="oom", causes="[]"))
    catalog = load_catalog(path)
    assert len(catalog) == len(load_catalog())
    overridden = catalog.get("k8s.oomkilled")
    assert overridden is not None and overridden.title == "Widget queue stuck"
    found = catalog.match("Container x was OOMKilled")
    assert found is None or found.id != "k8s.oomkilled"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            USER_SIGNATURE.format(id="acme.w", category="exploded", causes="[]"),
            r"'acme\.w'.*'category'",
        ),
        (USER_SIGNATURE.format(id="Bad Id", category="oom", causes="[]"), r"'Bad Id'.*'id'"),
        (
            USER_SIGNATURE.format(id="acme.w", category="oom", causes="[nope.gone]"),
            r"'acme\.w'.*'causes'.*nope\.gone",
        ),
        (
            USER_SIGNATURE.format(id="acme.w", category="oom", causes="[]").replace(
                "stuck']", "stuck(']"
            ),
            r"'acme\.w'.*'patterns\[0\]'",
        ),
        (
            USER_SIGNATURE.format(id="acme.w", category="oom", causes="[]").replace(
                "    title: Widget queue stuck\n", ""
            ),
            r"'acme\.w'.*'title'",
        ),
        ("signatures: [\n  - id: x\n", "not valid YAML"),
        ("just a string", "'signatures' list"),
        (
            USER_SIGNATURE.format(id="acme.w", category="oom", causes="[]")
            + USER_SIGNATURE.format(id="acme.w", category="oom", causes="[]").replace(
                "signatures:\n", ""
            ),
            "appears twice",
        ),
    ],
)
def test_bad_user_catalog_gives_clear_config_error(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected):
        load_catalog(path)


def test_missing_user_catalog_file_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read signature catalog"):
        load_catalog(tmp_path / "absent.yaml")
