"""Pure translations: describe → ObjectSchema, record JSON → RemoteRecord, composite bodies, limit headers."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.salesforce.auth import token_form
from connectors.salesforce.composite import QuerySubrequest, composite_body, subresponses
from connectors.salesforce.objects import OBJECTS, object_spec, select_fields
from connectors.salesforce.records import to_remote
from connectors.salesforce.schema import object_schema
from connectors.salesforce.settings import (
    ClientCredentialsLogin,
    JwtBearerLogin,
    PasswordLogin,
    SalesforceSettings,
)
from connectors.salesforce.transport import parse_limit_info
from syncd.connector import FieldType
from syncd.errors import ConfigError, FatalError

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def describe_field(name: str, sf_type: str, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": name,
        "type": sf_type,
        "label": name,
        "createable": True,
        "updateable": True,
        "nillable": True,
        "defaultedOnCreate": False,
        "length": 0,
        "restrictedPicklist": False,
    }
    base.update(extra)
    return base


@pytest.mark.parametrize(
    ("sf_type", "kind"),
    [
        ("string", FieldType.STRING),
        ("textarea", FieldType.TEXT),
        ("email", FieldType.EMAIL),
        ("phone", FieldType.STRING),
        ("url", FieldType.STRING),
        ("picklist", FieldType.ENUM),
        ("multipicklist", FieldType.ENUM),
        ("boolean", FieldType.BOOL),
        ("double", FieldType.NUMBER),
        ("currency", FieldType.NUMBER),
        ("int", FieldType.NUMBER),
        ("percent", FieldType.NUMBER),
        ("date", FieldType.DATE),
        ("datetime", FieldType.DATETIME),
        ("reference", FieldType.REFERENCE),
        ("id", FieldType.ID),
    ],
)
def test_salesforce_types_map_to_syncd_field_types(sf_type: str, kind: FieldType) -> None:
    schema = object_schema("Lead", {"fields": [describe_field("F", sf_type)]})
    assert schema.fields["F"].type is kind


def test_required_on_create_means_createable_not_nillable_and_not_defaulted() -> None:
    schema = object_schema(
        "Lead",
        {
            "fields": [
                describe_field("Company", "string", nillable=False, length=255),
                describe_field("IsConverted", "boolean", nillable=False, defaultedOnCreate=True),
                describe_field("Id", "id", nillable=False, createable=False, updateable=False),
                describe_field("Title", "string", length=128),
            ]
        },
    )
    required = {name for name, f in schema.fields.items() if f.required_on_create}
    assert required == {"Company"}
    assert schema.fields["Company"].length == 255
    assert schema.fields["Id"].createable is False and schema.fields["Id"].updateable is False


def test_picklists_list_active_values_and_whether_they_are_restricted() -> None:
    raw = describe_field(
        "Status",
        "picklist",
        restrictedPicklist=True,
        picklistValues=[{"value": "Open", "active": True}, {"value": "Old", "active": False}],
    )
    status = object_schema("Lead", {"fields": [raw]}).fields["Status"]
    assert status.picklist == ("Open",)
    assert status.restricted_picklist is True


def test_compound_fields_are_left_to_their_components() -> None:
    schema = object_schema(
        "Lead", {"fields": [describe_field("Address", "address"), describe_field("City", "string")]}
    )
    assert set(schema.fields) == {"City"}


def raw_lead(**extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "attributes": {"type": "Lead", "url": "/services/data/v59.0/sobjects/Lead/00Q000000000001AAA"},
        "Id": "00Q000000000001AAA",
        "SystemModstamp": "2026-03-01T12:00:00.000+0000",
        "CreatedDate": "2026-02-01T08:00:00.000+0000",
        "IsDeleted": False,
        "MasterRecordId": None,
        "IsConverted": False,
        "ConvertedContactId": None,
        "Email": "jane@x.com",
    }
    row.update(extra)
    return row


def test_a_live_record_keeps_its_fields_without_the_attributes_envelope() -> None:
    record = to_remote(OBJECTS["Lead"], raw_lead())
    assert record.id == "00Q000000000001AAA"
    assert record.modified_at == NOW
    assert record.created_at == datetime(2026, 2, 1, 8, tzinfo=UTC)
    assert record.fields["Email"] == "jane@x.com" and "attributes" not in record.fields
    assert (record.deleted, record.merged_into) == (False, None)


def test_a_merge_loser_is_a_tombstone_pointing_at_the_survivor() -> None:
    record = to_remote(OBJECTS["Lead"], raw_lead(IsDeleted=True, MasterRecordId="00Q000000000002AAA"))
    assert (record.deleted, record.merged_into) == (True, "00Q000000000002AAA")


def test_a_converted_lead_points_at_its_contact() -> None:
    record = to_remote(OBJECTS["Lead"], raw_lead(IsConverted=True, ConvertedContactId="003000000000001AAA"))
    assert (record.deleted, record.merged_into) == (False, "003000000000001AAA")


def test_a_record_without_system_fields_is_a_broken_invariant() -> None:
    with pytest.raises(FatalError):
        to_remote(OBJECTS["Contact"], {"Id": "003000000000001AAA"})


def test_system_fields_come_first_and_each_column_once() -> None:
    assert select_fields(OBJECTS["Contact"], ["email", "Email", "Id", "LastName"]) == (
        "Id",
        "SystemModstamp",
        "CreatedDate",
        "IsDeleted",
        "MasterRecordId",
        "email",
        "LastName",
    )
    assert "ConvertedContactId" in select_fields(OBJECTS["Lead"], [])


def test_unsupported_objects_are_a_config_error_naming_the_supported_ones() -> None:
    with pytest.raises(ConfigError) as refused:
        object_spec("Account")
    assert refused.value.hint is not None and "Contact, Event, Lead, Opportunity" in refused.value.hint


def test_composite_probe_bundles_queries_as_get_subrequests() -> None:
    body = composite_body(
        "59.0",
        [
            QuerySubrequest("q0", "SELECT Id FROM Lead", include_deleted=True, page_size=2000),
            QuerySubrequest(
                "q1", "SELECT Id FROM Contact WHERE Email = 'a@b.c'", include_deleted=False, page_size=500
            ),
        ],
    )
    assert body["allOrNone"] is False
    first, second = body["compositeRequest"]
    assert first["method"] == "GET" and first["referenceId"] == "q0"
    assert urlsplit(first["url"]).path == "/services/data/v59.0/queryAll/"
    assert parse_qs(urlsplit(second["url"]).query)["q"] == ["SELECT Id FROM Contact WHERE Email = 'a@b.c'"]
    assert second["httpHeaders"] == {"Sforce-Query-Options": "batchSize=500"}


def test_composite_answers_are_read_by_reference() -> None:
    parts = subresponses(
        {
            "compositeResponse": [
                {"referenceId": "q1", "httpStatusCode": 400, "body": [{"errorCode": "INVALID_FIELD"}]},
                {"referenceId": "q0", "httpStatusCode": 200, "body": {"done": True, "records": []}},
            ]
        }
    )
    assert parts["q0"].status == 200 and parts["q1"].status == 400
    with pytest.raises(FatalError):
        subresponses([{"errorCode": "X"}])


@pytest.mark.parametrize(
    ("header", "usage"),
    [
        ("api-usage=18/5000", (18, 5000)),
        ("api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)", (25, 5000)),
        ("per-app-api-usage=17/250(appName=x)", None),
        ("garbage", None),
    ],
)
def test_limit_info_reads_the_org_wide_usage_only(header: str, usage: tuple[int, int] | None) -> None:
    assert parse_limit_info(header) == usage


def test_password_flow_appends_the_security_token() -> None:
    form = token_form(PasswordLogin("u@x.com", "pw", "cid", "secret", security_token="TOK"), now=NOW)
    assert form == {
        "grant_type": "password",
        "client_id": "cid",
        "client_secret": "secret",
        "username": "u@x.com",
        "password": "pwTOK",
    }
    assert token_form(ClientCredentialsLogin("cid", "secret"), now=NOW)["grant_type"] == "client_credentials"


def test_jwt_bearer_assertion_is_rs256_signed_for_the_production_audience() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    form = token_form(JwtBearerLogin("cid", "u@x.com", pem), now=NOW)
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        form["assertion"],
        key.public_key(),
        algorithms=["RS256"],
        audience="https://login.salesforce.com",
        options={"verify_exp": False},
    )
    assert claims["iss"] == "cid" and claims["sub"] == "u@x.com"
    assert claims["exp"] == int(NOW.timestamp()) + 180


def test_a_bad_private_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="private key"):
        token_form(JwtBearerLogin("cid", "u@x.com", "not a key"), now=NOW)


def test_secrets_never_show_in_settings_repr() -> None:
    settings = SalesforceSettings(PasswordLogin("u@x.com", "hunter2", "cid", "s3cret", security_token="TOK"))
    assert not {"hunter2", "s3cret", "TOK"} & set(repr(settings).replace("'", " ").replace(",", " ").split())


def test_settings_list_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        SalesforceSettings(
            ClientCredentialsLogin("cid", "s"), login_url="http://x", page_size=5, collection_size=500
        )
    assert len(info.value.problems) == 3
