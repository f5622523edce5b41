"""Pattern engine benchmark: Loghub-2k accuracy and streaming throughput, loglens vs Drain3.

    .venv/bin/python bench/patterns.py [--lines 1600000] [--demo-lines 1000000] [--skip-drain3]

Accuracy: GA and PA per Loghub-2k data set (corrected truth), one generic configuration.
Throughput: the 16 data sets' contents concatenated and repeated to `--lines` lines,
written to a temporary file and streamed from it; each engine runs in a fresh
subprocess so its peak RSS is its own. Figures are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loghub

BATCH = 4096


def _batches(handle: TextIO) -> Iterator[list[str]]:
    while batch := [line.rstrip("\n") for line in islice(handle, BATCH)]:
        yield batch


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_loglens(path: Path) -> dict[str, float]:
    from loglens.patterns.miner import PatternMiner

    start = time.perf_counter()
    miner = PatternMiner()
    lines = 0
    with path.open(encoding="utf-8") as handle:
        for batch in _batches(handle):
            miner.add_messages(batch)
            lines += len(batch)
    patterns = len(miner.pattern_set())
    return {"lines": lines, "seconds": time.perf_counter() - start, "patterns": patterns}


def run_drain3(path: Path) -> dict[str, float]:
    from drain3 import TemplateMiner
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.profiling_enabled = False
    start = time.perf_counter()
    miner = TemplateMiner(config=config)
    lines = 0
    with path.open(encoding="utf-8") as handle:
        for batch in _batches(handle):
            for line in batch:
                miner.add_log_message(line)
            lines += len(batch)
    patterns = len(miner.drain.clusters)
    return {"lines": lines, "seconds": time.perf_counter() - start, "patterns": patterns}


def run_demo(lines: int) -> dict[str, float]:
    from loglens.patterns.miner import PatternMiner

    demo = importlib.import_module("loglens.sources.demo")
    try:
        parse_batch = importlib.import_module("loglens.parsing.formats").parse_batch
    except (ImportError, AttributeError):
        parse_batch = None
    source = demo.DemoSource(lines=lines, seed=7)
    miner = PatternMiner()
    count = 0
    mining = 0.0
    # Generating and parsing are other stages: only the miner's time is counted.
    for batch in source.batches():
        if parse_batch is not None:
            parse_batch(batch)
        start = time.perf_counter()
        miner.add_batch(batch)
        mining += time.perf_counter() - start
        count += len(batch)
    start = time.perf_counter()
    patterns = len(miner.pattern_set())
    mining += time.perf_counter() - start
    return {"lines": count, "seconds": mining, "patterns": patterns}


def child(engine: str, target: str) -> None:
    if engine == "loglens":
        result = run_loglens(Path(target))
    elif engine == "drain3":
        result = run_drain3(Path(target))
    else:
        result = run_demo(int(target))
    result["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(result))


def in_subprocess(engine: str, target: str) -> dict[str, float] | str:
    done = subprocess.run(
        [sys.executable, __file__, "--child", engine, target],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
    parsed: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return parsed


def write_corpus(root: Path, lines: int, target: Path) -> None:
    contents = [c for name in loghub.DATASETS for c in loghub.load_dataset(root, name).contents]
    with target.open("w", encoding="utf-8") as handle:
        written = 0
        while written < lines:
            chunk = contents[: lines - written]
            handle.write("\n".join(chunk) + "\n")
            written += len(chunk)


def print_throughput(results: dict[str, dict[str, float] | str]) -> None:
    print(f"\n{'engine':<22} {'lines':>10} {'seconds':>8} {'lines/s':>10} "
          f"{'peak RSS MB':>12} {'patterns':>9}")  # fmt: skip
    for name, result in results.items():
        if isinstance(result, str):
            print(f"{name:<22} {result}")
            continue
        rate = result["lines"] / result["seconds"]
        print(f"{name:<22} {int(result['lines']):>10,} {result['seconds']:>8.2f} {rate:>10,.0f} "
              f"{result['peak_rss_mb']:>12.1f} {int(result['patterns']):>9,}")  # fmt: skip
    ours, theirs = results.get("loglens"), results.get("drain3")
    if isinstance(ours, dict) and isinstance(theirs, dict):
        speedup = (ours["lines"] / ours["seconds"]) / (theirs["lines"] / theirs["seconds"])
        print(f"loglens / drain3 lines/s: {speedup:.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_600_000)
    parser.add_argument("--demo-lines", type=int, default=1_000_000)
    parser.add_argument("--skip-drain3", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    root = loghub.loghub_dir()
    if root is None:
        print("Loghub-2k data not found (set LOGHUB2K_DIR)", file=sys.stderr)
        return 1
    print("Loghub-2k accuracy (corrected truth; GA groups by true template)")
    loghub.print_accuracy(loghub.accuracy_table(root, loghub.DATASETS))
    results: dict[str, dict[str, float] | str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "loghub_repeated.log"
        write_corpus(root, args.lines, corpus)
        results["loglens"] = in_subprocess("loglens", str(corpus))
        if not args.skip_drain3:
            results["drain3"] = in_subprocess("drain3", str(corpus))
    if importlib.util.find_spec("loglens.sources.demo") is None:
        results["loglens demo-cluster"] = "skipped: loglens.sources.demo does not exist yet"
    else:
        results["loglens demo-cluster"] = in_subprocess("demo", str(args.demo_lines))
    print_throughput(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
