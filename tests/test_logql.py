"""The LogQL builder: escaping, strict parsing, Kubernetes names, RE2 checks, injection."""

from __future__ import annotations

import pytest

from loglens.errors import InputError
from loglens.sources.logql import (
    DEFAULT_SELECTOR,
    LabelMatcher,
    MatchOp,
    build_query,
    build_selector,
    check_regex,
    parse_matcher,
    parse_selector,
    quote_logql_string,
)

TRICKY_VALUES = [
    "",
    "plain",
    'say "hi"',
    "back\\slash",
    "ends with backslash\\",
    "new\nline",
    "tab\tand\rcr",
    "bell\a and nul\x00 and del\x7f",
    '"} |= "x',
    '{a="b"} or vector(1)',
    "`backtick`",
    "ünïcødé ✓ 日本",
]


# --------------------------------------------------------------------------------------
# String literals
# --------------------------------------------------------------------------------------


def test_quote_escapes_backslash_quote_and_newline() -> None:
    assert quote_logql_string('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


def test_quote_escapes_control_characters() -> None:
    assert quote_logql_string("\x00\x1b\x7f\t") == '"\\x00\\x1b\\x7f\\t"'


@pytest.mark.parametrize("value", TRICKY_VALUES)
def test_quoted_values_parse_back_to_the_same_value(value: str) -> None:
    matchers = parse_selector("{a=" + quote_logql_string(value) + "}")
    assert matchers == [LabelMatcher("a", MatchOp.EQ, value)]


def test_quote_refuses_unpaired_surrogates() -> None:
    with pytest.raises(InputError, match="not valid text"):
        quote_logql_string("bad \udc80")


def test_parser_reads_go_escapes() -> None:
    matchers = parse_selector(r'{a="\x41\u00e9\101\U0001F600", b=`raw \d+`}')
    assert [m.value for m in matchers] == ["AéA😀", r"raw \d+"]


@pytest.mark.parametrize(
    "selector", [r'{a="\q"}', r'{a="\x4"}', r'{a="\xff"}', '{a="unterminated}', "{a=`open}"]
)
def test_parser_refuses_bad_string_literals(selector: str) -> None:
    with pytest.raises(InputError):
        parse_selector(selector)


# --------------------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------------------


def test_selector_is_parsed_and_re_emitted() -> None:
    assert build_selector(selector=' { app = "web" ,tier!~`db|cache`}  ') == (
        '{app="web", tier!~"db|cache"}'
    )


@pytest.mark.parametrize(
    "selector",
    [
        '{a="b"} or vector(1)',
        '{a="b"} |= "x"',
        '{a="b"}\n|= "x"',
        '{a="b"}}',
        '{a="b" c="d"}',
        '{a="b",}',
        '{a="b"',
        'a="b"',
        "{a=b}",
        '{a=="b"}',
        '{a~"b"}',
        '{9a="b"}',
        '{a-b="c"}',
        '{a="line\nbreak"}',
        'sum(rate({a="b"}[5m]))',
    ],
)
def test_selector_parser_is_strict(selector: str) -> None:
    with pytest.raises(InputError):
        build_selector(selector=selector)


def test_empty_selector_is_refused() -> None:
    with pytest.raises(InputError, match="no matchers"):
        build_selector(selector="{}")


def test_no_input_gives_the_default_selector() -> None:
    assert build_selector() == DEFAULT_SELECTOR == '{namespace=~".+"}'
    assert parse_selector(DEFAULT_SELECTOR)[0].rejects_empty


@pytest.mark.parametrize(
    "matchers", [['app=""'], ["app=~.*"], ["app!=web"], ["app!~web", 'b=~"(x)?"']]
)
def test_selectors_that_match_empty_values_only_are_refused(matchers: list[str]) -> None:
    with pytest.raises(InputError, match="empty label values only"):
        build_selector(matchers=matchers)


def test_a_negative_matcher_with_a_positive_one_is_accepted() -> None:
    assert build_selector(matchers=["app!=web", "app=~.+"]) == '{app!="web", app=~".+"}'


def test_kubernetes_flags_and_matchers_are_combined() -> None:
    selector = build_selector(
        namespace="llm",
        pod="api-7d9f8b6c5-x2x4k",
        container="api",
        node="ip-10-0-1-12.ec2.internal",
        matchers=["app=~web.*", 'tier!="db"'],
        selector='{cluster="home"}',
    )
    assert selector == (
        '{cluster="home", namespace="llm", pod="api-7d9f8b6c5-x2x4k", container="api", '
        'node="ip-10-0-1-12.ec2.internal", app=~"web.*", tier!="db"}'
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("app=web", LabelMatcher("app", MatchOp.EQ, "web")),
        ("app != web", LabelMatcher("app", MatchOp.NE, "web")),
        ("app=~web-\\d+", LabelMatcher("app", MatchOp.RE, "web-\\d+")),
        ('app!~"a\\\\b"', LabelMatcher("app", MatchOp.NRE, "a\\b")),
        ("app=a=b", LabelMatcher("app", MatchOp.EQ, "a=b")),
        ('msg=x"} or vector(1)', LabelMatcher("msg", MatchOp.EQ, 'x"} or vector(1)')),
    ],
)
def test_matchers_are_parsed(text: str, expected: LabelMatcher) -> None:
    assert parse_matcher(text) == expected


