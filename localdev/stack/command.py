"""``riskwatch stack up|down|status|topics``: the local Kafka + Redis stack for development and CI.

Everything a run touches is under ``state_dir / f"stack-{kafka_port}"`` so a second stack on other ports
(e.g. a CI copy) runs beside the first; ``down`` signals only the processes whose pid files ``up`` wrote.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from config.settings import Settings
from localdev.stack import kafka_dist, kafka_server, ports, process, redis_server
from localdev.stack.errors import StackError

POLL_SECONDS = 0.2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="stack_action", metavar="ACTION", required=True)
    actions.add_parser("up", help="download Kafka once, start Kafka and Redis, create the topics")
    down = actions.add_parser("down", help="stop the Kafka and Redis that `up` started")
    down.add_argument("--purge", action="store_true", help="also delete their data directories")
    actions.add_parser("status", help="show what is running and the topics; exit 1 unless all is up")
    actions.add_parser(
        "topics", help="create missing contract topics on settings.kafka (any cluster, e.g. in compose)"
    )


def stack_root(settings: Settings) -> Path:
    return settings.stack.state_dir / f"stack-{settings.stack.kafka_port}"


def local_kafka_conf(settings: Settings) -> dict[str, str]:
    """The settings' client config, pointed at the broker this stack runs (whatever kafka.* says)."""
    conf = settings.kafka.client_config()
    conf["bootstrap.servers"] = f"{settings.stack.kafka_host}:{settings.stack.kafka_port}"
    conf["security.protocol"] = "PLAINTEXT"
    return conf


def run(args: argparse.Namespace, settings: Settings) -> int:
    action: str = args.stack_action
    try:
        if action == "up":
            return up(settings)
        if action == "down":
            return _down(settings, purge=bool(args.purge))
        if action == "status":
            return _status(settings)
        return _topics(settings)
    except StackError as exc:
        print(f"riskwatch stack {action}: {exc}", file=sys.stderr)
        if exc.details:
            print(exc.details, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"riskwatch stack {action}: interrupted", file=sys.stderr)
        return 1


def _say(message: str) -> None:
    print(message, flush=True)


def _warn_if_clients_look_elsewhere(settings: Settings) -> None:
    stack = settings.stack
    kafka_addr = f"{stack.kafka_host}:{stack.kafka_port}"
    if kafka_addr not in settings.kafka.bootstrap_servers and f"localhost:{stack.kafka_port}" not in (
        settings.kafka.bootstrap_servers
    ):
        _say(f"note: kafka.bootstrap_servers is {settings.kafka.bootstrap_servers}, not {kafka_addr}")
    if f":{stack.redis_port}" not in settings.redis.url.get_secret_value():
        _say(f"note: redis.url does not point at this stack's Redis port {stack.redis_port}")


def _check_port(host: str, port: int, what: str, setting: str) -> None:
    if ports.port_in_use(host, port):
        raise StackError(
            f"port {port} ({what}) on {host} is already in use by another process; "
            f"stop it or choose another port with RISKWATCH_STACK__{setting}"
        )


