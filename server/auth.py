"""The bearer token that ``serve.api_token`` asks of every ``/api/`` request (none configured: open)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="`serve.api_token`, when one is configured")


async def require_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    expected = request.app.state.api_token
    if expected is None:
        return
    given = credentials.credentials.encode() if credentials is not None else b""
    # constant-time, so the token cannot be guessed byte by byte from response times
    if not hmac.compare_digest(given, expected):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="a valid bearer token is required: send `Authorization: Bearer <serve.api_token>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
