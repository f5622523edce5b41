"""Build LogQL log queries from user input without ever pasting user text into a query.

Every piece of a query is parsed or validated, then re-emitted by this module:

- label names follow Prometheus' rule `[a-zA-Z_][a-zA-Z0-9_]*`;
- values are re-quoted as LogQL (Go) string literals, so quotes, backslashes and
  newlines in a value stay inside the string (LogQL injection is impossible);
- Kubernetes names are checked as Kubernetes checks them: a namespace or a container
  is a DNS-1123 label, a pod or a node a DNS-1123 subdomain;
- regexes must compile with Python's `re` and must not use what RE2 (Loki's engine)
  lacks: backreferences, lookaround, atomic groups, possessive quantifiers;
- a user's `--selector '{app="x"}'` is parsed by a small strict parser into matchers.

The Kubernetes flags map to the labels `namespace`, `pod`, `container` and `node`
(the labels of the shared input format). Loki refuses a selector without at least
one matcher that cannot match the empty string; when the user gives no stream
selection at all, `DEFAULT_SELECTOR` (`{namespace=~".+"}`: every stream with a
namespace label) is used.

Note that Loki anchors label-matcher regexes (`app=~"web"` matches only `web`) but
not line-filter regexes (`|~ "err"` matches any line containing `err`).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from loglens.errors import InputError

LABEL_NAMESPACE = "namespace"
LABEL_POD = "pod"
LABEL_CONTAINER = "container"
LABEL_NODE = "node"

DEFAULT_SELECTOR = '{namespace=~".+"}'

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1123_LABEL_MAX = 63
_DNS1123_SUBDOMAIN_MAX = 253

# Control characters get a \xNN escape; the common ones a short escape.
_ESCAPES = {i: f"\\x{i:02x}" for i in (*range(0x20), 0x7F)}
_ESCAPES.update({ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r"})
_ESCAPES[ord("\t")] = "\\t"

_SIMPLE_UNESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
}
_HEX_ESCAPE_LENGTH = {"x": 2, "u": 4, "U": 8}


class MatchOp(StrEnum):
    """A label matcher operator."""

    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


# Longest operators first so that `=~` is not read as `=` followed by `~...`.
_OPS_BY_LENGTH = (MatchOp.NE, MatchOp.NRE, MatchOp.RE, MatchOp.EQ)


@dataclass(frozen=True, slots=True)
class LabelMatcher:
    """One validated `name op "value"` matcher of a stream selector."""

    name: str
    op: MatchOp
    value: str

    def __post_init__(self) -> None:
        check_label_name(self.name)
        if self.op in (MatchOp.RE, MatchOp.NRE):
            check_regex(self.value, what=f"regex of matcher {self.name}{self.op}")
        quote_logql_string(self.value)  # refuses values that cannot be sent as UTF-8

    def render(self) -> str:
        return f"{self.name}{self.op}{quote_logql_string(self.value)}"

    @property
    def rejects_empty(self) -> bool:
        """True when the matcher cannot match an empty value (what Loki requires of one)."""
        if self.op is MatchOp.EQ:
            return self.value != ""
        if self.op is MatchOp.RE:
            return re.fullmatch(self.value, "") is None
        return False


# --------------------------------------------------------------------------------------
# Strings
# --------------------------------------------------------------------------------------


def quote_logql_string(value: str) -> str:
    """`value` as a double-quoted LogQL string literal (Go syntax), safe to embed in a query."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"{value!r} is not valid text", hint="remove unpaired surrogate characters"
        ) from exc
    return '"' + value.translate(_ESCAPES) + '"'


