"""Fault rules (error statuses, resets, hangs, added latency) and the seeded injector that picks them."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

FaultKind = Literal["status", "reset", "latency", "timeout"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


@dataclass(frozen=True)
class FaultRule:
    """One fault: which requests it hits, what happens to them, and how often.

    `path` is a regex searched in the request path. `count` fires the rule for the next N matching
    requests, then retires it; `probability` fires it by rate (rolled with the injector's seeded RNG).
    """

    method: str | None
    path: str
    kind: FaultKind
    status: int = 500
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    latency_ms: float = 0
    probability: float = 1.0
    count: int | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.kind not in FAULT_KINDS:
            problems.append(f"kind must be one of {', '.join(FAULT_KINDS)}, got {self.kind!r}")
        try:
            re.compile(self.path)
        except re.error as exc:
            problems.append(f"path is not a valid regex ({exc}): {self.path!r}")
        if not 100 <= self.status <= 599:
            problems.append(f"status must be an HTTP status 100-599, got {self.status}")
        if self.latency_ms < 0:
            problems.append(f"latency_ms must be >= 0, got {self.latency_ms}")
        if not 0.0 <= self.probability <= 1.0:
            problems.append(f"probability must be within 0..1, got {self.probability}")
        if self.count is not None and self.count < 1:
            problems.append(f"count must be >= 1 or null, got {self.count}")
        if problems:
            raise ValueError("invalid fault rule: " + "; ".join(problems))
        if self.method is not None:
            object.__setattr__(self, "method", self.method.upper())
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return re.search(self.path, path) is not None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build a rule from the control plane's JSON; raises ValueError naming every problem."""
        known = {"method", "path", "kind", "status", "body", "headers", "latency_ms", "probability", "count"}
        unknown = sorted(set(data) - known)
        missing = [name for name in ("path", "kind") if name not in data]
        if unknown or missing:
            problems = [f"unknown field {name!r}" for name in unknown] + [
                f"missing field {name!r}" for name in missing
            ]
            raise ValueError(
                "invalid fault rule: " + "; ".join(problems) + f" (fields: {', '.join(sorted(known))})"
            )
        headers = data.get("headers") or {}
        if not isinstance(headers, Mapping):
            raise ValueError("invalid fault rule: headers must be an object of name -> value")
        count = data.get("count")
        return cls(
            method=data.get("method"),
            path=str(data["path"]),
            kind=cast(FaultKind, data["kind"]),
            status=int(data.get("status", 500)),
            body=data.get("body"),
            headers={str(k): str(v) for k, v in headers.items()},
            latency_ms=float(data.get("latency_ms", 0)),
            probability=float(data.get("probability", 1.0)),
            count=None if count is None else int(count),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "kind": self.kind,
            "status": self.status,
            "body": self.body,
            "headers": dict(self.headers),
            "latency_ms": self.latency_ms,
            "probability": self.probability,
            "count": self.count,
        }


@dataclass(frozen=True)
class ActiveFault:
    """A rule as the injector holds it: its id and how many firings it has left (None = unlimited)."""

    id: str
    rule: FaultRule
    remaining: int | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "remaining": self.remaining, **self.rule.to_json()}


@dataclass
class _Slot:
    rule: FaultRule
    remaining: int | None


class FaultInjector:
    """Holds the active fault rules and picks the one a request hits. Thread-safe, deterministic per seed.

    Rules are tried in the order they were added; the first that matches and fires wins. The RNG is
    rolled only for matching rules with probability < 1, so the same request sequence gives the same faults.
    """

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._rules: dict[str, _Slot] = {}
        self._next_id = 1

    def add(self, rule: FaultRule) -> str:
        with self._lock:
            rule_id = f"fault-{self._next_id}"
            self._next_id += 1
            self._rules[rule_id] = _Slot(rule, rule.count)
            return rule_id

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            return self._rules.pop(rule_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._random = random.Random(seed)

    def rules(self) -> list[ActiveFault]:
        with self._lock:
            return [ActiveFault(rule_id, slot.rule, slot.remaining) for rule_id, slot in self._rules.items()]

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The fault this request hits, if any; consumes one firing of a counted rule."""
        with self._lock:
            if not self._rules:
                return None
            for rule_id, slot in list(self._rules.items()):
                rule = slot.rule
                if not rule.matches(method, path):
                    continue
                if rule.probability < 1.0 and self._random.random() >= rule.probability:
                    continue
                if slot.remaining is not None:
                    slot.remaining -= 1
                    if slot.remaining <= 0:
                        del self._rules[rule_id]
                return rule
            return None
