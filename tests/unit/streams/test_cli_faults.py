"""Faults and mistakes met with ONE line ``riskwatch: <cause> — <fix>`` and the exit code the README lists,
run as a user runs them: the ``riskwatch`` command in a subprocess. None of these needs Kafka or Redis (a
broker that is never there is 127.0.0.1:1); the faults that need a live broker are in
``tests/integration/test_fault_lines.py``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from streams.cli import main
from streams.errors import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_FENCED,
    EXIT_INTERRUPTED,
    EXIT_LOCAL,
    EXIT_REFUSED,
    EXIT_TOPICS,
    EXIT_UNREACHABLE,
)
from streams.worker.instance import acquire_instance_id

SECRET = {"RISKWATCH_DETECTION__CONTACT_HASH_KEY": "a-test-secret-not-the-public-one"}
NO_BROKER = {"RISKWATCH_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1", "RISKWATCH_KAFKA__BROKER_WAIT_SECONDS": "0"}


def riskwatch(tmp_path: Path, *argv: str, **env: str) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RISKWATCH_")}
    clean["XDG_STATE_HOME"] = str(tmp_path / "state")
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", *argv],
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stderr


def one_line(stderr: str) -> str:
    """The single line a fault prints; fails on a traceback or any other output."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("riskwatch: "), stderr
    assert " — " in lines[0], f"no fix after the cause: {stderr}"
    return lines[0]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.toml", "[kafka\nbootstrap_servers = 1\n", "bad.toml is not valid TOML"),
        ("bad.json", '{"kafka": ', "bad.json is not valid JSON"),
        ("typo.toml", '[kafka]\nbootstrap_server = "b:9092"\n', "did you mean kafka.bootstrap_servers?"),
        ("type.toml", '[worker]\nbatch_max_events = "many"\n', "worker.batch_max_events in settings file"),
    ],
)
def test_bad_settings_file_is_one_line_naming_file_and_key(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    (tmp_path / name).write_text(text)
    code, err = riskwatch(tmp_path, "--config", name, "worker", **SECRET)
    assert code == EXIT_CONFIG
    line = one_line(err)
    assert expected in line
    assert name in line


def test_missing_settings_file(tmp_path: Path) -> None:
    code, err = riskwatch(
        tmp_path, "replay", "x.jsonl", "--alerts-out", "a.jsonl", RISKWATCH_CONFIG="no.toml"
    )
    assert code == EXIT_CONFIG
    assert "settings file no.toml does not exist" in one_line(err)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"RISKWATCH_WORKER__BATCH_MAX_EVENTS": "abc"},
            "environment variable RISKWATCH_WORKER__BATCH_MAX_EVENTS",
        ),
        ({"RISKWATCH_KAFKA__BOOTSTRAP_SERVER": "b:1"}, "unknown setting kafka.bootstrap_server"),
        (
            {"RISKWATCH_DETECTION__FX_RATES_TO_BASE": "{oops"},
            "RISKWATCH_DETECTION__FX_RATES_TO_BASE is not valid JSON",
        ),
        (
            {"RISKWATCH_KAFKA_BOOTSTRAP_SERVERS": "b:1"},
            "unknown environment variable RISKWATCH_KAFKA_BOOTSTRAP_SERVERS names no setting — did you mean "
            "RISKWATCH_KAFKA__BOOTSTRAP_SERVERS?",
        ),
    ],
)
def test_bad_environment_variable_is_one_line_naming_it(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    code, err = riskwatch(tmp_path, "worker", **SECRET, **env)
    assert code == EXIT_CONFIG
    assert expected in one_line(err)


def test_a_redis_url_the_client_cannot_read_is_named_not_echoed(tmp_path: Path) -> None:
    code, err = riskwatch(tmp_path, "customers", RISKWATCH_REDIS__URL="secret-password@redis:6379")
    assert code == EXIT_CONFIG
    line = one_line(err)
    assert "redis.url in environment variable RISKWATCH_REDIS__URL" in line
    assert "redis://" in line
    assert "secret-password" not in line


def test_dict_setting_keys_in_the_environment_are_not_unknown(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("")
    code, err = riskwatch(
        tmp_path, "replay", str(events), "--alerts-out", "a.jsonl", "--quiet",
        RISKWATCH_DETECTION__FX_RATES_TO_BASE__USD="7.2",
    )  # fmt: skip
    assert (code, err) == (0, "")


def test_output_in_a_missing_folder(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("")
    code, err = riskwatch(tmp_path, "replay", str(events), "--alerts-out", "no/such/dir/a.jsonl")
    assert code == EXIT_LOCAL
    assert "no/such/dir/a.jsonl" in one_line(err)


def test_taken_metrics_port(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        code, err = riskwatch(tmp_path, "worker", "--metrics-port", str(port), **SECRET, **NO_BROKER)
    assert code == EXIT_LOCAL
    line = one_line(err)
    assert f"metrics port {port}" in line
    assert "RISKWATCH_WORKER__METRICS_PORT" in line


def test_unreachable_broker(tmp_path: Path) -> None:
    code, err = riskwatch(tmp_path, "worker", "--metrics-port", "0", **SECRET, **NO_BROKER)
    assert code == EXIT_UNREACHABLE
    line = one_line(err)
    assert "cannot reach Kafka at 127.0.0.1:1" in line
    assert "RISKWATCH_KAFKA__BOOTSTRAP_SERVERS" in line


def test_stack_topics_against_a_wrong_broker_says_so(tmp_path: Path) -> None:
    code, err = riskwatch(tmp_path, "stack", "topics", **NO_BROKER)
    assert code == EXIT_UNREACHABLE
    assert "cannot reach Kafka at 127.0.0.1:1 while creating topics" in one_line(err)


def test_public_hash_key_refused_against_a_remote_broker(tmp_path: Path) -> None:
    code, err = riskwatch(tmp_path, "worker", RISKWATCH_KAFKA__BOOTSTRAP_SERVERS="kafka.example:9092")
    assert code == EXIT_REFUSED
    line = one_line(err)
    assert "detection.contact_hash_key is the built-in public key" in line
    assert "RISKWATCH_DETECTION__CONTACT_HASH_KEY" in line


def test_public_hash_key_warned_about_locally(tmp_path: Path) -> None:
    code, err = riskwatch(tmp_path, "worker", "--metrics-port", "0", **NO_BROKER)
    assert code == EXIT_UNREACHABLE
    assert "built-in PUBLIC key" in err.splitlines()[0]


def test_faust_runtime_refused_without_the_experimental_ack(tmp_path: Path) -> None:
    code, err = riskwatch(
        tmp_path, "worker", "--metrics-port", "0", RISKWATCH_WORKER__RUNTIME="faust", **SECRET, **NO_BROKER
    )
    assert code == EXIT_REFUSED
    assert "RISKWATCH_WORKER__FAUST_EXPERIMENTAL_ACK=true" in one_line(err)


def test_instance_id_in_use_on_this_host_is_refused_naming_the_process(tmp_path: Path) -> None:
    held = acquire_instance_id("riskwatch", "w-1", tmp_path / "state" / "riskwatch")
    try:
        code, err = riskwatch(tmp_path, "worker", "--instance-id", "w-1", **SECRET, **NO_BROKER)
    finally:
        held.release()
    assert code == EXIT_REFUSED
    line = one_line(err)
    assert f"instance id w-1 of group riskwatch is already used by pid {os.getpid()}" in line


# ---------------------------------------------------------------- the README's exit-code table, held
README = Path(__file__).resolve().parents[3] / "README.md"
NO_REDIS = {"RISKWATCH_REDIS__URL": "redis://127.0.0.1:1/0"}


def documented_exit(meaning: str) -> int:
    """The exit code README *When something is wrong* gives the row whose meaning starts with ``meaning``."""
    section = README.read_text().split("## When something is wrong", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \|", section, re.MULTILINE)
    found = [int(code) for code, text in rows if text.startswith(meaning)]
    assert len(found) == 1, f"no single row of the exit-code table starts with {meaning!r}: {rows}"
    return found[0]


def test_the_exit_code_table_is_the_one_in_streams_errors() -> None:
    assert documented_exit("the stream cannot go on") == EXIT_FAILURE
    assert documented_exit("a mistake in the command line") == EXIT_CONFIG
    assert documented_exit("Kafka or Redis does not answer") == EXIT_UNREACHABLE
    assert documented_exit("credentials refused") == EXIT_AUTH
    assert documented_exit("topics") == EXIT_TOPICS
    assert documented_exit("fenced") == EXIT_FENCED
    assert documented_exit("this machine") == EXIT_LOCAL
    assert documented_exit("refused by a safety check") == EXIT_REFUSED
    assert documented_exit("interrupted") == EXIT_INTERRUPTED


@pytest.mark.parametrize(
    "argv",
    [
        ["send", "events.jsonl", "--quiet"],
        ["tail", "alerts", "--exit-at-end"],
        ["override", "C1", "--tier", "high", "--until", "2030-01-01", "--reason", "r", "--officer", "o"],
        ["project"],  # Redis first: the read model's store
    ],
    ids=lambda argv: argv[0],
)
def test_commands_without_their_servers_exit_as_the_table_says(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "events.jsonl").write_text("")
    code, err = riskwatch(tmp_path, *argv, **NO_BROKER, **NO_REDIS)
    assert code == documented_exit("Kafka or Redis does not answer")
    assert "127.0.0.1:1" in one_line(err)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["send", "missing.jsonl"], "missing.jsonl is not a readable file"),
        (["replay", "missing.jsonl", "--alerts-out", "a.jsonl"], "missing.jsonl is not a readable file"),
        (
            ["generate", "--customers", "0", "--days", "1", "--seed", "1", "--out", "g.jsonl"],
            "--customers and --days must be at least 1",
        ),
        (["tail", "alertz"], "unknown topic 'alertz' — choose one of"),
        (
            ["override", "C1", "--tier", "high", "--until", "soon", "--reason", "r", "--officer", "o"],
            "--until",
        ),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else "",
)
def test_command_line_mistakes_exit_as_the_table_says(tmp_path: Path, argv: list[str], says: str) -> None:
    code, err = riskwatch(tmp_path, *argv, **NO_BROKER)
    assert code == documented_exit("a mistake in the command line")
    assert says in one_line(err)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["replay", "events.jsonl"], "replay: the following arguments are required: --alerts-out"),
        (["tail", "alerts", "--max-messages", "many"], "tail: argument --max-messages: invalid int value"),
        (["worker", "--bogus"], "unrecognized arguments: --bogus"),
        (["replya"], "argument COMMAND: invalid choice: 'replya'"),
        ([], "the following arguments are required: COMMAND"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_argument_mistakes_are_one_line_naming_the_help(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == documented_exit("a mistake in the command line")
    line = one_line(capsys.readouterr().err)
    assert says in line
    assert line.endswith("--help`"), line
