"""Benchmark: end-to-end `loglens analyze` on demo-cluster lines (read, parse, mine, detect, rank, report).

Writes N demo lines to a JSONL file once (cached under bench/out/), then runs the real
CLI (`loglens analyze FILE --json`) in a fresh process and reports wall time, CPU
time and peak RSS. A second case streams larger windows straight from the demo
source (no file) through the same `analyze` call, to show memory stays flat as the
window grows.

    .venv/bin/python bench/analyze.py [--lines 1000000] [--flat 1000000,3000000,10000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
TARGET_SECONDS = 10.0
TARGET_PEAK_MB = 1024


def _demo_file(lines: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"demo-{lines}.jsonl"
    if not path.exists():
        from loglens.sources.demo import write_jsonl

        started = time.perf_counter()
        partial = path.with_suffix(".partial")
        write_jsonl(partial, lines=lines, seed=42)
        partial.rename(path)
        print(
            f"wrote {path} ({path.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
    return path


def _run_cli(path: Path) -> dict[str, float]:
    loglens = Path(sys.executable).with_name("loglens")
    env = {**os.environ, "LOGLENS_RECORD_HISTORY": "false"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [str(loglens), "analyze", str(path), "--json"], capture_output=True, env=env, check=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(result.stdout)
    return {
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "peak_mb": after.ru_maxrss / 1024,
        "lines": report["stats"]["lines"],
        "patterns": report["stats"]["patterns"],
        "findings": len(report["findings"]),
        **{f"{k}_ms": v for k, v in report["stats"]["stage_ms"].items()},
    }


_STREAM_CHILD = """
import resource, sys, time
from loglens.analysis.analyze import analyze
from loglens.config import Settings
from loglens.sources.demo import DemoSource
lines = int(sys.argv[1])
started = time.perf_counter()
report = analyze(DemoSource(lines=lines, seed=42, duration_s=3600), settings=Settings())
wall = time.perf_counter() - started
print(report.stats.lines, report.stats.patterns, len(report.findings), wall,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _run_streamed(lines: int) -> tuple[int, int, int, float, float]:
    result = subprocess.run(
        [sys.executable, "-c", _STREAM_CHILD, str(lines)],
        capture_output=True,
        text=True,
        check=True,
    )
    got, patterns, findings, wall, peak = result.stdout.split()
    return int(got), int(patterns), int(findings), float(wall), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument(
        "--flat", default="", help="comma-separated window sizes to stream from the demo source"
    )
    args = parser.parse_args()
    path = _demo_file(args.lines)
    figures = _run_cli(path)
    print(f"\nloglens analyze {path.name} --json  ({figures['lines']:,.0f} lines)")
    print(
        f"  wall {figures['wall_s']:.2f} s   cpu {figures['cpu_s']:.2f} s   peak RSS {figures['peak_mb']:.0f} MB"
    )
    print(
        f"  {figures['lines'] / figures['wall_s']:,.0f} lines/s   patterns {figures['patterns']:,.0f}   findings {figures['findings']:.0f}"
    )
    stages = {k[:-3]: v for k, v in figures.items() if k.endswith("_ms")}
    print("  stages (ms): " + ", ".join(f"{k} {v:,.0f}" for k, v in stages.items()))
    verdict = (
        "meets"
        if figures["wall_s"] <= TARGET_SECONDS and figures["peak_mb"] <= TARGET_PEAK_MB
        else "MISSES"
    )
    print(f"  target ≤ {TARGET_SECONDS:.0f} s and ≤ {TARGET_PEAK_MB} MB: {verdict}")
    if args.flat:
        print("\nstreamed from the demo source (no file): memory vs window size")
        print(f"  {'lines':>12} {'wall s':>8} {'lines/s':>10} {'peak MB':>8} {'patterns':>9}")
        for size in (int(s) for s in args.flat.split(",")):
            got, patterns, _findings, wall, peak = _run_streamed(size)
            print(f"  {got:>12,} {wall:>8.1f} {got / wall:>10,.0f} {peak:>8.0f} {patterns:>9,}")


if __name__ == "__main__":
    main()
