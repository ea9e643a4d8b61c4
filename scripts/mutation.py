"""Mutation testing of the detection core, run by hand (not in CI): README *Tests*.

    .venv/bin/python scripts/mutation.py [MODULE ...] [--max-children N]

Each module of ``detectors/`` named below is mutated by mutmut (a ``<`` made ``<=``, a constant moved by
one, a condition or a branch swapped, ...) and every mutant is run against that module's OWN unit tests
only, so a run takes minutes, not hours, on a shared 2-core box, and the figure says what those tests
catch (the contract suite and the slow hypothesis properties guard other things: determinism, round trips,
bounded state). Each module runs in its own scratch copy of the worktree (``--work``), because mutmut
reads its settings from ``pyproject.toml`` and writes a ``mutants/`` tree where it runs; the repository is
never touched. A survivor is shown with ``mutmut show NAME`` from ``<work>/<module>``.

Needs the dev extra (mutmut) and a PURE install (``RISKWATCH_PURE_PYTHON=1``): a compiled build would run
the compiled detectors, never the mutants.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNIT = "tests/unit/detectors"

# module of detectors/ -> its own unit tests (the killers); a detector's class docstring example is one of
# its tests (test_docstrings.py runs it in CI)
EXAMPLES = "test_docstrings.py"
KILLERS: dict[str, list[str]] = {
    "amount_spike": ["test_amount_spike.py", EXAMPLES],
    "velocity": ["test_velocity.py", EXAMPLES],
    "contact_burst": ["test_contact_burst.py", EXAMPLES],
    "account_takeover": ["test_account_takeover.py", EXAMPLES],
    "structuring": ["test_structuring.py", EXAMPLES],
    "large_value": ["test_large_value.py", EXAMPLES],
    "tier_limit": ["test_tier_limit.py", EXAMPLES],
    "sustained_shift": ["test_sustained_shift.py", EXAMPLES],
    "shift_runs": ["test_sustained_shift.py"],
    "shift_state": ["test_sustained_shift.py"],
    "beta_binomial": ["test_sustained_shift.py"],
    "window": ["test_window.py"],
    "excess_cusum": ["test_excess_cusum.py"],
    "riskbook": ["test_riskbook.py"],
    "scorecard": ["test_scorecard.py", "test_profile_set.py"],
    "money": ["test_large_value.py", "test_tier_limit.py", "test_structuring.py", "test_bounded_input.py"],
    "state_codec": ["test_state_codec.py"],
}


def mutmut_section(module: str) -> str:
    tests = [f"{UNIT}/{name}" for name in KILLERS[module]]
    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["detectors"]\n'
        f'only_mutate = ["detectors/{module}.py"]\n'
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider"]\n'
        'also_copy = ["conftest.py"]\n'
    )


# mutmut (3.7, and 3.8) reads ``item._nodeid``, which pytest 9 no longer has: give it back, in the scratch
# copy only
NODEID_SHIM = """def pytest_collection_modifyitems(items):
    for item in items:
        item._nodeid = item.nodeid
"""


def prepare(work: Path, module: str, root: Path) -> None:
    """A fresh scratch copy: the detectors, the tests and pyproject.toml with mutmut's section for
    ``module`` appended (the other packages are imported from the editable install)."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*__mypyc.sources.json")
    shutil.copytree(root / "detectors", work / "detectors", ignore=ignore)
    shutil.copytree(root / "tests", work / "tests", ignore=ignore)
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    (work / "pyproject.toml").write_text(pyproject + mutmut_section(module), encoding="utf-8")
    (work / "conftest.py").write_text(NODEID_SHIM, encoding="utf-8")


@dataclass
class Result:
    module: str
    counts: dict[str, int]  # mutmut's figures: total, killed, survived, no_tests, timeout, ...
    survivors: list[str]

    def row(self) -> str:
        c = self.counts
        other = c["total"] - c["killed"] - c["survived"] - c["no_tests"]
        return (
            f"| {self.module} | {c['total']} | {c['killed']} | {c['survived']} | {c['no_tests']} | {other} |"
        )


def run(module: str, work: Path, max_children: int, root: Path) -> Result:
    prepare(work, module, root)
    env = {**os.environ, "RISKWATCH_EXPECT_BUILD": "pure"}
    mutmut = [sys.executable, "-m", "mutmut"]
    log = work / "mutmut.log"
    with log.open("w", encoding="utf-8") as out:
        for command in (["run", "--max-children", str(max_children)], ["export-cicd-stats"]):
            subprocess.run([*mutmut, *command], cwd=work, env=env, stdout=out, stderr=out, check=False)  # noqa: S603
    stats_file = work / "mutants" / "mutmut-cicd-stats.json"
    if not stats_file.exists():
        sys.exit(f"mutmut did not finish for {module}: see {log}")
    listing = subprocess.run(  # noqa: S603
        [*mutmut, "results"], cwd=work, env=env, capture_output=True, text=True, check=False
    ).stdout
    survivors = [line.split(":")[0].strip() for line in listing.splitlines() if line.endswith(": survived")]
    return Result(module, json.loads(stats_file.read_text(encoding="utf-8")), survivors)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"default: all of {', '.join(KILLERS)}")
    parser.add_argument("--max-children", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "riskwatch-mutation")
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="the tree whose detectors/ and tests/ are taken (default: this one)",
    )
    args = parser.parse_args()
    unknown = [m for m in args.modules if m not in KILLERS]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; known: {', '.join(KILLERS)}")
    results = []
    for module in args.modules or list(KILLERS):
        result = run(module, args.work / module, args.max_children, args.root)
        results.append(result)
        print(f"{module}: {len(result.survivors)} survived (mutmut show NAME in {args.work / module})")
        for name in result.survivors:
            print(f"    {name}")
    print("\n| module | mutants | killed | survived | not run by its tests | other (timeout, ...) |")
    print("|---|---|---|---|---|---|")
    for result in results:
        print(result.row())


if __name__ == "__main__":
    main()
