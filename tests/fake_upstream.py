"""A local fake of the Werker (OpenAI-compatible) API, for tests and benchmarks.

A TLS HTTP/1.1 server on 127.0.0.1 (ephemeral port) in a background thread, with a throwaway
CA and a server certificate for ``127.0.0.1``, ``localhost`` and ``api.werker.health``.
It answers ``POST /v1/responses`` and ``POST /v1/chat/completions`` in the real wire formats
(JSON bodies, or ``text/event-stream`` streamed event by event with ``"stream": true``), and
records every request.

    with FakeUpstream() as up:
        up.reply(text="Hello there", chunking=3, delay=0.01)       # the next call only
        up.reply_always(function_call={"name": "f", "arguments": {"x": 1}})  # all later calls
        client = OpenAI(base_url=up.url + "/v1", api_key="test",
                        http_client=httpx.Client(verify=up.ssl_context()))
        ...
        up.requests[-1].json

Scripted replies (:class:`Reply`, built by :meth:`FakeUpstream.reply` keywords) are consumed
first in, first out; when the queue is empty the ``reply_always`` reply is used, and without
one the default: an echo of the last user text ("You said: ...").

Standalone (the benchmarks reuse it): ``python tests/fake_upstream.py --port 0`` prints one
JSON line ``{"url": ..., "ca_file": ..., "port": ...}`` and serves until interrupted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import http.server
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import string
import sys
import tempfile
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FakeUpstream", "RecordedRequest", "Reply", "make_certificates"]

HOSTNAMES = ("localhost", "api.werker.health")

# ---------------------------------------------------------------------------------------------
# certificates


def make_certificates(directory: str) -> tuple[str, str, str]:
    """Write a throwaway CA and a server cert for 127.0.0.1/localhost/api.werker.health.

    Returns ``(ca_file, cert_file, key_file)`` (PEM paths inside ``directory``).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "werker-proxy test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.werker.health")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(h) for h in HOSTNAMES]
                + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = os.path.join(directory, "ca.pem")
    cert_file = os.path.join(directory, "server.pem")
    key_file = os.path.join(directory, "server-key.pem")
    with open(ca_file, "wb") as f:
        f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return ca_file, cert_file, key_file


# ---------------------------------------------------------------------------------------------
# scripting


@dataclass
class Reply:
    """What the fake answers to one call (see :meth:`FakeUpstream.reply` for the fields)."""

    text: str | None = None
    deltas: list[str] | None = None
    chunking: int | None = None
    delay: float = 0.0
    function_call: dict[str, Any] | None = None
    refusal: str | None = None
    status: int = 200
    error_body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    break_after: int | None = None
    content_encoding: str | None = None
    raw_sse: bytes | list[bytes] | None = None
    raw_body: bytes | None = None
    content_type: str = "application/json"  # of raw_body
    usage_chunk: bool | None = None
    obfuscation: bool = False
    model: str | None = None


