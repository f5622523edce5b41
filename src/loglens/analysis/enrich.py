"""The optional stages after ranking: retrieval, then the LLM.

`analyze` and `compare` call these once the deterministic report is complete.
Each stage only adds to the report (related items, refined findings, a written
summary) and records in `report.retrieval` / `report.llm` what it did or why it
was skipped; neither may fail the report.
"""

from __future__ import annotations

from collections.abc import Callable

from loglens.config import Settings
from loglens.llm.refine import refine_diff, refine_report
from loglens.model import Diff, Report
from loglens.retrieval.related import attach_related

# Receives the LLM summary token by token, so the CLI and the API can show it live.
TokenCallback = Callable[[str], None]


def enrich_report(
    report: Report, *, settings: Settings, on_summary_token: TokenCallback | None = None
) -> None:
    """Attach retrieved context to the top findings, then let the LLM refine them."""
    attach_related(report, settings=settings)
    refine_report(report, settings=settings, on_summary_token=on_summary_token)


def enrich_diff(
    diff: Diff, *, settings: Settings, on_summary_token: TokenCallback | None = None
) -> None:
    """Let the LLM write the "what changed" narrative of a comparison."""
    refine_diff(diff, settings=settings, on_summary_token=on_summary_token)
