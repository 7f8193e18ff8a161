"""Secrets and who may call what.

- ``/api/*`` and ``/v1/*``: the API key (``server.api_key``) in ``X-API-Key`` or as a
  Bearer token, checked by ``dependencies.require_api_key``.
- Gradio's own API (``/gradio_api/*``, ``/monitoring*``), which the chat page calls and
  which any script could call too: the API key, or what the chat's users have — the basic
  auth credentials when ``server.ui_username``/``ui_password`` are set, otherwise a UI
  session cookie that the chat's pages hand out (``UISessions``).
- The chat's pages: basic auth when configured, open otherwise.

Every secret is compared in constant time (``same_secret``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.requests import cookie_parser

if TYPE_CHECKING:
    from assistant.settings import Settings

SESSION_COOKIE = "na_session"
SESSION_TTL_S = 12 * 3600  # a working day's chat without signing in again
compare_digest = secrets.compare_digest


def same_secret(given: str | bytes, expected: str | bytes) -> bool:
    """Whether ``given`` equals ``expected``, in time that does not depend on where they
    differ."""
    given = given.encode() if isinstance(given, str) else given
    expected = expected.encode() if isinstance(expected, str) else expected
    return compare_digest(given, expected)


class UISessions:
    """Signed, expiring session tokens for the chat's page: ``<expiry>.<nonce>.<mac>``,
    the MAC an HMAC-SHA256 under a key derived from the API key (so every worker and
    restart accepts them, and changing the key ends them). A token proves only that its
    holder loaded a chat page, which anyone may do when the chat has no basic auth."""

    def __init__(self, api_key: str, ttl_s: int = SESSION_TTL_S):
        self.key = hmac.new(api_key.encode(), b"news-assistant ui session", hashlib.sha256).digest()
        self.ttl_s = ttl_s

    def _mac(self, payload: str) -> str:
        return hmac.new(self.key, payload.encode(), hashlib.sha256).hexdigest()

    def issue(self, now: float | None = None) -> str:
        """A new token, valid for ``ttl_s`` seconds."""
        expires = int((now if now is not None else time.time()) + self.ttl_s)
        payload = f"{expires}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{self._mac(payload)}"

    def remaining_s(self, token: str | None, now: float | None = None) -> float:
        """Seconds ``token`` stays valid; 0 when it is missing, forged or expired."""
        if not token:
            return 0.0
        payload, _, mac = token.rpartition(".")
        expires = payload.partition(".")[0]
        if not expires.isdigit() or not same_secret(mac, self._mac(payload)):
            return 0.0
        return max(0.0, int(expires) - (now if now is not None else time.time()))


class Access:
    """The credentials the settings configure, and whether a request carries them."""

    def __init__(self, settings: Settings):
        server = settings.server
        self.api_key = server.api_key.get_secret_value() if server.api_key else None
        self.basic = (
            f"{server.ui_username}:{server.ui_password.get_secret_value()}".encode()
            if server.ui_auth_configured
            else None
        )
        # Sessions only where the chat is open to all but Gradio's API needs a key.
        self.sessions = UISessions(self.api_key) if self.api_key and not self.basic else None

    def has_api_key(self, headers: Headers) -> bool:
        """Whether the request carries the API key (``X-API-Key`` or Bearer)."""
        if self.api_key is None:
            return False
        scheme, _, token = headers.get("authorization", "").partition(" ")
        given = headers.get("x-api-key") or (token if scheme.lower() == "bearer" else "")
        return same_secret(given, self.api_key)

    def has_basic_auth(self, headers: Headers) -> bool:
        """Whether the request carries the chat's basic-auth credentials."""
        if self.basic is None:
            return False
        scheme, _, encoded = headers.get("authorization", "").partition(" ")
        try:
            given = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            return False
        return scheme.lower() == "basic" and same_secret(given, self.basic)

    def session_remaining_s(self, headers: Headers) -> float:
        """Seconds the request's UI session cookie stays valid (0: none or invalid)."""
        if self.sessions is None:
            return 0.0
        token = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
        return self.sessions.remaining_s(token)

    def may_use_ui(self, headers: Headers) -> bool:
        """Whether the request may see the chat's pages: basic auth when configured."""
        return self.basic is None or self.has_basic_auth(headers)

    def may_call_gradio_api(self, headers: Headers) -> bool:
        """Whether the request may use Gradio's own API: with the API key; else with the
        basic-auth credentials when the chat has them; else, when an API key is set, with
        a valid UI session; open when nothing is configured."""
        if self.has_api_key(headers):
            return True
        if self.basic is not None:
            return self.has_basic_auth(headers)
        if self.sessions is not None:
            return self.session_remaining_s(headers) > 0
        return True
