"""Push planning: batching, bisecting whole-batch refusals, mapping 207 replies — against a fake endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from connectors.hubspot.errors import RejectedRequest, RemoteError
from connectors.hubspot.objects import CONTACTS
from connectors.hubspot.writing import map_reply, plan, push_all, request_body
from syncd.connector import Write, WriteResult
from syncd.errors import IssueCategory


def upsert(email: str, ref: str | None = None, **fields: Any) -> Write:
    return Write(op="upsert", ref=ref or email, id_property="email", fields={"email": email, **fields})


class FakeBatchEndpoint:
    """Accepts a batch unless an input is 'bad'; then it refuses the whole batch, like HubSpot's 400."""

    def __init__(self, bad: set[str]) -> None:
        self.bad = bad
        self.calls: list[list[str]] = []

    def __call__(self, operation: str, writes: Sequence[Write]) -> list[WriteResult]:
        refs = [w.ref for w in writes]
        self.calls.append(refs)
        if self.bad & set(refs):
            raise RejectedRequest(
                "HubSpot rejected POST batch: INVALID_OPTION",
                remote=RemoteError(
                    status=400, message="invalid", codes=("INVALID_OPTION",), properties=("lifecyclestage",)
                ),
                category=IssueCategory.PICKLIST,
                hint="fix it",
            )
        return [WriteResult(ref=w.ref, ok=True, id=f"id-{w.ref}") for w in writes]


@pytest.mark.parametrize(
    ("count", "batch_size", "sizes"),
    [
        (0, 100, []),
        (1, 100, [1]),
        (100, 100, [100]),
        (101, 100, [100, 1]),
        (250, 100, [100, 100, 50]),
        (7, 3, [3, 3, 1]),
    ],
)
def test_batches_never_exceed_the_api_maximum(count: int, batch_size: int, sizes: list[int]) -> None:
    batches, refused = plan(CONTACTS, [upsert(f"p{i}@x.com") for i in range(count)], batch_size)
    assert [len(b.writes) for b in batches] == sizes
    assert refused == {}


def test_a_repeated_key_starts_a_new_batch_so_hubspot_does_not_refuse_the_duplicate() -> None:
    writes = [upsert("a@x.com", "1"), upsert("b@x.com", "2"), upsert("A@X.com ", "3"), upsert("c@x.com", "4")]
    batches, _ = plan(CONTACTS, writes, 100)
    assert [b.positions for b in batches] == [(0, 1), (2, 3)]


def test_writes_without_what_hubspot_needs_are_refused_up_front() -> None:
    writes = [
        Write(op="update", ref="no-id", fields={"firstname": "A"}),
        Write(op="upsert", ref="no-key", id_property="email", fields={"firstname": "A"}),
        Write(op="upsert", ref="wrong-key", id_property="phone", fields={"phone": "1"}),
        upsert("ok@x.com", "ok"),
    ]
    endpoint = FakeBatchEndpoint(set())
    results = push_all(CONTACTS, writes, endpoint, batch_size=100)
    assert [r.ok for r in results] == [False, False, False, True]
    assert all(r.error is not None and r.error.category is IssueCategory.VALIDATION for r in results[:3])
    assert endpoint.calls == [["ok"]]


@pytest.mark.parametrize(
    ("size", "bad"),
    [
        (100, {"r0"}),
        (100, {"r99"}),
        (100, {"r37"}),
        (100, {"r3", "r80"}),
        (2, {"r1"}),
        (1, {"r0"}),
        (64, set()),
    ],
)
def test_bisect_isolates_exactly_the_bad_records_and_keeps_input_order(size: int, bad: set[str]) -> None:
    writes = [upsert(f"p{i}@x.com", f"r{i}") for i in range(size)]
    endpoint = FakeBatchEndpoint(bad)
    results = push_all(CONTACTS, writes, endpoint, batch_size=100)
    assert [r.ref for r in results] == [w.ref for w in writes]
    assert {r.ref for r in results if not r.ok} == bad
    for result in results:
        if result.ok:
            assert result.id == f"id-{result.ref}"
        else:
            assert result.error is not None
            assert result.error.category is IssueCategory.PICKLIST
            assert f"p{result.ref[1:]}@x.com (ref {result.ref})" in result.error.message
            assert "lifecyclestage" in result.error.message
    # One bad record in 100 costs about 2·log2(100) calls, not 100.
    if len(bad) == 1 and size == 100:
        assert len(endpoint.calls) <= 15


