"""The ``riskwatch`` command: parses arguments, loads settings once, and hands off to one subcommand.

Subcommand modules are imported lazily so ``riskwatch --help`` and ``riskwatch replay`` never import
Kafka or faust machinery they do not use.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand -> (module, help); each module has ``add_arguments(parser)`` and ``run(args, settings)``
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "stack": ("streams.stack.command", "start, stop or inspect the local Kafka + Redis stack"),
    "replay": ("streams.replay", "run the detectors over a JSON-lines file of events"),
    "schema": ("streams.schema_export", "write the JSON Schema of every message type"),
    "generate": ("streams.generate", "write labelled synthetic traffic as JSON lines"),
    "evaluate": ("streams.evaluate", "detection quality on labelled events: recall by strength, precision"),
    "worker": ("streams.worker.command", "run a stream worker: input topics -> alerts, customer-risk"),
    "send": ("streams.send", "send a JSON-lines file of events to the input topics (keyed by customer)"),
    "tail": ("streams.tail", "print what arrives on a topic (alerts, customer-risk, dead-letter, ...)"),
    "demo": ("streams.demo", "bring the stack up, run a worker on generated traffic, print alerts"),
    "serve": ("server.command", "serve the read model as a read-only HTTP JSON API under /api/"),
    "override": ("streams.officer", "pin a customer's tier until a date (writes a risk_override)"),
    "review-complete": ("streams.officer", "record a completed periodic review (writes a review_completed)"),
    "forget": ("streams.officer", "erase a customer's state everywhere (writes an erasure_request)"),
    "project": ("readmodel.commands.project", "keep the Redis read model up to date with the output topics"),
    "customer": ("readmodel.commands.customer", "show one customer from the read model"),
    "customers": ("readmodel.commands.customers", "the riskiest customers from the read model"),
    "reviews": ("readmodel.commands.reviews", "periodic reviews due, from the read model"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="riskwatch", description="Kafka-native streaming risk monitor.")
    parser.add_argument("--config", help="settings file (TOML or JSON); also RISKWATCH_CONFIG")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.add_argument("--config", dest="sub_config", help="settings file (TOML or JSON)")
        sp.set_defaults(_module=module_name)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.add_arguments(sp)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from config.settings import ConfigFileError, load_settings

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.sub_config or args.config)
    except ConfigFileError as exc:
        print(f"riskwatch: {exc}", file=sys.stderr)
        return 2
    module = importlib.import_module(args._module)
    result: int = module.run(args, settings)
    return result


if __name__ == "__main__":
    sys.exit(main())
