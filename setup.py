"""The compiled hot path: the detectors, the engine and the processor's per-event path compiled with mypyc
from the same ``.py`` files, when the machine has a C compiler (README *The compiled build*).

Everything else about the package is in pyproject.toml; this file only adds the extension modules, so a
build without a compiler, without mypy, or with ``RISKWATCH_PURE_PYTHON=1`` set is the pure-Python
package (the ``.py`` files are installed either way). A compile that fails falls back the same way, with
one line saying why: ``riskwatch --version`` then reports "pure Python", and CI fails on it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import sysconfig
from concurrent.futures import ThreadPoolExecutor
from glob import glob
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# THE list of compiled modules (the one place to update when modules move): every module of the
# packages below, plus the named files, minus the excluded ones. Pydantic models (schemas/, config/)
# stay interpreted: mypyc cannot compile them (mypyc#1025, a crash on a PlainSerializer lambda).
COMPILED_PACKAGES = ["detectors"]
COMPILED_FILES = ["schemas/fast_events.py", "streams/processor.py", "streams/redaction.py"]
NOT_COMPILED = ["detectors/__init__.py"]  # a compiled package __init__ re-enters its shared library

# The shared library of the group lands inside the detectors package (detectors/riskwatch__mypyc.*.so),
# where an editable install's import hook finds it (at the repository root it would not).
GROUP_NAME = "detectors.riskwatch"
# Written beside the shared library: each compiled module's source digest, so a stale build (a .py
# edited after the build, typical of an editable install) is detected (streams/build_info.py).
MANIFEST_NAME = "riskwatch__mypyc.sources.json"
PURE_ENV = "RISKWATCH_PURE_PYTHON"
BUILD_DIR = os.path.join("build", "mypyc")


def compiled_sources() -> list[str]:
    paths = {p for pkg in COMPILED_PACKAGES for p in glob(f"{pkg}/*.py")} | set(COMPILED_FILES)
    return sorted(p for p in paths if Path(p).exists() and p not in NOT_COMPILED)


def _say(message: str) -> None:
    print(f"riskwatch build: {message}", file=sys.stderr)


def _compiler_found() -> bool:
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    return bool(cc) and shutil.which(cc[0]) is not None


def remove_inplace_extensions() -> None:
    """Compiled modules an earlier editable build left beside the sources (Python would import them
    before the .py files): removed before an editable build copies new ones, and by a pure build, so
    switching builds, moving a module or dropping it from the list leaves nothing stale behind."""
    for package in {p.split("/")[0] for p in glob("*/__init__.py")}:
        for path in Path(package).rglob("*"):
            parts = path.name.split(".")
            if (
                len(parts) == 3
                and parts[2] in ("so", "pyd")
                and (path.with_name(f"{parts[0]}.py").exists() or parts[0].endswith("__mypyc"))
            ):
                path.unlink()
        Path(package, MANIFEST_NAME).unlink(missing_ok=True)


def _remove_if_editable() -> None:
    # only an editable install imports from the source tree (a pure wheel built here must leave an
    # editable install's compiled modules alone)
    if "editable_wheel" in sys.argv:
        remove_inplace_extensions()


def _source_digests(paths: list[str]) -> dict[str, str]:
    return {p: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths}


class BuildExtOrPure(build_ext):
    """build_ext that compiles the group's C files two at a time (one extension holds nearly all the
    code, and distutils compiles an extension's files one after another), writes the source manifest
    beside the shared library, and falls back to the pure-Python package when the compile fails."""

    def finalize_options(self) -> None:
        # mypyc runs here, not when setup.py is loaded: loading it also answers metadata queries
        if self.distribution.ext_modules:
            self.distribution.ext_modules = mypyc_extensions()
        super().finalize_options()

    def run(self) -> None:
        if self._in_source_tree():
            # also when mypyc failed and left no extension: an earlier build's modules would be stale
            remove_inplace_extensions()
        if not self.extensions:
            return
        try:
            super().run()
        except Exception as exc:  # a compiler that is missing, broken or out of memory: pure Python
            _say(f"compiling with mypyc failed ({exc}); installing the pure-Python modules")
            self._remove_partial_outputs()
            if self._in_source_tree():
                remove_inplace_extensions()
            self.extensions = []
            return
        self._write_manifest()

    def _in_source_tree(self) -> bool:
        return bool(getattr(self, "editable_mode", False) or self.inplace)

    def build_extension(self, ext: Any) -> None:
        compiler = self.compiler
        original = compiler.compile

        def compile_parallel(sources: list[str], *args: Any, **kwargs: Any) -> list[str]:
            if len(sources) < 2:
                return list(original(sources, *args, **kwargs))
            jobs = max(1, min(len(sources), os.cpu_count() or 1))
            with ThreadPoolExecutor(jobs) as pool:
                parts = pool.map(lambda s: original([s], *args, **kwargs), sources)
                return [obj for objs in parts for obj in objs]

        compiler.compile = compile_parallel
        try:
            super().build_extension(ext)
        finally:
            compiler.compile = original

    def _shared_lib_path(self) -> Path:
        return Path(self.get_ext_fullpath(f"{GROUP_NAME}__mypyc"))

    def _write_manifest(self) -> None:
        sources = compiled_sources()
        manifest = json.dumps({"compiler": "mypyc", "sources": _source_digests(sources)}, indent=1)
        targets = {self._shared_lib_path().parent}
        if self._in_source_tree():
            targets.add(Path(GROUP_NAME.split(".")[0]))  # the source tree, where the .so files are copied
        for target in targets:
            target.mkdir(parents=True, exist_ok=True)
            (target / MANIFEST_NAME).write_text(manifest + "\n")

    def _remove_partial_outputs(self) -> None:
        for ext in self.extensions:
            Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)


def extension_modules() -> list[Any]:
    """A placeholder for the compiled group (build_ext replaces it), or none for the pure build."""
    if os.environ.get(PURE_ENV, "").strip() not in ("", "0"):
        _say(f"{PURE_ENV} is set: installing the pure-Python modules")
        _remove_if_editable()
        return []
    if not _compiler_found():
        _say("no C compiler found: installing the pure-Python modules")
        _remove_if_editable()
        return []
    return [Extension(f"{GROUP_NAME}__mypyc", sources=[])]


def mypyc_extensions() -> list[Any]:
    try:
        from mypyc.build import mypycify
    except ImportError:
        _say("mypy (mypyc) is not installed: installing the pure-Python modules")
        return []
    try:
        extensions = list(
            mypycify(
                compiled_sources(),
                opt_level="3",
                group_name=GROUP_NAME,
                multi_file=True,
                target_dir=BUILD_DIR,
            )
        )
    except (Exception, SystemExit) as exc:  # mypyc's own failure (a type error it reports, a crash)
        _say(f"mypyc could not translate the modules ({exc}); installing the pure-Python modules")
        return []
    # with a dotted group name mypyc writes the group's header under BUILD_DIR/detectors/ but the
    # per-module C files (multi_file) under BUILD_DIR/, which include it by its bare name
    group_dir = os.path.join(BUILD_DIR, *GROUP_NAME.split(".")[:-1])
    for ext in extensions:
        if ext.name == f"{GROUP_NAME}__mypyc":
            ext.include_dirs.append(group_dir)
    return extensions


setup(ext_modules=extension_modules(), cmdclass={"build_ext": BuildExtOrPure})
