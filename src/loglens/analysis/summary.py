"""The deterministic window summary and "what changed" narrative, built from findings alone.

Used when no LLM is configured (or it failed), and as the reference an LLM summary
must stay grounded in.
"""

from __future__ import annotations

from loglens.model import Diff, Finding, Stats

MAX_LISTED = 3


def _finding_sentence(finding: Finding) -> str:
    when = f" from {finding.first_seen}" if finding.first_seen else ""
    return (
        f"{finding.title} ({finding.severity}, {finding.category.replace('_', ' ')}, "
        f"{finding.component}; {finding.count:,} lines{when}): {finding.root_cause}"
    )


def summarize_findings(findings: list[Finding], stats: Stats) -> str:
    """One paragraph: how much was read, what is wrong, most urgent first."""
    head = f"Read {stats.lines:,} lines in {stats.patterns:,} patterns."
    if not findings:
        return f"{head} Nothing in this window looks wrong."
    first, rest = findings[0], findings[1:]
    parts = [
        f"{head} {len(findings)} finding{'s' if len(findings) != 1 else ''}.",
        f"Most urgent: {_finding_sentence(first)}",
    ]
    effects = [
        f for f in rest if f.first_seen and first.first_seen and f.first_seen >= first.first_seen
    ]
    if rest:
        listed = "; ".join(
            f"{f.title} ({f.severity}, {f.component}, {f.count:,} lines)" for f in rest[:MAX_LISTED]
        )
        more = f" and {len(rest) - MAX_LISTED} more" if len(rest) > MAX_LISTED else ""
        parts.append(f"Also: {listed}{more}.")
        if effects and first.confidence >= 0.8:
            parts.append(f"The later findings are likely consequences of {first.title}.")
    parts.append(f"Next step: {first.action}")
    return " ".join(parts)


def summarize_diff(diff: Diff) -> str:
    """What changed between the windows, in one paragraph."""
    pieces = []
    for heading, items in (
        ("new", diff.new),
        ("gone", diff.gone),
        ("increased", diff.increased),
        ("decreased", diff.decreased),
    ):
        if items:
            examples = "; ".join(item.template[:120] for item in items[:MAX_LISTED])
            pieces.append(
                f"{len(items)} {heading} pattern{'s' if len(items) != 1 else ''} ({examples})"
            )
    if not pieces:
        text = "No pattern changed its rate clearly between the two windows."
    else:
        text = "Between the windows: " + ", ".join(pieces) + "."
    if diff.findings:
        titles = "; ".join(f"{f.title} ({f.severity})" for f in diff.findings[:MAX_LISTED])
        text += f" Findings only in the later window: {titles}."
    return text
