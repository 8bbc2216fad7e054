"""mitmproxy glue: the ``WerkerProxy`` addon scrubs calls to the configured target hosts.

Shape (STYLE.md §1): ``load`` declares the ``werker_config`` option, ``configure`` parses and
compiles and only then swaps state; every hook catches everything and blocks, because
mitmproxy would log an exception and let the flow continue unscrubbed. An addon that never
configured answers 503 and forwards nothing.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import os
import re
import time
import types
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import structlog
from mitmproxy import ctx, exceptions, http
from mitmproxy.addonmanager import traverse

from . import errorpage
from .auditlog import AuditLog
from .config import Settings, load_settings
from .errors import (
    AuditError, BadRequest, BodyTooLarge, ConfigError, MalformedBody, NotConfigured, UnsupportedEncoding,
    UpstreamError, WerkerError,
)
from .flowstate import CallState, body_digest, usage_of
from .payload import parse_body, scrub_body_bytes
from .redact import add_counts
from .decoders import make_decoder
from .stream import StreamRedactor, looks_like_event_stream

log = structlog.get_logger("werker_proxy")
DECODABLE = ("gzip", "deflate", "br", "zstd", "identity")
STATE_KEY = "werker"
OFFLOAD_BYTES = 8 * 1024  # bodies this large are scrubbed on a worker thread (~30 ms of CPU and up)


def error_response(err: WerkerError) -> http.Response:
    body = {"error": {"message": f"werker-proxy: {err.message}", "type": "werker_proxy_error",
                      "code": err.code, "param": None}}
    return http.Response.make(err.status, orjson.dumps(body),
                              {"content-type": "application/json", "x-werker-proxy": "blocked"})


def _client_hung_up(flow: http.HTTPFlow) -> bool:
    """Whether the client, not the upstream, ended a call that failed.

    HTTP/1.1 says "Client disconnected.". HTTP/2's words ("stream reset", "peer closed
    connection") are the same for both sides: when the upstream connection does not speak
    HTTP/2 they can only be the client's; when it does, a reset saying CANCEL ("no longer
    needed") is the client's, and a closed connection is whichever side's ended first.
    """
    msg = ((flow.error.msg if flow.error else "") or "").lower()
    if "client" in msg and "disconnect" in msg:
        return True
    if not msg.startswith(("stream reset", "peer closed connection", "http/2")):
        return False
    if flow.server_conn.alpn != b"h2":
        return True
    if msg.startswith("stream reset"):
        return "(cancel)" in msg
    client_end, server_end = flow.client_conn.timestamp_end, flow.server_conn.timestamp_end
    return client_end is not None and (server_end is None or client_end <= server_end)


def _feed_all(frames: StreamRedactor, raw: bytes) -> bytes:
    return frames.feed(raw) + frames.flush()


def _answer_instead_of_body(answer: bytes) -> Callable[[bytes], list[bytes]]:
    """Stream callable for a call blocked when its response headers arrived.

    mitmproxy still reads the upstream body after the ``responseheaders`` hook, and unless the
    response streams it puts that body into whatever ``flow.response`` is then: our error
    answer would go out with the upstream's bytes. Streaming instead sends the answer's headers
    at once, its body with the first upstream chunk (or at the end), and drops every upstream
    byte.
    """
    pending = [answer] if answer else []

    def stream(_chunk: bytes) -> list[bytes]:
        out = pending[:]
        pending.clear()
        return out

    return stream


def _model_of(raw: bytes) -> str | None:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) else None


def _close_client_connection(flow: http.HTTPFlow) -> bool:
    """Close the client's connection of a streaming call: a stream callable cannot end the
    response it is streaming, and an exception in it would leave the client waiting."""
    try:
        handler = ctx.master.addons.get("proxyserver").connections.get(flow.client_conn.id)
        if handler is None:
            return False
        handler.close_connection(handler.client)
        return True
    except Exception:  # noqa: BLE001 - mitmproxy internals changed: fall back to the exception
        return False


def _where(e: BaseException) -> str:
    """file:line of the innermost frame: enough to find a bug, never the message (it may quote a body)."""
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}" if tb else "?"


def host_pattern(host: str) -> str:
    """allow_hosts entry for a target: host:port, also the fully-qualified form with a trailing dot."""
    return rf"^{re.escape(host)}\.?:\d+$"


STREAM_HOOKS = ("requestheaders", "responseheaders")


def addons_after(me: object, chain: list[Any]) -> list[str]:
    """Addons invoked after ``me`` that could switch on streaming (mitmproxy's own never do)."""
    order = list(traverse(chain))
    pos = next((i for i, a in enumerate(order) if a is me), None)
    if pos is None:
        return []
    out = []
    for a in order[pos + 1:]:
        name = a.__name__ if isinstance(a, types.ModuleType) else type(a).__module__
        if name.startswith("mitmproxy.") or not any(callable(getattr(a, h, None)) for h in STREAM_HOOKS):
            continue
        out.append(getattr(a, "__file__", None) or f"{type(a).__module__}.{type(a).__name__}")
    return out


def install_error_page() -> bool:
    """mitmproxy has no option for its error page: its HTTP/1, /2 and /3 layers render it with
    ``format_error``, replaced here by ours (same names in mitmproxy 11 and 12). False, and
    mitmproxy's own page, if that layout changed."""
    done = False
    for name in ("_http1", "_http2", "_http3"):
        try:
            mod = importlib.import_module(f"mitmproxy.proxy.layers.http.{name}")
        except ImportError:
            continue
        if hasattr(mod, "format_error"):
            mod.format_error = errorpage.format_openai_error
            done = True
    return done


# query parameters of the API that hold ids, cursors and enums, not data
STRUCTURAL_QUERY_KEYS = frozenset({"limit", "after", "before", "order", "include", "include[]", "starting_after",
                                   "stream", "api-version"})


class WerkerProxy:
    def __init__(self, config_path: str | None = None) -> None:
        self.config_path = config_path  # used while the werker_config option is empty
        self.settings: Settings | None = None
        self.audit: AuditLog | None = None
        self.config_error: str | None = None
        self.refusal: str | None = None  # set when the addon order is unsafe: every call is refused
        self._audit_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="werker-audit")
        # bodies of OFFLOAD_BYTES and more are scrubbed here, off the event loop (see _offload)
        self._scrub_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="werker-scrub")
        self.stats: dict[str, Any] = {"calls": {}, "blocked": {}, "redactions": {}, "audit_records": 0,
                                      "audit_failures": 0, "held_chars": 0}

    # -- options and configuration ---------------------------------------------------------
    def load(self, loader: Any) -> None:
        install_error_page()
        loader.add_option(
            "werker_config", str, "",
            "Path of the werker-proxy YAML config. Empty: the bundled default config "
            "(targets api.werker.health, default PHI rules, audit under ~/.werker-proxy).",
        )

    def configure(self, updated: set[str]) -> None:
        if "werker_config" in updated or self.settings is None:
            self.reload(ctx.options.werker_config or self.config_path, raise_errors=True)
        if ctx.options.stream_large_bodies:
            raise exceptions.OptionsError(
                "werker-proxy: stream_large_bodies must stay unset: streamed request bodies would bypass scrubbing")

    def running(self) -> None:
        self._check_addon_order()

    def _check_addon_order(self) -> None:
        """Refuse to scrub when an addon after us could switch on body streaming.

        Our ``requestheaders``/``responseheaders`` turn streaming off again, but an addon that runs
        after them could turn it back on, and mitmproxy would then forward the body as it
        arrives, before any hook of ours sees it. Checked at start (logged as an error, so
        mitmdump stops) and again for every call, before its body moves: scripts are reloaded
        while the proxy runs. While it holds, every call to a target is refused.
        """
        later = addons_after(self, ctx.master.addons.chain)
        refusal = (f"{', '.join(later)} runs after werker-proxy and could stream bodies past scrubbing; "
                   "load addons/werker.py last") if later else None
        if refusal is not None and refusal != self.refusal:
            logging.getLogger("werker_proxy").error("werker-proxy: %s", refusal)
        self.refusal = refusal

    def reload(self, path: str | None, *, raise_errors: bool) -> bool:
        """Load, compile and open everything first; only then swap. A bad config keeps the old one."""
        try:
            settings = load_settings(path)
            audit = self.audit
            if audit is None or audit.path != os.path.abspath(settings.audit.path):
                os.makedirs(os.path.dirname(settings.audit.path), mode=0o700, exist_ok=True)
                a = settings.audit
                audit = AuditLog(a.path, fsync=a.fsync, fsync_interval=a.fsync_interval,
                                 rotate_bytes=a.rotate_bytes, rotate_daily=a.rotate_daily,
                                 seal_key_file=a.seal_key_file, seal_every_records=a.seal_every_records,
                                 seal_every_seconds=a.seal_every_seconds)
        except (ConfigError, AuditError, OSError) as e:
            msg = str(e)
            log.error("config_rejected", error=msg, kept_previous=self.settings is not None)
            self.config_error = msg
            if raise_errors and self.settings is None:
                raise exceptions.OptionsError(f"Cannot load werker-proxy config: {msg}") from e
            return False
        old_audit, self.audit = self.audit, audit
        # strings copied into records (model, path, ids) never hold a matched value; the same few
        # (model names, usage keys, paths) come back with every call: remembered per config
        redactor = settings.redactor
        audit.scrub = functools.lru_cache(maxsize=4096)(lambda text: redactor.redact(text, "request").text)
        self.settings, self.config_error = settings, None
        if settings.redactor.prefilter is not None:
            settings.redactor.prefilter.start()  # background; the plain scan serves meanwhile
        if old_audit is not None and old_audit is not audit:
            old_audit.close()
        self._apply_mitmproxy_options(settings)
        log.info("config_loaded", source=settings.source, rules=len(settings.ruleset.rules))
        return True

    def _apply_mitmproxy_options(self, settings: Settings) -> None:
        updates: dict[str, Any] = {}
        if not str(ctx.options.mode[0] if ctx.options.mode else "regular").startswith("reverse"):
            updates["allow_hosts"] = [host_pattern(t.host) for t in settings.targets]
        if settings.upstream and settings.upstream.ca_file:
            updates["ssl_verify_upstream_trusted_ca"] = settings.upstream.ca_file
        updates["ssl_insecure"] = False
        # never dial the real target at CONNECT time: the request hook may route it to `upstream`
        updates["connection_strategy"] = "lazy"
        updates["upstream_cert"] = False
        try:
            ctx.options.update(**{k: v for k, v in updates.items() if getattr(ctx.options, k) != v})
        except exceptions.OptionsError as e:  # pragma: no cover - our own values
            raise ConfigError(settings.source, None, f"cannot apply proxy options: {e}") from e

    def done(self) -> None:
        self._scrub_pool.shutdown(wait=True)
        self._audit_pool.shutdown(wait=True)
        if self.audit is not None:
            self.audit.close()

    # -- helpers -------------------------------------------------------------------------------
    def _count(self, bucket: str, key: str) -> None:
        d = self.stats[bucket]
        d[key] = d.get(key, 0) + 1

    async def _offload(self, size: int, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``, on a worker thread when ``size`` (body bytes) is large.

        Scrubbing runs at well under 1 MB/s: on the event loop, a 2 MB body stopped every other
        call, streams included, for seconds. A worker still shares the GIL, but the loop gets
        its turn every few milliseconds. Small bodies stay inline (no thread hop).
        """
        if size < OFFLOAD_BYTES:
            return fn(*args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(
            self._scrub_pool, functools.partial(fn, *args, **kwargs))

    async def _write_audit_durably(self, fields: dict[str, Any]) -> None:
        """Write a record; with ``fsync: always`` wait for it in a worker thread, so the event loop
        keeps serving and concurrent calls share one fsync (group commit)."""
        if self.audit is not None and self.audit_fsync_always:
            await asyncio.get_running_loop().run_in_executor(self._audit_pool, self._write_audit, fields)
        else:
            self._write_audit(fields)

    @property
    def audit_fsync_always(self) -> bool:
        return self.settings is not None and self.settings.audit.fsync == "always"

    def _write_audit(self, fields: dict[str, Any]) -> None:
        if self.audit is None:
            raise AuditError("no audit log is open")
        try:
            self.audit.append(fields)
        except AuditError:
            self.stats["audit_failures"] += 1
            raise
        self.stats["audit_records"] += 1

    def _block(self, flow: http.HTTPFlow, state: CallState | None, err: WerkerError, *, phase: str) -> None:
        """Answer with the OpenAI-shaped error; record it (if the record fails, still blocked)."""
        flow.response = error_response(err)
        self._count("blocked", err.code)
        self._count("calls", "blocked")
        log.warning("call_blocked", flow_id=flow.id, phase=phase, reason=err.code, status=err.status)
        if state is None:
            return
        try:
            if phase == "request":
                state.response_logged = True  # mitmproxy runs the response hook on our own error answer
                self._write_audit(state.request_record("blocked", err.code, err.status, time.monotonic()))
            else:
                state.status = err.status
                state.response_logged = True
                self._write_audit(state.response_record("blocked", err.code, time.monotonic()))
        except AuditError as e:
            log.error("audit_write_failed", flow_id=flow.id, error=str(e))

    def _fail_closed(self, flow: http.HTTPFlow, state: CallState | None, e: Exception, hook: str) -> None:
        """Any exception in a hook blocks the call: mitmproxy would otherwise log it and forward."""
        phase = "request" if hook == "request" else "response"
        if isinstance(e, WerkerError):
            self._block(flow, state, e, phase=phase)
            return
        log.error(f"{hook}_hook_failed", flow_id=flow.id, error_type=e.__class__.__name__, where=_where(e))
        self._block(flow, state, WerkerError(f"internal error while scrubbing ({e.__class__.__name__})"), phase=phase)

    def _state(self, flow: http.HTTPFlow) -> CallState | None:
        return flow.metadata.get(STATE_KEY)

    # -- request side -------------------------------------------------------------------------
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        state: CallState | None = None
        try:
            if flow.request.stream:
                # An addon before us switched on request streaming: mitmproxy would forward the
                # body as it arrives, before our request hook runs. Buffer it instead.
                flow.request.stream = False
                log.warning("stream_undone", flow_id=flow.id, side="request")
            self._check_addon_order()
            if self.refusal is not None and self.settings is not None:
                state = self._new_state(flow, self.settings)
                if state is not None:  # here, not only in `request`: by then a streamed body is gone
                    self._refuse(flow, state, "request")
        except Exception as e:  # noqa: BLE001 - fail closed, never forward on a bug
            self._fail_closed(flow, state, e, "request")

    def _refuse(self, flow: http.HTTPFlow, state: CallState, phase: str) -> None:
        """Block and kill: an addon after us may still switch on streaming, which an error answer
        alone would not stop (mitmproxy would stream the body regardless)."""
        assert self.refusal is not None
        self._block(flow, state, NotConfigured(self.refusal, code="unsafe_addon_order"), phase=phase)
        flow.kill()

    def _new_state(self, flow: http.HTTPFlow, settings: Settings) -> CallState | None:
        """The call's state, kept on the flow; None when the flow is not for one of our targets."""
        target = settings.target_for(flow.request.pretty_host) or settings.target_for(flow.request.host)
        if target is None:
            return None  # not ours (never decrypted in regular mode); leave it alone
        path = flow.request.path.split("?", 1)[0]  # scrubbed when its records are written (audit.scrub)
        state = CallState(settings, flow.id, flow.request.method, target.host, path, time.monotonic())
        flow.metadata[STATE_KEY] = state
        return state

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live:
            return
        state: CallState | None = None
        try:
            settings = self.settings
            if settings is None:
                raise NotConfigured(self.config_error or "no valid configuration is loaded")
            state = self._new_state(flow, settings)
            if state is None:
                return
            if self.refusal is not None:
                raise NotConfigured(self.refusal, code="unsafe_addon_order")
            if flow.request.headers.get("upgrade", "").lower() == "websocket":
                raise BadRequest("WebSocket connections to the API cannot be scrubbed and are refused",
                                 code="websocket_refused")
            self._scrub_query(flow, settings)
            await self._scrub_request(flow, state)
            self._route(flow, settings)
            await self._write_audit_durably(state.request_record("forwarded", None, None, time.monotonic()))
            self._count("calls", "forwarded")
            add_counts(self.stats["redactions"], {f"request.{k}": v for k, v in state.request_counts.items()})
        except Exception as e:  # noqa: BLE001 - fail closed
            self._fail_closed(flow, state, e, "request")

    def _scrub_query(self, flow: http.HTTPFlow, settings: Settings) -> None:
        """Query values are data too (ids and cursors excepted): never forward one unscrubbed."""
        if not settings.redaction.request or not flow.request.query:
            return
        fields = list(flow.request.query.items(multi=True))
        out = [(k, v if k in STRUCTURAL_QUERY_KEYS else settings.redactor.redact(v, "request").text)
               for k, v in fields]
        if out != fields:
            flow.request.query = out

    async def _scrub_request(self, flow: http.HTTPFlow, state: CallState) -> None:
        settings = state.settings
        req = flow.request
        if req.raw_content is None:  # streamed past us by something that ran after our check
            raise BadRequest("the request body was streamed, so it could not be scrubbed", code="stream_refused")
        raw_len = len(req.raw_content or b"")
        if raw_len > settings.redaction.max_body_bytes:
            raise BodyTooLarge(f"the request body ({raw_len} bytes) exceeds max_body_bytes")
        try:
            req.decode(strict=True)
        except ValueError:
            raise UnsupportedEncoding(
                f"cannot decode request Content-Encoding {req.headers.get('content-encoding', '')!r}") from None
        raw = req.raw_content or b""
        if len(raw) > settings.redaction.max_body_bytes:
            raise BodyTooLarge(f"the decoded request body ({len(raw)} bytes) exceeds max_body_bytes")
        if raw.strip() and req.headers.get("content-type", "").lower().startswith("multipart/"):
            raise BadRequest("werker-proxy scrubs JSON request bodies only; a multipart body (a file upload) "
                             "cannot be scrubbed and is not forwarded", code="unsupported_content_type")
        if raw.strip():
            if settings.redaction.request:
                try:
                    out, report, body = await self._offload(len(raw), scrub_body_bytes, raw, settings.redactor,
                                                            "request", attachments=settings.redaction.attachments)
                except WerkerError:
                    state.model = _model_of(raw)  # a blocked call's record still names its model
                    raise
                state.request_counts = report.counts
                state.known = report.found
                if out is not raw:
                    req.raw_content = out
                    req.headers["content-length"] = str(len(out))
            else:
                out, body = raw, parse_body(raw)
            if isinstance(body, dict):
                state.model = body.get("model") if isinstance(body.get("model"), str) else None
                state.stream = body.get("stream") is True
                meta = body.get("metadata")
                if meta is not None and settings.redaction.request:
                    # the request metadata as forwarded: already scrubbed by scrub_body_bytes
                    state.metadata = orjson.loads(out).get("metadata") if out is not raw else meta
            state.request_bytes, state.request_sha256 = body_digest(out)
        else:
            state.request_bytes, state.request_sha256 = body_digest(b"")
        accept = [e.strip() for e in req.headers.get("accept-encoding", "").split(",")]
        allowed = [e for e in accept if e.split(";")[0].strip().lower() in DECODABLE]
        if state.stream or not allowed:
            req.headers["accept-encoding"] = "identity"
        else:
            req.headers["accept-encoding"] = ", ".join(allowed)

    def _route(self, flow: http.HTTPFlow, settings: Settings) -> None:
        up = settings.upstream
        if up is None:
            if flow.request.scheme != "https" and not flow.request.host.startswith("127."):
                flow.request.scheme = "https"  # reverse mode over plain HTTP still leaves the host on TLS
            return
        flow.request.scheme = "https"
        flow.request.host = up.host
        flow.request.port = up.port
        if up.base_path:
            flow.request.path = up.base_path + flow.request.path

    # -- response side -------------------------------------------------------------------------
    def responseheaders(self, flow: http.HTTPFlow) -> None:
        state = self._state(flow)
        if state is None or flow.response is None or flow.error:
            return
        try:
            self._check_addon_order()
            if self.refusal is not None:  # e.g. a script reloaded while this call was upstream
                self._refuse(flow, state, "response")
                return
            resp = flow.response
            state.status = resp.status_code
            ctype = resp.headers.get("content-type", "").lower()
            if "text/event-stream" not in ctype:
                if resp.stream:  # an addon before us asked for it: buffer, so the body is scrubbed
                    resp.stream = False
                    log.warning("stream_undone", flow_id=flow.id, side="response")
            else:
                if not state.settings.redaction.response:
                    resp.stream = True
                    return
                encoding = resp.headers.get("content-encoding", "identity")
                decoder = make_decoder(encoding)  # raises UnsupportedEncoding
                redactor = StreamRedactor(state.settings.redactor, known=state.known)
                state.streaming = redactor
                resp.headers.pop("content-encoding", None)
                resp.headers.pop("content-length", None)
                resp.stream = self._stream_adapter(flow, state, redactor, decoder)
        except Exception as e:  # noqa: BLE001 - fail closed
            self._fail_closed(flow, state, e, "responseheaders")
            if flow.response is not None:
                flow.response.stream = _answer_instead_of_body(flow.response.raw_content or b"")

    def _stream_adapter(self, flow: http.HTTPFlow, state: CallState, redactor: StreamRedactor, decoder: Any):
        """The mitmproxy stream callable: raw chunks in, scrubbed SSE bytes out; b"" ends it."""

        def adapter(chunk: bytes) -> bytes | list[bytes]:
            try:
                if chunk:
                    out = redactor.feed(decoder.decode(chunk))
                else:
                    out = redactor.feed(decoder.flush()) + redactor.flush()
                    self._finish_stream(flow, state, "completed" if redactor.completed else "upstream_error",
                                        None if redactor.completed else "stream_incomplete")
                    return out
            except Exception as e:  # noqa: BLE001 - end the stream rather than leak
                log.error("stream_failed", flow_id=flow.id, error_type=e.__class__.__name__)
                redactor.abort()
                code = e.code if isinstance(e, WerkerError) else "stream_failed"
                self._finish_stream(flow, state, "blocked", code)
                if _close_client_connection(flow):
                    return []  # what was held is dropped; the client sees its stream end now
                raise  # mitmproxy drops the call; the client may only notice at its timeout
            # An empty bytes return would end an HTTP/1.1 chunked body early: hold with [].
            return out if out else []

        return adapter

    def _finish_stream(self, flow: http.HTTPFlow, state: CallState, outcome: str, reason: str | None) -> None:
        if state.response_logged:
            return
        state.response_logged = True
        r = state.streaming
        state.response_counts = dict(r.counts)
        state.response_bytes, state.response_sha256 = r.emitted_bytes, r.emitted_sha256()
        state.usage, state.response_id = r.usage, r.response_id
        state.held_max = r.held_max
        self.stats["held_chars"] = max(self.stats["held_chars"], r.held_max)
        add_counts(self.stats["redactions"], {f"response.{k}": v for k, v in r.counts.items()})
        self._count("calls", outcome)
        try:
            self._write_audit(state.response_record(outcome, reason, time.monotonic()))
        except AuditError as e:
            log.error("audit_write_failed", flow_id=flow.id, error=str(e))

    async def response(self, flow: http.HTTPFlow) -> None:
        state = self._state(flow)
        if state is None or flow.response is None:
            return
        if state.streaming is not None or state.response_logged:
            return  # streamed: finished in the adapter; blocked: already recorded
        try:
            await self._scrub_response(flow, state)
            state.response_logged = True
            await self._write_audit_durably(state.response_record("completed", None, time.monotonic()))
            self._count("calls", "completed")
        except Exception as e:  # noqa: BLE001 - fail closed
            self._fail_closed(flow, state, e, "response")

    async def _scrub_response(self, flow: http.HTTPFlow, state: CallState) -> None:
        settings = state.settings
        resp = flow.response
        assert resp is not None
        state.status = resp.status_code
        if resp.raw_content is None:  # streamed past us by something that ran after our check
            raise UpstreamError("the response body was streamed, so it could not be scrubbed", code="stream_refused")
        try:
            resp.decode(strict=True)
        except ValueError:
            raise UpstreamError(
                f"cannot decode the upstream's Content-Encoding {resp.headers.get('content-encoding', '')!r}",
                code="upstream_bad_encoding") from None
        raw = resp.raw_content or b""
        ctype = resp.headers.get("content-type", "").lower()
        out = raw
        if raw.strip() and settings.redaction.response:
            if "json" in ctype or raw.lstrip()[:1] in (b"{", b"["):
                try:
                    out, report, body = await self._offload(len(raw), scrub_body_bytes, raw, settings.redactor,
                                                            "response", attachments="allow", known=state.known)
                except MalformedBody:
                    raise UpstreamError("the upstream sent a body that is not valid JSON",
                                        code="upstream_bad_json") from None
                state.response_counts = report.counts
                state.usage, state.response_id = usage_of(body)
            elif looks_like_event_stream(raw):  # frames under another label: read as frames
                frames = StreamRedactor(settings.redactor, known=state.known)
                out = await self._offload(len(raw), _feed_all, frames, raw)  # an unfinished stream drops what it held
                state.response_counts = dict(frames.counts)
                state.usage, state.response_id = frames.usage, frames.response_id
            else:  # text whatever the label says; what is not text cannot be scrubbed
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
                    if ctype.startswith("text/"):
                        raise UpstreamError("the upstream sent text that is not UTF-8", code="upstream_bad_text") from None
                    if settings.redaction.attachments != "allow":
                        raise UpstreamError(
                            f"the upstream answered with a binary body ({ctype or 'no Content-Type'}) that cannot "
                            "be scrubbed; `redaction.attachments: allow` lets such bodies through",
                            code="upstream_binary_body") from None
                if text is not None:
                    r = await self._offload(len(raw), settings.redactor.redact, text, "response", state.known)
                    state.response_counts = r.counts
                    out = r.text.encode("utf-8")
            if out is not raw:
                resp.raw_content = out
                resp.headers["content-length"] = str(len(out))
        add_counts(self.stats["redactions"], {f"response.{k}": v for k, v in state.response_counts.items()})
        state.response_bytes, state.response_sha256 = body_digest(out)

    def error(self, flow: http.HTTPFlow) -> None:
        state = self._state(flow)
        if state is None or state.response_logged:
            return
        try:
            outcome = "client_abort" if _client_hung_up(flow) else "upstream_error"
            if state.streaming is not None:
                state.streaming.abort()
                self._finish_stream(flow, state, outcome, "connection_closed")  # counts the outcome
            else:
                state.response_logged = True
                self._write_audit(state.response_record(outcome, "connection_failed", time.monotonic()))
                self._count("calls", outcome)
        except Exception as e:  # noqa: BLE001 - nothing left to forward; just record
            log.error("error_hook_failed", flow_id=flow.id, error_type=e.__class__.__name__)
