"""A bounded HTTP/1.1 load generator on raw asyncio (cheap per call, so the proxy is measured).

Each of ``concurrency`` workers holds one keep-alive connection and sends POSTs back to back
until ``count`` calls are done in total OR ``time_cap`` seconds have passed (whichever first);
both bounds are mandatory. Per call it records latency (request written -> body complete) and,
for event streams, time to first delta (request written -> first chunk holding a delta event).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field

DELTA_MARKERS = (b'"response.output_text.delta"', b'"delta":{"content":"')


@dataclass
class Result:
    calls: int = 0
    errors: int = 0
    wall_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    ttfd: list[float] = field(default_factory=list)
    bytes_in: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    first_error: str | None = None
    blocked: int = 0  # answers with x-werker-proxy: blocked


class _Conn:
    def __init__(self, host: str, port: int, ssl_ctx: ssl.SSLContext | None, server_hostname: str | None):
        self.host, self.port, self.ssl_ctx, self.sni = host, port, ssl_ctx, server_hostname
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, ssl=self.ssl_ctx, server_hostname=self.sni if self.ssl_ctx else None,
            limit=1 << 22)

    def close(self) -> None:
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception:  # noqa: BLE001
                pass
        self.reader = self.writer = None

    async def call(self, request: bytes, stream: bool) -> tuple[int, float, float | None, int, bool]:
        """Send one request; return (status, latency_s, ttfd_s or None, bytes, blocked)."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        t0 = time.perf_counter()
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        hl = head.lower()
        blocked = b"x-werker-proxy: blocked" in hl
        ttfd = None
        nbytes = 0
        close = b"connection: close" in hl
        if b"transfer-encoding: chunked" in hl:
            while True:
                line = await self.reader.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    await self.reader.readline()
                    break
                chunk = await self.reader.readexactly(size + 2)
                nbytes += size
                if ttfd is None and stream and (DELTA_MARKERS[0] in chunk or DELTA_MARKERS[1] in chunk):
                    ttfd = time.perf_counter() - t0
        else:
            i = hl.find(b"content-length:")
            if i >= 0:
                n = int(hl[i + 15: hl.find(b"\r\n", i)])
                body = await self.reader.readexactly(n)
                nbytes = n
                if stream and (DELTA_MARKERS[0] in body or DELTA_MARKERS[1] in body):
                    ttfd = time.perf_counter() - t0
            else:  # read to close
                body = await self.reader.read()
                nbytes = len(body)
                close = True
        lat = time.perf_counter() - t0
        if close:
            self.close()
        return status, lat, ttfd, nbytes, blocked


def build_request(path: str, host_header: str, body: bytes, headers: dict[str, str]) -> bytes:
    h = [f"POST {path} HTTP/1.1", f"host: {host_header}", "content-type: application/json",
         "accept: application/json, text/event-stream", "authorization: Bearer sk-bench-not-a-key",
         f"content-length: {len(body)}"]
    h += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body


async def run_load(host: str, port: int, requests: list[bytes], *, stream: bool, concurrency: int = 8,
                   count: int = 1000, time_cap: float = 5.0, warmup: int = 0,
                   ssl_ctx: ssl.SSLContext | None = None, server_hostname: str | None = None,
                   call_timeout: float = 30.0, grace: float = 10.0) -> Result:
    """Run the bounded load; ``requests`` are rotated. Stops at ``count`` calls or ``time_cap`` s.

    Calls in flight at the time cap may finish within ``grace`` more seconds; later ones are
    abandoned and counted as errors (TimeoutError), so the whole run lasts <= time_cap + grace.
    """
    assert count > 0 and time_cap > 0
    res = Result()
    conns = [_Conn(host, port, ssl_ctx, server_hostname) for _ in range(concurrency)]
    issued = 0

    # warm-up: open the connections (and the proxy's upstream connections), not measured
    async def warm(c: _Conn, k: int) -> None:
        for j in range(k):
            try:
                await asyncio.wait_for(c.call(requests[j % len(requests)], stream), call_timeout)
            except Exception:  # noqa: BLE001
                c.close()

    if warmup:
        per = max(1, warmup // concurrency)
        await asyncio.gather(*(warm(c, per) for c in conns))

    deadline = time.perf_counter() + time_cap
    start = time.perf_counter()

    async def worker(c: _Conn) -> None:
        nonlocal issued
        while issued < count and time.perf_counter() < deadline:
            i = issued
            issued += 1
            try:
                st, lat, ttfd, nb, blocked = await asyncio.wait_for(
                    c.call(requests[i % len(requests)], stream), min(call_timeout, max(0.5, deadline + grace - time.perf_counter())))
            except Exception as e:  # noqa: BLE001 - count it, reconnect, go on
                res.errors += 1
                if res.first_error is None:
                    res.first_error = f"{e.__class__.__name__}: {e}"
                c.close()
                continue
            res.calls += 1
            res.statuses[st] = res.statuses.get(st, 0) + 1
            if st != 200:
                res.errors += 1
                if res.first_error is None:
                    res.first_error = f"HTTP {st}"
            res.blocked += blocked
            res.latencies.append(lat)
            if ttfd is not None:
                res.ttfd.append(ttfd)
            res.bytes_in += nb

    await asyncio.gather(*(worker(c) for c in conns))
    res.wall_s = time.perf_counter() - start
    for c in conns:
        c.close()
    return res


def percentile(xs: list[float], p: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return s[k]
