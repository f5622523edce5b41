"""Benchmark: read + parse + multi-line join throughput and peak memory.

Two inputs of N lines each, both written as a JSONL file and as a plain text file:
`demo`, the demo cluster's logs (`loglens demo`; the issue's yardstick), and `mixed`,
short lines in eight formats (klog, logfmt, zap JSON, uvicorn, Postgres, CoreDNS,
Python logging with tracebacks, plain text). Each case runs `FileSource` +
`parsed_batches` (format detection, level and message extraction, multi-line joining)
in a fresh subprocess, so peak RSS is per case, with the hot path compiled
(`loglens.native`) and, for comparison, as pure Python (`LOGLENS_NATIVE=off`).

Rates are per CPU second of the one process (the fairer figure on a shared machine;
the target applies to it) and per wall-clock second. `--runs N` keeps the best of N.
The `x2` case reads the JSONL file as `loglens analyze` does with worker processes:
`--shares` processes at once, each reading the file and parsing its share of the
streams (`StreamShare`); its rate is lines per wall-clock second of the slowest, its
CPU and RSS the sum over the processes.

    .venv/bin/python bench/read.py [--lines 1000000] [--inputs demo,mixed] [--runs 1] [--shares 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from loglens import native
from loglens.model import format_ts
from loglens.parsing.pipeline import parsed_batches
from loglens.sources.demo import write_jsonl, write_plain
from loglens.sources.files import FileSource
from loglens.sources.shares import StreamShare

START_NS = 1_795_000_000_000_000_000
TARGET_LINES_PER_S = 300_000
TARGET_PEAK_MB = 200

_PODS = [
    {"namespace": ns, "pod": f"{app}-{i}", "container": app, "node": f"node-{i % 3}"}
    for ns, app in (("web", "api"), ("db", "postgres"), ("kube-system", "coredns"))
    for i in range(3)
] + [{"namespace": "kube-system", "pod": "kubelet", "container": "kubelet", "node": "node-1"}]


def _ip(rng: random.Random) -> str:
    return f"10.{rng.randint(0, 3)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _klog(rng: random.Random, stamp: str) -> list[str]:
    level = rng.choice("IIIIIWE")
    clock = stamp[11:26]
    month_day = stamp[5:7] + stamp[8:10]
    body = rng.choice(
        [
            f'"Pod status updated" pod="web/api-{rng.randint(0, 9)}" status="Running"',
            f"Successfully pulled image registry.local/app:{rng.randint(1, 99)}",
            f'"Error syncing pod" err="context deadline exceeded" pod="db/pg-{rng.randint(0, 2)}"',
        ]
    )
    return [f"{level}{month_day} {clock}       1 kubelet.go:{rng.randint(100, 2999)}] {body}"]


def _logfmt(rng: random.Random, stamp: str) -> list[str]:
    level = rng.choice(["info", "info", "info", "debug", "warn", "error"])
    return [
        f'time={stamp} level={level} msg="request handled" method=GET '
        f"path=/api/v1/items/{rng.randint(1, 10**6)} status={rng.choice([200, 200, 404, 500])} "
        f"duration={rng.random():.3f}s"
    ]


def _json(rng: random.Random, stamp: str) -> list[str]:
    record = {
        "level": rng.choice(["info", "info", "warn", "error"]),
        "ts": stamp,
        "caller": f"server/handler.go:{rng.randint(10, 400)}",
        "msg": rng.choice(["request failed", "cache miss", "user logged in"]),
        "user_id": rng.randint(1, 10**5),
        "error": "dial tcp 10.0.0.5:5432: connect: connection refused",
    }
    return [orjson.dumps(record).decode()]


def _uvicorn(rng: random.Random, stamp: str) -> list[str]:
    status = rng.choice([200, 200, 200, 201, 404, 503])
    path = rng.choice(["/health", "/v1/chat/completions", f"/items/{rng.randint(1, 999)}"])
    return [f'INFO:     {_ip(rng)}:{rng.randint(1024, 65535)} - "GET {path} HTTP/1.1" {status} OK']


def _postgres(rng: random.Random, stamp: str) -> list[str]:
    prefix = f"{stamp[:10]} {stamp[11:23]} UTC [{rng.randint(50, 999)}]"
    return rng.choice(
        [
            [f"{prefix} LOG:  checkpoint complete: wrote {rng.randint(1, 999)} buffers"],
            [
                f'{prefix} ERROR:  duplicate key value violates unique constraint "users_pkey"',
                f"{prefix} DETAIL:  Key (id)=({rng.randint(1, 9999)}) already exists.",
            ],
        ]
    )


def _coredns(rng: random.Random, stamp: str) -> list[str]:
    rcode = rng.choice(["NOERROR", "NOERROR", "NXDOMAIN", "SERVFAIL"])
    return [
        f'[INFO] {_ip(rng)}:{rng.randint(1024, 65535)} - {rng.randint(1, 65535)} "A IN '
        f'api-{rng.randint(0, 9)}.web.svc.cluster.local. udp 52 false 512" {rcode} '
        f"qr,aa,rd 106 0.000{rng.randint(100, 999)}s"
    ]


def _python(rng: random.Random, stamp: str) -> list[str]:
    head = f"{stamp[:10]} {stamp[11:19]},{stamp[20:23]} - app.worker - "
    if rng.random() < 0.9:
        return [head + f"INFO - processed job {rng.randint(1, 10**6)} in {rng.random():.2f}s"]
    return [
        head + "ERROR - job failed",
        "Traceback (most recent call last):",
        '  File "/app/worker.py", line 88, in run',
        "    result = handler(job)",
        '  File "/app/jobs.py", line 12, in handler',
        "    raise ValueError(f'bad payload {job.id}')",
        f"ValueError: bad payload {rng.randint(1, 10**6)}",
    ]


def _plain(rng: random.Random, stamp: str) -> list[str]:
    return [
        rng.choice(
            [
                f"Started container app-{rng.randint(0, 9)}",
                f"Connection from {_ip(rng)} closed",
                "Back-off restarting failed container",
                f"Readiness probe failed: HTTP probe failed with statuscode: {rng.randint(500, 503)}",
            ]
        )
    ]


_GENERATORS: list[Callable[[random.Random, str], list[str]]] = [
    _klog,
    _logfmt,
    _json,
    _uvicorn,
    _postgres,
    _coredns,
    _python,
    _plain,
]


def generate(lines: int, seed: int = 7) -> Iterator[tuple[int, dict[str, str], str]]:
    """(ts, labels, line) triples; multi-line events keep their lines together."""
    rng = random.Random(seed)
    produced = 0
    ts = START_NS
    while produced < lines:
        index = rng.randrange(len(_GENERATORS))
        labels = _PODS[index % len(_PODS)]
        ts += rng.randint(10_000, 2_000_000)
        for line in _GENERATORS[index](rng, format_ts(ts)):
            yield ts, labels, line
            produced += 1


def write_mixed(directory: Path, lines: int) -> tuple[Path, Path]:
    """The `mixed` input as a JSONL file and as a plain text file."""
    jsonl_path = directory / "mixed.jsonl"
    plain_path = directory / "mixed.log"
    with jsonl_path.open("wb") as jsonl, plain_path.open("w", encoding="utf-8") as plain:
        for ts, labels, line in generate(lines):
            jsonl.write(orjson.dumps({"ts": format_ts(ts), "labels": labels, "line": line}))
            jsonl.write(b"\n")
            plain.write(line + "\n")
    return jsonl_path, plain_path


def write_demo(directory: Path, lines: int) -> tuple[Path, Path]:
    """The demo cluster's logs (one window, seed 42) as a JSONL file and as plain text."""
    jsonl_path = directory / "demo.jsonl"
    plain_path = directory / "demo.log"
    write_jsonl(jsonl_path, lines=lines, seed=42)
    write_plain(plain_path, lines=lines, seed=42)
    return jsonl_path, plain_path


