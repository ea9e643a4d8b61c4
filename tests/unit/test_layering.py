"""The package layering the README promises (*Package layout*), held on every file's imports.

``schemas`` <- ``detectors`` <- ``streams`` (the production runtime) and ``offline`` (replay, evaluate);
``localdev`` (the local stack, the demo, synthetic traffic) is development tooling that the runtime never
imports; ``redis`` belongs to the read model, the workbench and the local stack, never to the worker.
The static scan sees every import, lazy ones inside functions included; the import checks in a fresh
interpreter catch what the scan cannot see (an import made by a module the scan trusts).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

KAFKA_CLIENTS = ("confluent_kafka", "faust", "aiokafka")
OUTER_PACKAGES = ("streams", "offline", "localdev", "readmodel", "server", "evaluation", "scenarios")

# package -> module prefixes none of its files may import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "schemas": ("detectors", *OUTER_PACKAGES, *KAFKA_CLIENTS, "redis", "prometheus_client"),
    "detectors": (*OUTER_PACKAGES, *KAFKA_CLIENTS, "redis", "prometheus_client"),
    "streams": ("localdev", "offline", "readmodel", "server", "evaluation", "scenarios", "redis"),
    "offline": (
        "streams.worker",
        "streams.faust_worker",
        "streams.broker",
        "streams.kafka_clients",
        "streams.emit",
        *KAFKA_CLIENTS,
        "localdev",
        "readmodel",
        "server",
        "redis",
    ),
}


def imported_modules(source: str, filename: str, package: str) -> list[tuple[int, str]]:
    """Every module a file imports, relative imports resolved against ``package`` (the file's package)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # ``from streams import worker`` imports the subpackage ``streams.worker``
            found += [(node.lineno, f"{module}.{alias.name}".lstrip(".")) for alias in node.names]
    return found


def violations(source: str, filename: str, package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{filename}:{line} imports {module}"
        for line, module in imported_modules(source, filename, package)
        if any(module == prefix or module.startswith(prefix + ".") for prefix in forbidden)
    ]


def package_violations(top: str) -> list[str]:
    files = sorted((ROOT / top).rglob("*.py"))
    assert files, f"the scan sees {top}/"
    found = []
    for path in files:
        rel = path.relative_to(ROOT)
        package = ".".join(rel.parent.parts)
        found += violations(path.read_text(encoding="utf-8"), str(rel), package, FORBIDDEN[top])
    return found


@pytest.mark.parametrize("top", sorted(FORBIDDEN))
def test_package_imports_nothing_above_it(top: str) -> None:
    assert package_violations(top) == []


def test_the_scan_catches_each_kind_of_import() -> None:
    for source in (
        "import redis\n",
        "import redis.asyncio as aioredis\n",
        "from localdev.stack import topics\n",
        "def f():\n    from offline.replay import replay_file\n",
        "from ... import localdev\n",
    ):
        assert violations(source, "bad.py", "streams.worker", FORBIDDEN["streams"]), source
    assert not violations(
        "from .. import localdev\n", "ok.py", "streams.worker", ("localdev",)
    )  # streams.localdev
    assert violations("from .stack import kafka_server\n", "bad.py", "streams", ("streams.stack",))
    assert violations("from streams import worker\n", "bad.py", "offline", FORBIDDEN["offline"])
    assert not violations(
        "from streams.processor import Processor\n", "ok.py", "offline", FORBIDDEN["offline"]
    )


def loaded_for(command: str, *modules: str) -> set[str]:
    """The modules a fresh interpreter holds once the command line has parsed ``riskwatch COMMAND`` and
    ``modules`` (what the command runs) are imported: nothing of the tests is loaded there."""
    code = (
        "import importlib, json, sys\n"
        "from streams import cli\n"
        f"cli.build_parser(cli.command_in([{command!r}]))\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(out.stdout))


def tops(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_the_worker_loads_no_redis_and_no_development_tooling() -> None:
    loaded = loaded_for("worker", "streams.worker.loop")
    assert {"streams.worker.command", "streams.worker.loop", "confluent_kafka"} <= loaded
    assert not tops(loaded) & {"redis", "localdev", "offline", "readmodel", "server", "scenarios"}


def test_replay_loads_no_kafka_runtime() -> None:
    loaded = loaded_for("replay") | loaded_for("evaluate")
    assert {"offline.replay", "offline.evaluate", "streams.processor"} <= loaded
    assert not tops(loaded) & {"confluent_kafka", "faust", "aiokafka", "redis", "localdev"}
    assert not {name for name in loaded if name.startswith(("streams.worker", "streams.faust_worker"))}


def test_help_still_lists_every_command() -> None:
    loaded = loaded_for("--help")
    assert {"localdev.stack.command", "offline.replay", "readmodel.commands.project"} <= loaded
