"""Failures against the simulator: re-login, retries, the org's limit, the budget, locks, logins, TLS."""

from __future__ import annotations

import certifi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.salesforce.settings import ClientCredentialsLogin, JwtBearerLogin, PasswordLogin
from syncd.budget import ApiBudget, DailyAllowance
from syncd.connector import Write
from syncd.errors import AuthError, BudgetExhaustedError, ConfigError, RetryableError
from tests.connectors.salesforce.sfc_support import Control, MakeConnector

QUERY = r"/services/data/v[0-9.]+/query"


def logins(control: Control) -> int:
    by_endpoint: dict[str, int] = control.get("/counters")["by_endpoint"]
    return sum(n for route, n in by_endpoint.items() if "oauth2/token" in route)


def lead_count(connector: SalesforceConnector) -> int:
    return sum(len(p.records) for p in connector.pull("Lead", None, ["Email"]))


def test_an_expired_session_is_renewed_once_without_the_caller_noticing(
    control: Control, connector: SalesforceConnector
) -> None:
    expected = lead_count(connector)
    assert control.post("/sessions/expire")["expired"] >= 1
    assert lead_count(connector) == expected
    assert logins(control) == 2


def test_a_session_refused_again_after_a_fresh_login_is_an_auth_error(
    control: Control, connector: SalesforceConnector
) -> None:
    connector.check()
    control.fault(path=QUERY, kind="status", status=401, count=2)
    with pytest.raises(AuthError):
        lead_count(connector)


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 503},
        {"kind": "status", "status": 500},
        {"kind": "reset"},
        {"kind": "timeout", "latency_ms": 1_500},
    ],
    ids=["503", "500", "reset", "timeout"],
)
def test_transient_failures_are_retried_with_backoff(
    control: Control, make_connector: MakeConnector, fault: dict[str, object]
) -> None:
    sleeps: list[float] = []
    connector = make_connector(sleeps=sleeps, timeout_seconds=0.5)
    expected = lead_count(connector)
    control.fault(path=QUERY, count=2, **fault)
    assert lead_count(connector) == expected
    assert len(sleeps) == 2


def test_retries_give_up_with_a_retryable_error_when_the_outage_lasts(
    control: Control, connector: SalesforceConnector
) -> None:
    connector.check()
    control.fault(path=QUERY, kind="status", status=503)
    before = control.calls()
    with pytest.raises(RetryableError):
        lead_count(connector)
    assert control.calls() - before == 4  # the policy's max_attempts


def test_a_create_cut_off_in_transit_is_not_resent_blindly(
    control: Control, connector: SalesforceConnector
) -> None:
    connector.check()
    control.fault(method="POST", path=r"/composite/sobjects$", kind="reset", count=1)
    before = control.calls()
    with pytest.raises(RetryableError):
        connector.push("Lead", [Write("create", "a", {"LastName": "A", "Company": "Acme"})])
    assert control.calls() - before == 1  # the engine replays the page and looks the email up first


def test_the_orgs_request_limit_parks_the_flow_without_hammering(
    control: Control, connector: SalesforceConnector
) -> None:
    connector.check()
    control.post("/api-usage", {"calls": 20_000})
    before = control.calls()
    with pytest.raises(BudgetExhaustedError) as info:
        lead_count(connector)
    assert control.calls() - before == 1
    assert info.value.resume_after and info.value.resume_after > 0
    usage = connector.usage()
    assert usage.limit == 15_000 and usage.used >= 15_000  # read from Sforce-Limit-Info on the 403


def test_the_client_budget_refuses_before_the_org_is_asked(
    control: Control, make_connector: MakeConnector
) -> None:
    connector = make_connector(budget=ApiBudget(DailyAllowance("salesforce", allocated=2)))
    connector.check()  # login is free; describe global spends one call
    lead_count(connector)
    before = control.calls()
    with pytest.raises(BudgetExhaustedError):
        lead_count(connector)
    assert control.calls() == before
    assert connector.usage().allocated == 2


