"""The compiled build gives what the pure-Python build gives: ``riskwatch replay`` of a generated stream,
once as installed and once with the compiled modules hidden (their ``.py`` files imported instead),
writes identical alerts (but for ``detected_at``, the wall clock), tier history, reviews and dead letters
(but for ``received_at``), line for line. On a pure install both runs are pure."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scenarios.malformed import malformed_lines
from streams.build_info import build_in_use

# Runs the riskwatch command with the project's packages imported from source only: a path hook ahead of
# the default one offers no extension loader for their directories (found without importing them).
PURE_RUNNER = """
import importlib.machinery as m, importlib.util, sys
from pathlib import Path
from typing import Any

dirs = {
    str(Path(p).resolve())
    for name in ("detectors", "schemas", "streams")
    for p in importlib.util.find_spec(name).submodule_search_locations
}
source_only = m.FileFinder.path_hook((m.SourceFileLoader, m.SOURCE_SUFFIXES))

def hook(path):
    if str(Path(path).resolve()) in dirs:
        return source_only(path)
    raise ImportError(path)

sys.path_hooks.insert(0, hook)
sys.path_importer_cache.clear()
from streams.cli import main
code = main(sys.argv[1:])
engine = sys.modules["detectors.engine"].__spec__.origin
sys.exit(code if engine.endswith(".py") else f"pure run imported {engine}")
"""


GENERATE = [
    sys.executable,
    "-m",
    "streams.cli",
    "generate",
    "--customers",
    "60",
    "--days",
    "30",
    "--seed",
    "12",
]


def _replay(events: Path, out: Path, *, pure: bool) -> list[list[Any]]:
    out.mkdir()
    files = [out / name for name in ("alerts.jsonl", "risk.jsonl", "reviews.jsonl", "dead.jsonl")]
    alerts, risk, reviews, dead = files
    args = ["replay", str(events), "--quiet", "--alerts-out", str(alerts)]
    args += ["--risk-out", str(risk), "--reviews-out", str(reviews), "--dead-letter-out", str(dead)]
    command = (
        [sys.executable, "-c", PURE_RUNNER, *args] if pure else [sys.executable, "-m", "streams.cli", *args]
    )
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return [[_without_wall_clock(line) for line in f.read_bytes().splitlines()] for f in files]


def _without_wall_clock(line: bytes) -> Any:
    message = json.loads(line)
    message.pop("detected_at", None)
    message.pop("received_at", None)
    return message


@pytest.mark.slow
def test_compiled_and_pure_replay_give_the_same_bytes(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    generated = subprocess.run(
        [*GENERATE, "--out", str(events)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    # malformed lines among the events: the dead letters' texts must match too (the compiled build takes
    # the parse shortcut of schemas/fast_events.py for what it recognises, the pure one validates all)
    lines = events.read_text().splitlines()
    lines[len(lines) // 2 : len(lines) // 2] = malformed_lines(random.Random(3), json.loads(lines[-1]), 24)
    events.write_text("\n".join(lines) + "\n")
    installed = _replay(events, tmp_path / "installed", pure=False)
    pure = _replay(events, tmp_path / "pure", pure=True)
    assert len(installed[0]) > 10, "the stream must raise alerts for the comparison to mean much"
    assert len(installed[3]) == 24
    assert installed == pure, f"{build_in_use().describe()} and pure Python replays differ"
