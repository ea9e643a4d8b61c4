"""Redis clients built from ``RedisSettings`` (AUTH, TLS, timeouts, pool size), and the one-line fault a
user sees when Redis cannot be reached or refuses the credentials."""

from __future__ import annotations

import redis
import redis.asyncio

from config.settings import RedisSettings
from streams.errors import AuthFailed, Fault, Unreachable

# what "Redis is not there or refuses us" looks like in redis-py, sync and asyncio alike
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError, redis.AuthenticationError, OSError)


def sync_client(settings: RedisSettings) -> redis.Redis:
    return redis.Redis.from_url(settings.url.get_secret_value(), **settings.client_kwargs())


def async_client(settings: RedisSettings) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(settings.url.get_secret_value(), **settings.client_kwargs())


def redis_fault(settings: RedisSettings, exc: BaseException) -> Fault:
    """The fault (exit 3 or 4, one line ``<cause> — <fix>``) for a Redis error; never the password."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    where = f"Redis at {settings.display_url()}"
    if isinstance(exc, redis.AuthenticationError) or "auth" in reason.lower():
        return AuthFailed(
            f"{where} refused the credentials ({reason})",
            "set redis.username/redis.password (RISKWATCH_REDIS__PASSWORD) to what the server expects",
        )
    return Unreachable(
        f"{where} is unreachable ({reason})",
        "start it (`riskwatch stack up` locally) or point redis.url (RISKWATCH_REDIS__URL) at it",
    )
