"""Admin listener (off unless the config has ``admin:``): ``GET /healthz`` and ``GET /metrics``.

A tiny asyncio HTTP/1.1 server on the proxy's event loop; it serves counters only, never text.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import orjson
import structlog

log = structlog.get_logger("werker_proxy.admin")


def health(proxy: Any) -> tuple[bool, dict[str, Any]]:
    """Config loaded and audit log writable (upstream reachability is not required)."""
    settings = proxy.settings
    audit_ok = proxy.audit is not None and not getattr(proxy.audit, "_failed", None)
    if audit_ok:
        d = os.path.dirname(proxy.audit.path)
        audit_ok = os.access(d, os.W_OK) and (not os.path.exists(proxy.audit.path) or os.access(proxy.audit.path, os.W_OK))
    ca_ok = settings is not None and os.path.exists(settings.ca_cert_path)
    ok = settings is not None and audit_ok
    return ok, {"status": "ok" if ok else "unhealthy", "config_loaded": settings is not None,
                "config_error": proxy.config_error is not None, "audit_writable": bool(audit_ok),
                "ca_present": ca_ok}


def _label(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _prefilter_active(proxy: Any) -> bool:
    prefilter = proxy.settings.redactor.prefilter if proxy.settings is not None else None
    return bool(prefilter is not None and getattr(prefilter, "active", False))


def metrics_text(proxy: Any) -> str:
    s = proxy.stats
    lines = [
        "# HELP werker_calls_total Intercepted calls by outcome.",
        "# TYPE werker_calls_total counter",
    ]
    lines += [f'werker_calls_total{{outcome="{_label(k)}"}} {v}' for k, v in sorted(s["calls"].items())]
    lines += ["# HELP werker_blocked_total Blocked calls by reason code.", "# TYPE werker_blocked_total counter"]
    lines += [f'werker_blocked_total{{reason="{_label(k)}"}} {v}' for k, v in sorted(s["blocked"].items())]
    lines += ["# HELP werker_redactions_total Redactions by rule and direction.",
              "# TYPE werker_redactions_total counter"]
    for k, v in sorted(s["redactions"].items()):
        direction, _, rule = k.partition(".")
        lines.append(f'werker_redactions_total{{direction="{_label(direction)}",rule="{_label(rule)}"}} {v}')
    lines += [
        "# HELP werker_audit_records_total Audit records written.", "# TYPE werker_audit_records_total counter",
        f"werker_audit_records_total {s['audit_records']}",
        "# HELP werker_audit_failures_total Audit records that could not be written.",
        "# TYPE werker_audit_failures_total counter", f"werker_audit_failures_total {s['audit_failures']}",
        "# HELP werker_stream_held_chars_max Most characters ever held back in one stream channel.",
        "# TYPE werker_stream_held_chars_max gauge", f"werker_stream_held_chars_max {s['held_chars']}",
        "# HELP werker_config_loaded 1 if a valid config is loaded.", "# TYPE werker_config_loaded gauge",
        f"werker_config_loaded {1 if proxy.settings is not None else 0}",
        "# HELP werker_prefilter_active 1 once the Hyperscan rule databases are in use (0: plain scan).",
        "# TYPE werker_prefilter_active gauge", f"werker_prefilter_active {1 if _prefilter_active(proxy) else 0}",
    ]
    return "\n".join(lines) + "\n"


class AdminServer:
    def __init__(self, proxy: Any, host: str, port: int):
        self.proxy, self.host, self.port = proxy, host, port
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, self.host, self.port)
        sock = self.server.sockets[0].getsockname()
        self.port = sock[1]
        log.info("admin_listening", host=self.host, port=self.port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            method, path, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            path = path.split("?", 1)[0]
            if method != "GET":
                status, ctype, body = 405, "text/plain", b"method not allowed\n"
            elif path == "/healthz":
                ok, info = health(self.proxy)
                status, ctype, body = (200 if ok else 503), "application/json", orjson.dumps(info) + b"\n"
            elif path == "/metrics":
                status, ctype, body = 200, "text/plain; version=0.0.4", metrics_text(self.proxy).encode()
            else:
                status, ctype, body = 404, "text/plain", b"not found\n"
            reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}[status]
            writer.write(f"HTTP/1.1 {status} {reason}\r\ncontent-type: {ctype}\r\ncontent-length: {len(body)}\r\n"
                         f"connection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, asyncio.LimitOverrunError, ValueError,
                ConnectionError):
            pass
        finally:
            writer.close()
