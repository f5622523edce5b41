"""Benchmark: the LLM step's own cost per finding, on the tiny GGUF model (real llama.cpp).

Analyses demo windows of several sizes (rules only), then asks the tiny model about
every finding through the real `local` backend, as `analyze` would, and reports per
finding: the time spent outside the model (building the prompt, tokenising and fitting
it to the budget, validating the answer, grounding and merging it; target ≤ 20 ms) and
the prompt size in tokens (target ≤ 3,000 whatever the window size). Model time is
shown too, but says nothing about a real model: the weights are random.

    .venv/bin/python bench/llm.py [--sizes 10000,100000,1000000] [--context 8192]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from loglens.analysis.analyze import analyze
from loglens.config import Settings
from loglens.llm.extract import Grounding, ReportContext, extract_finding, merge_answer
from loglens.llm.local_backend import LocalBackend
from loglens.llm.prompting import TokenBudget
from loglens.model import Report
from loglens.parsing.redact import Redactor
from loglens.sources.demo import DemoSource

OUT = Path(__file__).resolve().parent / "out"
ROOT = Path(__file__).resolve().parent.parent
TARGET_OUTSIDE_MS = 20.0
TARGET_PROMPT_TOKENS = 3000


def _tiny_model() -> Path:
    spec = importlib.util.spec_from_file_location("tiny_gguf", ROOT / "scripts" / "tiny_gguf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["tiny_gguf"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    OUT.mkdir(exist_ok=True)
    path: Path = module.write_tiny_gguf(OUT / "tiny.gguf")
    return path


def _report(lines: int) -> Report:
    settings = Settings(llm_backend="none", retrieval="off", record_history=False)
    return analyze(DemoSource(lines=lines, seed=42, duration_s=3600), settings=settings)


@dataclass
class Figures:
    lines: int
    patterns: int
    outside_ms: list[float] = field(default_factory=list)
    prompt_tokens: list[int] = field(default_factory=list)
    model_ms: list[float] = field(default_factory=list)
    valid: int = 0


async def _measure(backend: LocalBackend, report: Report, budget: TokenBudget) -> Figures:
    figures = Figures(report.stats.lines, report.stats.patterns)
    redactor = Redactor()
    started = time.perf_counter()
    context = ReportContext.build(report.patterns, redactor)
    shared_s = time.perf_counter() - started  # built once per report, shared by its findings
    for finding in report.findings:
        outcome = await extract_finding(backend, finding, context, budget=budget, timeout_s=120)
        started = time.perf_counter()
        if outcome.answer is not None:
            figures.valid += 1
            merge_answer(finding, outcome.answer, Grounding.of(finding, redactor))
        merge_s = time.perf_counter() - started
        outside_s = outcome.outside_model_s + merge_s + shared_s / len(report.findings)
        figures.outside_ms.append(outside_s * 1000)
        figures.prompt_tokens.append(outcome.prompt_tokens)
        figures.model_ms.append(sum(g.seconds for g in outcome.generations) * 1000)
    return figures


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _print(figures: Figures) -> None:
    outside, tokens = figures.outside_ms, figures.prompt_tokens
    print(
        f"  {figures.lines:>10,} {figures.patterns:>8,} {len(outside):>8} "
        f"{statistics.mean(outside):>9.1f} {_p95(outside):>8.1f} {max(outside):>8.1f} "
        f"{statistics.mean(tokens):>9,.0f} {max(tokens):>8,} "
        f"{statistics.mean(figures.model_ms):>9,.0f} {figures.valid:>6}"
    )


async def _run(sizes: list[int], context: int, max_tokens: int) -> list[Figures]:
    model = _tiny_model()
    backend = LocalBackend(model, context_size=context)
    budget = TokenBudget(context, max_tokens)
    results = []
    await backend.tokenize("load the model before anything is timed")
    try:
        for size in sizes:
            started = time.perf_counter()
            report = _report(size)
            print(f"  (analysed {size:,} demo lines in {time.perf_counter() - started:.1f} s)")
            results.append(await _measure(backend, report, budget))
            _print(results[-1])
    finally:
        await backend.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--context", type=int, default=8192)
    parser.add_argument("--max-tokens", type=int, default=512)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"LLM step per finding, tiny GGUF (local backend), context {args.context:,}")
    print(
        f"  {'lines':>10} {'patterns':>8} {'findings':>8} {'out ms':>9} {'p95':>8} {'max':>8} "
        f"{'prompt tk':>9} {'max tk':>8} {'model ms':>9} {'valid':>6}"
    )
    results = asyncio.run(_run(sizes, args.context, args.max_tokens))
    worst_ms = max(max(f.outside_ms) for f in results)
    worst_tokens = max(max(f.prompt_tokens) for f in results)
    p95_ms = max(_p95(f.outside_ms) for f in results)
    ok = p95_ms <= TARGET_OUTSIDE_MS and worst_tokens <= TARGET_PROMPT_TOKENS
    print(
        f"  outside the model: p95 {p95_ms:.1f} ms, max {worst_ms:.1f} ms per finding "
        f"(target ≤ {TARGET_OUTSIDE_MS:.0f} ms); prompt: max {worst_tokens:,} tokens "
        f"(target ≤ {TARGET_PROMPT_TOKENS:,}): {'meets' if ok else 'MISSES'}"
    )


if __name__ == "__main__":
    main()
