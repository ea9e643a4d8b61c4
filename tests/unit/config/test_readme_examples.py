"""The README's settings example is real: it loads, and the values land where the README says."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from config.settings import load_settings

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_toml_example_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(), re.S)
    assert blocks, "the README lost its settings example"
    path = tmp_path / "riskwatch.toml"
    path.write_text(blocks[0])
    for name in [n for n in os.environ if n.startswith("RISKWATCH_")]:
        monkeypatch.delenv(name)
    settings = load_settings(path)
    assert settings.kafka.security_protocol == "SASL_SSL"
    assert settings.kafka.sasl_mechanism == "SCRAM-SHA-512"
    assert settings.topics.transactions == "core.transactions.v1"
    assert settings.detection.velocity_spike.min_window_count.for_tier("high") == 10
    assert settings.detection.contact_hash_key.get_secret_value() == "load-me-from-a-secret"
    assert str(settings.detection.large_value.cash_threshold_base) == "50000"