@dataclass
class RecordedRequest:
    """One request the fake received. ``headers`` keys are lower-case; ``body`` is the raw
    bytes as received; ``json`` the parsed (decompressed) body, or ``None``."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None


_ERROR_DEFAULTS = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", None, "Not found."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded."),
}


def error_body(status: int, message: str | None = None, code: str | None = None) -> dict:
    """An OpenAI-shaped error body for ``status``."""
    typ, dcode, dmsg = _ERROR_DEFAULTS.get(status, ("api_error", None, f"HTTP {status}"))
    return {
        "error": {
            "message": message or dmsg,
            "type": typ,
            "param": None,
            "code": code if code is not None else dcode,
        }
    }


_ALNUM = string.ascii_letters + string.digits


def _hexid(prefix: str, n: int = 50) -> str:
    return prefix + secrets.token_hex(n // 2)


def _alnum(prefix: str, n: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(n))


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _pieces(text: str, deltas: list[str] | None, chunking: int | None) -> list[str]:
    if deltas is not None:
        return list(deltas)
    if chunking:
        return [text[i : i + chunking] for i in range(0, len(text), chunking)] or [""]
    return re.findall(r"\s*\S+", text) or [text]


def _last_user_text(body: Any) -> str:
    """The last user-supplied text in a Responses or Chat request body ("" if none)."""
    if not isinstance(body, dict):
        return ""
    msgs = body.get("input", body.get("messages"))
    if isinstance(msgs, str):
        return msgs
    if not isinstance(msgs, list):
        return ""
    for m in reversed(msgs):
        if not isinstance(m, dict) or m.get("role", "user") != "user":
            continue
        c = m.get("content")
        if isinstance(c, str):
            return c
        if isinstance(c, list):
            return " ".join(
                p["text"] for p in c if isinstance(p, dict) and isinstance(p.get("text"), str)
            )
    return ""


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


# ---------------------------------------------------------------------------------------------
# wire formats


class _Call:
    """Renders one scripted reply for one request, in the request's API."""

    def __init__(self, reply: Reply, body: Any, api: str):
        self.r = reply
        self.body = body if isinstance(body, dict) else {}
        self.api = api
        self.model = reply.model or str(self.body.get("model") or "werker-med-1")
        self.created = int(time.time())
        user = _last_user_text(self.body)
        prompt = self.body.get("input", self.body.get("messages", ""))
        self.input_tokens = _tokens(json.dumps(prompt))
        fc = reply.function_call
        if fc is not None:
            args = fc.get("arguments", "{}")
            self.fc_name = str(fc["name"])
            self.fc_args = args if isinstance(args, str) else json.dumps(args)
            self.fc_call_id = str(fc.get("call_id") or _alnum("call_"))
            self.pieces = _pieces(self.fc_args, reply.deltas, reply.chunking or 8)
        else:
            if reply.refusal is not None:
                self.text = reply.refusal
            elif reply.text is not None:
                self.text = reply.text
            elif reply.deltas is not None:
                self.text = "".join(reply.deltas)
            else:
                self.text = f"You said: {user[:200]}" if user else "Hello! How can I help?"
            self.pieces = _pieces(self.text, reply.deltas, reply.chunking)
        self.output_tokens = max(1, len(self.pieces))

    def _obf(self) -> dict:
        if not self.r.obfuscation:
            return {}
        return {"obfuscation": secrets.token_urlsafe(6)[: secrets.randbelow(8) + 1]}

    # --- Responses -----------------------------------------------------------------------

    def _response(self, status: str, output: list, usage: bool) -> dict:
        b = self.body
        return {
            "id": self.resp_id,
            "object": "response",
            "created_at": self.created,
            "status": status,
            "background": False,
            "error": None,
            "incomplete_details": None,
            "instructions": b.get("instructions"),
            "max_output_tokens": b.get("max_output_tokens"),
            "max_tool_calls": None,
            "model": self.model,
            "output": output,
            "parallel_tool_calls": b.get("parallel_tool_calls", True),
            "previous_response_id": b.get("previous_response_id"),
            "prompt_cache_key": None,
            "reasoning": {"effort": None, "summary": None},
            "safety_identifier": None,
            "service_tier": "default",
            "store": b.get("store", True),
            "temperature": b.get("temperature", 1.0),
            "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": b.get("tool_choice", "auto"),
            "tools": b.get("tools", []),
            "top_logprobs": 0,
            "top_p": b.get("top_p", 1.0),
            "truncation": "disabled",
            "usage": self._responses_usage() if usage else None,
            "user": None,
            "metadata": b.get("metadata") or {},
        }

    def _responses_usage(self) -> dict:
        return {
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": self.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": self.input_tokens + self.output_tokens,
        }

    def _part(self, text: str) -> dict:
        if self.r.refusal is not None:
            return {"type": "refusal", "refusal": text}
        return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}

    def _item(self, done: bool) -> dict:
        status = "completed" if done else "in_progress"
        if self.r.function_call is not None:
            return {
                "id": self.item_id,
                "type": "function_call",
                "status": status,
                "arguments": self.fc_args if done else "",
                "call_id": self.fc_call_id,
                "name": self.fc_name,
            }
        return {
            "id": self.item_id,
            "type": "message",
            "status": status,
            "content": [self._part(self.text)] if done else [],
            "role": "assistant",
        }

    def responses_json(self) -> dict:
        self.resp_id = _hexid("resp_")
        self.item_id = _hexid("fc_" if self.r.function_call is not None else "msg_")
        return self._response("completed", [self._item(True)], usage=True)

    def responses_events(self):
        """Yield ``(is_delta, frame_bytes)`` for a Responses stream."""
        self.resp_id = _hexid("resp_")
        self.item_id = _hexid("fc_" if self.r.function_call is not None else "msg_")
        seq = 0

        def ev(obj: dict) -> bytes:
            nonlocal seq
            obj = {"type": obj.pop("type"), "sequence_number": seq, **obj}
            seq += 1
            return b"event: " + obj["type"].encode() + b"\ndata: " + _compact(obj) + b"\n\n"

        for typ in ("response.created", "response.in_progress"):
            yield False, ev({"type": typ, "response": self._response("in_progress", [], False)})
        yield False, ev(
            {"type": "response.output_item.added", "output_index": 0, "item": self._item(False)}
        )
        loc = {"item_id": self.item_id, "output_index": 0}
        if self.r.function_call is not None:
            for p in self.pieces:
                typ = "response.function_call_arguments.delta"
                yield True, ev({"type": typ, **loc, "delta": p, **self._obf()})
            yield False, ev(
                {"type": "response.function_call_arguments.done", **loc, "arguments": self.fc_args}
            )
        else:
            loc["content_index"] = 0
            yield False, ev({"type": "response.content_part.added", **loc, "part": self._part("")})
            if self.r.refusal is not None:
                for p in self.pieces:
                    typ = "response.refusal.delta"
                    yield True, ev({"type": typ, **loc, "delta": p, **self._obf()})
                yield False, ev({"type": "response.refusal.done", **loc, "refusal": self.text})
            else:
                for p in self.pieces:
                    yield True, ev(
                        {
                            "type": "response.output_text.delta",
                            **loc,
                            "delta": p,
                            "logprobs": [],
                            **self._obf(),
                        }
                    )
                yield False, ev(
                    {"type": "response.output_text.done", **loc, "text": self.text, "logprobs": []}
                )
            yield False, ev(
                {"type": "response.content_part.done", **loc, "part": self._part(self.text)}
            )
        yield False, ev(
            {"type": "response.output_item.done", "output_index": 0, "item": self._item(True)}
        )
        yield False, ev(
            {
                "type": "response.completed",
                "response": self._response("completed", [self._item(True)], usage=True),
            }
        )

    # --- Chat ----------------------------------------------------------------------------

    def _chat_usage(self) -> dict:
        return {
            "prompt_tokens": self.input_tokens,
            "completion_tokens": self.output_tokens,
            "total_tokens": self.input_tokens + self.output_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def chat_json(self) -> dict:
        if self.r.function_call is not None:
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": self.fc_call_id,
                        "type": "function",
                        "function": {"name": self.fc_name, "arguments": self.fc_args},
                    }
                ],
                "refusal": None,
                "annotations": [],
            }
            finish = "tool_calls"
        elif self.r.refusal is not None:
            message = {"role": "assistant", "content": None, "refusal": self.text}
            message["annotations"] = []
            finish = "stop"
        else:
            message = {"role": "assistant", "content": self.text, "refusal": None}
            message["annotations"] = []
            finish = "stop"
        return {
            "id": _alnum("chatcmpl-", 29),
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            ],
            "usage": self._chat_usage(),
            "service_tier": "default",
            "system_fingerprint": "fp_fake0001",
        }

    def chat_events(self):
        """Yield ``(is_delta, frame_bytes)`` for a Chat Completions stream."""
        cid = _alnum("chatcmpl-", 29)
        so = self.body.get("stream_options")
        usage = self.r.usage_chunk
        if usage is None:
            usage = isinstance(so, dict) and bool(so.get("include_usage"))

        def chunk(delta: dict, finish: str | None = None, choices: bool = True) -> bytes:
            obj: dict[str, Any] = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "service_tier": "default",
                "system_fingerprint": "fp_fake0001",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ]
                if choices
                else [],
            }
            if usage:
                obj["usage"] = None
            obj.update(self._obf())
            return b"data: " + _compact(obj) + b"\n\n"

        if self.r.function_call is not None:
            yield False, chunk(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": self.fc_call_id,
                            "type": "function",
                            "function": {"name": self.fc_name, "arguments": ""},
                        }
                    ],
                    "refusal": None,
                }
            )
            for p in self.pieces:
                yield True, chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]})
            yield False, chunk({}, "tool_calls")
        else:
            key = "refusal" if self.r.refusal is not None else "content"
            first = {"role": "assistant", "content": "", "refusal": None}
            if key == "refusal":
                first = {"role": "assistant", "content": None, "refusal": ""}
            yield False, chunk(first)
            for p in self.pieces:
                yield True, chunk({key: p})
            yield False, chunk({}, "stop")
        if usage:
            obj = json.loads(chunk({}, choices=False)[6:])
            obj["usage"] = self._chat_usage()
            obj.pop("obfuscation", None)
            yield False, b"data: " + _compact(obj) + b"\n\n"
        yield False, b"data: [DONE]\n\n"


