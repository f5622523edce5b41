"""`loglens search` and `loglens ask`: find knowledge, past incidents and patterns by meaning."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from loglens.cli import options as opt
from loglens.cli.index import open_context
from loglens.cli.main import command, settings_from_context
from loglens.config import parse_duration
from loglens.errors import InputError
from loglens.model import utc_now_ns
from loglens.retrieval.search import (
    ASK_SOURCES,
    SEARCH_KINDS,
    AskAnswer,
    SearchKind,
    SearchQuery,
    SearchResult,
    SearchResults,
    ask,
    search,
)

Question = Annotated[str, typer.Argument(help="What to look for, in words.", show_default=False)]
Component = Annotated[
    str | None, typer.Option("--component", "-c", help="Only incidents/patterns of this component.")
]
NamespaceFilter = Annotated[
    str | None, typer.Option("--namespace", "-n", help="Only incidents/patterns of this namespace.")
]
SinceFilter = Annotated[
    str | None, typer.Option("--since", help="Only incidents/patterns seen in this past: 7d, 12h.")
]
Kind = Annotated[
    list[str] | None,
    typer.Option("--kind", "-k", help="knowledge, incident or pattern (repeatable; default all)."),
]
Limit = Annotated[int, typer.Option("--limit", min=1, max=100, help="Results to show.")]


def _query(
    text: str,
    *,
    kinds: list[str] | None,
    namespace: str | None,
    component: str | None,
    since: str | None,
    limit: int,
) -> SearchQuery:
    chosen: list[SearchKind] = []
    for kind in kinds or SEARCH_KINDS:
        if kind not in SEARCH_KINDS:
            raise InputError(f"unknown kind {kind!r}", hint=f"use {', '.join(SEARCH_KINDS)}")
        chosen.append(kind)
    if not text.strip():
        raise InputError("the question is empty", hint='ask like: loglens search "why …?"')
    since_ns = None
    if since:
        since_ns = utc_now_ns() - int(parse_duration(since).total_seconds() * 1e9)
    return SearchQuery(
        text=text,
        kinds=chosen,
        namespace=namespace,
        component=component,
        since_ns=since_ns,
        limit=limit,
    )


@command("search")
def search_command(
    question: Question,
    namespace: NamespaceFilter = None,
    component: Component = None,
    since: SinceFilter = None,
    kind: Kind = None,
    limit: Limit = 10,
    json_output: opt.JsonOutput = False,
) -> None:
    """Search knowledge, past incidents and patterns (meaning + words), with evidence."""
    settings = settings_from_context()
    query = _query(
        question, kinds=kind, namespace=namespace, component=component, since=since, limit=limit
    )
    with open_context(settings) as context:
        results = search(context, query)
    if json_output:
        typer.echo(results.model_dump_json(indent=2))
        return
    render_results(results, Console())


@command("ask")
def ask_command(
    question: Question,
    namespace: NamespaceFilter = None,
    component: Component = None,
    since: SinceFilter = None,
    limit: Limit = ASK_SOURCES,
    json_output: opt.JsonOutput = False,
) -> None:
    """Answer a question from retrieved context (needs an LLM; lists the context without)."""
    settings = settings_from_context()
    query = _query(
        question, kinds=None, namespace=namespace, component=component, since=since, limit=limit
    )
    console = Console()
    streamed = not json_output and console.is_terminal

    def on_token(piece: str) -> None:
        console.print(piece, end="", markup=False, highlight=False, soft_wrap=True)

    with open_context(settings) as context:
        answer = ask(
            context,
            question,
            settings=settings,
            query=query,
            on_token=on_token if streamed else None,
        )
    if json_output:
        typer.echo(answer.model_dump_json(indent=2))
        return
    render_answer(answer, console, streamed=streamed)


# --- rendering ---------------------------------------------------------------------------------

KIND_STYLE = {"knowledge": "cyan", "incident": "red", "pattern": "magenta"}


def _where(result: SearchResult) -> str:
    parts = [p for p in (result.category, result.namespace, result.component) if p]
    return " / ".join(parts)


def _body(result: SearchResult, *, text_chars: int = 600) -> Text:
    body = Text(result.title or result.id, style="bold")
    if result.text and result.text != result.title:
        text = result.text if len(result.text) <= text_chars else result.text[:text_chars] + "…"
        body.append(f"\n{text}")
    for line in result.evidence[:3]:
        body.append(f"\n  {line[:200]}", style="dim")
    footer = ", ".join(
        p for p in (result.source, f"seen {result.seen}" if result.seen else "") if p
    )
    if footer:
        body.append(f"\n{footer}", style="italic dim")
    return body


def render_results(results: SearchResults, console: Console) -> None:
    if not results.results:
        console.print(
            "[yellow]Nothing found.[/] Index some logs first (`loglens index`), or widen the filters."
        )
        return
    table = Table(
        title=f"{escape(results.query)} — {len(results.results)} results in "
        f"{results.latency_ms:.0f} ms",
        expand=True,
        show_lines=True,
    )
    table.add_column("#", justify="right", width=3)
    table.add_column("score", justify="right", width=6)
    table.add_column("kind", width=18)
    table.add_column("what", ratio=1)
    for result in results.results:
        kind = Text(result.kind, style=KIND_STYLE.get(result.kind, ""))
        if where := _where(result):
            kind.append(f"\n{where}", style="dim")
        table.add_row(str(result.rank), f"{result.score:.2f}", kind, _body(result))
    console.print(table)


def render_answer(answer: AskAnswer, console: Console, *, streamed: bool) -> None:
    if answer.answer is not None:
        if streamed:
            console.print()
        else:
            console.print(answer.answer, markup=False, highlight=False)
        model = f" · {answer.model}" if answer.model else ""
        console.print(f"[dim]{answer.seconds:.1f} s{escape(model)}[/]")
    elif answer.note:
        console.print(f"[yellow]{escape(answer.note)}[/]")
    if not answer.sources:
        console.print("[yellow]No sources found.[/] Index some logs first (`loglens index`).")
        return
    console.print("[bold]Sources[/]")
    for number, source in enumerate(answer.sources, start=1):
        label = Text(f"[{number}] ", style="bold")
        label.append(source.kind, style=KIND_STYLE.get(source.kind, ""))
        label.append(f" {source.score:.2f}  ")
        label.append_text(_body(source, text_chars=300))
        console.print(label)