def test_the_daily_share_is_taken_from_the_limit_the_org_reports(make_connector: MakeConnector) -> None:
    connector = make_connector(daily_share=0.5)
    connector.check()
    usage = connector.usage()
    assert (usage.limit, usage.allocated) == (15_000, 7_500)
    assert usage.used == 1


def test_locked_records_are_sent_again_and_written_once(
    control: Control, make_connector: MakeConnector
) -> None:
    sleeps: list[float] = []
    connector = make_connector(sleeps=sleeps)
    locked = {
        "success": False,
        "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked", "fields": []}],
    }
    control.fault(
        method="POST", path=r"/composite/sobjects$", kind="status", status=200, body=[locked, locked], count=1
    )
    writes = [
        Write("create", f"r{i}", {"LastName": f"L{i}", "Company": "Acme", "Email": f"l{i}@x.com"})
        for i in (1, 2)
    ]
    results = connector.push("Lead", writes)
    assert [r.ok for r in results] == [True, True]
    assert len(sleeps) == 1
    emails = [r.get("Email") for r in control.records("Lead")]
    assert emails.count("l1@x.com") == 1 and emails.count("l2@x.com") == 1


def test_records_locked_for_good_come_back_as_failed_results(
    control: Control, connector: SalesforceConnector
) -> None:
    locked = {
        "success": False,
        "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked", "fields": []}],
    }
    control.fault(method="POST", path=r"/composite/sobjects$", kind="status", status=200, body=[locked])
    result = connector.push("Lead", [Write("create", "r", {"LastName": "L", "Company": "Acme"})])[0]
    assert not result.ok and result.error is not None
    assert result.error.remote_code == "UNABLE_TO_LOCK_ROW"


def test_a_wrong_password_is_an_auth_error_naming_what_to_check(
    sandbox: SalesforceSandbox, make_connector: MakeConnector
) -> None:
    connector = make_connector(
        PasswordLogin(sandbox.username, "wrong", sandbox.client_id, sandbox.client_secret, security_token="x")
    )
    with pytest.raises(AuthError, match="security token"):
        connector.check()


def test_client_credentials_login_works(sandbox: SalesforceSandbox, make_connector: MakeConnector) -> None:
    connector = make_connector(ClientCredentialsLogin(sandbox.client_id, sandbox.client_secret))
    connector.check()
    assert lead_count(connector) > 0


def test_jwt_bearer_login_works_with_the_registered_certificate(
    control: Control, sandbox: SalesforceSandbox, make_connector: MakeConnector
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    control.post("/jwt-keys", {"client_id": sandbox.client_id, "certificate_pem": self_signed(key)})
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    connector = make_connector(JwtBearerLogin(sandbox.client_id, sandbox.username, pem))
    connector.check()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(AuthError):
        make_connector(JwtBearerLogin(sandbox.client_id, sandbox.username, stranger_pem)).check()


def test_the_ca_setting_wins_over_requests_ca_bundle(
    make_connector: MakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A public CA bundle in the environment does not know the org's (test) CA.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    make_connector().check()
    with pytest.raises(ConfigError, match="ca_file"):
        make_connector(ca_file=None).check()


def self_signed(key: rsa.RSAPrivateKey) -> str:
    import datetime as dt

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "syncd test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_a_login_outage_is_retried_by_the_login_alone(
    control: Control, make_connector: MakeConnector
) -> None:
    control.fault(path=r"/services/oauth2/token", kind="status", status=503)
    connector = make_connector()
    with pytest.raises(RetryableError):
        connector.check()
    assert logins(control) == 4
    assert control.calls() == 4  # nothing but the login attempts


def test_check_verifies_every_configured_object_and_refuses_unsupported_ones(
    make_connector: MakeConnector,
) -> None:
    make_connector(objects=("Lead", "Contact", "Opportunity", "Task", "Campaign")).check()
    with pytest.raises(ConfigError, match="Account"):
        make_connector(objects=("Lead", "Account")).check()