def _unquote_at(text: str, pos: int) -> tuple[str, int]:
    """Read the string literal starting at `text[pos]`; return its value and the end position."""
    quote = text[pos]
    if quote == "`":
        end = text.find("`", pos + 1)
        if end == -1:
            raise InputError(f"unterminated string at position {pos} in {text!r}")
        return text[pos + 1 : end], end + 1
    if quote != '"':
        raise InputError(
            f"expected a quoted string at position {pos} in {text!r}",
            hint='quote values with double quotes, e.g. app="web"',
        )
    out = bytearray()
    i = pos + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return _decode_literal(out, text), i + 1
        if ch == "\n":
            raise InputError(f"newline inside a string in {text!r}", hint="write it as \\n")
        if ch != "\\":
            out += ch.encode("utf-8", "surrogatepass")
            i += 1
            continue
        i = _read_escape(text, i, out)
    raise InputError(f"unterminated string at position {pos} in {text!r}")


def _read_escape(text: str, i: int, out: bytearray) -> int:
    """Decode the Go escape at `text[i]` (a backslash) into `out`; return the next index."""
    kind = text[i + 1 : i + 2]
    if kind in _SIMPLE_UNESCAPES:
        out += _SIMPLE_UNESCAPES[kind].encode()
        return i + 2
    if kind in _HEX_ESCAPE_LENGTH:
        digits = text[i + 2 : i + 2 + _HEX_ESCAPE_LENGTH[kind]]
        if len(digits) == _HEX_ESCAPE_LENGTH[kind] and all(
            c in "0123456789abcdefABCDEF" for c in digits
        ):
            code = int(digits, 16)
            if kind == "x":
                out.append(code)
            elif code <= 0x10FFFF:
                out += chr(code).encode("utf-8", "surrogatepass")
            else:
                raise InputError(f"escape \\{kind}{digits} is out of range in {text!r}")
            return i + 2 + len(digits)
    octal = text[i + 1 : i + 4]
    if len(octal) == 3 and all(c in "01234567" for c in octal) and int(octal, 8) < 256:
        out.append(int(octal, 8))
        return i + 4
    raise InputError(
        f"invalid escape \\{kind} in {text!r}",
        hint="inside a LogQL string write a backslash as \\\\ (regexes: \\\\d, \\\\.)",
    )


def _decode_literal(raw: bytearray, text: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"string escapes in {text!r} do not form valid UTF-8") from exc


# --------------------------------------------------------------------------------------
# Names and regexes
# --------------------------------------------------------------------------------------


def check_label_name(name: str) -> str:
    """Return `name` when it is a valid Prometheus/Loki label name, else raise InputError."""
    if not _LABEL_NAME.fullmatch(name):
        raise InputError(
            f"invalid label name {name!r}",
            hint="label names are letters, digits and underscores, not starting with a digit",
        )
    return name


def _check_k8s_name(value: str, *, flag: str, subdomain: bool) -> str:
    pattern, limit, kind = (
        (_DNS1123_SUBDOMAIN, _DNS1123_SUBDOMAIN_MAX, "DNS-1123 subdomain")
        if subdomain
        else (_DNS1123_LABEL, _DNS1123_LABEL_MAX, "DNS-1123 label")
    )
    if len(value) > limit or not pattern.fullmatch(value):
        raise InputError(
            f"{flag} {value!r} is not a valid Kubernetes name",
            hint=f"a {kind}: at most {limit} lowercase letters, digits and '-'"
            + (" or '.'" if subdomain else "")
            + ", starting and ending with a letter or digit; "
            "use --matcher 'name=~\"regex\"' to match several",
        )
    return value


