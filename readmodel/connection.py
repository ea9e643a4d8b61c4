"""Redis clients built from ``RedisSettings`` (AUTH, TLS, timeouts, pool size), and the one line a user sees
when Redis cannot be reached."""

from __future__ import annotations

import redis
import redis.asyncio

from config.settings import RedisSettings

# what "Redis is not there or refuses us" looks like in redis-py, sync and asyncio alike
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError, redis.AuthenticationError, OSError)


def sync_client(settings: RedisSettings) -> redis.Redis:
    return redis.Redis.from_url(settings.url.get_secret_value(), **settings.client_kwargs())


def async_client(settings: RedisSettings) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(settings.url.get_secret_value(), **settings.client_kwargs())


def unreachable_message(settings: RedisSettings, exc: BaseException) -> str:
    """One line naming the cause and the fix; never the password."""
    if isinstance(exc, redis.AuthenticationError | redis.ResponseError) and "auth" in str(exc).lower():
        fix = "set redis.username/redis.password (RISKWATCH_REDIS__PASSWORD) to what the server expects"
    else:
        fix = "start it (`riskwatch stack up` locally) or point redis.url (RISKWATCH_REDIS__URL) at it"
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"Redis at {settings.display_url()} is unreachable ({reason}): {fix}"