_WRITERS: dict[str, Callable[[Path, int], tuple[Path, Path]]] = {
    "demo": write_demo,
    "mixed": write_mixed,
}


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(case: str, path: str) -> dict[str, object]:
    """One measurement, in this process; prints nothing."""
    share = _share_of(case, path)
    source = FileSource([path], share=share)
    started, cpu_started = time.perf_counter(), time.process_time()
    events = 0
    for batch in parsed_batches(source.batches(), source.stats):
        events += len(batch)
    return {
        "case": case,
        "records": source.stats.lines,
        "events": events,
        "bytes": source.stats.bytes,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "formats": source.stats.formats,
        "native": native.state().describe(),
    }


def _share_of(case: str, path: str) -> StreamShare | None:
    """`shareI/N`: share I of N of the file; other cases read everything."""
    if not case.startswith("share"):
        return None
    index, count = case.removeprefix("share").split("/")
    return _shares(path, int(count))[int(index)]


def _shares(path: str, count: int) -> list[StreamShare]:
    """The shares `loglens analyze` would split this file into with `count` workers."""
    # Imported here: the other cases should not carry the analysis modules in their RSS.
    from loglens.analysis.parallel import plan_shares
    from loglens.config import Settings

    settings = Settings(analyze_workers=count, parallel_min_mb=0)
    shares = plan_shares(FileSource([path]), settings)
    if shares is None:
        raise SystemExit(f"{path} cannot be split into {count} shares")
    return shares