def check_regex(pattern: str, *, what: str = "regex") -> str:
    """Return `pattern` when it compiles and looks RE2-compatible, else raise InputError.

    Python's `re` stands in for RE2: a pattern must compile with it, and the
    constructs Python accepts but RE2 rejects are refused explicitly.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. FutureWarning on POSIX classes like [[:alpha:]]
            re.compile(pattern)
    except re.error as exc:
        raise InputError(f"{what} {pattern!r} does not compile: {exc}") from exc
    problem = _re2_incompatibility(pattern)
    if problem:
        raise InputError(
            f"{what} {pattern!r} uses {problem}, which Loki's RE2 engine does not support",
            hint="see https://github.com/google/re2/wiki/Syntax",
        )
    return pattern


_RE2_GROUP_PREFIXES = {
    "(?=": "a lookahead",
    "(?!": "a negative lookahead",
    "(?<=": "a lookbehind",
    "(?<!": "a negative lookbehind",
    "(?>": "an atomic group",
    "(?P=": "a named backreference",
    "(?(": "a conditional group",
    "(?#": "a comment group",
}
_COUNTED_REPEAT = re.compile(r"\{\d+(?:,\d*)?\}")


def _re2_incompatibility(pattern: str) -> str | None:
    """Name the first construct in `pattern` that RE2 lacks, or None."""
    after_quantifier = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt and nxt in "123456789":
                return "a backreference"
            if nxt == "Z":
                return "\\Z (use \\z)"
            i, after_quantifier = i + 2, False
            continue
        if ch == "[":
            i, after_quantifier = _class_end(pattern, i), False
            continue
        if ch == "+" and after_quantifier:
            return "a possessive quantifier"
        for prefix, name in _RE2_GROUP_PREFIXES.items():
            if pattern.startswith(prefix, i):
                return name
        repeat = _COUNTED_REPEAT.match(pattern, i) if ch == "{" else None
        if repeat:
            i, after_quantifier = repeat.end(), True
            continue
        # A '?' right after a quantifier makes it lazy; it is not a quantifier itself.
        after_quantifier = ch in "*+?" and not (ch == "?" and after_quantifier)
        i += 1
    return None


def _class_end(pattern: str, start: int) -> int:
    """Index just past the character class that opens at `pattern[start]`."""
    i = start + 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":  # a ']' first in a class is a member, not its end
        i += 1
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "]":
            return i + 1
        i += 1
    return len(pattern)


# --------------------------------------------------------------------------------------
# Matchers and selectors
# --------------------------------------------------------------------------------------


def _read_op(text: str, pos: int) -> tuple[MatchOp, int]:
    for op in _OPS_BY_LENGTH:
        if text.startswith(op.value, pos):
            return op, pos + len(op.value)
    raise InputError(
        f"expected one of = != =~ !~ at position {pos} in {text!r}",
        hint='write matchers as name="value", name!="value", name=~"regex" or name!~"regex"',
    )


def _read_label_name(text: str, pos: int) -> tuple[str, int]:
    match = _LABEL_NAME.match(text, pos)
    if not match:
        raise InputError(
            f"expected a label name at position {pos} in {text!r}",
            hint="label names are letters, digits and underscores",
        )
    return match.group(), match.end()


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def parse_matcher(text: str) -> LabelMatcher:
    """Parse a `--matcher`: `name=value`, `name!=value`, `name=~regex` or `name!~regex`.

    The value may be bare (taken verbatim) or a quoted LogQL string (`"..."` or
    `` `...` ``), which is unquoted. `=~` wins over `=` followed by `~`.
    """
    stripped = text.strip()
    name, pos = _read_label_name(stripped, 0)
    op, pos = _read_op(stripped, _skip_spaces(stripped, pos))
    rest = stripped[_skip_spaces(stripped, pos) :]
    if rest[:1] in ('"', "`"):
        value, end = _unquote_at(rest, 0)
        if rest[end:].strip():
            raise InputError(f"unexpected text after the quoted value in matcher {text!r}")
    else:
        value = rest
    return LabelMatcher(name, op, value)


def parse_selector(text: str) -> list[LabelMatcher]:
    """Parse a stream selector `{name op "value", ...}` into matchers; anything else is refused."""
    pos = _skip_spaces(text, 0)
    if text[pos : pos + 1] != "{":
        raise InputError(
            f"a selector must start with '{{': {text!r}", hint="e.g. --selector '{app=\"web\"}'"
        )
    pos = _skip_spaces(text, pos + 1)
    matchers: list[LabelMatcher] = []
    while text[pos : pos + 1] != "}":
        if matchers:
            if text[pos : pos + 1] != ",":
                raise InputError(f"expected ',' or '}}' at position {pos} in selector {text!r}")
            pos = _skip_spaces(text, pos + 1)
        name, pos = _read_label_name(text, pos)
        op, pos = _read_op(text, _skip_spaces(text, pos))
        pos = _skip_spaces(text, pos)
        if pos >= len(text):
            raise InputError(f"selector {text!r} ends inside a matcher")
        value, pos = _unquote_at(text, pos)
        matchers.append(LabelMatcher(name, op, value))
        pos = _skip_spaces(text, pos)
        if pos >= len(text):
            raise InputError(f"selector {text!r} is missing its closing '}}'")
    if text[pos + 1 :].strip():
        raise InputError(
            f"unexpected text after the selector: {text[pos + 1 :].strip()!r}",
            hint="--selector takes a stream selector only; filter lines with --grep/--grep-regex",
        )
    return matchers


def render_selector(matchers: Iterable[LabelMatcher]) -> str:
    return "{" + ", ".join(m.render() for m in matchers) + "}"


def build_selector(
    *,
    namespace: str | None = None,
    pod: str | None = None,
    container: str | None = None,
    node: str | None = None,
    matchers: Sequence[str] = (),
    selector: str | None = None,
) -> str:
    """A stream selector from the Kubernetes flags, `--matcher`s and a `--selector`.

    All given parts are combined with AND. With nothing given the result is
    `DEFAULT_SELECTOR`. Raises InputError on invalid input, or when the parts have no
    matcher that cannot match an empty value (Loki would refuse the query).
    """
    combined: list[LabelMatcher] = parse_selector(selector) if selector else []
    if selector and not combined:
        raise InputError(
            f"selector {selector!r} has no matchers", hint="e.g. --selector '{app=\"web\"}'"
        )
    k8s = (
        (LABEL_NAMESPACE, namespace, "--namespace", False),
        (LABEL_POD, pod, "--pod", True),
        (LABEL_CONTAINER, container, "--container", False),
        (LABEL_NODE, node, "--node", True),
    )
    for label, value, flag, subdomain in k8s:
        if value is not None:
            _check_k8s_name(value, flag=flag, subdomain=subdomain)
            combined.append(LabelMatcher(label, MatchOp.EQ, value))
    combined.extend(parse_matcher(text) for text in matchers)
    if not combined:
        return DEFAULT_SELECTOR
    if not any(m.rejects_empty for m in combined):
        raise InputError(
            f"selector {render_selector(combined)} matches empty label values only",
            hint='Loki needs one matcher that cannot match "", e.g. namespace=~".+" or app="web"',
        )
    return render_selector(combined)


def build_query(
    selector: str,
    line_filters: Sequence[str] = (),
    regex_filters: Sequence[str] = (),
    exclude_filters: Sequence[str] = (),
    exclude_regex_filters: Sequence[str] = (),
) -> str:
    """A log query: the (re-parsed) selector followed by line filters, all ANDed.

    `line_filters` keep lines containing the text (`|=`), `regex_filters` lines
    matching the RE2 regex anywhere (`|~`); `exclude_filters` drop lines containing
    the text (`!=`), `exclude_regex_filters` lines matching the regex (`!~`).
    """
    matchers = parse_selector(selector)
    if not any(m.rejects_empty for m in matchers):
        raise InputError(f"selector {selector!r} has no matcher that rejects empty values")
    parts = [render_selector(matchers)]
    for op, texts, is_regex in (
        ("|=", line_filters, False),
        ("|~", regex_filters, True),
        ("!=", exclude_filters, False),
        ("!~", exclude_regex_filters, True),
    ):
        for text in texts:
            parts.append(f"{op} {quote_logql_string(_check_filter(text, op, is_regex))}")
    return " ".join(parts)


def _check_filter(text: str, op: str, is_regex: bool) -> str:
    if text == "":
        raise InputError(f'empty line filter {op} ""', hint="give the text to filter on")
    return check_regex(text, what=f"line filter {op}") if is_regex else text
