"""The mypyc-compiled hot path (`loglens.native`): same results as pure Python, never stale.

Most tests need the compiled files that `scripts/bootstrap.sh` builds; on a machine
where they are missing they are skipped, except in CI (`CI=true`), where the build is
part of the set-up and its absence is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from loglens import native
from loglens.evaluation.golden import AnalyzeCase, CompareCase, LineCase, load_dataset
from loglens.sources.demo import write_jsonl, write_plain

ROOT = Path(__file__).resolve().parents[1]
TESTDATA_FILES = ROOT / "tests" / "testdata" / "files"
LOKI_ANSWERS = ROOT / "tests" / "testdata" / "loki"

# Reads files as `loglens analyze` does (sources, parsing, multi-line joining) and prints
# a digest of every field of every event, the read statistics, and the native state.
_DIGEST_PROGRAM = """
import dataclasses, hashlib, sys, orjson
from loglens import native
from loglens.parsing.pipeline import parsed_batches
from loglens.sources.files import FileSource

digest, events = hashlib.sha256(), 0
for path in sys.argv[2:]:
    source = FileSource([path], skip_bad=True)
    for batch in parsed_batches(source.batches(), source.stats):
        for r in batch:
            fields = [r.ts, r.labels, r.line, str(r.level), r.message, r.attrs, str(r.fmt)]
            digest.update(orjson.dumps(fields, default=str, option=orjson.OPT_NON_STR_KEYS))
            events += 1
    digest.update(orjson.dumps(dataclasses.asdict(source.stats), default=str))
from pathlib import Path
from loglens.errors import SourceError
from loglens.sources.loki_page import LokiPage
for answer in sorted(Path(sys.argv[1]).glob("*.json")):  # recorded Loki answers
    for reverse in (False, True):
        try:
            page = LokiPage(orjson.loads(answer.read_bytes()), reverse=reverse)
        except SourceError as exc:
            digest.update(str(exc).encode())
            continue
        for r in page.records:
            digest.update(orjson.dumps([page.key(r), r.attrs], default=str))
import loglens.parsing.formats as formats
print(orjson.dumps({
    "native": native.state().compiled, "formats_file": formats.__file__,
    "events": events, "digest": digest.hexdigest(),
}).decode())
"""


def _require_compiled() -> None:
    state = native.assess()
    if state.compiled:
        return
    if os.environ.get("CI") == "true" and not os.environ.get(native.SWITCH_VARIABLE):
        pytest.fail(f"CI builds the compiled hot path, but it is not in use: {state.reason}")
    pytest.skip(f"compiled hot path not built here: {state.reason}")


def _digest(paths: list[Path], *, env: dict[str, str], pythonpath: Path | None = None) -> dict:
    """Digest of reading `paths` and of turning the recorded Loki answers into records."""
    run_env = {k: v for k, v in os.environ.items() if k != native.SWITCH_VARIABLE} | env
    if pythonpath is not None:
        run_env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run(
        [sys.executable, "-c", _DIGEST_PROGRAM, str(LOKI_ANSWERS), *map(str, paths)],
        capture_output=True,
        text=True,
        env=run_env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _golden_records_file(directory: Path) -> Path:
    """Every record of the golden dataset, one JSONL file (cases in order, records in order)."""
    path = directory / "golden.jsonl"
    with path.open("wb") as out:
        for case in load_dataset(ROOT / "eval" / "golden"):
            if isinstance(case, AnalyzeCase):
                records = case.logs.records
            elif isinstance(case, CompareCase):
                records = case.before.records + case.after.records
            else:
                assert isinstance(case, LineCase)
                records = [case.record]
            for record in records:
                out.write(orjson.dumps(record.to_json_dict()) + b"\n")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Demo cluster logs as JSONL and as plain text, the golden records, the test files."""
    directory = tmp_path_factory.mktemp("native")
    demo_jsonl, demo_plain = directory / "demo.jsonl", directory / "demo.log"
    write_jsonl(demo_jsonl, lines=40_000, seed=11)
    write_plain(demo_plain, lines=40_000, seed=12)
    return [
        demo_jsonl,
        demo_plain,
        _golden_records_file(directory),
        *sorted(TESTDATA_FILES.iterdir()),
    ]


def test_compiled_and_pure_python_read_and_parse_identically(corpus: list[Path]) -> None:
    _require_compiled()
    compiled = _digest(corpus, env={})
    pure = _digest(corpus, env={native.SWITCH_VARIABLE: "off"})
    assert compiled["native"] is True
    assert compiled["formats_file"].endswith(".so")
    assert pure["native"] is False
    assert pure["formats_file"].endswith(".py")
    assert compiled["events"] > 80_000
    assert (compiled["events"], compiled["digest"]) == (pure["events"], pure["digest"])


