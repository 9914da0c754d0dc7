"""Logging in to Salesforce over OAuth 2.0 at a configurable login URL.

simple-salesforce builds its login URLs from `https://{domain}.salesforce.com` and logs in with SOAP
for the password flow, so neither a simulator nor a My Domain login host can be reached through it.
We post to `{login_url}/services/oauth2/token` ourselves, over the connector's own session (same TLS
settings), and hand simple-salesforce the resulting `instance_url` and access token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jwt
import requests

from connectors.salesforce.errors import first_error, is_certificate_failure, summary
from connectors.salesforce.settings import ClientCredentialsLogin, Credentials, JwtBearerLogin, PasswordLogin
from syncd.errors import AuthError, ConfigError, RetryableError

JWT_LIFETIME = timedelta(minutes=3)  # Salesforce rejects assertions that expire more than 3 minutes out


@dataclass(frozen=True)
class OrgSession:
    """An access token and the instance it is valid on."""

    instance_url: str
    access_token: str = field(repr=False)


def token_form(credentials: Credentials, *, now: datetime) -> dict[str, str]:
    """The form body of the token request for each flow."""
    if isinstance(credentials, PasswordLogin):
        return {
            "grant_type": "password",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "username": credentials.username,
            "password": credentials.password + credentials.security_token,
        }
    if isinstance(credentials, ClientCredentialsLogin):
        return {
            "grant_type": "client_credentials",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        }
    return {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": jwt_assertion(credentials, now=now),
    }


def jwt_assertion(credentials: JwtBearerLogin, *, now: datetime) -> str:
    claims = {
        "iss": credentials.client_id,
        "sub": credentials.username,
        "aud": credentials.audience,
        "exp": int((now + JWT_LIFETIME).timestamp()),
    }
    try:
        return jwt.encode(claims, credentials.private_key_pem, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise ConfigError(
            [f"the Salesforce JWT private key cannot sign an RS256 assertion ({type(exc).__name__})"],
            hint="point salesforce.private_key at the connected app's PEM-encoded RSA private key",
        ) from None


def _flow_hint(credentials: Credentials) -> str:
    if isinstance(credentials, PasswordLogin):
        return "check the username, password + security token and the connected app's client id/secret"
    if isinstance(credentials, ClientCredentialsLogin):
        return "check the connected app's client id/secret and that its client-credentials run-as user is set"
    return (
        "check the connected app's client id, the username, the certificate uploaded for the private key, "
        "and that the user is pre-authorized for the app"
    )


def login(
    http: requests.Session,
    credentials: Credentials,
    *,
    login_url: str,
    timeout: float,
    now: Callable[[], datetime],
) -> OrgSession:
    """One token request; AuthError when refused, RetryableError when Salesforce or the network failed."""
    url = login_url.rstrip("/") + "/services/oauth2/token"
    form = token_form(credentials, now=now())
    try:
        response = http.post(url, data=form, headers={"Accept": "application/json"}, timeout=timeout)
    except requests.exceptions.SSLError as exc:
        if not is_certificate_failure(exc):
            raise RetryableError(
                f"Salesforce login at {login_url} was cut off in transit: SSLError"
            ) from None
        raise ConfigError(
            [f"TLS verification failed for the Salesforce login at {login_url}"],
            hint="set salesforce.ca_file to the CA bundle that signs the login host's certificate",
        ) from None
    except requests.RequestException as exc:
        raise RetryableError(
            f"Salesforce login at {login_url} failed in transit: {type(exc).__name__}"
        ) from None
    body = _json(response)
    if response.status_code >= 500:
        raise RetryableError(f"Salesforce login at {login_url} failed: HTTP {response.status_code}")
    if response.status_code != 200:
        code, message, _ = first_error(body)
        raise AuthError(
            f"Salesforce refused the {form['grant_type']} login at {login_url}: "
            f"{code or response.status_code}" + (f": {summary(message)}" if message else ""),
            hint=_flow_hint(credentials),
        )
    token, instance = body.get("access_token"), body.get("instance_url")
    if not isinstance(token, str) or not isinstance(instance, str) or not instance.startswith("https://"):
        raise AuthError(
            f"the Salesforce login at {login_url} answered without an access token and https instance_url",
            hint="check salesforce.login_url points at a Salesforce login host",
        )
    return OrgSession(instance_url=instance.rstrip("/"), access_token=token)


def _json(response: requests.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return (
        body if isinstance(body, Mapping) else {"error": first_error(body)[0] or "", "error_description": ""}
    )
