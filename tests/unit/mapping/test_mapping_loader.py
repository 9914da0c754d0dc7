"""Loading mapping files: the default mapping, and every problem of a bad one listed with its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from mapping_schemas import CONTACTS_YAML

from syncd.core.rules import Direction, NullPolicy, Rule, SurvivorRule
from syncd.errors import ConfigError
from syncd.mapping import load_mapping, parse_mapping
from syncd.mapping.filters import Op
from syncd.mapping.transforms import Default, OwnerTransform, Round, TextCase, ValueMap


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_the_default_contacts_mapping_loads_with_every_field_and_its_line() -> None:
    text = CONTACTS_YAML.read_text()
    mapping = load_mapping(CONTACTS_YAML, display="mappings/contacts.yaml")
    assert mapping.source == "mappings/contacts.yaml"
    assert (mapping.flow, mapping.hubspot_object, mapping.salesforce_objects) == (
        "contacts",
        "contacts",
        ("Lead", "Contact"),
    )
    assert mapping.identity == "email"
    names = [f.name for f in mapping.fields]
    assert names[:3] == ["email", "firstname", "lastname"]
    for entry in mapping.fields:
        assert entry.line == _line_of(text, f"  {entry.name}:")
    company = mapping.entry("company")
    assert dict(company.salesforce) == {"Lead": "Company"}
    assert company.rule is Rule.PREFER_CRM_UNLESS_BLANK
    assert company.to_crm == (Default(company.to_crm[0].line, "[not provided]"),)
    city = mapping.entry("city")
    assert dict(city.salesforce) == {"Lead": "City", "Contact": "MailingCity"}
    assert mapping.entry("email_optout").rule is Rule.MOST_RESTRICTIVE
    assert isinstance(mapping.entry("owner").to_crm[0], OwnerTransform)
    assert mapping.entry("score").direction is Direction.TO_CRM
    assert isinstance(mapping.entry("score").to_crm[0], Round)
    lifecycle = mapping.entry("lifecycle").to_crm[0]
    assert (
        isinstance(lifecycle, ValueMap) and ("salesqualifiedlead", "Working - Contacted") in lifecycle.pairs
    )
    assert mapping.matching.duplicates is SurvivorRule.MOST_RECENTLY_MODIFIED
    assert mapping.matching.target_candidates is None
    assert mapping.matching.object_preference == ("Contact", "Lead")


GOOD_MINIMAL = """\
flow: contacts
objects: {hubspot: contacts, salesforce: [Lead, Contact]}
identity: email
include:
  hubspot:
    - {field: lifecyclestage, op: in, value: [lead, customer]}
    - {field: email, op: exists}
  salesforce:
    - {field: LeadSource, op: ne, value: Purchased List}
fields:
  email:
    hubspot: email
    salesforce: Email
  title:
    hubspot: jobtitle
    salesforce: {Lead: Title, Contact: null}
    direction: to_crm
    null_policy: propagate_nulls
    to_crm: [trim, upper, {default: n/a}]
  born:
    hubspot: date_of_birth
    salesforce: {Contact: Birthdate__c}
    to_crm: [{parse_date: "%d/%m/%Y"}]
    to_marketing: [{date_format: "%d/%m/%Y"}]
  rating:
    hubspot: rating
    salesforce: {Lead: Rating}
    to_crm:
      - map: {hot: Hot, warm: Warm}
        otherwise: Cold
"""


def test_a_minimal_mapping_reads_objects_filters_nulls_and_transforms() -> None:
    mapping = parse_mapping(GOOD_MINIMAL, "m.yaml")
    title = mapping.entry("title")
    assert dict(title.salesforce) == {"Lead": "Title"}
    assert (title.direction, title.null_policy) == (Direction.TO_CRM, NullPolicy.PROPAGATE_NULLS)
    assert [type(t) for t in title.to_crm] == [TextCase, TextCase, Default]
    assert title.line == 14 and title.line_of("to_crm") == 19
    rating = mapping.entry("rating").to_crm[0]
    assert isinstance(rating, ValueMap) and (rating.otherwise, rating.fallback) == ("value", "Cold")
    (in_list, exists) = mapping.include.hubspot
    assert (in_list.field, in_list.op, in_list.value, in_list.line) == (
        "lifecyclestage",
        Op.IN,
        ("lead", "customer"),
        6,
    )
    assert exists.op is Op.EXISTS and exists.value is None
    assert mapping.include.salesforce[0].value == "Purchased List"


BAD = """\
flow: contacts
objects: {hubspot: contacts, salesforce: [Lead, Contact]}
identity: mail
colour: blue
matching:
  duplicates: newest