def _measure(case: str, path: Path, *, pure: bool) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != native.SWITCH_VARIABLE}
    if pure:
        env[native.SWITCH_VARIABLE] = "off"
    command = [sys.executable, __file__, "--case", case, "--path", str(path)]
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def _report(label: str, case: str, path: Path, *, pure: bool, runs: int) -> None:
    results = [_measure(case, path, pure=pure) for _ in range(runs)]
    result = min(results, key=lambda r: r["cpu_seconds"])
    rate = result["records"] / result["seconds"]
    cpu_rate = result["records"] / result["cpu_seconds"]
    rss = result["peak_rss_mb"]
    verdict = "ok" if cpu_rate >= TARGET_LINES_PER_S else "BELOW TARGET"
    print(
        f"{label:18} {path.stat().st_size / 2**20:6.1f} MB  {result['records']:>9,} lines  "
        f"cpu {result['cpu_seconds']:5.2f}s {cpu_rate:>8,.0f} lines/s ({verdict})  "
        f"wall {result['seconds']:5.2f}s {rate:>8,.0f}/s  peak RSS {rss:5.1f} MB"
        + ("" if rss <= TARGET_PEAK_MB else " (ABOVE TARGET)")
    )


def _report_shares(label: str, path: Path, count: int, runs: int) -> None:
    """Run `count` share readers at once; one line of figures for all of them."""
    best: tuple[float, int, float, float] | None = None
    for _ in range(runs):
        commands = [
            [sys.executable, __file__, "--case", f"share{i}/{count}", "--path", str(path)]
            for i in range(count)
        ]
        running = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True) for c in commands]
        results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in running]
        slowest = max(r["seconds"] for r in results)
        measured = (
            slowest,
            sum(r["records"] for r in results),
            sum(r["cpu_seconds"] for r in results),
            sum(r["peak_rss_mb"] for r in results),
        )
        best = measured if best is None or measured[0] < best[0] else best
    assert best is not None
    slowest, records, cpu, rss = best
    print(
        f"{label:18} {count} processes, shares of the streams   {records:>9,} lines  "
        f"wall {slowest:5.2f}s {records / slowest:>8,.0f} lines/s "
        f"({'ok' if records / slowest >= TARGET_LINES_PER_S else 'BELOW TARGET'})  "
        f"cpu {cpu:5.2f}s (sum)  peak RSS {rss:5.1f} MB (sum)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--inputs", default="demo,mixed", help="comma-separated: demo, mixed")
    parser.add_argument("--runs", type=int, default=1, help="best of N per case")
    parser.add_argument("--shares", type=int, default=2, help="processes for the x2 case")
    parser.add_argument("--no-pure", action="store_true", help="skip the pure-Python cases")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        result = run_case(args.case, args.path)
        result["peak_rss_mb"] = _peak_rss_mb()
        print(json.dumps(result))
        return
    inputs = [name.strip() for name in args.inputs.split(",") if name.strip()]
    unknown = sorted(set(inputs) - set(_WRITERS))
    if unknown:
        raise SystemExit(f"unknown input(s) {unknown}; choose from {sorted(_WRITERS)}")
    print(
        f"hot path: {native.state().describe()}; target {TARGET_LINES_PER_S:,} lines/s, "
        f"<= {TARGET_PEAK_MB} MB"
    )
    with tempfile.TemporaryDirectory(prefix="loglens-bench-") as tmp:
        for name in inputs:
            started = time.perf_counter()
            jsonl_path, plain_path = _WRITERS[name](Path(tmp), args.lines)
            print(f"{name}: generated {args.lines:,} lines in {time.perf_counter() - started:.1f}s")
            modes = [False] if args.no_pure else [False, True]
            for pure in modes:
                suffix = " (pure Python)" if pure else ""
                _report(f"{name} jsonl{suffix}", "jsonl", jsonl_path, pure=pure, runs=args.runs)
                _report(f"{name} plain{suffix}", "plain", plain_path, pure=pure, runs=args.runs)
            if args.shares > 1:
                _report_shares(f"{name} jsonl x{args.shares}", jsonl_path, args.shares, args.runs)


if __name__ == "__main__":
    main()
