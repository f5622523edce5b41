"""Benchmark: end-to-end `loglens analyze` on demo-cluster lines (read, parse, mine, detect, rank, report).

Writes N demo lines to a JSONL file once (cached under bench/out/), then runs the real
CLI (`loglens analyze FILE --json`, rules only: no retrieval, no LLM) in a fresh
process, `--runs` times, with the default worker processes and with one
(`LOGLENS_ANALYZE_WORKERS=1`), and reports the median wall time, CPU time (all
processes) and peak RSS (summed over the process and its workers, sampled from
/proc). A second case streams larger windows straight from the demo source (no file)
through the same `analyze` call, to show memory stays flat as the window grows.
With `--kubelet`, the same lines are also analysed as a node's kubelet logs (one CRI
file per container under `pods/`), which the worker processes split by file.

    .venv/bin/python bench/analyze.py [--lines 1000000] [--runs 3] [--kubelet] [--flat 1000000,3000000,10000000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
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


def _kubelet_tree(lines: int) -> tuple[Path, str]:
    """The demo lines as kubelet CRI files (cached), and the glob that names them all."""
    root = OUT / f"kubelet-{lines}"
    done = root / ".complete"
    if not done.exists():
        # In a child process: a child forked from this one would otherwise report the
        # writer's memory as its own peak (ru_maxrss counts the pages shared at fork).
        started = time.perf_counter()
        write = "import sys; from loglens.sources.demo import write_kubelet_logs as w; "
        write += "print(len(w(sys.argv[1], lines=int(sys.argv[2]), seed=42)))"
        command = [sys.executable, "-c", write, str(root), str(lines)]
        written = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        done.touch()
        print(
            f"wrote {written.strip()} kubelet log files under {root} "
            f"in {time.perf_counter() - started:.1f} s"
        )
    pattern = root / "pods" / "*" / "*" / "0.log"
    return pattern, f"'{pattern.relative_to(OUT.parent.parent)}'"


RULES_ONLY = {
    "LOGLENS_RECORD_HISTORY": "false",
    "LOGLENS_RETRIEVAL": "off",
    "LOGLENS_LLM_BACKEND": "none",
}


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its descendants, from /proc (0 when gone)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        pending.extend(int(child) for child in children)
    return total


class _PeakSampler(threading.Thread):
    """Samples the summed RSS of a process tree every few milliseconds."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid))


def _run_cli(path: Path, workers: str | None) -> dict[str, float]:
    loglens = Path(sys.executable).with_name("loglens")
    env = {**os.environ, **RULES_ONLY}
    if workers is not None:
        env["LOGLENS_ANALYZE_WORKERS"] = workers
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(loglens), "analyze", str(path), "--json"], stdout=out, stderr=err, env=env
        )
        sampler = _PeakSampler(process.pid)
        sampler.start()
        # wait4: this run's own usage (getrusage(RUSAGE_CHILDREN) keeps the largest child
        # ever waited for, so an earlier, bigger run would show as this one's peak).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode:
        raise SystemExit(f"loglens analyze failed:\n{stderr.decode()}")
    report = json.loads(stdout)
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        # Largest of the sampled tree sum and the biggest single process (samples can miss a peak).
        "peak_mb": max(sampler.peak_kb, usage.ru_maxrss) / 1024,
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
settings = Settings(record_history=False, retrieval="off", llm_backend="none")
report = analyze(DemoSource(lines=lines, seed=42, duration_s=3600), settings=settings)
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


def _median_run(path: Path, workers: str | None, runs: int) -> dict[str, float]:
    results = [_run_cli(path, workers) for _ in range(runs)]
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def _print_figures(title: str, figures: dict[str, float], runs: int) -> None:
    print(f"\n{title}  ({figures['lines']:,.0f} lines, median of {runs})")
    print(
        f"  wall {figures['wall_s']:.2f} s   cpu {figures['cpu_s']:.2f} s   "
        f"peak RSS {figures['peak_mb']:.0f} MB (all processes)"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="runs per case; medians are shown")
    parser.add_argument(
        "--flat", default="", help="comma-separated window sizes to stream from the demo source"
    )
    parser.add_argument(
        "--kubelet",
        action="store_true",
        help="also analyse the same lines as a node's kubelet logs (one CRI file per container)",
    )
    args = parser.parse_args()
    inputs = [(_demo_file(args.lines), None)]
    if args.kubelet:
        inputs.append(_kubelet_tree(args.lines))
    cases = (("default worker processes", None), ("one process (LOGLENS_ANALYZE_WORKERS=1)", "1"))
    for path, shown in inputs:
        for title, workers in cases:
            figures = _median_run(path, workers, args.runs)
            name = shown or path.name
            _print_figures(f"loglens analyze {name} --json, {title}", figures, args.runs)
    if args.flat:
        print("\nstreamed from the demo source (no file, one process): memory vs window size")
        print(f"  {'lines':>12} {'wall s':>8} {'lines/s':>10} {'peak MB':>8} {'patterns':>9}")
        for size in (int(s) for s in args.flat.split(",")):
            got, patterns, _findings, wall, peak = _run_streamed(size)
            print(f"  {got:>12,} {wall:>8.1f} {got / wall:>10,.0f} {peak:>8.0f} {patterns:>9,}")


if __name__ == "__main__":
    main()
