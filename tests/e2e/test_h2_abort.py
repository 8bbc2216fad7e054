"""A client that hangs up over HTTP/2 is audited as ``client_abort``, as over HTTP/1.1.

curl speaks HTTP/2 to the proxy when offered. Cancelling one stream (RST_STREAM CANCEL, the
connection stays open) and closing the whole connection were both audited as ``upstream_error``
(a black-box probe), which sends an on-call engineer after the wrong party.
"""

from __future__ import annotations

import json
import socket
import ssl
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import pytest

ANSWER = "Patient SSN 987-65-4321 and some more text to stream " * 4


class H2Client:
    """Just enough of an HTTP/2 client (through the proxy's CONNECT tunnel) to hang up."""

    def __init__(self, proxy):
        sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
        sock.sendall(b"CONNECT api.werker.health:443 HTTP/1.1\r\nHost: api.werker.health:443\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert b" 200" in head.split(b"\r\n")[0]
        ctx = ssl.create_default_context(cafile=str(proxy.ca_bundle))
        ctx.set_alpn_protocols(["h2"])
        self.tls = ctx.wrap_socket(sock, server_hostname="api.werker.health")
        assert self.tls.selected_alpn_protocol() == "h2"
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.data: dict[int, bytes] = {}
        self.ended: set[int] = set()
        self._flush()

    def _flush(self) -> None:
        self.tls.sendall(self.conn.data_to_send())

    def post(self, stream_id: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.conn.send_headers(stream_id, [(":method", "POST"), (":path", "/v1/responses"), (":scheme", "https"),
                                           (":authority", "api.werker.health"), ("content-type", "application/json"),
                                           ("content-length", str(len(raw)))])
        self.conn.send_data(stream_id, raw, end_stream=True)
        self._flush()

    def read_until(self, done, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            raw = self.tls.recv(65536)
            if not raw:
                return
            for ev in self.conn.receive_data(raw):
                if isinstance(ev, h2.events.DataReceived):
                    self.data[ev.stream_id] = self.data.get(ev.stream_id, b"") + ev.data
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                    self.ended.add(ev.stream_id)
            self._flush()

    def cancel(self, stream_id: int) -> None:
        self.conn.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
        self._flush()

    def close(self) -> None:
        self.tls.close()


def _response_outcomes(proxy, since: int, timeout: float = 15.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = [r["outcome"] for r in proxy.audit_records()[since:] if r["event"] == "response"]
        if out:
            return out
        time.sleep(0.1)
    return []


@pytest.mark.parametrize("how", ["cancel_stream", "close_connection"])
def test_an_http2_client_hanging_up_mid_stream_is_a_client_abort(proxy, up, how):
    since = len(proxy.audit_records())
    up.reply(ANSWER, chunking=3, delay=0.2)
    up.reply("SSN 987-65-4321 ok")
    client = H2Client(proxy)
    client.post(1, {"model": "m", "input": "hi", "stream": True})
    client.read_until(lambda: client.data.get(1, b"").count(b"output_text.delta") >= 2)
    assert client.data.get(1, b"").count(b"output_text.delta") >= 2
    if how == "cancel_stream":
        client.cancel(1)
    else:
        client.close()
    assert _response_outcomes(proxy, since) == ["client_abort"]
    if how == "cancel_stream":  # the connection still serves the next call, scrubbed
        client.post(3, {"model": "m", "input": "x"})
        client.read_until(lambda: 3 in client.ended)
        assert b"[SSN]" in client.data.get(3, b"") and b"987-65" not in client.data.get(3, b"")
        client.close()
