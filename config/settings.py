"""The root settings object.

Precedence, highest first: keyword arguments, ``RISKWATCH_*`` environment variables (nested with ``__``,
e.g. ``RISKWATCH_KAFKA__BOOTSTRAP_SERVERS``), the settings file (``--config FILE`` or
``RISKWATCH_CONFIG``; TOML or JSON), then the defaults written here.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    JsonConfigSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from config.detection import DetectionSettings


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KafkaSettings(_Section):
    """How workers and tools reach Kafka; ``client_config()`` is the librdkafka dict."""

    bootstrap_servers: str = "127.0.0.1:19092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    consumer_group: str = "riskwatch"
    client_id: str = "riskwatch"
    # compression of what the worker produces (alerts, tier changes, dead letters, the state changelog);
    # lz4 cut the changelog the broker writes and compacts several-fold for little CPU (see README)
    producer_compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "lz4"
    # how long a command (worker, stack topics) waits for a broker that does not answer, retrying with a
    # logged backoff, before it gives up with one line: a worker started before its broker should wait
    broker_wait_seconds: float = Field(default=120.0, ge=0)
    # the longest an erased customer's old records (state on the changelog, CustomerRisk on customer-risk)
    # may outlive their tombstone: the compacted topics roll segments and force compaction within it (KIP-354)
    erasure_max_compaction_lag_ms: int = Field(default=86_400_000, ge=1000)

    # a record younger than this is never compacted away, so a restoring worker still reads recent state
    COMPACTION_MIN_LAG_MS: ClassVar[int] = 60_000

    def compacted_topic_config(self) -> dict[str, str]:
        """Topic configs for the compacted topics that hold a customer (changelog, customer-risk).

        The broker never cleans the active segment and, without a bound, waits for a dirty ratio that a
        big topic may reach after weeks: an erased customer's records would linger that long. Rolling the
        segment and forcing compaction after ``erasure_max_compaction_lag_ms`` bounds it (a segment rolls
        on the next append to its partition once its first record is that old)."""
        bound = self.erasure_max_compaction_lag_ms
        return {
            "cleanup.policy": "compact",
            "max.compaction.lag.ms": str(bound),
            "segment.ms": str(bound),
            # the broker refuses a minimum above the maximum
            "min.compaction.lag.ms": str(min(self.COMPACTION_MIN_LAG_MS, bound)),
        }

    def client_config(self) -> dict[str, str]:
        conf: dict[str, str] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            "client.id": self.client_id,
        }
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username is not None:
            conf["sasl.username"] = self.sasl_username
        if self.sasl_password is not None:
            conf["sasl.password"] = self.sasl_password.get_secret_value()
        for key, value in (
            ("ssl.ca.location", self.ssl_ca_location),
            ("ssl.certificate.location", self.ssl_certificate_location),
            ("ssl.key.location", self.ssl_key_location),
        ):
            if value:
                conf[key] = value
        return conf


class TopicSettings(_Section):
    """Topic names are the contract's defaults; ``partitions`` applies when riskwatch creates them."""

    transactions: str = "transactions"
    contact_changes: str = "contact-changes"
    customer_profiles: str = "customer-profiles"
    alerts: str = "alerts"
    customer_risk: str = "customer-risk"
    dead_letter: str = "dead-letter"
    # contract 1.1: the officers' inputs (co-partitioned with the others) and the review/disposition outputs
    risk_overrides: str = "risk-overrides"
    review_completed: str = "review-completed"
    erasure_requests: str = "erasure-requests"
    reviews: str = "reviews"
    alert_dispositions: str = "alert-dispositions"
    partitions: int = Field(default=6, ge=1)
    replication_factor: int = Field(default=1, ge=1)

    COMPACTED: ClassVar[frozenset[str]] = frozenset({"customer_profiles", "customer_risk"})
    # input topic setting -> the one event type that belongs on it
    INPUT_TYPES: ClassVar[dict[str, str]] = {
        "transactions": "transaction",
        "contact_changes": "contact_change",
        "customer_profiles": "customer_profile",
        "risk_overrides": "risk_override",
        "review_completed": "review_completed",
        "erasure_requests": "erasure_request",
    }
    OUTPUTS: ClassVar[tuple[str, ...]] = (
        "alerts",
        "customer_risk",
        "dead_letter",
        "reviews",
        "alert_dispositions",
    )

    def all_topics(self) -> dict[str, bool]:
        """Topic name -> whether it is compacted, for every topic of the contract."""
        names = (*self.INPUT_TYPES, *self.OUTPUTS)
        return {getattr(self, n): n in self.COMPACTED for n in names}

    def input_topics(self) -> list[str]:
        """Every input topic of the contract, all co-partitioned by customer id."""
        return [getattr(self, n) for n in self.INPUT_TYPES]

    def input_types(self) -> dict[str, str]:
        """Input topic name -> the event type that belongs on it (anything else there is a dead letter)."""
        return {getattr(self, n): t for n, t in self.INPUT_TYPES.items()}

    def output_topics(self) -> list[str]:
        """The topics the stream worker writes, checked when it starts."""
        return [self.alerts, self.customer_risk, self.dead_letter]


