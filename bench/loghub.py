"""Loghub-2k accuracy: grouping accuracy (GA) and parsing accuracy (PA), loglens vs Drain3.

Run alone: `.venv/bin/python bench/loghub.py [DATASET ...]`. `bench/patterns.py` imports it.
Reads the corrected ground truth from the shared benchmark folder; nothing is copied.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from loglens.patterns.miner import mine_messages

DATASETS = (
    "HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "Thunderbird", "Windows",
    "Linux", "Android", "HealthApp", "Apache", "Proxifier", "OpenSSH", "OpenStack", "Mac",
)  # fmt: skip


def loghub_dir() -> Path | None:
    """The Loghub-2k folder: $LOGHUB2K_DIR, /work/shared/... or ../shared/... from the repo."""
    candidates = [
        os.environ.get("LOGHUB2K_DIR", ""),
        "/work/shared/benchmarks/loghub2k",
        str(Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "loghub2k"),
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "HDFS").is_dir():
            return Path(candidate)
    return None


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    contents: list[str]
    event_ids: list[str]  # GA groups by template: the corrected truth merges some ids
    templates: list[str]


def load_dataset(root: Path, name: str) -> Dataset:
    path = root / name / f"{name}_2k.log_structured_corrected.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return Dataset(
        name=name,
        contents=[row["Content"] for row in rows],
        event_ids=[row["EventId"] for row in rows],
        templates=[row["EventTemplate"] for row in rows],
    )


@dataclass(frozen=True, slots=True)
class Score:
    ga: float
    pa: float
    clusters: int
    seconds: float


def grouping_accuracy(truth: Sequence[str], predicted: Sequence[object]) -> float:
    """Share of lines whose predicted cluster holds exactly the lines of their true group."""
    truth_sizes = Counter(truth)
    members: dict[object, list[int]] = defaultdict(list)
    for index, cluster in enumerate(predicted):
        members[cluster].append(index)
    correct = 0
    for indexes in members.values():
        events = {truth[i] for i in indexes}
        if len(events) == 1 and truth_sizes[truth[indexes[0]]] == len(indexes):
            correct += len(indexes)
    return correct / len(truth)


def normalise(template: str) -> str:
    return " ".join(template.split())


def parsing_accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of lines whose predicted template equals the true one (whitespace normalised)."""
    hits = sum(normalise(t) == normalise(p) for t, p in zip(truth, predicted, strict=True))
    return hits / len(truth)


Engine = Callable[[list[str]], tuple[list[object], list[str]]]


def loglens_engine(contents: list[str]) -> tuple[list[object], list[str]]:
    pattern_set, ids = mine_messages(contents)
    templates = {p.id: p.template for p in pattern_set.patterns}
    return list(ids), [templates[pid] for pid in ids]


def drain3_engine(contents: list[str]) -> tuple[list[object], list[str]]:
    from drain3 import TemplateMiner
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()  # defaults; no drain3.ini is read
    config.profiling_enabled = False
    miner = TemplateMiner(config=config)
    cluster_ids = [miner.add_log_message(line)["cluster_id"] for line in contents]
    templates = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return list(cluster_ids), [templates[c] for c in cluster_ids]


def score(engine: Engine, dataset: Dataset) -> Score:
    start = time.perf_counter()
    clusters, templates = engine(dataset.contents)
    seconds = time.perf_counter() - start
    return Score(
        ga=grouping_accuracy(dataset.templates, clusters),
        pa=parsing_accuracy(dataset.templates, templates),
        clusters=len(set(clusters)),
        seconds=seconds,
    )


def accuracy_table(root: Path, names: Sequence[str]) -> list[tuple[str, Score, Score]]:
    rows = []
    for name in names:
        dataset = load_dataset(root, name)
        rows.append((name, score(loglens_engine, dataset), score(drain3_engine, dataset)))
    return rows


def print_accuracy(rows: list[tuple[str, Score, Score]]) -> None:
    print(f"{'dataset':<12} {'GA loglens':>10} {'PA loglens':>10} {'GA drain3':>10} "
          f"{'PA drain3':>10} {'n loglens':>9} {'n drain3':>8}")  # fmt: skip
    for name, ours, theirs in rows:
        print(f"{name:<12} {ours.ga:>10.3f} {ours.pa:>10.3f} {theirs.ga:>10.3f} "
              f"{theirs.pa:>10.3f} {ours.clusters:>9} {theirs.clusters:>8}")  # fmt: skip
    n = len(rows)
    if n:
        print(f"{'average':<12} {sum(r[1].ga for r in rows) / n:>10.3f} "
              f"{sum(r[1].pa for r in rows) / n:>10.3f} {sum(r[2].ga for r in rows) / n:>10.3f} "
              f"{sum(r[2].pa for r in rows) / n:>10.3f}")  # fmt: skip


def main(argv: Sequence[str]) -> int:
    root = loghub_dir()
    if root is None:
        print("Loghub-2k data not found (set LOGHUB2K_DIR)", file=sys.stderr)
        return 1
    print_accuracy(accuracy_table(root, argv or DATASETS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
