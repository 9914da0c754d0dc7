"""Logins and sessions: OAuth 2.0 token flows, the SOAP login, JWT bearer checks and session expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from connectors.salesforce.sandbox.settings import SalesforceSettings
from connectors.sandbox_core.clock import SimClock

_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


@dataclass
class Session:
    token: str
    user_id: str
    last_active: datetime


class OAuthFailure(Exception):
    """An OAuth error body: {"error", "error_description"} with HTTP 400 (401 for bad client auth)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class Grant:
    """A successful login: the session and what the token response reports."""

    session: Session
    client_secret: str


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class SessionAuthority:
    """Issues and checks sessions for the org's API user; knows the JWT keys of connected apps."""

    def __init__(
        self,
        clock: SimClock,
        settings: Callable[[], SalesforceSettings],
        org_id: str,
        api_user_id: Callable[[], str],
    ) -> None:
        self._clock = clock
        self._settings = settings
        self._org_id = org_id
        self._api_user_id = api_user_id
        self._sessions: dict[str, Session] = {}
        self._jwt_keys: dict[str, rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()

    # ---- keys ----
    def register_jwt_key(self, client_id: str, pem: str) -> None:
        """Register the certificate (or bare public key) a connected app signs JWT assertions with."""
        data = pem.encode()
        key: Any
        if b"CERTIFICATE" in data:
            key = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = load_pem_public_key(data)
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("JWT bearer keys must be RSA (RS256)")
        with self._lock:
            self._jwt_keys[client_id] = key

    # ---- sessions ----
    def _issue(self) -> Session:
        token = f"{self._org_id[:15]}!AQ{secrets.token_urlsafe(72)}"
        session = Session(token, self._api_user_id(), self._clock.now())
        with self._lock:
            self._sessions[token] = session
        return session

    def check(self, authorization: str | None) -> Session | None:
        """The live session for an Authorization header, or None (→ 401 INVALID_SESSION_ID)."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token:
            return None
        now = self._clock.now()
        timeout = self._settings().session_timeout_seconds
        with self._lock:
            session = self._sessions.get(token.strip())
            if session is None:
                return None
            if (now - session.last_active).total_seconds() > timeout:
                del self._sessions[session.token]
                return None
            session.last_active = now
            return session

    def expire_all(self) -> int:
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count

    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    # ---- OAuth 2.0 token endpoint ----
    def token(self, form: Mapping[str, str], authorization: str | None) -> Grant:
        settings = self._settings()
        grant_type = form.get("grant_type", "")
        if grant_type == "password":
            self._check_client(form.get("client_id"), form.get("client_secret"), settings)
            if form.get("username") != settings.username or form.get("password") not in (
                settings.password + settings.security_token,
            ):
                raise OAuthFailure("invalid_grant", "authentication failure")
            return Grant(self._issue(), settings.client_secret)
        if grant_type == "client_credentials":
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            if authorization and authorization.lower().startswith("basic "):
                try:
                    decoded = base64.b64decode(authorization[6:]).decode()
                except ValueError:
                    raise OAuthFailure("invalid_client", "invalid client credentials", 401) from None
                client_id, _, client_secret = decoded.partition(":")
            self._check_client(client_id, client_secret, settings)
            return Grant(self._issue(), settings.client_secret)
        if grant_type == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self._check_assertion(form.get("assertion", ""), settings)
            return Grant(self._issue(), settings.client_secret)
        raise OAuthFailure("unsupported_grant_type", "grant type not supported")

    def _check_client(
        self, client_id: str | None, client_secret: str | None, settings: SalesforceSettings
    ) -> None:
        if client_id != settings.client_id:
            raise OAuthFailure("invalid_client_id", "client identifier invalid")
        if client_secret is None or not hmac.compare_digest(client_secret, settings.client_secret):
            raise OAuthFailure("invalid_client", "invalid client credentials")

    def _check_assertion(self, assertion: str, settings: SalesforceSettings) -> None:
        parts = assertion.split(".")
        if len(parts) != 3:
            raise OAuthFailure("invalid_grant", "invalid assertion")
        try:
            header = json.loads(_b64url_decode(parts[0]))
            claims = json.loads(_b64url_decode(parts[1]))
            signature = _b64url_decode(parts[2])
        except (ValueError, UnicodeDecodeError):
            raise OAuthFailure("invalid_grant", "invalid assertion") from None
        if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("alg") != "RS256":
            raise OAuthFailure("invalid_grant", "invalid assertion")
        with self._lock:
            key = self._jwt_keys.get(str(claims.get("iss")))
        if key is None:
            raise OAuthFailure("invalid_client_id", "client identifier invalid")
        try:
            key.verify(signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise OAuthFailure("invalid_grant", "invalid assertion") from None
        if claims.get("aud") not in _AUDIENCES:
            raise OAuthFailure("invalid_grant", "audience is invalid")
        try:
            expires = float(claims.get("exp", 0))
        except (TypeError, ValueError):
            raise OAuthFailure("invalid_grant", "invalid assertion") from None
        if expires < self._clock.now().timestamp():
            raise OAuthFailure("invalid_grant", "expired authorization code")
        if claims.get("sub") != settings.username:
            raise OAuthFailure("invalid_grant", "user hasn't approved this consumer")

    # ---- SOAP login (simple-salesforce's default username/password path) ----
    def soap_login(self, body: str) -> Session:
        settings = self._settings()
        username = _xml_text(body, "username")
        password = _xml_text(body, "password")
        if username != settings.username or password != settings.password + settings.security_token:
            raise OAuthFailure(
                "INVALID_LOGIN", "Invalid username, password, security token; or user locked out."
            )
        return self._issue()

    def token_response(self, grant: Grant, instance_url: str) -> dict[str, Any]:
        issued_at = str(int(self._clock.now().timestamp() * 1000))
        identity = f"https://login.salesforce.com/id/{self._org_id}/{grant.session.user_id}"
        signature = base64.b64encode(
            hmac.new(grant.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        ).decode()
        return {
            "access_token": grant.session.token,
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": signature,
            "scope": "api",
        }


def _xml_text(body: str, local_name: str) -> str | None:
    match = re.search(rf"<(?:\w+:)?{local_name}>(.*?)</(?:\w+:)?{local_name}>", body, re.DOTALL)
    return unescape(match.group(1)) if match else None


def soap_login_response(
    session: Session, instance_url: str, version: str, org_id: str, username: str, timeout: int
) -> str:
    server_url = f"{instance_url}/services/Soap/u/{version}/{org_id}"
    return f"""<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result><metadataServerUrl>{instance_url}/services/Soap/m/{version}/{org_id}</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>true</sandbox><serverUrl>{server_url}</serverUrl><sessionId>{session.token}</sessionId><userId>{session.user_id}</userId><userInfo><organizationId>{org_id}</organizationId><organizationName>syncd sandbox</organizationName><sessionSecondsValid>{timeout}</sessionSecondsValid><userEmail>{username}</userEmail><userId>{session.user_id}</userId><userName>{username}</userName></userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"""  # noqa: E501


def soap_fault(code: str, message: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {message}</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode><sf:exceptionMessage>{message}</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"""  # noqa: E501