def up(settings: Settings) -> int:
    started_at = time.monotonic()
    stack = settings.stack
    root = stack_root(settings)
    kafka = kafka_server.layout(root)
    redis = redis_server.layout(root, stack)
    conf = local_kafka_conf(settings)

    java = shutil.which("java")
    if java is None:
        raise StackError("Kafka needs Java 17+ but `java` is not on PATH; install openjdk-17-jre-headless")

    kafka_pid = kafka_server.running_pid(kafka)
    redis_pid = redis_server.running_pid(redis)
    if kafka_pid is not None and redis_pid is not None:
        _wait_ready(settings, kafka, redis, conf, started={})
        created = _ensure_topics(settings, conf)
        extra = f"; created missing topics {', '.join(created)}" if created else ""
        _say(f"stack already running (kafka pid {kafka_pid}, redis pid {redis_pid}); nothing to do{extra}")
        return 0

    if kafka_pid is None:
        _check_port(stack.kafka_host, stack.kafka_port, "Kafka", "KAFKA_PORT")
        _check_port(stack.kafka_host, stack.controller_port, "Kafka controller", "CONTROLLER_PORT")
        if stack.sasl_ssl_port is not None:
            _check_port(stack.kafka_host, stack.sasl_ssl_port, "Kafka SASL_SSL", "SASL_SSL_PORT")
    if redis_pid is None:
        _check_port(stack.kafka_host, stack.redis_port, "Redis", "REDIS_PORT")

    started: dict[str, Path] = {}
    try:
        if kafka_pid is None:
            if not kafka_dist.is_cached(stack):
                _say(f"downloading Kafka {stack.kafka_version} jars with Maven (first time only) ...")
            t = time.monotonic()
            libs = kafka_dist.ensure_jars(stack)
            _say(f"kafka jars: {libs} ({time.monotonic() - t:.1f}s)")
            kafka_server.write_config(stack, kafka)
            if not kafka_server.is_formatted(kafka):
                t = time.monotonic()
                kafka_server.format_storage(java, stack, libs, kafka)
                _say(f"formatted Kafka storage in {kafka.data_dir} ({time.monotonic() - t:.1f}s)")
            pid = kafka_server.start(java, stack, libs, kafka)
            started["kafka"] = kafka.pid_file
            _say(f"started Kafka {stack.kafka_version} (pid {pid}) on {stack.kafka_host}:{stack.kafka_port}")
        if redis_pid is None:
            binary = redis_server.ensure_installed(stack)
            pid = redis_server.start(binary, stack, redis)
            started["redis"] = redis.pid_file
            _say(f"started Redis (pid {pid}) on {stack.kafka_host}:{stack.redis_port}")
        _wait_ready(settings, kafka, redis, conf, started)
        created = _ensure_topics(settings, conf)
    except BaseException:
        # Leave nothing half-started behind: stop what this invocation started (logs are kept).
        if "kafka" in started:
            kafka_server.stop(kafka)
        if "redis" in started:
            redis_server.stop(redis)
        raise
    _say(f"topics: created {', '.join(created)}" if created else "topics: all present")
    if stack.sasl_ssl_port is not None:
        _ensure_scram_user(settings, conf)
        _say(
            f"SASL_SSL listener on {stack.kafka_host}:{stack.sasl_ssl_port}: SCRAM-SHA-256/512 user "
            f"{stack.sasl_username!r}, CA {kafka.tls.ca_cert} (clients: kafka.security_protocol=SASL_SSL, "
            f"kafka.sasl_mechanism, kafka.sasl_username/sasl_password, kafka.ssl_ca_location)"
        )
    _warn_if_clients_look_elsewhere(settings)
    _say(f"stack up in {time.monotonic() - started_at:.1f}s (state in {root})")
    return 0


def _wait_ready(
    settings: Settings,
    kafka: kafka_server.KafkaLayout,
    redis: redis_server.RedisLayout,
    conf: dict[str, str],
    started: dict[str, Path],
) -> None:
    """Poll until Redis answers PING and Kafka a metadata request, failing fast if either process dies."""
    from localdev.stack import topics

    stack = settings.stack
    deadline = time.monotonic() + stack.ready_timeout_seconds
    t = time.monotonic()
    while not redis_server.ping(stack.kafka_host, stack.redis_port):
        if redis_server.running_pid(redis) is None:
            tail = process.log_tail(redis.log_file)
            raise StackError(f"Redis exited while starting; see {redis.log_file}", tail)
        if time.monotonic() >= deadline:
            raise StackError(f"Redis did not answer PING within {stack.ready_timeout_seconds:.0f}s")
        time.sleep(POLL_SECONDS)
    while True:
        if kafka_server.running_pid(kafka) is None:
            tail = process.log_tail(kafka.log_file)
            raise StackError(f"Kafka exited while starting; see {kafka.log_file}", tail)
        remaining = deadline - time.monotonic()
        try:
            topics.wait_for_kafka(conf, timeout=max(0.1, min(2.0, remaining)))
            break
        except StackError:
            if time.monotonic() >= deadline:
                raise StackError(
                    f"Kafka did not answer within {stack.ready_timeout_seconds:.0f}s; see {kafka.log_file}",
                    process.log_tail(kafka.log_file),
                ) from None
    if started:
        _say(f"Kafka and Redis answering ({time.monotonic() - t:.1f}s after start)")


