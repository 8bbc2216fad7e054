"""Per-call state the addon keeps between hooks, and the audit record fields built from it.

Pure: no mitmproxy. Times come in as arguments (monotonic seconds).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from .config import Settings
from .payload import numbers_only
from .redact import KnownValue


def body_digest(data: bytes) -> tuple[int, str]:
    return len(data), hashlib.sha256(data).hexdigest()


@dataclass
class CallState:
    """What one intercepted call has learned so far (request side, then response side)."""

    settings: Settings
    flow_id: str
    method: str
    host: str
    path: str
    started: float
    model: str | None = None
    stream: bool = False
    metadata: Any = None
    request_counts: dict[str, int] = field(default_factory=dict)
    response_counts: dict[str, int] = field(default_factory=dict)
    known: list[KnownValue] = field(default_factory=list)
    request_bytes: int = 0
    request_sha256: str | None = None
    response_bytes: int = 0
    response_sha256: str | None = None
    status: int | None = None
    usage: Any = None
    response_id: str | None = None
    response_logged: bool = False
    streaming: Any = None  # the StreamRedactor when the response is an SSE stream
    held_max: int = 0

    def base(self) -> dict[str, Any]:
        return {
            "flow_id": self.flow_id,
            "method": self.method,
            "host": self.host,
            "path": self.path,
            "model": self.model,
            "stream": self.stream,
            "metadata": self.metadata,
        }

    def request_record(self, outcome: str, reason: str | None, status: int | None, now: float) -> dict[str, Any]:
        """Every record carries every field; those the request cannot know yet are null."""
        return {
            "event": "request",
            **self.base(),
            "status": status,
            "outcome": outcome,
            "reason": reason,
            "redactions": {"request": dict(self.request_counts)},
            "request_bytes": self.request_bytes,
            "request_sha256": self.request_sha256,
            "response_bytes": None,
            "response_sha256": None,
            "duration_ms": round((now - self.started) * 1000, 3),
            "usage": None,
            "response_id": None,
        }

    def response_record(self, outcome: str, reason: str | None, now: float) -> dict[str, Any]:
        rec = {
            "event": "response",
            **self.base(),
            "status": self.status,
            "outcome": outcome,
            "reason": reason,
            "redactions": {"request": dict(self.request_counts), "response": dict(self.response_counts)},
            "request_bytes": self.request_bytes,
            "request_sha256": self.request_sha256,
            "response_bytes": self.response_bytes,
            "response_sha256": self.response_sha256,
            "duration_ms": round((now - self.started) * 1000, 3),
            "usage": self.usage,
            "response_id": self.response_id,
        }
        if self.stream:
            rec["held_max_chars"] = self.held_max
        return rec


def usage_of(body: Any) -> tuple[Any, str | None]:
    """(usage, response id) from a Responses or Chat body, numbers only."""
    if not isinstance(body, dict):
        return None, None
    usage = body.get("usage")
    rid = body.get("id") if isinstance(body.get("id"), str) else None
    return numbers_only(usage), rid