def test_an_edited_source_loads_as_python_not_as_the_stale_compiled_module(
    tmp_path: Path,
) -> None:
    _require_compiled()
    tree = tmp_path / "src"
    shutil.copytree(native.SOURCE_ROOT, tree, ignore=shutil.ignore_patterns("__pycache__"))
    formats = tree / "loglens" / "parsing" / "formats.py"
    # A behaviour change the compiled module does not have: every plain line is "fatal".
    source = formats.read_text(encoding="utf-8")
    edited = source.replace(
        "    rec.level = keyword_level(message)\n", "    rec.level = Level.FATAL\n", 1
    )
    assert edited != source
    formats.write_text(edited, encoding="utf-8")
    plain = tmp_path / "plain.log"
    plain.write_text("nothing to see here\nstill nothing\n", encoding="utf-8")

    probe = (
        "import sys; from loglens import native; from loglens.sources.files import FileSource;"
        "from loglens.parsing.pipeline import parsed_batches;"
        "s = FileSource([sys.argv[1]]);"
        "levels = [str(r.level) for b in parsed_batches(s.batches(), s.stats) for r in b];"
        "import loglens.parsing.formats as f, loglens.records as r;"
        "print(native.state().reason, f.__file__, r.__file__, levels, sep='|')"
    )
    env = {k: v for k, v in os.environ.items() if k != native.SWITCH_VARIABLE}
    env["PYTHONPATH"] = str(tree)
    done = subprocess.run(
        [sys.executable, "-c", probe, str(plain)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    reason, formats_file, records_file, levels = done.stdout.strip().split("|")
    assert "formats" in reason and "just native" in reason
    assert formats_file == str(formats)
    # All of the compiled group falls back together, not only the edited module.
    assert records_file.endswith("records.py")
    assert levels == "['fatal', 'fatal']"


def test_a_stray_extension_of_a_module_not_compiled_is_never_loaded(tmp_path: Path) -> None:
    _require_compiled()
    tree = tmp_path / "src"
    shutil.copytree(native.SOURCE_ROOT, tree, ignore=shutil.ignore_patterns("__pycache__"))
    # Left over from a build that compiled more modules: not a valid `render` module at all.
    compiled_records = next((tree / "loglens").glob("records.*.so"))
    stray = tree / "loglens" / "patterns" / compiled_records.name.replace("records", "render")
    shutil.copy(compiled_records, stray)
    probe = (
        "from loglens import native; import loglens.patterns.render as r,"
        " loglens.parsing.formats as f; print(native.state().compiled, r.__file__, f.__file__)"
    )
    env = {k: v for k, v in os.environ.items() if k != native.SWITCH_VARIABLE}
    env["PYTHONPATH"] = str(tree)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    compiled, render_file, formats_file = done.stdout.split()
    assert compiled == "True"
    assert render_file.endswith("render.py")
    assert formats_file.endswith(".so")


def test_switch_off_reports_pure_python(tmp_path: Path) -> None:
    env = {**os.environ, native.SWITCH_VARIABLE: "off"}
    done = subprocess.run(
        [sys.executable, "-c", "from loglens.cli.main import run; run()", "config", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout)["native"] == "pure Python (LOGLENS_NATIVE=off)"


def test_assess_names_what_is_wrong(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(native.SWITCH_VARIABLE, raising=False)
    manifest = tmp_path / "_native.json"
    monkeypatch.setattr(native, "manifest_path", lambda: manifest)

    assert "not built" in native.assess().reason

    manifest.write_text("[1, 2]", encoding="utf-8")
    assert "not built" in native.assess().reason

    manifest.write_text(json.dumps({"cache_tag": "cpython-399", "sources": {}}), encoding="utf-8")
    assert native.assess().reason == f"built for cpython-399; {native.REBUILD}"

    monkeypatch.setattr(native, "_extension_of", lambda module: tmp_path / "missing.so")
    monkeypatch.setattr(native, "_group_library", lambda: tmp_path / "missing.so")
    manifest.write_text(
        json.dumps({"cache_tag": sys.implementation.cache_tag, "sources": {}}), encoding="utf-8"
    )
    assert "compiled files missing" in native.assess().reason

    monkeypatch.setattr(native, "_extension_of", lambda module: manifest)
    assert "compiled files missing" in native.assess().reason  # the shared library is not there
    monkeypatch.setattr(native, "_group_library", lambda: manifest)
    hashes = native.source_hashes()
    hashes["loglens.parsing.multiline"] = "0" * 64
    manifest.write_text(
        json.dumps({"cache_tag": sys.implementation.cache_tag, "sources": hashes}),
        encoding="utf-8",
    )
    state = native.assess()
    assert not state.compiled
    assert state.reason == f"sources changed since the build (multiline); {native.REBUILD}"

    hashes = native.source_hashes()
    manifest.write_text(
        json.dumps({"cache_tag": sys.implementation.cache_tag, "sources": hashes}),
        encoding="utf-8",
    )
    assert native.assess().compiled

    monkeypatch.setenv(native.SWITCH_VARIABLE, "off")
    assert native.assess() == native.NativeState(False, "LOGLENS_NATIVE=off")
