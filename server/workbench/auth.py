"""Officer login for the workbench: configured users with PBKDF2-SHA256 password hashes (stdlib, 600,000
iterations as OWASP recommends for it), or an officer id set by a trusted reverse proxy; a signed session
cookie (HMAC-SHA256, HttpOnly, SameSite=Strict) that also carries the officer's CSRF token, which every form
posts back. Without a login the pages are read-only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from fastapi import Request

from config.settings import WorkbenchSettings

ITERATIONS = 600_000
COOKIE = "riskwatch_session"


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, iterations, salt, digest = encoded.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        actual = hashlib.pbkdf2_hmac("sha256", password.encode(), _unb64(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(actual, _unb64(digest))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Officer:
    officer_id: str
    csrf: str


class Sessions:
    def __init__(self, settings: WorkbenchSettings) -> None:
        self.settings = settings
        secret = settings.session_secret
        self._key = secret.get_secret_value().encode() if secret is not None else secrets.token_bytes(32)

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest())

    def login(self, officer_id: str, password: str) -> str | None:
        """The cookie value for a correct user and password, else None."""
        encoded = self.settings.users.get(officer_id)
        if encoded is None:
            # the same cost as a known officer's check, so timing does not tell which ids exist
            known = next(iter(self.settings.users.values()), "")
            verify_password(password, known or hash_password("x", iterations=ITERATIONS))
            return None
        if not verify_password(password, encoded):
            return None
        payload = json.dumps(
            {
                "u": officer_id,
                "c": secrets.token_urlsafe(24),
                "e": int(time.time()) + self.settings.session_max_age_seconds,
            }
        ).encode()
        return f"{_b64(payload)}.{self._sign(payload)}"

    def officer(self, request: Request) -> Officer | None:
        header = self.settings.user_header
        if header:
            name = request.headers.get(header)
            if name:
                # the proxy authenticates; the CSRF token is bound to the officer by our key
                return Officer(name, self._sign(b"csrf:" + name.encode()))
        cookie = request.cookies.get(COOKIE)
        if not cookie or "." not in cookie:
            return None
        body, signature = cookie.rsplit(".", 1)
        try:
            payload = _unb64(body)
        except ValueError:
            return None
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        data = json.loads(payload)
        if int(data.get("e", 0)) < time.time() or data.get("u") not in self.settings.users:
            return None
        return Officer(str(data["u"]), str(data["c"]))


def csrf_ok(officer: Officer, token: str) -> bool:
    return bool(token) and hmac.compare_digest(officer.csrf.encode(), token.encode())
