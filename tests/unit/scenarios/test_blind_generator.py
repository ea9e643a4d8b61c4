"""The generator must not know the detectors: no module under ``scenarios/`` may import riskwatch's settings,
detectors or runtime, so no pattern can be placed at a multiple of a threshold (issue 8)."""

from __future__ import annotations

import ast
from pathlib import Path

import scenarios

FORBIDDEN_MODULES = ("config", "detectors", "streams", "evaluation")
FORBIDDEN_NAMES = ("DetectionSettings", "load_settings", "__import__", "import_module")
SCENARIOS = Path(scenarios.__file__).parent


def violations(source: str, filename: str) -> list[str]:
    """Imports of riskwatch's settings/detectors/runtime and dynamic imports, as ``file:line what``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        for module in modules:
            if module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"{filename}:{node.lineno} imports {module}")
        name = (
            node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        )
        if name in FORBIDDEN_NAMES:
            found.append(f"{filename}:{getattr(node, 'lineno', 0)} uses {name}")
    return found


def test_no_scenarios_module_imports_detector_settings() -> None:
    files = sorted(SCENARIOS.rglob("*.py"))
    assert len(files) >= 8, "the scan sees the package"
    found = [v for f in files for v in violations(f.read_text(encoding="utf-8"), f.name)]
    assert not found, "scenarios/ must not know the detectors:\n" + "\n".join(found)


def test_the_scan_catches_a_violation() -> None:
    caught = [
        "from config.detection import DetectionSettings\n",
        "import config.settings\n",
        "from detectors.amount_spike import AmountSpike\n",
        "import importlib\nimportlib.import_module('config.detection')\n",
        "def f():\n    from config import load_settings\n    return load_settings()\n",
    ]
    for source in caught:
        assert violations(source, "bad.py"), source
    assert not violations("from scenarios.domain import CASH_REPORTING_LINE_CNY\nimport math\n", "ok.py")


def test_no_copy_of_the_detectors_limits_module() -> None:
    assert not (SCENARIOS / "limits.py").exists()
