"""Faults and mistakes riskwatch can name: each becomes ONE line ``riskwatch: <cause> — <fix>`` on stderr and
a documented exit code (README, *Exit codes*), never a traceback. ``streams.cli.main`` prints them; code
that meets a fault raises the matching class (or ``from_kafka_error`` for a librdkafka error).

A traceback is left only for what riskwatch cannot name: a bug.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from confluent_kafka import KafkaError

EXIT_FAILURE = 1  # the stream cannot go on (an unrecoverable Kafka error, a state restore that fails)
EXIT_CONFIG = 2  # a mistake on the command line, in the settings file or in a RISKWATCH_* variable
EXIT_UNREACHABLE = 3  # Kafka or Redis does not answer (after waiting kafka.broker_wait_seconds)
EXIT_AUTH = 4  # Kafka or Redis refused the credentials, or the principal lacks a permission
EXIT_TOPICS = 5  # input topics missing or not co-partitioned
EXIT_FENCED = 6  # another process took over this worker's transactional id
EXIT_LOCAL = 7  # this machine: a port in use, a folder that does not exist, a file that cannot be written
EXIT_REFUSED = 8  # a safety check refused to start (public hash key, faust restrictions, instance id in use)
EXIT_INTERRUPTED = 130  # Ctrl-C outside a worker's graceful stop (128 + SIGINT, as a shell reports it)


class Fault(RuntimeError):
    """A fault or mistake with a known cause and fix. ``str()`` is ``<cause> — <fix>``."""

    exit_code: ClassVar[int] = EXIT_FAILURE

    def __init__(self, cause: str, fix: str = "") -> None:
        super().__init__(f"{cause} — {fix}" if fix else cause)
        self.cause = cause
        self.fix = fix


class ConfigFault(Fault):
    exit_code = EXIT_CONFIG


class Unreachable(Fault):
    exit_code = EXIT_UNREACHABLE


class AuthFailed(Fault):
    exit_code = EXIT_AUTH


class TopicsFault(Fault):
    exit_code = EXIT_TOPICS


class Fenced(Fault):
    exit_code = EXIT_FENCED


class LocalFault(Fault):
    exit_code = EXIT_LOCAL


class Refused(Fault):
    exit_code = EXIT_REFUSED


def _codes() -> dict[str, set[int]]:
    """librdkafka error codes by kind (imported here: ``riskwatch replay`` never loads confluent-kafka)."""
    from confluent_kafka import KafkaError as E

    return {
        "unreachable": {E._TRANSPORT, E._ALL_BROKERS_DOWN, E._RESOLVE, E._TIMED_OUT, E._MSG_TIMED_OUT},
        "authentication": {E._AUTHENTICATION, E.SASL_AUTHENTICATION_FAILED, E._SSL},
        "authorization": {
            E.TOPIC_AUTHORIZATION_FAILED,
            E.GROUP_AUTHORIZATION_FAILED,
            E.CLUSTER_AUTHORIZATION_FAILED,
            E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        },
        "fenced": {E._FENCED, E.PRODUCER_FENCED, E.INVALID_PRODUCER_EPOCH},
        "unknown_topic": {E.UNKNOWN_TOPIC_OR_PART, E._UNKNOWN_TOPIC, E._UNKNOWN_PARTITION},
    }


def kafka_error_of(exc: BaseException) -> KafkaError | None:
    """The ``KafkaError`` inside a ``KafkaException`` (None for anything else, or if Kafka was never used)."""
    kafka = sys.modules.get("confluent_kafka")
    if kafka is not None and isinstance(exc, kafka.KafkaException) and exc.args:
        err = exc.args[0]
        if isinstance(err, kafka.KafkaError):
            found: KafkaError = err
            return found
    return None


def from_kafka_error(err: KafkaError, servers: str, doing: str) -> Fault:
    """The fault a librdkafka error stands for, worded for someone running riskwatch (``doing`` says what
    riskwatch was doing, e.g. "starting the worker")."""
    code = err.code()
    reason = err.str()
    codes = _codes()
    if code in codes["unreachable"]:
        return Unreachable(
            f"cannot reach Kafka at {servers} while {doing} ({reason})",
            "check kafka.bootstrap_servers (RISKWATCH_KAFKA__BOOTSTRAP_SERVERS) and that the brokers are up",
        )
    if code in codes["authentication"]:
        return AuthFailed(
            f"Kafka at {servers} refused the connection while {doing}: authentication failed ({reason})",
            "check kafka.security_protocol, sasl_mechanism, sasl_username/sasl_password and the ssl_* paths",
        )
    if code in codes["authorization"]:
        return AuthFailed(
            f"Kafka at {servers} denied a permission while {doing} ({reason})",
            "grant the principal the ACLs listed in README, 'Against an existing Kafka cluster'",
        )
    if code in codes["fenced"]:
        return Fenced(
            f"this worker was fenced while {doing}: another process started with the same instance id and "
            f"took over its transactional id ({reason})",
            "give every worker of a group its own --instance-id (or leave it out for a unique default)",
        )
    if code in codes["unknown_topic"]:
        return TopicsFault(
            f"a topic does not exist on Kafka at {servers} while {doing} ({reason})",
            "create the topics (`riskwatch stack topics`) or fix the topics.* names",
        )
    return Fault(
        f"Kafka error while {doing}: {reason}", "see the log above; restart the worker when it is fixed"
    )
