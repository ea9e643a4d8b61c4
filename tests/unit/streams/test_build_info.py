"""Which build runs (README *The compiled build*): ``riskwatch --version`` tells it, CI fails unless it is
the compiled one, and a compiled build older than its sources is caught."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from pathlib import Path

import pytest

from streams.build_info import build_in_use, is_extension, manifest_path, stale_line, stale_sources
from streams.cli import main

# .ci/run sets "compiled"; a developer may set "pure" after `RISKWATCH_PURE_PYTHON=1 pip install -e .`
EXPECTED = os.environ.get("RISKWATCH_EXPECT_BUILD", "")


def test_the_build_ci_expects_is_the_one_in_use() -> None:
    assert EXPECTED in ("", "compiled", "pure"), f"RISKWATCH_EXPECT_BUILD={EXPECTED!r}: compiled or pure"
    compiled = build_in_use().compiled
    if EXPECTED:
        assert compiled == (EXPECTED == "compiled"), f"expected the {EXPECTED} build, got {build_in_use()}"


def test_a_compiled_build_compiles_every_module_its_manifest_names() -> None:
    """No half build: with the manifest present every listed module is an extension; without it, none
    of the hot path is."""
    manifest = manifest_path()
    hot_path = ["detectors.engine", "detectors.velocity", "streams.processor"]
    if manifest is None:
        assert not build_in_use().compiled
        assert not any(is_extension(importlib.import_module(m).__spec__.origin) for m in hot_path)  # type: ignore[union-attr]
        return
    listed = json.loads(manifest.read_text())["sources"]
    assert "detectors/engine.py" in listed
    modules = [path.removesuffix(".py").replace("/", ".") for path in listed]
    interpreted = [m for m in modules if not is_extension(importlib.import_module(m).__spec__.origin)]  # type: ignore[union-attr]
    assert interpreted == []
    assert build_in_use().compiled


def test_version_names_the_build(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    build = "compiled: mypyc" if build_in_use().compiled else "pure Python"
    assert capsys.readouterr().out == f"riskwatch 0.1.0 ({build})\n"


def test_a_source_changed_after_the_build_makes_it_stale(tmp_path: Path) -> None:
    package = tmp_path / "detectors"
    package.mkdir()
    (package / "engine.py").write_text("X = 1\n")
    (package / "velocity.py").write_text("Y = 1\n")
    digests = {
        f"detectors/{name}": hashlib.sha256((package / name).read_bytes()).hexdigest()
        for name in ("engine.py", "velocity.py")
    }
    manifest = package / "riskwatch__mypyc.sources.json"
    manifest.write_text(json.dumps({"compiler": "mypyc", "sources": digests}))
    assert stale_sources(manifest) == ()
    (package / "engine.py").write_text("X = 2\n")
    (package / "velocity.py").unlink()
    stale = stale_sources(manifest)
    assert stale == ("detectors/engine.py", "detectors/velocity.py")
    line = stale_line(stale)
    assert "detectors/engine.py, detectors/velocity.py changed since the build" in line
    assert "pip install -e ." in line