# ---------------------------------------------------------------------------------------------
# HTTP


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeUpstream

    def get_request(self):  # TLS handshake happens in the handler thread, not here
        sock, addr = self.socket.accept()
        tls = self.fake._ssl_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return tls, addr

    def handle_error(self, request, client_address):  # a client hung up: not our problem
        pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-werker/1.0"
    sys_version = ""
    timeout = 30
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.request.do_handshake()
        self.server.fake._track(self.request, True)

    def finish(self) -> None:
        self.server.fake._track(self.request, False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # --- request ---

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _record(self, body: bytes) -> RecordedRequest:
        headers = {k.lower(): v for k, v in self.headers.items()}
        parsed = None
        try:
            plain = _decompress(body, headers.get("content-encoding", ""))
            parsed = json.loads(plain) if plain else None
        except Exception:
            parsed = None
        rec = RecordedRequest(self.command, self.path, headers, body, parsed)
        self.server.fake._add_request(rec)
        return rec

    def do_GET(self) -> None:
        body = self._read_body()
        self._record(body)
        if self.path.split("?")[0] == "/v1/models":
            self._send_json(200, {"object": "list", "data": [
                {"id": "werker-med-1", "object": "model", "created": 0, "owned_by": "werker"}
            ]}, Reply())
        else:
            self._send_json(404, error_body(404, f"Unknown path {self.path}"), Reply())

    def do_POST(self) -> None:
        body = self._read_body()
        rec = self._record(body)
        path = self.path.split("?")[0]
        api = {"/v1/responses": "responses", "/v1/chat/completions": "chat"}.get(path)
        if api is None:
            self._send_json(404, error_body(404, f"Unknown path {path}"), Reply())
            return
        reply = self.server.fake._next_reply()
        if reply.status >= 400 or reply.error_body is not None:
            eb = reply.error_body if reply.error_body is not None else error_body(reply.status)
            self._send_json(reply.status if reply.status >= 400 else 400, eb, reply)
            return
        if rec.json is None and reply.raw_body is None and reply.raw_sse is None:
            self._send_json(400, error_body(400, "We could not parse the JSON body."), reply)
            return
        call = _Call(reply, rec.json, api)
        stream = isinstance(rec.json, dict) and rec.json.get("stream") is True
        if reply.raw_sse is not None or (stream and reply.raw_body is None):
            if reply.raw_sse is not None:
                frames = reply.raw_sse if isinstance(reply.raw_sse, list) else [reply.raw_sse]
                events = ((True, f) for f in frames)
            else:
                events = call.responses_events() if api == "responses" else call.chat_events()
            self._send_stream(events, reply)
        elif reply.raw_body is not None:
            self._send_raw(reply.status, reply.raw_body, reply.content_type, reply)
        else:
            obj = call.responses_json() if api == "responses" else call.chat_json()
            self._send_json(reply.status, obj, reply)

    # --- response ---

    def _common_headers(self, reply: Reply) -> None:
        self.send_header("x-request-id", _hexid("req_", 32))
        self.send_header("openai-processing-ms", "42")
        self.send_header("openai-version", "2020-10-01")
        for k, v in reply.headers.items():
            self.send_header(k, v)

    def _send_json(self, status: int, obj: Any, reply: Reply) -> None:
        data = json.dumps(obj, indent=2, ensure_ascii=False).encode()
        self._send_raw(status, data, "application/json", reply)

    def _send_raw(self, status: int, data: bytes, ctype: str, reply: Reply) -> None:
        if reply.content_encoding:
            data = _compress(data, reply.content_encoding)
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if reply.content_encoding:
            self.send_header("Content-Encoding", reply.content_encoding)
        if status == 429:
            self.send_header("retry-after", "0")
        self._common_headers(reply)
        self.end_headers()
        if reply.break_after is not None:
            self.wfile.write(data[: len(data) // 2])
            self._abort()
            return
        self.wfile.write(data)

    def _send_stream(self, events, reply: Reply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        if reply.content_encoding:
            self.send_header("Content-Encoding", reply.content_encoding)
        self._common_headers(reply)
        self.end_headers()
        enc = _StreamCompressor(reply.content_encoding)
        brk = reply.break_after
        deltas = 0
        try:
            for is_delta, frame in events:
                if brk is not None and deltas >= brk and (is_delta or deltas > 0):
                    self._abort()  # the first event after the K-th delta
                    return
                if is_delta:
                    if reply.delay and deltas:
                        time.sleep(reply.delay)
                    deltas += 1
                self._write_chunk(enc.feed(frame))
            if brk is not None:
                self._abort()
                return
            self._write_chunk(enc.flush())
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client went away (BrokenPipe, reset, TLS errors)
            self.close_connection = True

    def _write_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def _abort(self) -> None:
        """Drop the connection mid-body: TCP FIN without close_notify or final chunk."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _compress(data: bytes, encoding: str) -> bytes:
    c = _StreamCompressor(encoding)
    return c.feed(data) + c.flush()


def _decompress(data: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if not encoding or encoding == "identity":
        return data
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "deflate":
        return zlib.decompress(data)
    if encoding == "br":
        import brotli

        return brotli.decompress(data)
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    raise ValueError(f"unknown content-encoding {encoding}")


class _StreamCompressor:
    """Compress a body incrementally, flushing after every piece so events arrive at once."""

    def __init__(self, encoding: str | None):
        self.encoding = encoding
        self._z: Any = None
        if encoding == "gzip":
            self._z = zlib.compressobj(wbits=31)
        elif encoding == "deflate":
            self._z = zlib.compressobj(wbits=15)
        elif encoding == "br":
            import brotli

            self._z = brotli.Compressor()
        elif encoding == "zstd":
            import zstandard

            self._z = zstandard.ZstdCompressor().compressobj()
        elif encoding not in (None, "", "identity"):
            raise ValueError(f"unsupported content_encoding {encoding!r}")

    def feed(self, data: bytes) -> bytes:
        if self._z is None:
            return data
        if self.encoding in ("gzip", "deflate"):
            return self._z.compress(data) + self._z.flush(zlib.Z_SYNC_FLUSH)
        if self.encoding == "br":
            return self._z.process(data) + self._z.flush()
        import zstandard

        return self._z.compress(data) + self._z.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)

    def flush(self) -> bytes:
        if self._z is None:
            return b""
        if self.encoding == "br":
            return self._z.finish()
        return self._z.flush()


# ---------------------------------------------------------------------------------------------
# public


class FakeUpstream:
    """A fake Werker/OpenAI API over TLS on ``127.0.0.1``; see the module docstring.

    Attributes: ``url`` (``https://127.0.0.1:PORT``), ``host``, ``port``, ``ca_file``,
    ``cert_file``, ``key_file``, ``requests`` (recorded :class:`RecordedRequest`, in order).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, cert_dir: str | None = None):
        self._own_dir = cert_dir is None
        self.cert_dir = cert_dir or tempfile.mkdtemp(prefix="fake-upstream-")
        os.makedirs(self.cert_dir, exist_ok=True)
        self.ca_file, self.cert_file, self.key_file = make_certificates(self.cert_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        ctx.set_alpn_protocols(["http/1.1"])
        self._ssl_ctx = ctx
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._always: Reply | None = None
        self._requests: list[RecordedRequest] = []
        self._conns: set[Any] = set()
        self._server = _Server((host, port), _Handler)
        self._server.fake = self
        self.host = host
        self.port = self._server.server_address[1]
        self.url = f"https://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> FakeUpstream:
        """Start serving in a daemon thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name=f"fake-upstream-{self.port}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and delete the temporary certificates."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        if self._own_dir:
            shutil.rmtree(self.cert_dir, ignore_errors=True)

    def ssl_context(self) -> ssl.SSLContext:
        """A client SSL context trusting the CA: ``httpx.Client(verify=up.ssl_context())``."""
        return ssl.create_default_context(cafile=self.ca_file)

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # scripting

    def reply(
        self,
        text: str | None = None,
        *,
        deltas: list[str] | None = None,
        chunking: int | None = None,
        delay: float = 0.0,
        function_call: dict[str, Any] | None = None,
        refusal: str | None = None,
        status: int = 200,
        error_body: Any = None,
        headers: dict[str, str] | None = None,
        break_after: int | None = None,
        content_encoding: str | None = None,
        raw_sse: bytes | list[bytes] | None = None,
        raw_body: bytes | None = None,
        content_type: str = "application/json",
        usage_chunk: bool | None = None,
        obfuscation: bool = False,
        model: str | None = None,
        times: int = 1,
    ) -> Reply:
        """Queue the answer for the next ``times`` calls (first in, first out).

        - ``text``: the assistant text (default: "You said: <last user text>").
        - ``deltas``: exact stream pieces (their join is the text, or the function arguments);
          ``chunking``: split into pieces of N characters instead (default: word by word;
          8 characters for function arguments).
        - ``delay``: seconds to sleep between two deltas (each event is flushed at once).
        - ``function_call``: ``{"name", "arguments" (str or JSON-able), "call_id"?}``: answer
          with a function call (Responses ``function_call`` item, Chat ``tool_calls``).
        - ``refusal``: answer with a refusal (``response.refusal.*`` / chat ``refusal``).
        - ``status``/``error_body``: an HTTP error; ``error_body`` defaults to an OpenAI
          error ``{"error": {"message", "type", "param", "code"}}`` for the status.
        - ``headers``: extra response headers.
        - ``break_after``: stream: close the connection abruptly after K deltas (no final
          chunk); non-stream: after half the body.
        - ``content_encoding``: ``"gzip"``, ``"deflate"``, ``"br"`` or ``"zstd"``: compress
          the body (streams are flushed after every event).
        - ``raw_sse``: send exactly these bytes as a ``text/event-stream`` body; a list is
          sent as separate flushed chunks, with ``delay`` between them (``break_after``
          counts chunks).
        - ``raw_body``: send exactly these bytes as the body, as ``content_type``
          (default ``application/json``; an empty string sends no Content-Type).
        - ``usage_chunk``: chat streams: send the final usage chunk (default: only when the
          request asks with ``stream_options.include_usage``).
        - ``obfuscation``: add the real API's random ``obfuscation`` padding to deltas.
        - ``model``: the model name to answer with (default: the request's).
        """
        r = Reply(
            text=text,
            deltas=deltas,
            chunking=chunking,
            delay=delay,
            function_call=function_call,
            refusal=refusal,
            status=status,
            error_body=error_body,
            headers=dict(headers or {}),
            break_after=break_after,
            content_encoding=content_encoding,
            raw_sse=raw_sse,
            raw_body=raw_body,
            content_type=content_type,
            usage_chunk=usage_chunk,
            obfuscation=obfuscation,
            model=model,
        )
        with self._lock:
            self._queue.extend([r] * times)
        return r

    def reply_always(self, text: str | None = None, **kw: Any) -> Reply:
        """Like :meth:`reply`, but the answer for every call once the queue is empty."""
        r = self.reply(text, times=0, **kw)
        with self._lock:
            self._always = r
        return r

    def reset(self) -> None:
        """Forget queued and default replies and recorded requests."""
        with self._lock:
            self._queue.clear()
            self._always = None
            self._requests.clear()

    def clear(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    # internal

    def _next_reply(self) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            return self._always or Reply()

    def _add_request(self, rec: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(rec)

    def _track(self, conn: Any, add: bool) -> None:
        with self._lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Run the fake Werker/OpenAI upstream.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert-dir", default=None, help="keep the CA and cert here (default: tmp)")
    p.add_argument("--text", default=None, help="answer every call with this text")
    p.add_argument("--chunking", type=int, default=None, help="stream N characters per delta")
    p.add_argument("--delay", type=float, default=0.0, help="seconds between deltas")
    args = p.parse_args(argv)
    up = FakeUpstream(args.host, args.port, cert_dir=args.cert_dir)
    if args.text is not None or args.chunking or args.delay:
        up.reply_always(args.text, chunking=args.chunking, delay=args.delay)
    up.start()
    print(json.dumps({"url": up.url, "ca_file": up.ca_file, "port": up.port}), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        up.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
