"""The compiled hot path: which modules mypyc compiles, and whether the compiled ones load.

Reading and parsing cost a few microseconds per line in Python bytecode, most of it
interpreter overhead around C calls (regex, orjson, str methods). `scripts/build_native.py`
(run by `scripts/bootstrap.sh`) compiles the modules in `NATIVE_MODULES` with mypyc, in
place, into C extensions next to their sources, plus one shared library
(`loglens_native__mypyc`), and writes a manifest with the sha256 of each source.

Python prefers an extension module over a `.py` of the same name, so a source edited
after the build would be shadowed by stale compiled code. `guard()` (called when the
`loglens` package is imported, before any of these modules) prevents that: unless the
manifest matches every source exactly, it makes all of `NATIVE_MODULES` load from
their `.py` files (never a mix: compiled modules call each other directly). Setting
`LOGLENS_NATIVE=off` does the same on purpose. A stray extension of a module that is
no longer in NATIVE_MODULES is never loaded either. The compiled and the pure modules
produce identical results (tested); only speed differs.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

NATIVE_MODULES = (
    "loglens.records",
    "loglens.parsing.levels",
    "loglens.parsing.formats",
    "loglens.parsing.multiline",
    "loglens.sources.files",
    "loglens.sources.loki_page",
)
GROUP_NAME = "loglens_native"
MANIFEST_NAME = "_native.json"
SWITCH_VARIABLE = "LOGLENS_NATIVE"
REBUILD = "rebuild with `just native` (scripts/build_native.py)"
PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent


@dataclass(frozen=True)
class NativeState:
    """Whether the compiled modules are in use, and if not, why."""

    compiled: bool
    reason: str

    def describe(self) -> str:
        return "compiled (mypyc)" if self.compiled else f"pure Python ({self.reason})"


def source_path(module: str) -> Path:
    """The `.py` file of one of NATIVE_MODULES."""
    return SOURCE_ROOT.joinpath(*module.split(".")).with_suffix(".py")


def source_hashes() -> dict[str, str]:
    """sha256 of each native module's source, by module name."""
    return {
        module: hashlib.sha256(source_path(module).read_bytes()).hexdigest()
        for module in NATIVE_MODULES
    }


def compiled_files() -> list[Path]:
    """Every extension module under the package (any interpreter) and the shared library."""
    return _extensions_under_package() + sorted(
        path for pattern in _EXTENSION_GLOBS for path in SOURCE_ROOT.glob(GROUP_NAME + pattern)
    )


# Extension modules end in .so (Linux, macOS) or .pyd (Windows), after an ABI tag.
_EXTENSION_GLOBS = ("__mypyc*.so", "__mypyc*.pyd")


def _extensions_under_package() -> list[Path]:
    return sorted([*PACKAGE_DIR.rglob("*.so"), *PACKAGE_DIR.rglob("*.pyd")])


def _shadowed_sources(*, keep_native: bool) -> dict[str, Path]:
    """Modules whose `.py` an extension file beside it would shadow, by module name.

    With `keep_native`, the modules of a valid build are left out: only stray
    extensions (a module no longer in NATIVE_MODULES) are listed.
    """
    shadowed: dict[str, Path] = {}
    for extension in _extensions_under_package():
        source = extension.with_name(extension.name.split(".", 1)[0] + ".py")
        module = ".".join(source.relative_to(SOURCE_ROOT).with_suffix("").parts)
        if source.is_file() and not (keep_native and module in NATIVE_MODULES):
            shadowed[module] = source
    return shadowed


def manifest_path() -> Path:
    return PACKAGE_DIR / MANIFEST_NAME


def read_manifest() -> dict[str, object] | None:
    try:
        loaded = json.loads(manifest_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def assess() -> NativeState:
    """Whether the compiled modules can be used as they are on disk (imports nothing)."""
    if os.environ.get(SWITCH_VARIABLE, "").strip().lower() in {"0", "off", "false", "no"}:
        return NativeState(False, f"{SWITCH_VARIABLE}=off")
    manifest = read_manifest()
    if manifest is None:
        return NativeState(False, f"not built; {REBUILD}")
    if manifest.get("cache_tag") != sys.implementation.cache_tag:
        return NativeState(False, f"built for {manifest.get('cache_tag')}; {REBUILD}")
    wanted = [_extension_of(module) for module in NATIVE_MODULES] + [_group_library()]
    if not all(path.is_file() for path in wanted):
        return NativeState(False, f"compiled files missing; {REBUILD}")
    built = manifest.get("sources")
    try:
        current = source_hashes()
    except OSError as exc:
        return NativeState(False, f"sources unreadable ({exc})")
    if built != current:
        changed = sorted(
            module.rsplit(".", 1)[-1]
            for module, digest in current.items()
            if not isinstance(built, dict) or built.get(module) != digest
        )
        return NativeState(
            False, f"sources changed since the build ({', '.join(changed)}); {REBUILD}"
        )
    return NativeState(True, "")


def _extension_of(module: str) -> Path:
    return source_path(module).with_suffix(importlib.machinery.EXTENSION_SUFFIXES[0])


def _group_library() -> Path:
    """The shared library every compiled module of the group imports."""
    return SOURCE_ROOT / (GROUP_NAME + "__mypyc" + importlib.machinery.EXTENSION_SUFFIXES[0])


class _PureSourceFinder(importlib.abc.MetaPathFinder):
    """Loads the given modules from their `.py` files even where a compiled file sits beside them."""

    def __init__(self, sources: dict[str, Path]) -> None:
        self.sources = sources

    def find_spec(
        self,
        fullname: str,
        path: object = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        source = self.sources.get(fullname)
        if source is None:
            return None
        return importlib.util.spec_from_file_location(fullname, source)


_state: NativeState | None = None


def guard() -> NativeState:
    """Decide once per process whether NATIVE_MODULES load compiled or from source."""
    global _state
    if _state is None:
        _state = assess()
        shadowed = _shadowed_sources(keep_native=_state.compiled)
        if shadowed:
            sys.meta_path.insert(0, _PureSourceFinder(shadowed))
    return _state


def state() -> NativeState:
    """What `guard` decided, corrected by what really loaded."""
    decided = guard()
    loaded = sys.modules.get("loglens.parsing.formats")
    if decided.compiled and loaded is not None and str(loaded.__file__).endswith(".py"):
        return NativeState(False, "compiled files present but not loaded")
    return decided
