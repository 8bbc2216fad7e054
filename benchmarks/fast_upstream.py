"""A fast TLS fake of the Werker API for benchmarks (asyncio, HTTP/1.1 keep-alive, one process).

``tests/fake_upstream.py`` (threaded ``http.server``, a thread and a JSON render per call) is
the reference for the wire formats; this server pre-renders its answers once with the same
renderer (``tests.fake_upstream._Call``) and only copies bytes per call, so it is never the
bottleneck of a proxy benchmark.

What to answer is chosen by request headers (they pass through every proxy unchanged):

* ``x-bench-size: N``   JSON answer of about N bytes (default 2000)
* ``x-bench-stream: 1`` answer ``text/event-stream`` (chunked, one chunk per event)
* ``x-bench-deltas: N`` deltas in a stream (default 60)
* ``x-bench-pace-ms: F`` sleep F ms between deltas (default 0)
* ``x-bench-variant: K`` pick pre-rendered variant K (different clinical text), default rotates

The path picks the API: ``/v1/responses`` or ``/v1/chat/completions``. Texts are clinical notes
with identifiers (``benchmarks/corpus.py``), so a scrubbing proxy has real work in responses.

    python benchmarks/fast_upstream.py --port 0      # prints {"url", "ca_file", "port"}, serves
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import ssl
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import corpus  # noqa: E402
from tests.fake_upstream import Reply, _Call, make_certificates  # noqa: E402

VARIANTS = 8
PATHS = {b"/v1/responses": "responses", b"/v1/chat/completions": "chat"}
COMMON = b"x-request-id: req_bench\r\nopenai-version: 2020-10-01\r\nopenai-processing-ms: 1\r\n"


class Renderer:
    """Pre-rendered answers, cached per (api, kind, size/deltas, variant)."""

    def __init__(self, seed: int = 7):
        self.docs = corpus.corpus(400_000, seed=seed)
        self.cache: dict[tuple, object] = {}

    def _text(self, n_chars: int, variant: int) -> str:
        out, total, i = [], 0, variant * 37
        while total < n_chars:
            d = self.docs[i % len(self.docs)]
            out.append(d)
            total += len(d) + 2
            i += 1
        return "\n\n".join(out)[:n_chars]

    def json_body(self, api: str, size: int, variant: int) -> bytes:
        key = ("json", api, size, variant)
        b = self.cache.get(key)
        if b is None:
            req = {"model": "werker-med-1", "input": "bench"}
            envelope = len(self._render_json(api, "", req))
            text = self._text(max(1, size - envelope), variant)
            b = self._render_json(api, text, req)
            # escaping (newlines, quotes) grows the body; trim the text until it fits
            while len(b) > size * 1.02 and len(text) > 10:
                text = text[: len(text) - max(1, (len(b) - size))]
                b = self._render_json(api, text, req)
            self.cache[key] = b
        return b  # type: ignore[return-value]

    @staticmethod
    def _render_json(api: str, text: str, req: dict) -> bytes:
        call = _Call(Reply(text=text), req, api)
        obj = call.responses_json() if api == "responses" else call.chat_json()
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

    def stream_frames(self, api: str, deltas: int, variant: int) -> list[tuple[bool, bytes]]:
        key = ("sse", api, deltas, variant)
        f = self.cache.get(key)
        if f is None:
            words = re.findall(r"\s*\S+", self._text(deltas * 12 + 200, variant))
            pieces = (words * (deltas // max(1, len(words)) + 1))[:deltas]
            call = _Call(Reply(deltas=pieces), {"model": "werker-med-1", "input": "bench", "stream": True}, api)
            events = call.responses_events() if api == "responses" else call.chat_events()
            f = [(is_delta, b"%x\r\n%s\r\n" % (len(frame), frame)) for is_delta, frame in events]
            self.cache[key] = f
        return f  # type: ignore[return-value]


class Server:
    def __init__(self, renderer: Renderer, ssl_ctx: ssl.SSLContext | None):
        self.r = renderer
        self.ssl_ctx = ssl_ctx
        self.calls = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        rot = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.split(b"\r\n")
                try:
                    method, target, _ = lines[0].split(b" ", 2)
                except ValueError:
                    return
                hdr: dict[bytes, bytes] = {}
                for ln in lines[1:]:
                    if ln:
                        k, _, v = ln.partition(b":")
                        hdr[k.strip().lower()] = v.strip()
                n = int(hdr.get(b"content-length", b"0") or 0)
                if n:
                    await reader.readexactly(n)
                elif b"chunked" in hdr.get(b"transfer-encoding", b"").lower():
                    while True:
                        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                        await reader.readexactly(size + 2) if size else await reader.readline()
                        if size == 0:
                            break
                self.calls += 1
                api = PATHS.get(target.split(b"?", 1)[0])
                if api is None or method != b"POST":
                    body = b'{"error":{"message":"not found","type":"invalid_request_error"}}'
                    writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n"
                                 b"content-length: %d\r\n\r\n%s" % (len(body), body))
                    await writer.drain()
                    continue
                rot += 1
                variant = int(hdr.get(b"x-bench-variant", b"%d" % (rot % VARIANTS))) % VARIANTS
                if hdr.get(b"x-bench-stream") == b"1":
                    deltas = int(hdr.get(b"x-bench-deltas", b"60"))
                    pace = float(hdr.get(b"x-bench-pace-ms", b"0")) / 1000
                    frames = self.r.stream_frames(api, deltas, variant)
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
                                 b"transfer-encoding: chunked\r\ncache-control: no-cache\r\n" + COMMON + b"\r\n")
                    first = True
                    for is_delta, chunk in frames:
                        if is_delta and pace and not first:
                            await writer.drain()
                            await asyncio.sleep(pace)
                        if is_delta:
                            first = False
                        writer.write(chunk)
                        if pace:
                            await writer.drain()
                    writer.write(b"0\r\n\r\n")
                    await writer.drain()
                else:
                    size = int(hdr.get(b"x-bench-size", b"2000"))
                    body = self.r.json_body(api, size, variant)
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s"
                                 % (len(body), COMMON, body))
                    await writer.drain()
                if hdr.get(b"connection", b"").lower() == b"close":
                    return
        except (ConnectionError, ssl.SSLError, OSError):
            return
        finally:
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass


def server_ssl_context(cert_dir: str) -> tuple[ssl.SSLContext, str]:
    ca_file, cert_file, key_file = make_certificates(cert_dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    return ctx, ca_file


async def serve(host: str, port: int, cert_dir: str, ready_cb=None, plain: bool = False) -> None:
    ctx, ca_file = (None, "") if plain else server_ssl_context(cert_dir)
    r = Renderer()
    srv = Server(r, ctx)
    server = await asyncio.start_server(srv.handle, host, port, ssl=ctx, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    scheme = "http" if plain else "https"
    info = {"url": f"{scheme}://{host}:{port}", "ca_file": ca_file, "port": port, "pid": os.getpid()}
    if ready_cb:
        ready_cb(info)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert-dir", default=None, help="where to write the throwaway CA (default: a temp dir)")
    ap.add_argument("--plain", action="store_true", help="plain HTTP instead of TLS")
    args = ap.parse_args(argv)
    cert_dir = args.cert_dir or tempfile.mkdtemp(prefix="werker-bench-up-")
    os.makedirs(cert_dir, exist_ok=True)
    def ready(info: dict) -> None:
        print(json.dumps(info), flush=True)

    asyncio.run(serve(args.host, args.port, cert_dir, ready, args.plain))
    return 0


if __name__ == "__main__":
    sys.exit(main())
