"""Options shared by every command that reads logs, defined once (Typer `Annotated` types)."""

from __future__ import annotations

from typing import Annotated

import typer

from loglens.sources.select import SourceRequest

Paths = Annotated[
    list[str] | None,
    typer.Argument(
        help="Log files or globs (JSON Lines, .gz, CRI, kubectl --timestamps, plain); - for stdin. "
        "With none, logs come from Loki (LOGLENS_LOKI_URL).",
        show_default=False,
    ),
]
Format = Annotated[
    str,
    typer.Option("--format", "-f", help="Force the file format: auto, jsonl, cri, kubectl, plain."),
]
SkipBad = Annotated[
    bool, typer.Option("--skip-bad", help="Count and skip malformed records instead of stopping.")
]
Since = Annotated[
    str | None, typer.Option("--since", help="Window ending now (or at --to): 30m, 2h, 1d.")
]
From = Annotated[str | None, typer.Option("--from", help="Window start, RFC 3339.")]
To = Annotated[str | None, typer.Option("--to", help="Window end, RFC 3339 (default: now).")]
Namespace = Annotated[str | None, typer.Option("--namespace", "-n", help="Loki: namespace label.")]
Pod = Annotated[str | None, typer.Option("--pod", help="Loki: pod label.")]
Container = Annotated[str | None, typer.Option("--container", help="Loki: container label.")]
Node = Annotated[str | None, typer.Option("--node", help="Loki: node label.")]
Selector = Annotated[
    str | None, typer.Option("--selector", help="Loki: extra stream selector, e.g. '{app=\"x\"}'.")
]
Grep = Annotated[
    list[str] | None, typer.Option("--grep", help="Loki: keep lines containing this text (|=).")
]
GrepRegex = Annotated[
    list[str] | None,
    typer.Option("--grep-regex", help="Loki: keep lines matching this RE2 regex (|~)."),
]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print JSON (the documented contract).")]


def source_request(
    paths: list[str] | None,
    *,
    fmt: str = "auto",
    skip_bad: bool = False,
    since: str | None = None,
    from_: str | None = None,
    to: str | None = None,
    namespace: str | None = None,
    pod: str | None = None,
    container: str | None = None,
    node: str | None = None,
    selector: str | None = None,
    grep: list[str] | None = None,
    grep_regex: list[str] | None = None,
) -> SourceRequest:
    return SourceRequest(
        paths=list(paths or []),
        fmt=fmt,
        skip_bad=skip_bad,
        since=since,
        from_=from_,
        to=to,
        namespace=namespace,
        pod=pod,
        container=container,
        node=node,
        selector=selector,
        line_filters=list(grep or []),
        regex_filters=list(grep_regex or []),
    )
