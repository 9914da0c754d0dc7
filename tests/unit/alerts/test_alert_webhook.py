"""Webhook posts over httpx (respx): the payload as sent, retries with backoff, Retry-After, permanent 4xx."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from syncd.alerts.webhook import WebhookRejected, WebhookSender, retry_after_seconds
from syncd.errors import IssueCategory, RetryableError
from syncd.retry import RetryPolicy

URL = "https://hooks.example.com/services/T000/B000/secret"
PAYLOAD = {"text": "Jane visited /pricing", "blocks": [{"type": "section"}]}
POLICY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8, max_total_wait=60)


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(assert_all_called=False)


def sender(router: respx.MockRouter, slept: list[float], policy: RetryPolicy = POLICY) -> WebhookSender:
    client = httpx.Client(transport=httpx.MockTransport(router.handler))
    return WebhookSender(URL, client, policy=policy, sleep=slept.append)


def test_posts_the_json_payload(router: respx.MockRouter) -> None:
    route = router.post(URL).respond(200, text="ok")
    slept: list[float] = []
    sender(router, slept).send(PAYLOAD)
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == PAYLOAD
    assert slept == []


def test_server_errors_are_retried_with_backoff(router: respx.MockRouter) -> None:
    route = router.post(URL).mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(502),
            httpx.ConnectError("reset"),
            httpx.Response(200),
        ]
    )
    slept: list[float] = []
    sender(router, slept).send(PAYLOAD)
    assert route.call_count == 4
    assert len(slept) == 3
    # Full jitter under an exponential ceiling: 0.5, 1, 2 seconds.
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(slept, (0.5, 1.0, 2.0), strict=True))


def test_retry_after_is_honoured_on_429(router: respx.MockRouter) -> None:
    route = router.post(URL).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)]
    )
    slept: list[float] = []
    sender(router, slept).send(PAYLOAD)
    assert route.call_count == 2
    assert slept == [7.0]


def test_retries_run_out_as_a_retryable_error(router: respx.MockRouter) -> None:
    route = router.post(URL).respond(500, text="boom")
    slept: list[float] = []
    with pytest.raises(RetryableError, match="HTTP 500"):
        sender(router, slept).send(PAYLOAD)
    assert route.call_count == POLICY.max_attempts
    assert len(slept) == POLICY.max_attempts - 1


def test_a_retry_after_beyond_the_wait_budget_gives_up_at_once(router: respx.MockRouter) -> None:
    route = router.post(URL).respond(429, headers={"Retry-After": "3600"})
    slept: list[float] = []
    with pytest.raises(RetryableError) as raised:
        sender(router, slept).send(PAYLOAD)
    assert route.call_count == 1
    assert slept == []
    assert raised.value.retry_after == 3600


@pytest.mark.parametrize(
    ("status", "category"),
    [
        (400, IssueCategory.VALIDATION),
        (401, IssueCategory.AUTH),
        (403, IssueCategory.PERMISSION),
        (404, IssueCategory.PERMISSION),
        (410, IssueCategory.PERMISSION),
        (413, IssueCategory.VALIDATION),
    ],
)
def test_other_client_errors_are_permanent_and_never_retried(
    router: respx.MockRouter, status: int, category: IssueCategory
) -> None:
    route = router.post(URL).respond(status, text="invalid_token")
    slept: list[float] = []
    with pytest.raises(WebhookRejected) as rejected:
        sender(router, slept).send(PAYLOAD)
    assert route.call_count == 1
    assert slept == []
    assert rejected.value.status == status
    assert rejected.value.category is category
    assert f"HTTP {status}: invalid_token" in str(rejected.value)
    assert "secret" not in str(rejected.value)  # the URL is the credential: never in messages


def test_timeouts_are_transient(router: respx.MockRouter) -> None:
    route = router.post(URL).mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(204)])
    slept: list[float] = []
    sender(router, slept, RetryPolicy(max_attempts=2, base_delay=0.1)).send(PAYLOAD)
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("12", 12.0),
        (" 0 ", 0.0),
        ("-3", 0.0),
        ("Wed, 04 Mar 2026 10:00:30 GMT", 30.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_or_an_http_date(header: str | None, seconds: float | None) -> None:
    now = 1772618400.0  # 2026-03-04 10:00:00 UTC
    assert retry_after_seconds(header, now=lambda: now) == seconds
