"""One typed settings tree for riskwatch: defaults in code, a TOML/JSON file, then RISKWATCH_* variables."""

from config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
