"""Compile loglens's hot path (`loglens.native.NATIVE_MODULES`) with mypyc, in place.

    .venv/bin/python scripts/build_native.py           # build unless up to date
    .venv/bin/python scripts/build_native.py --force   # build anyway
    .venv/bin/python scripts/build_native.py --clean   # remove the compiled files

The extensions land next to their sources under `src/` (which an editable install
puts on `sys.path`) together with `loglens/_native.json`, the sha256 of each source
they were built from; `loglens.native.guard` uses them only while those still match.
Needs mypy, setuptools and a C compiler (`pip install -e '.[native]'`); about 30 s on
2 cores. Exit status 0 when built or up to date, 1 when the build failed (loglens
then runs as pure Python), 2 when the tools are missing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from loglens import native

_SETUP = """
import sys
from mypyc.build import mypycify
from setuptools import setup

paths, group, c_dir, temp_dir, lib_dir = sys.argv[1:6]
setup(
    name="loglens-native",
    ext_modules=mypycify(paths.split(","), opt_level="3", group_name=group, target_dir=c_dir),
    script_args=["build_ext", "--inplace", "--build-temp", temp_dir, "--build-lib", lib_dir],
)
"""


def clean() -> int:
    """Remove the compiled files and the manifest; returns how many files went."""
    removed = 0
    for path in [*native.compiled_files(), native.manifest_path()]:
        if path.exists():
            path.unlink()
            removed += 1
    return removed


def build(log_path: Path) -> bool:
    """Compile NATIVE_MODULES in place and write the manifest; False (log kept) on failure."""
    sources = native.source_hashes()
    paths = [str(native.source_path(module).relative_to(native.SOURCE_ROOT)) for module in sources]
    with tempfile.TemporaryDirectory(prefix="loglens-mypyc-") as tmp:
        env = {**os.environ, "MYPY_CACHE_DIR": str(Path(tmp) / "mypy-cache")}
        command = [
            sys.executable,
            "-c",
            _SETUP,
            ",".join(paths),
            native.GROUP_NAME,
            str(Path(tmp) / "c"),
            str(Path(tmp) / "temp"),
            str(Path(tmp) / "lib"),
        ]
        with log_path.open("w", encoding="utf-8") as log:
            done = subprocess.run(
                command, cwd=native.SOURCE_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
    if done.returncode != 0:
        clean()
        return False
    manifest = {
        "cache_tag": sys.implementation.cache_tag,
        "sources": sources,
        "mypyc": _mypy_version(),
        "built_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
    }
    native.manifest_path().write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return True


def _mypy_version() -> str:
    from mypy.version import __version__

    return __version__


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="build even when up to date")
    parser.add_argument("--clean", action="store_true", help="remove the compiled files")
    args = parser.parse_args()
    if args.clean:
        print(f"removed {clean()} compiled file(s); loglens now runs as pure Python")
        return 0
    state = native.assess()
    if state.compiled and not args.force:
        print("compiled hot path is up to date")
        return 0
    try:
        import mypyc.build  # noqa: F401
        import setuptools  # noqa: F401
    except ImportError:
        print(
            "compiling the hot path needs mypy and setuptools: pip install -e '.[native]'",
            file=sys.stderr,
        )
        return 2
    clean()
    log_path = Path(tempfile.gettempdir()) / "loglens-build-native.log"
    started = time.perf_counter()
    if not build(log_path):
        print(
            f"compiling the hot path failed (loglens still works, as pure Python); log: {log_path}",
            file=sys.stderr,
        )
        print("".join(log_path.read_text(encoding="utf-8").splitlines(True)[-15:]), file=sys.stderr)
        return 1
    print(
        f"compiled {len(native.NATIVE_MODULES)} hot-path modules with mypyc "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
