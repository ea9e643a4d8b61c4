"""The ``riskwatch`` command: parses arguments, loads settings once, and hands off to one subcommand.

Only the chosen subcommand's module is imported (all of them for ``riskwatch --help``), so ``riskwatch
worker`` never loads Redis or the development tooling and ``riskwatch replay`` never loads Kafka.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from streams.errors import (
    EXIT_CONFIG,
    EXIT_INTERRUPTED,
    EXIT_LOCAL,
    AuthFailed,
    ConfigFault,
    Fault,
    Unreachable,
    from_kafka_error,
    kafka_error_of,
)

if TYPE_CHECKING:
    from config.settings import Settings

# subcommand -> (module, help); each module has ``add_arguments(parser)`` and ``run(args, settings)``
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "stack": ("localdev.stack.command", "start, stop or inspect the local Kafka + Redis stack"),
    "replay": ("offline.replay", "run the detectors over a JSON-lines file of events"),
    "schema": ("streams.schema_export", "write the JSON Schema of every message type"),
    "generate": ("localdev.generate", "write labelled synthetic traffic as JSON lines"),
    "evaluate": ("offline.evaluate", "detection quality on labelled events: recall by strength, precision"),
    "worker": ("streams.worker.command", "run a stream worker: input topics -> alerts, customer-risk"),
    "send": ("streams.send", "send a JSON-lines file of events to the input topics (keyed by customer)"),
    "tail": ("streams.tail", "print what arrives on a topic (alerts, customer-risk, dead-letter, ...)"),
    "demo": ("localdev.demo", "bring the stack up, run a worker on generated traffic, print alerts"),
    "serve": ("server.command", "serve the read model as a read-only HTTP JSON API under /api/"),
    "override": ("streams.officer", "pin a customer's tier until a date (writes a risk_override)"),
    "review-complete": ("streams.officer", "record a completed periodic review (writes a review_completed)"),
    "forget": ("streams.officer", "erase a customer's state everywhere (writes an erasure_request)"),
    "project": ("readmodel.commands.project", "keep the Redis read model up to date with the output topics"),
    "customer": ("readmodel.commands.customer", "show one customer from the read model"),
    "customers": ("readmodel.commands.customers", "the riskiest customers from the read model"),
    "reviews": ("readmodel.commands.reviews", "periodic reviews due, from the read model"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every subcommand is listed; only ``command``'s module is imported for its arguments (every
    module's when ``command`` is None)."""
    parser = _Parser(prog="riskwatch", description="Kafka-native streaming risk monitor.")
    parser.add_argument("--config", help="settings file (TOML or JSON); also RISKWATCH_CONFIG")
    parser.add_argument(
        "--version", action=_VersionAction, help="show the version and which build (compiled or pure Python)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.add_argument("--config", dest="sub_config", help="settings file (TOML or JSON)")
        sp.set_defaults(_module=module_name)
        if command is not None and name != command:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.add_arguments(sp)
    return parser


def command_in(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names (its first word that is not the top-level ``--config``), or None
    when there is none to name (``--help``, a typo): argparse then lists or reports them all."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word if word in SUBCOMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Every fault or mistake riskwatch can name ends here as ONE line ``riskwatch: <cause> — <fix>`` on
    stderr and its exit code (``streams.errors``, README *Exit codes*); only a bug leaves a traceback."""
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(command_in(words)).parse_args(words)
    _default_logging()
    _warn_if_stale()
    try:
        settings = _settings(args.sub_config or args.config)
        module = importlib.import_module(args._module)
        result: int = module.run(args, settings)
        return result
    except Fault as exc:
        return _fail(str(exc), exc.exit_code)
    except OSError as exc:
        if exc.filename is None:
            raise
        return _fail(
            f"cannot use {exc.filename}: {exc.strerror}",
            EXIT_LOCAL,
            "create the folder or fix the path (and check its permissions)",
        )
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except Exception as exc:
        known = _foreign_fault(exc, args.command)
        if known is None:
            raise
        return _fail(str(known), known.exit_code)


class _Parser(argparse.ArgumentParser):
    """A command-line mistake is one line and exit 2 like every other mistake, not argparse's usage block
    (which ``--help`` still prints); subcommand parsers are made of the same class."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.removeprefix("riskwatch").strip()
        self.exit(
            EXIT_CONFIG, f"riskwatch: {where + ': ' if where else ''}{message} — see `{self.prog} --help`\n"
        )


class _VersionAction(argparse.Action):
    """``--version``: imports the engine only when asked, so other commands do not pay for it."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib.metadata import version

        from streams.build_info import build_in_use

        print(f"riskwatch {version('riskwatch')} ({build_in_use().describe()})")
        parser.exit()


def _warn_if_stale() -> None:
    from streams.build_info import stale_line, stale_sources

    stale = stale_sources()
    if stale:
        print(f"riskwatch: warning: {stale_line(stale)}", file=sys.stderr)


def _fail(message: str, code: int, fix: str = "") -> int:
    print(f"riskwatch: {message}{f' — {fix}' if fix else ''}", file=sys.stderr)
    return code


def _servers() -> str:
    return os.environ.get("RISKWATCH_KAFKA__BOOTSTRAP_SERVERS", "the configured brokers")


def _default_logging() -> None:
    """Commands that set up no logging of their own still route librdkafka's log through the rate limit."""
    if not logging.getLogger().handlers:
        from streams.logging_setup import configure_logging

        configure_logging("WARNING")


def _settings(config_file: str | None) -> Settings:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from config.problems import (
        explain_env_parse_error,
        explain_unknown_env,
        explain_validation_error,
        unknown_env_variables,
    )
    from config.settings import ConfigFileError, Settings, load_settings

    path_text = config_file or os.environ.get("RISKWATCH_CONFIG")
    try:
        settings = load_settings(config_file)
    except ConfigFileError as exc:
        raise ConfigFault(str(exc)) from None
    except ValidationError as exc:
        path = Path(path_text) if path_text else None
        raise ConfigFault(explain_validation_error(exc, Settings, os.environ, path)) from None
    except SettingsError as exc:
        raise ConfigFault(explain_env_parse_error(str(exc), os.environ)) from None
    unknown = unknown_env_variables(Settings, os.environ)
    if unknown:
        raise ConfigFault(explain_unknown_env(Settings, unknown))
    return settings


def _foreign_fault(exc: Exception, command: str) -> Fault | None:
    """A client library's error that names a fault: Kafka's (classified by ``from_kafka_error``) and
    Redis's (the stack, the demo and readers reach it): an unreachable server or refused credentials."""
    err = kafka_error_of(exc)
    if err is not None:
        return from_kafka_error(err, _servers(), f"running `riskwatch {command}`")
    redis = sys.modules.get("redis")
    if redis is None:
        return None
    if isinstance(exc, redis.AuthenticationError):
        return AuthFailed(
            f"Redis refused the credentials ({exc})",
            "check redis.url (RISKWATCH_REDIS__URL): user and password",
        )
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return Unreachable(
            f"cannot reach Redis ({exc})",
            "check redis.url (RISKWATCH_REDIS__URL) and that Redis is up (`riskwatch stack status`)",
        )
    return None


if __name__ == "__main__":
    sys.exit(main())