include:
  hubspot:
    - {field: email, op: like, value: x}
    - {field: email, op: in, value: x}
    - {field: email, op: exists, value: 1}
fields:
  email:
    hubspot: email
    salesforce: Email
  lifecycle:
    hubspot: lifecyclestage
    salesforce: {Lead: Status, Opportunity: StageName}
    rule: to_way
    direction: sideways
  nohub:
    salesforce: Title
  broken:
    hubspot: phone
    salesforce: Phone
    null_policy: maybe
    to_crm: [trim, squash, {round: many}, {map: {}}, {default: [1, 2]}]
    to_marketing: trim
    extra: 1
  email:
    hubspot: email
    salesforce: Email
"""


def test_every_problem_of_a_bad_mapping_is_listed_at_once_with_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_mapping(BAD, "mappings/contacts.yaml")
    problems = caught.value.problems
    expected = [
        ("mappings/contacts.yaml:4:", "unknown key 'colour' in the mapping file"),
        ("mappings/contacts.yaml:6:", "unknown survivor rule 'newest'"),
        ("mappings/contacts.yaml:9:", "unknown operator 'like'"),
        ("mappings/contacts.yaml:10:", "operator in needs a list of values"),
        ("mappings/contacts.yaml:11:", "operator exists takes no value"),
        ("mappings/contacts.yaml:18: field 'lifecycle':", "Salesforce object 'Opportunity' is not listed"),
        ("mappings/contacts.yaml:19: field 'lifecycle':", "unknown rule 'to_way' (expected one of: two_way,"),
        ("mappings/contacts.yaml:20: field 'lifecycle':", "unknown direction 'sideways'"),
        ("mappings/contacts.yaml:21: field 'nohub':", "missing 'hubspot'"),
        ("mappings/contacts.yaml:26: field 'broken':", "unknown null_policy 'maybe'"),
        ("mappings/contacts.yaml:27: field 'broken':", "unknown transform 'squash'"),
        ("mappings/contacts.yaml:27: field 'broken':", "round needs a number of decimals"),
        ("mappings/contacts.yaml:27: field 'broken':", "map needs a non-empty mapping"),
        ("mappings/contacts.yaml:27: field 'broken':", "default needs a single non-null value"),
        ("mappings/contacts.yaml:28: field 'broken':", "to_marketing must be a list of transforms"),
        ("mappings/contacts.yaml:29: field 'broken':", "unknown key 'extra' in a field entry"),
        ("mappings/contacts.yaml:30:", "key 'email' is given twice"),
        ("mappings/contacts.yaml:3:", "identity field 'mail' is not defined under fields"),
    ]
    for prefix, fragment in expected:
        assert any(p.startswith(prefix) and fragment in p for p in problems), (prefix, fragment, problems)
    assert len(problems) == len(expected)
    lines = [int(p.split(":")[1]) for p in problems]
    assert lines == sorted(lines), "problems are listed in file order"
    assert caught.value.hint and "README" in caught.value.hint


def test_yaml_syntax_errors_point_at_their_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_mapping("flow: contacts\nfields:\n  email: [unclosed\n", "m.yaml")
    (problem,) = caught.value.problems
    assert problem.startswith("m.yaml:") and "not valid YAML" in problem


def test_a_file_that_is_not_a_mapping_is_reported() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_mapping("- just\n- a list\n", "m.yaml")
    assert caught.value.problems == ["m.yaml:1: the mapping file must be a mapping"]


def test_missing_required_keys_are_reported_together() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_mapping("flow: contacts\n", "m.yaml")
    problems = caught.value.problems
    assert "m.yaml:1: missing required key 'objects'" in problems
    assert "m.yaml:1: missing required key 'identity'" in problems
    assert "m.yaml:1: missing required key 'fields'" in problems


def test_an_unreadable_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_mapping(tmp_path / "missing.yaml", display="mappings/missing.yaml")
    assert caught.value.problems[0].startswith("mappings/missing.yaml: cannot read the mapping file")


def test_a_value_listed_twice_in_a_map_is_reported() -> None:
    text = """\
flow: contacts
objects: {hubspot: contacts, salesforce: [Lead]}
identity: email
fields:
  email: {hubspot: email, salesforce: Email}
  stage:
    hubspot: lifecyclestage
    salesforce: Status
    to_crm:
      - map:
          lead: Open
          lead: Working
"""
    with pytest.raises(ConfigError) as caught:
        parse_mapping(text, "m.yaml")
    assert caught.value.problems == ["m.yaml:12: field 'stage': map: value 'lead' is listed twice"]