def _ensure_scram_user(settings: Settings, conf: dict[str, str]) -> None:
    """The SCRAM user of the SASL_SSL listener, with the configured password. ``format --add-scram``
    creates it on a new stack; this also covers a stack formatted before the listener was switched on and
    a changed password (an upsert, so idempotent)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import (  # type: ignore[attr-defined]
        AdminClient,
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialAlteration,
        UserScramCredentialUpsertion,
    )

    stack = settings.stack
    password = stack.sasl_password.get_secret_value().encode()
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(
            stack.sasl_username, ScramCredentialInfo(mechanism, kafka_server.SCRAM_ITERATIONS), password
        )
        for mechanism in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512)
    ]
    admin = AdminClient(dict(conf))
    try:
        for upsert in upserts:  # one request per mechanism: Kafka refuses two alterations of a user in one
            for future in admin.alter_user_scram_credentials([upsert]).values():
                future.result(timeout=30)
    except KafkaException as exc:
        raise StackError(f"could not create SCRAM user {stack.sasl_username!r}: {exc}") from exc


def _ensure_topics(settings: Settings, conf: dict[str, str]) -> list[str]:
    from localdev.stack import topics

    return topics.ensure_topics(settings, conf)


def _down(settings: Settings, *, purge: bool) -> int:
    root = stack_root(settings)
    kafka = kafka_server.layout(root)
    redis = redis_server.layout(root, settings.stack)
    # Kafka first: it may still flush to nothing else, but this keeps shutdown order the reverse of start.
    _say(f"kafka: {kafka_server.stop(kafka)}")
    _say(f"redis: {redis_server.stop(redis)}")
    if purge and root.exists():
        if kafka_server.running_pid(kafka) is not None or redis_server.running_pid(redis) is not None:
            raise StackError(f"not purging {root}: a stack process is still running")
        shutil.rmtree(root)
        _say(f"purged {root}")
    return 0


def _status(settings: Settings) -> int:
    from confluent_kafka import KafkaException

    from localdev.stack import topics

    stack = settings.stack
    root = stack_root(settings)
    kafka = kafka_server.layout(root)
    redis = redis_server.layout(root, stack)
    problems: list[str] = []

    kafka_pid = kafka_server.running_pid(kafka)
    kafka_reachable = ports.accepts_connections(stack.kafka_host, stack.kafka_port)
    _say(
        f"kafka  {stack.kafka_version}: "
        f"{f'running, pid {kafka_pid}' if kafka_pid else 'not running'}, "
        f"port {stack.kafka_port} {'reachable' if kafka_reachable else 'not reachable'}"
    )
    if kafka_pid is None:
        problems.append("kafka is not running")
    redis_pid = redis_server.running_pid(redis)
    redis_ok = redis_server.ping(stack.kafka_host, stack.redis_port)
    _say(
        f"redis: {f'running, pid {redis_pid}' if redis_pid else 'not running'}, "
        f"port {stack.redis_port} {'answers PING' if redis_ok else 'not reachable'}"
    )
    if redis_pid is None or not redis_ok:
        problems.append("redis is not running" if redis_pid is None else "redis does not answer PING")

    if kafka_pid is not None:
        conf = local_kafka_conf(settings)
        try:
            topics.wait_for_kafka(conf, timeout=10.0)
            partitions = topics.topic_partitions(conf)
        except (StackError, KafkaException) as exc:
            problems.append(f"kafka does not answer metadata requests ({exc})")
        else:
            _say("topics:")
            for name in settings.topics.all_topics():
                count = partitions.get(name)
                _say(f"  {name:<20} {f'{count} partitions' if count is not None else 'MISSING'}")
                if count is None:
                    problems.append(f"topic {name} is missing")
            others = sorted(set(partitions) - set(settings.topics.all_topics()))
            if others:
                _say(f"  other topics: {', '.join(f'{n} ({partitions[n]})' for n in others)}")
    _say(f"state: {root}")
    if problems:
        raise StackError("; ".join(problems))
    return 0


def _topics(settings: Settings) -> int:
    from localdev.stack import topics
    from streams.broker import wait_for_broker

    conf = settings.kafka.client_config()
    # a wrong or down broker is named within seconds (logged retries), then one line after the wait
    wait_for_broker(conf, wait_seconds=settings.kafka.broker_wait_seconds, doing="creating topics")
    created = topics.ensure_topics(settings, conf)
    _say(f"created topics: {', '.join(created)}" if created else "all topics present")
    return 0