@pytest.mark.parametrize(
    "text", ["app", "=web", "9app=web", "app:web", 'app="web" extra', 'msg="} or vector(1)']
)
def test_bad_matchers_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_matcher(text)


def test_injection_through_a_bare_matcher_value_stays_inside_the_string() -> None:
    evil = 'x"} |= "y" or vector(1) {a="'
    selector = build_selector(matchers=["app=" + evil])
    assert parse_selector(selector) == [LabelMatcher("app", MatchOp.EQ, evil)]
    query = build_query(selector)
    assert query == selector
    assert query.count("|=") == 1 and query.endswith('"}')


# --------------------------------------------------------------------------------------
# Kubernetes names
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "namespace",
    [
        "",
        "Default",
        "-llm",
        "llm-",
        "l_lm",
        "a.b",
        "a" * 64,
        'llm"}',
        '"} |= "x',
        "llm\n",
        "llm\\",
        "llm ",
    ],
)
def test_invalid_namespaces_are_refused(namespace: str) -> None:
    with pytest.raises(InputError, match="--namespace"):
        build_selector(namespace=namespace)


def test_longest_valid_namespace_is_accepted() -> None:
    assert build_selector(namespace="a" * 63) == '{namespace="' + "a" * 63 + '"}'


@pytest.mark.parametrize(
    ("flag", "value"),
    [("pod", "api_0"), ("pod", "API-0"), ("pod", "a..b"), ("pod", "a" * 254), ("node", "node 1")],
)
def test_invalid_pod_and_node_names_are_refused(flag: str, value: str) -> None:
    with pytest.raises(InputError, match=f"--{flag}"):
        build_selector(**{flag: value})


def test_container_is_a_dns_label() -> None:
    with pytest.raises(InputError, match="--container"):
        build_selector(container="side.car")
    assert build_selector(container="sidecar") == '{container="sidecar"}'


# --------------------------------------------------------------------------------------
# Regexes
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"(a)\1", "backreference"),
        (r"(?P<x>a)(?P=x)", "named backreference"),
        (r"foo(?=bar)", "lookahead"),
        (r"foo(?!bar)", "negative lookahead"),
        (r"(?<=foo)bar", "lookbehind"),
        (r"(?<!foo)bar", "negative lookbehind"),
        (r"(?>a+)b", "atomic group"),
        (r"a++", "possessive"),
        (r"a{2}+", "possessive"),
        (r"(a)?(?(1)b|c)", "conditional"),
        (r"end\Z", r"\Z"),
    ],
)
def test_regexes_re2_cannot_run_are_refused(pattern: str, problem: str) -> None:
    with pytest.raises(InputError, match="RE2") as caught:
        check_regex(pattern)
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    "pattern",
    [
        r"\\1",
        r"[\1]",
        r"[]1]+",
        r"a}+",
        r"a+?b*?",
        r"(?i)error|fatal",
        r"(?P<code>\d{3})",
        r"[[:alpha:]]+",
        r"x{2,5}y",
        r"\+\+",
    ],
)
def test_re2_compatible_regexes_are_accepted(pattern: str) -> None:
    assert check_regex(pattern) == pattern


def test_regex_that_does_not_compile_is_refused() -> None:
    with pytest.raises(InputError, match="does not compile"):
        check_regex("(unclosed")


def test_matcher_regex_is_checked() -> None:
    with pytest.raises(InputError, match="backreference"):
        build_selector(selector=r'{app=~"(a)\\1"}')


# --------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------


def test_query_appends_escaped_line_filters_in_order() -> None:
    query = build_query(
        '{namespace="llm"}',
        line_filters=['"} |= "x', "back\\slash"],
        regex_filters=[r"timeout \d+s"],
        exclude_filters=["healthz"],
        exclude_regex_filters=["GET /(metrics|ready)"],
    )
    assert query == (
        '{namespace="llm"} |= "\\"} |= \\"x" |= "back\\\\slash" |~ "timeout \\\\d+s"'
        ' != "healthz" !~ "GET /(metrics|ready)"'
    )


def test_query_filter_with_newline_stays_one_line() -> None:
    query = build_query('{a="b"}', line_filters=["x\n|= y"])
    assert "\n" not in query
    assert query == '{a="b"} |= "x\\n|= y"'


def test_query_reparses_the_selector() -> None:
    assert build_query('{ a = "b" }') == '{a="b"}'
    with pytest.raises(InputError):
        build_query('{a="b"} or vector(1)')
    with pytest.raises(InputError, match="rejects empty"):
        build_query('{a=""}')


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"line_filters": [""]}, "empty line filter"),
        ({"regex_filters": ["(?=x)"]}, "lookahead"),
        ({"regex_filters": ["[unclosed"]}, "does not compile"),
        ({"exclude_regex_filters": [r"(a)\1"]}, "backreference"),
    ],
)
def test_bad_line_filters_are_refused(kwargs: dict[str, list[str]], match: str) -> None:
    with pytest.raises(InputError, match=match):
        build_query('{a="b"}', **kwargs)
