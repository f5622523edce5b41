"""Rich rendering of reports for people (the JSON form is the model itself)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from loglens.model import Diff, LlmInfo, RelatedItem, Report, RetrievalInfo, SourceInfo

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "error": "red",
    "warn": "yellow",
    "info": "green",
}
# Related items of one kind shown under a finding (the JSON report has all of them).
RELATED_PER_KIND = 2
LEVEL_STYLE = {"fatal": "bold red", "error": "red", "warn": "yellow", "info": "green"}


def _stats_table(report: Report) -> Table:
    stats = report.stats
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    window = f"{report.window.start or '?'} → {report.window.end or '?'}"
    table.add_row("window", window)
    table.add_row("source", Text(f"{report.source.kind}: {report.source.detail}"))
    table.add_row("lines", f"{stats.lines:,} ({stats.bytes / 1e6:,.1f} MB)")
    if stats.skipped:
        table.add_row("skipped", f"[yellow]{stats.skipped:,} malformed records[/]")
    if stats.outside_window:
        table.add_row("outside window", f"{stats.outside_window:,}")
    if stats.patterns:
        table.add_row("patterns", f"{stats.patterns:,}")
    formats = ", ".join(f"{name} {count:,}" for name, count in _top(stats.formats))
    levels = ", ".join(f"{name} {count:,}" for name, count in _top(stats.levels))
    table.add_row("formats", formats or "-")
    table.add_row("levels", levels or "-")
    timings = ", ".join(f"{name} {ms:,.0f} ms" for name, ms in stats.stage_ms.items())
    table.add_row("time", timings or "-")
    if (retrieval := retrieval_line(report.retrieval)) is not None:
        table.add_row("retrieval", Text(retrieval))
    return table


def retrieval_line(retrieval: RetrievalInfo) -> str | None:
    """What retrieval used ("lancedb:… with st:all-MiniLM-L6-v2, 42 ms") or why it was
    skipped; None when the report says nothing about it (a comparison's findings)."""
    if not retrieval.used:
        return retrieval.reason
    latency = f", {retrieval.latency_ms:,.0f} ms" if retrieval.latency_ms is not None else ""
    return f"{retrieval.store} with {retrieval.embedder}{latency}"


def related_lines(related: Sequence[RelatedItem]) -> list[str]:
    """A finding's related items, `RELATED_PER_KIND` of each kind, one line each:
    "↳ incident 0.81 OOMKilled in api (file:old.log, seen 2026-11-20 10:00:00)"."""
    shown: dict[str, int] = {}
    lines = []
    for item in related:
        shown[item.kind] = shown.get(item.kind, 0) + 1
        if shown[item.kind] > RELATED_PER_KIND:
            continue
        where = ", ".join(
            part for part in (item.source, f"seen {item.seen[:19]}" if item.seen else None) if part
        )
        title = item.title if len(item.title) <= 80 else item.title[:79] + "…"
        lines.append(f"↳ {item.kind} {item.score:.2f} {title}" + (f" ({where})" if where else ""))
    if hidden := len(related) - len(lines):
        lines.append(f"↳ … {hidden} more related (--json shows all)")
    return lines


def _top(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: -item[1])


def _findings_table(report: Report) -> Table:
    table = Table(title="Findings (most urgent first)", expand=True, show_lines=True)
    table.add_column("#", justify="right", width=3)
    table.add_column("severity", width=9)
    table.add_column("category / component", ratio=1)
    table.add_column("what", ratio=3)
    table.add_column("count", justify="right", width=7)
    for finding in report.findings:
        what = Text(finding.title, style="bold")
        what.append(f"\n{finding.root_cause}")
        if finding.action:
            what.append(f"\n→ {finding.action}", style="cyan")
        if finding.evidence:
            what.append(f"\n  {finding.evidence[0].line[:160]}", style="dim")
        if finding.signals:
            what.append(f"\nsignals: {', '.join(finding.signals)}", style="magenta")
        for line in related_lines(finding.related):
            what.append(f"\n{line}", style="blue")
        table.add_row(
            str(finding.rank),
            Text(str(finding.severity), style=SEVERITY_STYLE.get(str(finding.severity), "")),
            Text(f"{finding.category}\n{finding.component}"),
            what,
            f"{finding.count:,}",
        )
    return table


def render_report(report: Report, console: Console, *, max_patterns: int = 15) -> None:
    console.print(Panel(_stats_table(report), title="loglens analyze", expand=False))
    if report.findings:
        console.print(_findings_table(report))
    else:
        console.print("[green]No findings: nothing in this window looks wrong.[/]")
    if report.patterns:
        table = Table(title=f"Top patterns ({len(report.patterns):,} listed)", expand=True)
        table.add_column("count", justify="right", width=8)
        table.add_column("level", width=7)
        table.add_column("template", ratio=1, overflow="fold")
        for pattern in report.patterns[:max_patterns]:
            table.add_row(
                f"{pattern.count:,}",
                Text(pattern.level, style=LEVEL_STYLE.get(pattern.level, "")),
                Text(pattern.template),
            )
        console.print(table)
    if report.summary:
        console.print(Panel(Text(report.summary), title="summary", expand=False))
    _print_llm_line(console, llm_line(report.llm, wrote="the summary"))


def render_diff(diff: Diff, console: Console) -> None:
    """The four headings of a comparison as tables, then findings new in the later window."""
    console.print(
        f"[bold]before[/] {diff.before.window.start} → {diff.before.window.end} "
        f"({diff.before.stats.lines:,} lines)   [bold]after[/] {diff.after.window.start} → "
        f"{diff.after.window.end} ({diff.after.stats.lines:,} lines)"
    )
    for heading, items, style in (
        ("new", diff.new, "red"),
        ("increased", diff.increased, "yellow"),
        ("decreased", diff.decreased, "cyan"),
        ("gone", diff.gone, "green"),
    ):
        if not items:
            continue
        table = Table(title=f"{heading} ({len(items)})", title_style=style, expand=True)
        table.add_column("before", justify="right", width=8)
        table.add_column("after", justify="right", width=8)
        table.add_column("ratio", justify="right", width=7)
        table.add_column("template", ratio=1, overflow="fold")
        for item in items[:20]:
            ratio = f"{item.ratio:.1f}x" if item.ratio is not None else "-"
            table.add_row(
                f"{item.before or 0:,}", f"{item.after or 0:,}", ratio, Text(item.template)
            )
        console.print(table)
    if diff.findings:
        report_like = Report(
            window=diff.after.window,
            source=SourceInfo(kind="inline", detail="after"),
            stats=diff.after.stats,
            findings=diff.findings,
        )
        console.print(_findings_table(report_like))
    if diff.summary:
        console.print(Panel(Text(diff.summary), title="what changed", expand=False))
    _print_llm_line(console, llm_line(diff.llm, wrote="what changed"))


def llm_line(llm: LlmInfo, *, wrote: str) -> str | None:
    """One line on what the LLM step did (None when no LLM was configured).

    "LLM m.gguf (local): explained 2 of 3 findings (1 from the cache), wrote the summary,
    3 calls, 40 tokens/s; fallback: 1 of 3 findings kept the rules answer: timed out".
    """
    if not llm.used:
        return f"LLM not used: {llm.fallback_reason}" if llm.fallback_reason else None
    parts = []
    if llm.findings_asked:
        cached = f" ({llm.cache_hits} from the cache)" if llm.cache_hits else ""
        parts.append(f"explained {llm.findings_explained} of {llm.findings_asked} findings{cached}")
    if llm.summary_written:
        parts.append(f"wrote {wrote}")
    parts.append(f"{llm.calls} call{'' if llm.calls == 1 else 's'}")
    if llm.tokens_per_s:
        parts.append(f"{llm.tokens_per_s:,.0f} tokens/s")
    line = f"LLM {llm.model} ({llm.backend}): " + ", ".join(parts)
    return f"{line}; fallback: {llm.fallback_reason}" if llm.fallback_reason else line


def _print_llm_line(console: Console, line: str | None) -> None:
    if line:
        console.print(Text(line, style="dim"))
