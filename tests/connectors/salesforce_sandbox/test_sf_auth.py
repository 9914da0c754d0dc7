"""Logins and sessions through simple-salesforce: SOAP, OAuth password, client credentials, JWT bearer."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceExpiredSession

from connectors.salesforce.sandbox import SalesforceSandbox

from .conftest import control, http_session, oauth_token, password_login, token_login


def test_soap_login_with_security_token_gives_a_working_session(sandbox: SalesforceSandbox) -> None:
    sf = password_login(sandbox)
    assert sf.sf_instance == sandbox.instance_url.removeprefix("https://")
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] >= 1


def test_soap_login_with_a_wrong_password_fails_with_invalid_login(sandbox: SalesforceSandbox) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        Salesforce(
            username=sandbox.username,
            password="wrong",
            security_token=sandbox.security_token,
            session=http_session(sandbox),
        )
    assert caught.value.code == "INVALID_LOGIN"


def test_oauth_password_flow_returns_the_documented_token_fields(sandbox: SalesforceSandbox) -> None:
    token = oauth_token(sandbox)
    assert set(token) >= {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"}
    assert token["instance_url"] == sandbox.instance_url
    assert token["token_type"] == "Bearer"
    expected = base64.b64encode(
        hmac.new(
            sandbox.client_secret.encode(), (token["id"] + token["issued_at"]).encode(), hashlib.sha256
        ).digest()
    )
    assert token["signature"] == expected.decode()


def test_oauth_password_flow_through_simple_salesforce(sandbox: SalesforceSandbox) -> None:
    sf = Salesforce(
        username=sandbox.username,
        password=sandbox.password + sandbox.security_token,
        consumer_key=sandbox.client_id,
        consumer_secret=sandbox.client_secret,
        session=http_session(sandbox),
    )
    assert sf.query("SELECT Id FROM User LIMIT 1")["totalSize"] == 1


def test_oauth_rejects_a_wrong_client_secret(sandbox: SalesforceSandbox) -> None:
    response = http_session(sandbox).post(
        sandbox.token_url,
        data={
            "grant_type": "password",
            "client_id": sandbox.client_id,
            "client_secret": "nope",
            "username": sandbox.username,
            "password": sandbox.password + sandbox.security_token,
        },
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client", "error_description": "invalid client credentials"}


def test_oauth_password_flow_needs_the_security_token(sandbox: SalesforceSandbox) -> None:
    response = http_session(sandbox).post(
        sandbox.token_url,
        data={
            "grant_type": "password",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "username": sandbox.username,
            "password": sandbox.password,
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_client_credentials_flow_on_a_my_domain(sandbox: SalesforceSandbox) -> None:
    sf = Salesforce(
        consumer_key=sandbox.client_id,
        consumer_secret=sandbox.client_secret,
        domain="acme.my",
        session=http_session(sandbox),
    )
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] > 0


def _key_and_certificate() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "syncd-jwt")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def test_jwt_bearer_flow_accepts_an_assertion_signed_by_the_registered_certificate(
    sandbox: SalesforceSandbox,
) -> None:
    key_pem, cert_pem = _key_and_certificate()
    control(sandbox, "POST", "/jwt-keys", json={"client_id": "jwt-app", "certificate_pem": cert_pem})
    sf = Salesforce(
        username=sandbox.username, consumer_key="jwt-app", privatekey=key_pem, session=http_session(sandbox)
    )
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] > 0


def test_jwt_bearer_flow_rejects_an_assertion_signed_by_another_key(sandbox: SalesforceSandbox) -> None:
    _, cert_pem = _key_and_certificate()
    other_key, _ = _key_and_certificate()
    control(sandbox, "POST", "/jwt-keys", json={"client_id": "jwt-app-2", "certificate_pem": cert_pem})
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        Salesforce(
            username=sandbox.username,
            consumer_key="jwt-app-2",
            privatekey=other_key,
            session=http_session(sandbox),
        )
    assert caught.value.code == "invalid_grant"


def test_expired_session_answers_401_invalid_session_id(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    sf.query("SELECT Id FROM Lead LIMIT 1")
    assert control(fresh, "POST", "/sessions/expire")["expired"] >= 1
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT Id FROM Lead LIMIT 1")
    assert caught.value.status == 401
    assert caught.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_session_times_out_after_the_configured_inactivity(fresh: SalesforceSandbox) -> None:
    control(fresh, "POST", "/settings", json={"session_timeout_seconds": 600})
    sf = token_login(fresh)
    control(fresh, "POST", "/clock", json={"advance_seconds": 599})
    sf.query("SELECT Id FROM Lead LIMIT 1")  # activity keeps the session alive
    control(fresh, "POST", "/clock", json={"advance_seconds": 601})
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Lead LIMIT 1")


def test_password_client_logs_in_again_after_its_session_expires(fresh: SalesforceSandbox) -> None:
    sf = password_login(fresh)
    first = sf.session_id
    control(fresh, "POST", "/sessions/expire")
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] > 0
    assert sf.session_id != first


def test_requests_without_a_session_are_refused(sandbox: SalesforceSandbox) -> None:
    response = http_session(sandbox).get(f"{sandbox.instance_url}/services/data/v59.0/limits")
    assert response.status_code == 401
    assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"