def test_results_come_back_in_input_order_across_operations() -> None:
    writes = [
        upsert("a@x.com", "u1"),
        Write(op="update", ref="p1", id="11", fields={"firstname": "B"}),
        Write(op="delete", ref="d1", id="12"),
        Write(op="create", ref="c1", fields={"email": "n@x.com"}),
        upsert("b@x.com", "u2"),
    ]
    results = push_all(CONTACTS, writes, FakeBatchEndpoint(set()), batch_size=100)
    assert [r.ref for r in results] == ["u1", "p1", "d1", "c1", "u2"]


def test_request_bodies_have_the_documented_shapes() -> None:
    assert request_body("upsert", [upsert("a@x.com", "1", hs_email_optout=True, phone=None)]) == {
        "inputs": [
            {
                "id": "a@x.com",
                "idProperty": "email",
                "properties": {"email": "a@x.com", "hs_email_optout": "true", "phone": ""},
            }
        ]
    }
    assert request_body("update", [Write(op="update", ref="r", id="5", fields={"n": 3})]) == {
        "inputs": [{"id": "5", "properties": {"n": "3"}}]
    }
    assert request_body("archive", [Write(op="delete", ref="r", id="5")]) == {"inputs": [{"id": "5"}]}
    created = request_body(
        "create", [Write(op="create", ref="a", fields={}), Write(op="create", ref="b", fields={})]
    )
    assert [i["objectWriteTraceId"] for i in created["inputs"]] == ["0", "1"]


def test_207_on_update_maps_missing_ids_to_their_records() -> None:
    writes = [Write(op="update", ref=f"r{i}", id=str(100 + i), fields={"firstname": "X"}) for i in range(3)]
    reply = {
        "status": "COMPLETE",
        "results": [{"id": "102", "properties": {}}, {"id": "100", "properties": {}}],
        "numErrors": 1,
        "errors": [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some CONTACT objects, they may be deleted or not exist.",
                "context": {"ids": ["101"]},
            }
        ],
    }
    results = map_reply(CONTACTS, "update", writes, reply)
    assert [(r.ref, r.ok, r.id) for r in results] == [
        ("r0", True, "100"),
        ("r1", False, None),
        ("r2", True, "102"),
    ]
    error = results[1].error
    assert error is not None and error.remote_code == "OBJECT_NOT_FOUND"
    assert "id 101" in error.message


def test_traced_create_207_maps_failures_by_trace_id() -> None:
    writes = [Write(op="create", ref=f"c{i}", fields={"email": f"n{i}@x.com"}) for i in range(3)]
    reply = {
        "results": [
            {"id": "900", "objectWriteTraceId": "2", "properties": {}},
            {"id": "901", "objectWriteTraceId": "0", "properties": {}},
        ],
        "errors": [
            {
                "category": "CONFLICT",
                "message": "Contact already exists. Existing ID: 555",
                "context": {"objectWriteTraceId": ["1"]},
            }
        ],
    }
    results = map_reply(CONTACTS, "create", writes, reply)
    assert [(r.ok, r.id, r.created) for r in results] == [
        (True, "901", True),
        (False, None, False),
        (True, "900", True),
    ]
    error = results[1].error
    assert error is not None and error.category is IssueCategory.DUPLICATE
    assert "555" in str(error)
    assert "n1@x.com" in error.message


def test_upsert_results_are_matched_by_email_and_report_creation() -> None:
    writes = [upsert("Jane@X.com", "j"), upsert("bob@x.com", "b", email_new=None)]
    reply = {
        "results": [
            {"id": "2", "new": False, "properties": {"email": "bob@x.com"}},
            {"id": "1", "new": True, "properties": {"email": "jane@x.com"}},
        ]
    }
    results = map_reply(CONTACTS, "upsert", writes, reply)
    assert [(r.ref, r.id, r.created) for r in results] == [("j", "1", True), ("b", "2", False)]


def test_a_record_the_reply_does_not_mention_is_reported_failed_not_silently_ok() -> None:
    writes = [upsert("a@x.com", "a"), upsert("b@x.com", "b")]
    results = map_reply(
        CONTACTS, "upsert", writes, {"results": [{"id": "1", "properties": {"email": "a@x.com"}}]}
    )
    assert [r.ok for r in results] == [True, False]
