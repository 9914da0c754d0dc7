"""Posting an alert to a Slack-compatible incoming webhook over httpx, retried by the one retry layer.

429 (honouring Retry-After), 5xx, timeouts and connection failures are transient and retried with
backoff by `syncd.retry`; any other 4xx is permanent (a revoked or mistyped URL, a payload the
receiver refuses) and is raised as `WebhookRejected` at once. Logs name the status, never the URL:
it carries the webhook's credential.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from syncd.errors import IssueCategory, RetryableError, SyncdError
from syncd.retry import RetryPolicy, call_with_retry

_SNIPPET = 200
DEFAULT_POLICY = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=30.0, max_total_wait=90.0)


class WebhookRejected(SyncdError):
    """The receiver refused the post for good: sending it again cannot help."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(
            f"the webhook answered HTTP {status}" + (f": {body}" if body else ""),
            hint=_hint(status),
        )
        self.status = status
        self.body = body

    @property
    def category(self) -> IssueCategory:
        if self.status == 401:
            return IssueCategory.AUTH
        if self.status in (403, 404, 410):
            return IssueCategory.PERMISSION
        return IssueCategory.VALIDATION


def _hint(status: int) -> str:
    if status in (401, 403, 404, 410):
        return (
            "the webhook URL is wrong, revoked or not allowed to post: "
            "issue a new one and update flows.alerts.webhook.url"
        )
    return "the receiver refused the message: check that it accepts Slack-compatible JSON"


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - now())
    except (TypeError, ValueError):
        return None


class WebhookSender:
    """Posts JSON to one webhook URL. The client is injected (tests mount respx on it)."""

    def __init__(
        self,
        url: str,
        client: httpx.Client,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = url
        self._client = client
        self._policy = policy or RetryPolicy(
            max_attempts=4, base_delay=1.0, max_delay=30.0, max_total_wait=90.0
        )
        self._sleep = sleep
        self.posts = 0  # HTTP requests made, retries included

    def send(self, payload: Mapping[str, Any]) -> None:
        """Post once it lands; raises WebhookRejected (permanent) or RetryableError (retries spent)."""
        call_with_retry(
            lambda: self._post(payload), policy=self._policy, operation="webhook POST", sleep=self._sleep
        )

    def _post(self, payload: Mapping[str, Any]) -> None:
        self.posts += 1
        try:
            response = self._client.post(self._url, json=dict(payload))
        except httpx.TimeoutException:
            raise RetryableError("the webhook did not answer in time") from None
        except httpx.TransportError as exc:
            raise RetryableError(f"the webhook could not be reached ({type(exc).__name__})") from None
        status = response.status_code
        if status < 300:
            return
        body = response.text.strip()[:_SNIPPET]
        if status == 429:
            raise RetryableError(
                "the webhook is rate limiting posts (HTTP 429)",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status >= 500 or status in (408, 425):
            raise RetryableError(f"the webhook answered HTTP {status}" + (f": {body}" if body else ""))
        raise WebhookRejected(status, body)

    def close(self) -> None:
        self._client.close()
