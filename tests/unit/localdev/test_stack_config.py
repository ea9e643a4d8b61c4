"""What ``riskwatch stack`` writes and checks, without starting anything."""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from config.settings import StackSettings
from localdev.stack import kafka_dist, kafka_server, ports, process
from localdev.stack.command import stack_root

POM_NS = "{http://maven.apache.org/POM/4.0.0}"


def _props(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return {key: value for key, _, value in (line.partition("=") for line in lines)}


def test_server_properties_single_node_kraft(tmp_path: Path) -> None:
    stack = StackSettings(kafka_port=29092, controller_port=29093)
    props = _props(kafka_server.render_server_properties(stack, tmp_path / "data"))

    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == f"{props['node.id']}@127.0.0.1:29093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["log.dirs"] == str(tmp_path / "data")
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
    ):
        assert props[key] == "1", key
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["auto.create.topics.enable"] == "false"


def test_log4j_config_keeps_logging_through_shutdown() -> None:
    props = _props(kafka_server.render_log4j2_config().replace(" = ", "="))
    assert props["shutdownHook"] == "disable"
    assert props["rootLogger.appenderRef.stdout.ref"] == props["appender.console.name"]


def test_pom_lists_kafka_and_the_slf4j_1_binding() -> None:
    stack = StackSettings(kafka_version="4.1.1", scala_version="2.13", log4j_version="2.24.3")
    root = ET.fromstring(kafka_dist.render_pom(stack))  # noqa: S314 - our own generated text
    deps = {
        (d.findtext(f"{POM_NS}groupId"), d.findtext(f"{POM_NS}artifactId")): d.findtext(f"{POM_NS}version")
        for d in root.iter(f"{POM_NS}dependency")
    }
    assert deps == {
        ("org.apache.kafka", "kafka_2.13"): "4.1.1",
        ("org.apache.logging.log4j", "log4j-slf4j-impl"): "2.24.3",
        ("org.apache.logging.log4j", "log4j-core"): "2.24.3",
        ("org.apache.logging.log4j", "log4j-api"): "2.24.3",
    }
    assert root.findtext(f"{POM_NS}packaging") == "pom"


def test_cache_stamp_must_match_the_pom(tmp_path: Path) -> None:
    stack = StackSettings(cache_dir=tmp_path)
    assert not kafka_dist.is_cached(stack)
    dist = kafka_dist.dist_dir(stack)
    dist.mkdir(parents=True)
    (dist / ".complete").write_text("stale\n")
    assert not kafka_dist.is_cached(stack)


def test_cluster_id_shape() -> None:
    for _ in range(200):
        cluster_id = kafka_server.new_cluster_id()
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id)
        assert not cluster_id.startswith("-")


def test_port_in_use_sees_a_listener_and_not_a_closed_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert ports.port_in_use("127.0.0.1", port)
    assert not ports.port_in_use("127.0.0.1", port)


def test_state_dir_is_per_kafka_port(tmp_path: Path) -> None:
    from config.settings import load_settings

    a = load_settings(stack={"state_dir": tmp_path, "kafka_port": 19092})
    b = load_settings(stack={"state_dir": tmp_path, "kafka_port": 29092})
    assert stack_root(a) != stack_root(b)


def test_xdg_directories_are_read_when_settings_are_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.settings import load_settings

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    settings = load_settings()
    assert settings.stack.state_dir == tmp_path / "state" / "riskwatch"
    assert settings.stack.cache_dir == tmp_path / "cache" / "riskwatch"


@pytest.mark.parametrize("content", ["", "not-a-pid\n", "999999999\n"])
def test_stale_or_garbage_pid_file_is_not_running(tmp_path: Path, content: str) -> None:
    pid_file = tmp_path / "x.pid"
    pid_file.write_text(content)
    assert process.running_pid(pid_file, ["anything"]) is None
    assert process.stop(pid_file, ["anything"], timeout=1.0).startswith("not running")
    assert not pid_file.exists()


def test_pid_of_an_unrelated_process_is_never_ours(tmp_path: Path) -> None:
    pid_file = tmp_path / "x.pid"
    pid_file.write_text("1\n")  # alive, but its command line lacks our marker
    assert process.running_pid(pid_file, ["kafka.Kafka", str(tmp_path)]) is None


def test_sasl_ssl_listener_is_opt_in(tmp_path: Path) -> None:
    from localdev.stack import tls

    plain = _props(kafka_server.render_server_properties(StackSettings(), tmp_path / "data"))
    assert "SASL_SSL" not in plain["listeners"]
    assert "sasl.enabled.mechanisms" not in plain

    files = tls.TlsFiles(tmp_path / "tls")
    stack = StackSettings(kafka_port=29092, controller_port=29093, sasl_ssl_port=29094)
    props = _props(kafka_server.render_server_properties(stack, tmp_path / "data", files))
    assert props["listeners"].endswith(",SASL_SSL://127.0.0.1:29094")
    assert props["advertised.listeners"] == props["listeners"]
    assert "SASL_SSL:SASL_SSL" in props["listener.security.protocol.map"]
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-256,SCRAM-SHA-512"
    assert props["listener.name.sasl_ssl.ssl.keystore.type"] == "PEM"
    assert props["listener.name.sasl_ssl.ssl.keystore.location"] == str(files.broker_keystore)
    assert "ScramLoginModule required;" in props["listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"]


def test_generated_broker_certificate_is_issued_by_the_ca_for_loopback(tmp_path: Path) -> None:
    import ipaddress

    from cryptography import x509

    from localdev.stack import tls

    files = tls.TlsFiles(tmp_path / "tls")
    assert tls.ensure(files, "127.0.0.1") is True
    assert tls.ensure(files, "127.0.0.1") is False, "kept once made: clients keep trusting the same CA"
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    pem = files.broker_keystore.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----"), "Kafka's PEM key store reads PKCS#8 only"
    broker, chain_ca = x509.load_pem_x509_certificates(pem[pem.index(b"-----BEGIN CERTIFICATE-----") :])
    broker.verify_directly_issued_by(ca)
    assert chain_ca == ca
    names = broker.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert files.broker_keystore.stat().st_mode & 0o077 == 0, "the key is readable by its owner only"
