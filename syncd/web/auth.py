"""The dashboard's token gate, and the security headers every response carries.

A request passes with `Authorization: Bearer <token>`, or with the session cookie. Opening any page
once with `?token=<token>` sets that cookie (HttpOnly, SameSite=Strict) and redirects to the same
address without the token, so it does not stay in the address bar, history or logs. The cookie
holds an HMAC of the token, never the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import URL, Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "syncd_dashboard"
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def session_value(token: str) -> str:
    return hmac.new(token.encode(), b"syncd dashboard session", hashlib.sha256).hexdigest()


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TokenGate:
    """Lets a request through only with the token (header, cookie, or `?token=` once)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        if not token:
            raise ValueError("the dashboard token must not be empty")
        self.app = app
        self._token = token.encode()
        self._session = session_value(token).encode()

    def _matches(self, given: str, expected: bytes) -> bool:
        return hmac.compare_digest(given.encode(), expected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self._matches(credentials.strip(), self._token):
            await self.app(scope, receive, send)
            return
        cookie = _cookie(headers.get("cookie", ""), COOKIE)
        if cookie is not None and self._matches(cookie, self._session):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = [v for k, v in query if k == "token"]
        if given and self._matches(given[-1], self._token):
            await _redirect_with_cookie(scope, send, query, self._session.decode())
            return
        await _unauthorized(scope, send, bad_token=bool(given))


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


async def _redirect_with_cookie(scope: Scope, send: Send, query: list[tuple[str, str]], session: str) -> None:
    rest = urlencode([(k, v) for k, v in query if k != "token"])
    location = URL(scope=scope).path + (f"?{rest}" if rest else "")
    secure = "; Secure" if scope.get("scheme") == "https" else ""
    cookie = f"{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict{secure}"
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode()),
                (b"set-cookie", cookie.encode()),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _unauthorized(scope: Scope, send: Send, *, bad_token: bool) -> None:
    message = "the token given is wrong" if bad_token else "this dashboard needs its access token"
    hint = "open the dashboard once with ?token=<token>, or send the header Authorization: Bearer <token>"
    if scope.get("path", "").startswith("/api/"):
        body = json.dumps({"error": message, "hint": hint}).encode()
        content_type = b"application/json"
    else:
        body = f"401 Unauthorized: {message}.\n{hint[0].upper()}{hint[1:]}.\n".encode()
        content_type = b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="syncd dashboard"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