REDIS_URL_SCHEMES = ("redis://", "rediss://", "unix://")


class RedisSettings(_Section):
    """How ``riskwatch project``, ``serve`` and the queries reach Redis.

    TLS: a ``rediss://`` URL; the CA and client certificate paths below then apply. AUTH: the URL's
    ``user:password@`` or ``username``/``password`` here (these win), so the password can come from
    ``RISKWATCH_REDIS__PASSWORD`` instead of a URL in a file.
    """

    url: SecretStr = SecretStr("redis://127.0.0.1:16379/0")
    username: str | None = None
    password: SecretStr | None = None
    ssl_ca_certs: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_check_hostname: bool = True
    socket_timeout_seconds: float = Field(default=2.0, gt=0)
    # per process: the HTTP server shares one pool between all requests
    max_connections: int = Field(default=64, ge=1)
    key_prefix: str = "riskwatch"

    @field_validator("url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr) -> SecretStr:
        """The client only fails on first use, with a traceback, on a URL it cannot read; the message
        names the schemes, never the value (it may carry a password)."""
        if not value.get_secret_value().startswith(REDIS_URL_SCHEMES):
            raise ValueError(f"a Redis URL starts with {', '.join(REDIS_URL_SCHEMES)}")
        return value

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``redis.Redis.from_url`` (sync or asyncio) besides the URL."""
        kwargs: dict[str, Any] = {
            "socket_timeout": self.socket_timeout_seconds,
            "socket_connect_timeout": self.socket_timeout_seconds,
            "max_connections": self.max_connections,
        }
        if self.username is not None:
            kwargs["username"] = self.username
        if self.password is not None:
            kwargs["password"] = self.password.get_secret_value()
        if self.url.get_secret_value().startswith("rediss://"):
            kwargs["ssl_check_hostname"] = self.ssl_check_hostname
            for key in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile"):
                if getattr(self, key):
                    kwargs[key] = getattr(self, key)
        return kwargs

    def display_url(self) -> str:
        """The URL without its password, for messages and logs."""
        url = self.url.get_secret_value()
        scheme, sep, rest = url.partition("://")
        if not sep:
            return url
        userinfo, at, host = rest.rpartition("@")
        if not at:
            return url
        user = userinfo.partition(":")[0]
        return f"{scheme}://{user + '@' if user else ''}{host}"


class ReadModelSettings(_Section):
    """The Redis read model that ``riskwatch project`` keeps from the output topics."""

    # the newest alerts kept per customer (by event time); older ones stay only on the alerts topic
    alerts_per_customer: int = Field(default=20, ge=1)
    # records applied per Redis MULTI/EXEC (one offset update per partition with them)
    batch_max_messages: int = Field(default=2000, ge=1)
    poll_timeout_ms: int = Field(default=200, ge=1)
    # how often the projector looks for output topics or partitions that did not exist when it started
    topic_refresh_seconds: float = Field(default=10.0, gt=0)
    # only for librdkafka's sake: offsets live in Redis beside the data, never in this group
    consumer_group: str = "riskwatch-readmodel"
    max_top: int = Field(default=1000, ge=1)


class ServeSettings(_Section):
    """``riskwatch serve``: the read-only HTTP API (and, later, the officers' pages)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # when set, every /api/ request needs ``Authorization: Bearer <token>``
    api_token: SecretStr | None = None
    # server processes accepting on the one socket (about one per core; each has its own Redis pool)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: str = "warning"

    @field_validator("api_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: Any) -> Any:
        """``RISKWATCH_SERVE__API_TOKEN=`` (empty, as compose passes an unset variable) means no token, not
        a token that an empty header would match."""
        return None if value == "" else value


class WorkbenchSettings(_Section):
    """The officers' workbench in ``riskwatch serve``: a live alert inbox, customer pages, dispositions.

    Officers log in with a configured user (``users``: id -> ``pbkdf2_sha256$iterations$salt$hash``, made by
    ``riskwatch serve --hash-password``) or are named by a reverse proxy (``user_header``, e.g.
    ``X-Forwarded-User``, only behind a proxy that sets it); without a login the pages are read-only."""

    enabled: bool = True
    users: dict[str, str] = Field(default_factory=dict)
    user_header: str | None = None
    # signs the session cookie; unset: a random key per process (sessions end on restart)
    session_secret: SecretStr | None = None
    session_max_age_seconds: int = Field(default=12 * 3600, ge=60)
    # alerts kept in memory for the inbox (newest); older ones are in the alerts topic and the read model
    inbox_max_alerts: int = Field(default=5000, ge=10)
    # tier moves kept per customer for the customer page's history
    tier_history_per_customer: int = Field(default=20, ge=1)


def _xdg_dir(variable: str, fallback: Path) -> Path:
    return Path(os.environ.get(variable, str(fallback))) / "riskwatch"


class StackSettings(_Section):
    """The local Kafka + Redis stack that ``riskwatch stack`` starts (never used against real clusters)."""

    kafka_version: str = "4.1.1"
    scala_version: str = "2.13"
    log4j_version: str = "2.24.3"
    kafka_host: str = "127.0.0.1"
    kafka_port: int = 19092
    controller_port: int = 19093
    redis_port: int = 16379
    kafka_heap_mb: int = Field(default=384, ge=128)
    # XDG base directories, read when the settings are made (not when this module is imported)
    cache_dir: Path = Field(default_factory=lambda: _xdg_dir("XDG_CACHE_HOME", Path.home() / ".cache"))
    state_dir: Path = Field(
        default_factory=lambda: _xdg_dir("XDG_STATE_HOME", Path.home() / ".local" / "state")
    )
    ready_timeout_seconds: float = 90.0
    # opt-in: a SASL_SSL listener on this port (SCRAM-SHA-256/512 over TLS, certificate from a CA generated
    # in the stack's state dir), so the secured client path can be run locally; unset: PLAINTEXT only
    sasl_ssl_port: int | None = None
    # the SCRAM user `stack up` creates for that listener (a local development credential)
    sasl_username: str = "riskwatch"
    sasl_password: SecretStr = SecretStr("riskwatch-local-secret")
    # how long `stack up` waits for another apt-get/dpkg run to release its lock before installing Redis
    apt_lock_timeout_seconds: float = Field(default=120.0, ge=0)


# The worker's producer sets message.max.bytes to this (librdkafka's default, stated so it cannot drift);
# a dead letter, its key (clipped to 1 KiB) and the record's framing must fit under it.
PRODUCER_MESSAGE_MAX_BYTES = 1_000_000
DEAD_LETTER_RECORD_RESERVE_BYTES = 8192
DEAD_LETTER_MIN_BYTES = 16384


class DeadLetterSettings(_Section):
    """What a dead letter keeps of the rejected message."""

    # contact values (a contact change's new_value) replaced by their keyed hash in the dead letter's raw
    # message, in the dead-letter topic and replay's dead-letter file; unparseable input on the
    # contact-changes topic is withheld whole (README, "Secure by default")
    redact_contact_values: bool = True


class WorkerSettings(_Section):
    # which stream runtime runs the detectors: the confluent-kafka batch worker (the default: much faster)
    # or the faust-streaming app; same outputs, same guarantees (README, "Choosing the runtime")
    runtime: Literal["confluent", "faust"] = "confluent"
    # the faust runtime is experimental and restricted to one worker per group; it refuses to start
    # unless this says the operator knows (README, "Choosing the runtime")
    faust_experimental_ack: bool = False
    metrics_port: int = 9464
    metrics_host: str = "127.0.0.1"
    # bounds a batch (one transaction) when input is waiting: each customer changed in a batch has its state
    # encoded to the changelog once per batch, so a backlog of dense traffic costs less per event in larger
    # batches; a batch's customers are decoded on top of state_memory_budget_mib until it commits
    batch_max_events: int = Field(default=5000, ge=1)
    # an idle worker blocks this long for the first message of a batch (shutdown and health wait on it)
    batch_max_wait_ms: int = Field(default=100, ge=1)
    # once a message is in, wait this long for more before processing; 0 takes what is already fetched,
    # so batches grow with the load by themselves (lowest latency; more, smaller transactions when quiet)
    batch_linger_ms: int = Field(default=0, ge=0)
    # the worker's producer (librdkafka linger.ms): how long the outputs and changelog records produced while a
    # batch runs wait to share a request with the next ones; the commit sends whatever still waits at once
    producer_linger_ms: int = Field(default=5, ge=0)
    # the worker's consumer (librdkafka fetch.min.bytes, fetch.wait.max.ms): the broker answers a fetch once
    # this much input is there or the wait is over. 1 byte answers at every upstream produce request, which
    # at a few thousand events/s costs the broker and librdkafka more CPU than the events themselves; a
    # minimum of some tens of events with a short wait bounds the fetches per second and adds at most the
    # wait to an event's latency (README, "Latency")
    fetch_min_bytes: int = Field(default=16384, ge=1)
    fetch_wait_max_ms: int = Field(default=10, ge=0)
    # the customer state the worker holds in memory, all assigned partitions together: every customer's
    # compact changelog record (~1.9 KB), and as many customers decoded (~16 KB each) as the rest
    # of the budget holds, the hot ones (estimated sizes; README, "Customer state on the changelog"). The
    # default keeps 1M customers under 3 KiB each of resident memory and every customer decoded up to ~150k
    state_memory_budget_mib: int = Field(default=2700, ge=1)
    # the faust runtime's bound instead: its one decoded cache holds at most this many customers per input
    # partition (emptied whole when full; every customer stays as its record)
    max_decoded_customers_per_partition: int = Field(default=9000, ge=1)
    # the customer state record format written to the changelog (every format is read): while a group
    # is upgraded worker by worker, a format the old version reads whole (8 from the version before this
    # one: its binary records lack sustained_shift's far payments; 7 from a version that reads no 8), then
    # 10 (README, "Customer state on the changelog")
    state_record_format: Literal[7, 8, 9, 10] = 10
    # how long a partition may wait for another input topic when the runtime cannot tell whether it has
    # unread data (faust: offsets that may be transaction markers); unread data the consumer knows of is
    # always waited for, however long (KIP-695)
    max_idle_ms: int = Field(default=1000, ge=0)
    # how often a caught-up worker moves quiet customers on by its wall clock (reviews falling due, overrides
    # expiring, downgrades): inside a transaction like any batch; 0 leaves it all to the customers' events
    punctuate_interval_ms: int = Field(default=10000, ge=0)
    # while a partition has events, the punctuation moves its quiet customers only up to the latest event
    # time seen there (stream time), so traffic whose event times lag the clock (a backfill, the demo) is
    # not overtaken; after this long without an event on the partition, the wall clock takes over
    punctuate_wall_clock_after_idle_ms: int = Field(default=60000, ge=0)
    # how long the group waits for a silent worker before its partitions go to the others (the broker
    # bounds it: group.min.session.timeout.ms, 6 s by default); heartbeats every fifth of it, at least 1 s
    session_timeout_ms: int = Field(default=10000, ge=1000)
    # how long one transactional call (sending the offsets, committing) blocks before it returns a retriable
    # timeout and is called again; a call still inside librdkafka 15 s after this ends the worker (README,
    # "A broker that goes away mid-stream"). The transaction's own timeout on the broker stays 30 s
    transaction_call_timeout_seconds: float = Field(default=30.0, ge=1, le=30)
    # per input topic partition: messages held in the ordering buffer before its fetching is paused
    # (resumed at half); bounds memory while one topic runs ahead of another
    ordering_buffer_max_messages: int = Field(default=5000, ge=2)
    # a dead letter's whole JSON, whatever the input (``raw`` is cut to fit and marked ``raw_truncated``);
    # bounded below the producer's message.max.bytes, so a dead letter can always be produced
    dead_letter_max_bytes: int = Field(
        default=262144,
        ge=DEAD_LETTER_MIN_BYTES,
        le=PRODUCER_MESSAGE_MAX_BYTES - DEAD_LETTER_RECORD_RESERVE_BYTES,
    )
    log_json: bool = False
    log_level: str = "INFO"


class Settings(BaseSettings):
    """Everything riskwatch can be told; one object handed down from ``main()``."""

    model_config = SettingsConfigDict(
        env_prefix="RISKWATCH_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    redis: RedisSettings = RedisSettings()
    stack: StackSettings = Field(default_factory=StackSettings)
    worker: WorkerSettings = WorkerSettings()
    dead_letter: DeadLetterSettings = DeadLetterSettings()
    readmodel: ReadModelSettings = ReadModelSettings()
    serve: ServeSettings = ServeSettings()
    workbench: WorkbenchSettings = WorkbenchSettings()
    detection: DetectionSettings = DetectionSettings()

    _config_file: ClassVar[Path | None] = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = cls._config_file
        if path is not None:
            if path.suffix.lower() == ".json":
                sources.append(JsonConfigSettingsSource(settings_cls, json_file=path))
            else:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


class ConfigFileError(ValueError):
    """The settings file named by ``--config`` or ``RISKWATCH_CONFIG`` is missing or unreadable."""


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings tree once, in ``main()``; nothing reads the environment at import time."""
    path_text = config_file if config_file is not None else os.environ.get("RISKWATCH_CONFIG")
    path = Path(path_text) if path_text else None
    if path is not None and not path.is_file():
        raise ConfigFileError(
            f"settings file {path} does not exist — check --config / RISKWATCH_CONFIG (relative paths start "
            "in the current directory)"
        )

    class _FileSettings(Settings):
        _config_file: ClassVar[Path | None] = path

    try:
        return _FileSettings(**overrides)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        kind = "JSON" if path is not None and path.suffix.lower() == ".json" else "TOML"
        raise ConfigFileError(
            f"settings file {path} is not valid {kind} ({exc}) — fix the syntax at that position"
        ) from None
