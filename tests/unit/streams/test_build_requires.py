"""mypyc type-checks the compiled modules and everything they import, in pip's isolated build environment:
a third-party package they reach that ``[build-system] requires`` does not bring makes mypyc fail, and the
build quietly falls back to pure Python (zstandard did, when the state codec started to import it). This
holds the list complete, statically, without building."""

from __future__ import annotations

import ast
import contextlib
import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PROJECT = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}


def compiled_sources() -> list[str]:
    """setup.py's own list (its COMPILED_PACKAGES, COMPILED_FILES, NOT_COMPILED), read without running it."""
    lists = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse((ROOT / "setup.py").read_text()).body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id in ("COMPILED_PACKAGES", "COMPILED_FILES", "NOT_COMPILED")
    }
    paths = {
        str(p.relative_to(ROOT)) for pkg in lists["COMPILED_PACKAGES"] for p in (ROOT / pkg).glob("*.py")
    }
    paths |= set(lists["COMPILED_FILES"])
    return sorted(paths - set(lists["NOT_COMPILED"]))


def _name(requirement: str) -> str:
    return re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def reached_third_party(sources: list[str]) -> set[str]:
    """Top-level third-party modules imported by the sources or by any project module they import."""
    todo, seen, third = [ROOT / s for s in sources], set(), set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imports(path):
            top = module.split(".")[0]
            if top in PROJECT:
                parts = module.split(".")
                candidates = [ROOT.joinpath(*parts).with_suffix(".py"), ROOT.joinpath(*parts, "__init__.py")]
                todo += [c for c in candidates if c.exists()]
            elif top not in sys.stdlib_module_names and top != "__future__":
                third.add(top)
    return third


def provided_by(requirements: list[str]) -> set[str]:
    """The distributions the requirements install, with their own dependencies."""
    todo, have = [_name(r) for r in requirements], set()
    while todo:
        name = todo.pop()
        if name in have:
            continue
        have.add(name)
        with contextlib.suppress(PackageNotFoundError):
            todo += [_name(r) for r in requires(name) or [] if "extra ==" not in r]
    return have


def missing_build_requires(sources: list[str], requirements: list[str]) -> set[str]:
    dists = packages_distributions()
    have = provided_by(requirements)
    return {
        top for top in reached_third_party(sources) if not {_name(d) for d in dists.get(top, [top])} & have
    }


def test_every_package_the_compiled_modules_reach_is_a_build_requirement() -> None:
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    assert missing_build_requires(compiled_sources(), build) == set()


def test_the_check_catches_a_missing_one() -> None:
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    without = [r for r in build if _name(r) != "zstandard"]
    assert missing_build_requires(compiled_sources(), without) == {"zstandard"}
