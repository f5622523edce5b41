"""Generate the golden dataset under eval/golden/ (deterministic: fixed seed, no clock).

Usage: .venv/bin/python eval/generate_golden.py [--out DIR] [--only analyze,compare,line]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from golden_gen import analyze, compare, lines
from golden_gen.common import dump_case, jdump
from golden_gen.readme import write_readme

DEFAULT_OUT = Path(__file__).resolve().parent / "golden"
KINDS = ("analyze", "compare", "line")


def write_analyze(out: Path) -> list[dict]:
    folder = out / "analyze"
    folder.mkdir(parents=True, exist_ok=True)
    cases = []
    for index, (case_id, names) in enumerate(analyze.plan()):
        case, records = analyze.build(index, case_id, names)
        if len(records) > analyze.LOGS_FILE_THRESHOLD:
            del case["logs"]
            case = {
                **{k: v for k, v in case.items() if k != "expected"},
                "logs_file": f"{case_id}.jsonl",
                "expected": case["expected"],
            }
            (folder / f"{case_id}.jsonl").write_text("".join(jdump(rec) + "\n" for rec in records))
        (folder / f"{case_id}.json").write_text(dump_case(case))
        cases.append(case)
    return cases


def write_simple(out: Path, kind: str, cases: list[dict]) -> list[dict]:
    folder = out / kind
    folder.mkdir(parents=True, exist_ok=True)
    for case in cases:
        (folder / f"{case['id']}.json").write_text(dump_case(case))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", default=",".join(KINDS))
    args = parser.parse_args()
    only = args.only.split(",")
    out: Path = args.out
    written: dict[str, list[dict]] = {}
    for kind in only:
        if (out / kind).exists():
            shutil.rmtree(out / kind)
    if "analyze" in only:
        written["analyze"] = write_analyze(out)
    if "compare" in only:
        written["compare"] = write_simple(out, "compare", compare.build_all())
    if "line" in only:
        written["line"] = write_simple(out, "line", lines.build_all())
    if set(only) == set(KINDS):
        write_readme(out / "README.md", written)
    for kind, cases in written.items():
        print(f"{kind}: {len(cases)} cases")


if __name__ == "__main__":
    main()
