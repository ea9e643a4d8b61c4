"""Settings: defaults, a TOML file, RISKWATCH_* environment variables, and their precedence."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from config import load_settings
from config.settings import ConfigFileError, KafkaSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("RISKWATCH_"):
            monkeypatch.delenv(key)


def test_defaults() -> None:
    s = load_settings()
    assert s.kafka.bootstrap_servers == "127.0.0.1:19092"
    assert s.topics.all_topics()["customer-risk"] is True
    assert s.topics.all_topics()["alerts"] is False
    d = s.detection
    assert d.base_currency == "CNY"
    assert d.fx_rates_to_base["USD"] == Decimal("7.10")
    assert d.large_value.cash_threshold_base == Decimal(50000)
    assert d.large_value.reporting_timezone == "Asia/Shanghai"
    assert d.scorecard.review_interval_days == {"high": 180, "medium": 365, "low": 730}
    assert d.scorecard.industry_risk["gambling"] == "high"
    assert d.scorecard.industry_risk["retail"] == "medium"
    assert d.scorecard.industry_risk["education"] == "low"
    assert d.contact_hash_key.get_secret_value() not in repr(s)


def test_riskier_tiers_are_never_looser() -> None:
    d = load_settings().detection
    for tv in (
        d.amount_spike.min_ratio_to_median,
        d.velocity_spike.min_window_count,
        d.contact_change_burst.min_changes,
        d.structuring.min_transactions,
        d.tier_limit.per_transaction_limit_base,
        d.tier_limit.daily_limit_base,
        d.account_takeover.cold_start_min_amount_base.individual,
        d.account_takeover.cold_start_min_amount_base.corporate,
        d.amount_spike.max_required_ratio_to_median,
        d.velocity_spike.min_day_window_count,
        d.velocity_spike.day_rate_multiplier,
    ):
        assert tv.high <= tv.medium <= tv.low
    # a larger budget of false alerts is a looser test: riskier tiers get the larger one
    budget = d.sustained_shift.false_alert_budget_per_check
    assert budget.high >= budget.medium >= budget.low


def test_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKWATCH_KAFKA__BOOTSTRAP_SERVERS", "broker:9092")
    assert load_settings().kafka.bootstrap_servers == "broker:9092"
    assert load_settings().kafka.client_config()["bootstrap.servers"] == "broker:9092"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "riskwatch.toml"
    path.write_text(text)
    return path


def test_toml_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[kafka]\nbootstrap_servers = "file:1"\n\n[detection.large_value]\ncash_threshold_base = "60000"\n',
    )
    s = load_settings(path)
    assert s.kafka.bootstrap_servers == "file:1"
    assert s.detection.large_value.cash_threshold_base == Decimal(60000)
    assert s.detection.large_value.reporting_timezone == "Asia/Shanghai"  # untouched defaults stay


def test_config_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKWATCH_CONFIG", str(write(tmp_path, '[kafka]\nbootstrap_servers = "viaenv:1"\n')))
    assert load_settings().kafka.bootstrap_servers == "viaenv:1"


def test_env_beats_file_and_init_beats_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[kafka]\nbootstrap_servers = "file:1"\nclient_id = "from-file"\n')
    monkeypatch.setenv("RISKWATCH_KAFKA__BOOTSTRAP_SERVERS", "env:2")
    s = load_settings(path)
    assert s.kafka.bootstrap_servers == "env:2"
    assert s.kafka.client_id == "from-file"
    assert load_settings(path, worker={"log_level": "DEBUG"}).worker.log_level == "DEBUG"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_unknown_keys_and_bad_bands_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        load_settings(write(tmp_path, "[kafka]\nbootstrap_server = 'typo'\n"))
    with pytest.raises(ValidationError):
        load_settings(write(tmp_path, "[detection.scorecard]\nhigh_tier_min_score = 10\n"))


def test_worker_runtime_defaults_to_confluent_and_faust_is_selectable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert load_settings().worker.runtime == "confluent"
    monkeypatch.setenv("RISKWATCH_WORKER__RUNTIME", "faust")
    assert load_settings().worker.runtime == "faust"
    monkeypatch.delenv("RISKWATCH_WORKER__RUNTIME")
    assert load_settings(write(tmp_path, '[worker]\nruntime = "faust"\n')).worker.runtime == "faust"
    monkeypatch.setenv("RISKWATCH_WORKER__RUNTIME", "kafka-streams")
    with pytest.raises(ValidationError):
        load_settings()


def test_erasure_bound_sets_the_compacted_topics() -> None:
    """The bound reaches the broker as the forced-compaction lag and segment age; the minimum lag never
    exceeds it (the broker would refuse the topic)."""
    production = KafkaSettings().compacted_topic_config()
    assert production == {
        "cleanup.policy": "compact",
        "max.compaction.lag.ms": "86400000",
        "segment.ms": "86400000",
        "min.compaction.lag.ms": "60000",
    }
    short = KafkaSettings(erasure_max_compaction_lag_ms=3000).compacted_topic_config()
    assert short["max.compaction.lag.ms"] == short["min.compaction.lag.ms"] == "3000"
    with pytest.raises(ValidationError):
        KafkaSettings(erasure_max_compaction_lag_ms=0)
