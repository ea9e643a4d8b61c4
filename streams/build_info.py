"""Which build of the hot path this process runs: the mypyc-compiled modules or the pure-Python ones
(README *The compiled build*), and whether a compiled build is older than its sources.

An editable install keeps the compiled modules beside their ``.py`` files, and Python imports the
compiled one first: after a detector is edited (or a rebase changed it) the process would silently run
the old code. The build writes each compiled source's digest to a manifest beside the shared library
(setup.py); a source that no longer matches it makes the build stale, which ``riskwatch --version``,
every command and the test session say in one line.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
from dataclasses import dataclass
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

# a module every build has and every compiled build compiles: the engine
PROBE_MODULE = "detectors.engine"
MANIFEST_PACKAGE = "detectors"
MANIFEST_NAME = "riskwatch__mypyc.sources.json"  # setup.py MANIFEST_NAME
REBUILD_HINT = (
    "rebuild with `pip install -e .` (or `RISKWATCH_PURE_PYTHON=1 pip install -e .` for pure Python)"
)


@dataclass(frozen=True)
class BuildInfo:
    compiled: bool
    stale: tuple[str, ...] = ()  # compiled sources changed, moved or removed since the build

    def describe(self) -> str:
        if not self.compiled:
            return "pure Python"
        if self.stale:
            return f"compiled: mypyc, STALE: {_stale_text(self.stale)}"
        return "compiled: mypyc"


def is_extension(path: str | None) -> bool:
    return path is not None and any(path.endswith(suffix) for suffix in EXTENSION_SUFFIXES)


def build_in_use() -> BuildInfo:
    """The build of the modules this process imported (it imports the engine)."""
    probe = importlib.import_module(PROBE_MODULE)
    if not is_extension(probe.__file__):
        return BuildInfo(compiled=False)
    return BuildInfo(compiled=True, stale=stale_sources())


def manifest_path() -> Path | None:
    """The compiled build's manifest, found without importing anything (None for a pure build)."""
    spec = importlib.util.find_spec(MANIFEST_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / MANIFEST_NAME
    return path if path.is_file() else None


def stale_sources(manifest: Path | None = None) -> tuple[str, ...]:
    """The manifest's sources (paths relative to the directory holding the packages) whose content
    differs from what was compiled, or that are gone."""
    manifest = manifest if manifest is not None else manifest_path()
    if manifest is None:
        return ()
    try:
        digests: dict[str, str] = json.loads(manifest.read_text())["sources"]
    except (OSError, ValueError, KeyError, TypeError):
        return (str(manifest),)
    root = manifest.parent.parent
    stale = []
    for relative, digest in sorted(digests.items()):
        source = root / relative
        try:
            current = hashlib.sha256(source.read_bytes()).hexdigest()
        except OSError:
            current = ""
        if current != digest:
            stale.append(relative)
    return tuple(stale)


def stale_line(stale: tuple[str, ...]) -> str:
    """The one line a command prints when the compiled modules are older than their sources."""
    return f"the compiled modules are older than their sources ({_stale_text(stale)}) — {REBUILD_HINT}"


def _stale_text(stale: tuple[str, ...]) -> str:
    shown = ", ".join(stale[:3])
    more = f" and {len(stale) - 3} more" if len(stale) > 3 else ""
    return f"{shown}{more} changed since the build"
