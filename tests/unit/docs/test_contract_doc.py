"""docs/contract.md is the project's description of its wire contract: its field tables must match the
pydantic models (names and required/optional), its topic table the settings, its detector table the
registry, and the README must link it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from config.settings import TopicSettings
from schemas import events, outputs
from schemas.outputs import DETECTOR_NAMES

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "contract.md").read_text()

MODELS: dict[str, type[BaseModel]] = {
    "Transaction": events.Transaction,
    "ContactChange": events.ContactChange,
    "CustomerProfile": events.CustomerProfile,
    "RiskOverride": events.RiskOverride,
    "ReviewCompleted": events.ReviewCompleted,
    "ErasureRequest": events.ErasureRequest,
    "Alert": outputs.Alert,
    "CustomerRisk": outputs.CustomerRisk,
    "ReviewDue": outputs.ReviewDue,
    "AlertDisposition": outputs.AlertDisposition,
    "DeadLetter": outputs.DeadLetter,
}


def _section(title_pattern: str) -> str:
    match = re.search(rf"^##+ {title_pattern}.*?$(.*?)(?=^##+ |\Z)", DOC, re.M | re.S)
    assert match, f"no section {title_pattern!r} in docs/contract.md"
    return match.group(1)


def _table(section: str) -> list[list[str]]:
    """The rows of the first table in a section, cells stripped, header and rule dropped."""
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows[2:]]


def _name(cell: str) -> str:
    return cell.strip("`")


@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_documented_fields_match_the_model(model_name: str) -> None:
    model = MODELS[model_name]
    rows = _table(_section(rf"Model `{model_name}`"))
    documented = {_name(r[0]): r[2] for r in rows}
    assert set(documented) == set(model.model_fields), (
        f"{model_name}: documented but not in the model {sorted(set(documented) - set(model.model_fields))}, "
        f"in the model but not documented {sorted(set(model.model_fields) - set(documented))}"
    )
    for field, required in documented.items():
        expected = "yes" if model.model_fields[field].is_required() else "no"
        assert required == expected, f"{model_name}.{field}: documented required={required}, model {expected}"


def test_every_topic_setting_is_documented_with_its_default_name() -> None:
    rows = _table(_section("Topics"))
    documented = {_name(r[1]): _name(r[0]) for r in rows}
    defaults = TopicSettings()
    settings = {n for n in TopicSettings.model_fields if n not in ("partitions", "replication_factor")}
    assert set(documented) == settings
    assert all(getattr(defaults, setting) == name for setting, name in documented.items())
    compacted = {setting for setting, row in zip(documented, rows, strict=True) if "compacted" in row[4]}
    assert compacted == set(TopicSettings.COMPACTED)


def test_every_implemented_detector_is_documented() -> None:
    rows = _table(_section("Detectors"))
    implemented = {_name(r[0]) for r in rows if r[1] == "implemented"}
    assert implemented == set(DETECTOR_NAMES)
    assert "sustained_shift" in {_name(r[0]) for r in rows}  # contract 1.1, stated as not yet built


def test_the_readme_links_the_projects_contract_not_a_path_outside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "(docs/contract.md)" in readme
    assert "../shared/contract.md" not in readme
