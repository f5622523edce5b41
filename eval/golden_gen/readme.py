"""Writes eval/golden/README.md: how the cases were made, what the tags mean, and counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from .common import SEED

TAGS = {
    "k8s": "Kubernetes-side lines (events, kubelet, control plane) carry the signal",
    "app": "application logs carry the signal",
    "cascade": "a rare root cause followed by many symptoms; the first finding is the root cause",
    "benign": "nothing is wrong (`findings: []`), or the line is benign",
    "scary-noise": "benign lines that look alarming: `context canceled`, recovered retries, `0 errors`",
    "tricky": "line case whose wording suggests a failure but is benign",
    "jitter": "compare case whose background rates differ by up to ±30% (must not be reported)",
    "new / gone / increased / decreased": "compare case with that kind of change",
    "multiline": "tracebacks or stack traces, one record per line as the runtime delivers them",
    "easy / medium / hard": "difficulty: one obvious signal / a signal among noise or wording to interpret / cascades, several incidents, or heavy scary noise",
    "klog, logfmt, json, coredns, postgres, uvicorn, nginx, envoy, java, python, go, rust, llama.cpp, k8s-events": "formats present in the window",
}


def write_readme(path: Path, written: dict[str, list[dict[str, Any]]]) -> None:
    kinds = {kind: len(cases) for kind, cases in written.items()}
    categories: Counter[str] = Counter()
    for case in written.get("analyze", []):
        for f in case["expected"]["findings"]:
            categories[f"analyze finding: {f['category']}"] += 1
    for case in written.get("line", []):
        categories[f"line: {case['expected'].get('category', '(none given)')}"] += 1
    for case in written.get("compare", []):
        for f in case["expected"].get("findings", []):
            categories[f"compare finding: {f['category']}"] += 1
    tags: Counter[str] = Counter(
        t for cases in written.values() for c in cases for t in c.get("tags", [])
    )
    lines = [
        "# Golden dataset",
        "",
        "Cases in the shared golden format (`shared/spec/golden-format.md`), one `*.json` file per case;",
        "the two largest analyze windows keep their records in a `.jsonl` file beside the case (`logs_file`).",
        "",
        "## How the cases were made",
        "",
        f"Everything here is written by `eval/generate_golden.py` (modules in `eval/golden_gen/`) from the fixed seed {SEED};",
        "each case draws from its own generator seeded with the seed and the case id, so cases are independent and",
        "regeneration is byte-identical. Regenerate with:",
        "",
        "    .venv/bin/python eval/generate_golden.py",
        "",
        "- **Background** (`background.py`): about twenty programs of a small cluster write ordinary lines in their own",
        "  format: kube-apiserver and kubelet (klog), containerd, CoreDNS, Loki, Grafana and Alloy (logfmt), Postgres,",
        "  uvicorn access logs, a Python worker, ingress-nginx, Envoy, Flux and etcd (zap JSON), llama.cpp server,",
        "  Spring Boot, slog and zerolog JSON, Qdrant, and Kubernetes events from an event exporter. Each analyze case",
        "  picks 5-10 of them at random rates; pod names carry ReplicaSet and pod hashes.",
        "- **Incidents** (`incidents_k8s.py`, `incidents_app.py`): one function per situation with hand-written wording in",
        "  several variants, writing the lines a real incident produces (cascades write 1-3 root-cause lines and",
        "  dozens to hundreds of symptoms). Each returns its ranked findings; evidence substrings are checked against",
        "  the generated lines at generation time.",
        "- **analyze**: one case per incident type, repeats of the hardest types, 16 windows mixing 2-3 incidents, and",
        "  8 benign windows with alarming-looking noise (`findings: []`). 300-1,000 lines, two windows of 3,000-5,000.",
        "- **compare**: the same streams in two windows; background rates are per minute and jittered ±30%; windows",
        "  differ in length; changes are new or resolved incidents and single patterns whose rate moves 4x or more.",
        "- **line**: hand-labelled single lines (including tricky ones) plus two ordinary lines of every background",
        "  program.",
        "",
        "Expectations follow the vocabularies' meanings, not what a rules engine finds easy: a rare OOMKilled root",
        "cause is `oom`/`critical` and ranks above its crash-loop symptoms; a retried-then-recovered blip is `warn`;",
        "retries exhausted is `critical`.",
        "",
        "## Tags",
        "",
        *[f"- `{k}`: {v}" for k, v in TAGS.items()],
        "",
        "## Counts",
        "",
        "| kind | cases |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in kinds.items()],
        "",
        "| category | count |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in sorted(categories.items())],
        "",
        "| tag | cases |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in sorted(tags.items())],
        "",
    ]
    path.write_text("\n".join(lines))
