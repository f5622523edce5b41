"""Choose the log source for a command: files (or stdin) when paths are given, else Loki.

The CLI and the HTTP API both describe what to read as a `SourceRequest` and call
`open_source`, so the rule "files if given, otherwise the configured Loki" lives
in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loglens.config import Settings
from loglens.errors import InputError
from loglens.sources.base import LogSource
from loglens.sources.files import FILE_FORMATS, FileSource
from loglens.sources.window import TimeWindow, resolve_window


@dataclass(slots=True)
class SourceRequest:
    """What to read, as given on the command line or in an API request."""

    paths: list[str] = field(default_factory=list)
    fmt: str = "auto"
    skip_bad: bool = False
    since: str | None = None
    from_: str | None = None
    to: str | None = None
    namespace: str | None = None
    pod: str | None = None
    container: str | None = None
    node: str | None = None
    selector: str | None = None
    matchers: list[str] = field(default_factory=list)
    line_filters: list[str] = field(default_factory=list)
    regex_filters: list[str] = field(default_factory=list)

    @property
    def has_loki_filters(self) -> bool:
        return any(
            (self.namespace, self.pod, self.container, self.node, self.selector, self.matchers)
        )


@dataclass(slots=True)
class OpenedSource:
    source: LogSource
    window: TimeWindow | None


def open_source(request: SourceRequest, settings: Settings) -> OpenedSource:
    """Open files/stdin when paths are given, else Loki; refuse what cannot work, clearly."""
    if request.fmt not in FILE_FORMATS:
        raise InputError(
            f"unknown format {request.fmt!r}", hint=f"use one of: {', '.join(FILE_FORMATS)}"
        )
    window = resolve_window(
        since=request.since,
        from_=request.from_,
        to=request.to,
        max_window=settings.max_window_delta,
    )
    if request.paths:
        files = FileSource(
            request.paths,
            fmt=request.fmt,
            skip_bad=request.skip_bad,
            batch_size=settings.batch_size,
        )
        return OpenedSource(files, window)
    if not settings.loki_url:
        raise InputError(
            "no log files given and no Loki configured",
            hint="pass files (or - for stdin), set LOGLENS_LOKI_URL, or try `loglens demo`",
        )

    if window is None:
        window = resolve_window(
            since="1h", from_=None, to=None, max_window=settings.max_window_delta
        )
    assert window is not None
    return OpenedSource(loki_source_for(request, settings, window), window)


def loki_source_for(request: SourceRequest, settings: Settings, window: TimeWindow) -> LogSource:
    """The Loki source of `request`'s selector, matchers and line filters over `window`."""
    from loglens.sources.loki import loki_source_from_settings

    return loki_source_from_settings(
        settings,
        window=window,
        namespace=request.namespace,
        pod=request.pod,
        container=request.container,
        node=request.node,
        selector=request.selector,
        matchers=request.matchers,
        line_filters=request.line_filters,
        regex_filters=request.regex_filters,
    )
