"""The connector's own HTTP session: TLS from settings, and every response's Sforce-Limit-Info observed.

simple-salesforce parses `Sforce-Limit-Info` only on successful responses; a response hook on the
session sees it on errors too (a 403 REQUEST_LIMIT_EXCEEDED carries the most useful one).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

# `api-usage=used/limit`, not the `per-app-api-usage=` entry that may follow it.
_API_USAGE = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")


def parse_limit_info(header: str) -> tuple[int, int] | None:
    """(used, limit) from `Sforce-Limit-Info`, or None when the org-wide entry is absent."""
    m = _API_USAGE.search(header)
    return (int(m.group(1)), int(m.group(2))) if m else None


def make_session(*, ca_file: str | None, on_usage: Callable[[int, int], None]) -> requests.Session:
    """A session with SDK-level retries off (they live in syncd.retry) and the usage hook installed."""
    session = requests.Session()
    if ca_file is not None:
        # REQUESTS_CA_BUNDLE (set on many machines) overrides Session.verify unless the env is ignored.
        session.trust_env = False
        session.verify = ca_file
    adapter = HTTPAdapter(max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)

    def observe(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        header = response.headers.get("Sforce-Limit-Info")
        if header:
            usage = parse_limit_info(header)
            if usage is not None:
                on_usage(*usage)
        return response

    session.hooks["response"].append(observe)
    return session
