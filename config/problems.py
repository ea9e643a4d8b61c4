"""One line for a settings mistake, naming where it was made (the file or the ``RISKWATCH_*`` variable), the
key and the fix, instead of pydantic's multi-line report that names neither the file nor the variable.

``riskwatch`` prints it as ``riskwatch: <cause> — <fix>`` and exits 2; ``load_settings`` itself keeps raising
pydantic's exceptions so library callers and tests see the full detail.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

ENV_PREFIX = "RISKWATCH_"
ENV_DELIMITER = "__"
# RISKWATCH_ variables that are not settings of the tree but are read by riskwatch itself, its build or its
# test suite (whose subprocesses inherit them)
OTHER_VARIABLES = frozenset(
    {
        "RISKWATCH_CONFIG",
        "RISKWATCH_INSTANCE_ID",
        "RISKWATCH_UPDATE_README",
        # build time (setup.py): install the pure-Python modules even where a C compiler exists
        "RISKWATCH_PURE_PYTHON",
        # tests: the build the test run must be using ("compiled" or "pure"); .ci/run sets "compiled"
        "RISKWATCH_EXPECT_BUILD",
    }
)


def _env_name(path: tuple[str, ...]) -> str:
    return ENV_PREFIX + ENV_DELIMITER.join(p.upper() for p in path)


def _origin(loc: tuple[str, ...], environ: Mapping[str, str], config_file: Path | None) -> str:
    """Where the value at ``loc`` came from: the longest ``RISKWATCH_`` variable naming it or a parent
    (a JSON object), else the settings file."""
    for end in range(len(loc), 0, -1):
        name = _env_name(loc[:end])
        if name in environ:
            return f"environment variable {name}"
    if config_file is not None:
        return f"settings file {config_file}"
    return "the settings"


def _model_at(root: type[BaseModel], path: tuple[str, ...]) -> type[BaseModel] | None:
    model: Any = root
    for part in path:
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def explain_validation_error(
    exc: ValidationError,
    root: type[BaseModel],
    environ: Mapping[str, str],
    config_file: Path | None,
) -> str:
    """``<cause> — <fix>`` for the first error of ``exc`` (and how many more there are)."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    loc = tuple(str(p) for p in first["loc"])
    key = ".".join(loc)
    origin = _origin(loc, environ, config_file)
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    if first["type"] == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        known = sorted(parent.model_fields) if parent is not None else []
        close = difflib.get_close_matches(loc[-1], known, n=1)
        hint = f"did you mean {'.'.join((*loc[:-1], close[0]))}?" if close else "remove it"
        section = ".".join(loc[:-1]) or "the top level"
        return f"unknown setting {key} in {origin}{more} — {hint} (known in {section}: {', '.join(known)})"
    return f"bad value for {key} in {origin}: {first['msg']}{more} — fix the value (README, Configuration)"


def explain_env_parse_error(message: str, environ: Mapping[str, str]) -> str:
    """pydantic-settings' ``error parsing value for field "x" from source "EnvSettingsSource"``: name the
    variable whose value is not the JSON the field needs."""
    field = message.split('"')[1] if message.count('"') >= 2 else ""
    prefix = ENV_PREFIX + field.upper()
    culprits = []
    for name, value in sorted(environ.items()):
        if name == prefix or name.startswith(prefix + ENV_DELIMITER):
            try:
                json.loads(value)
            except ValueError:
                culprits.append(name)
    named = ", ".join(culprits) if culprits else f"a {prefix}* variable"
    key = culprits[0][len(ENV_PREFIX) :].lower().replace(ENV_DELIMITER, ".") if culprits else field
    return (
        f"environment variable {named} is not valid JSON, which setting {key} needs "
        '— give a JSON object/list (e.g. \'{"USD": "7.10"}\') or set the single keys with __'
    )


def known_env_names(root: type[BaseModel]) -> tuple[set[str], set[str]]:
    """(every variable naming a setting, every variable naming a section); sections take JSON objects."""
    leaves: set[str] = set()
    sections: set[str] = set()

    def walk(model: type[BaseModel], path: tuple[str, ...]) -> None:
        for name, field in model.model_fields.items():
            sub = (*path, name)
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                sections.add(_env_name(sub))
                walk(annotation, sub)
            else:
                leaves.add(_env_name(sub))

    walk(root, ())
    return leaves, sections


def unknown_env_variables(root: type[BaseModel], environ: Mapping[str, str]) -> list[str]:
    """``RISKWATCH_*`` variables that name no setting: pydantic-settings ignores them silently, so
    ``RISKWATCH_KAFKA_BOOTSTRAP_SERVERS`` (one underscore) would leave the default broker in place.
    Variables below a dict setting (e.g. ``..._FX_RATES_TO_BASE__USD``) are that dict's keys."""
    leaves, sections = known_env_names(root)
    unknown = []
    for original in sorted(environ):
        name = original.upper()  # pydantic-settings matches variable names case-insensitively
        if not name.startswith(ENV_PREFIX) or name in OTHER_VARIABLES or name in leaves or name in sections:
            continue
        if any(name.startswith(leaf + ENV_DELIMITER) for leaf in leaves):
            continue  # a key of a dict-valued setting; pydantic validates it
        unknown.append(original)
    return unknown


def explain_unknown_env(root: type[BaseModel], names: list[str]) -> str:
    leaves, _ = known_env_names(root)
    first = names[0]
    close = difflib.get_close_matches(first, sorted(leaves | OTHER_VARIABLES), n=1, cutoff=0.8)
    hint = f"did you mean {close[0]}?" if close else "settings are RISKWATCH_<SECTION>__<KEY>"
    others = f" (and {', '.join(names[1:])})" if len(names) > 1 else ""
    return f"unknown environment variable {first}{others} names no setting — {hint} Fix or unset it."
