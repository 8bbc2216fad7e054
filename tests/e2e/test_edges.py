"""Edges of the interception scope: query strings, WebSockets, the fully-qualified host name."""

from __future__ import annotations

import httpx
import orjson

SSN = "123-45-6789"


def test_query_values_are_scrubbed_but_cursors_are_not(proxy, up):
    """A query value holding an identifier is scrubbed before it leaves; `after`/`limit` pass as sent."""
    up.reply("ok")
    with proxy.http_client() as c:
        r = c.post("https://api.werker.health/v1/responses",
                   params={"note": f"SSN {SSN}", "after": "resp_6175550142", "limit": "20"},
                   json={"model": "m", "input": "hi"})
    assert r.status_code == 200
    sent = up.requests[-1].path
    assert "6789" not in sent and "after=resp_6175550142" in sent and "limit=20" in sent


def test_websocket_upgrade_to_the_api_is_refused(proxy, up):
    """A WebSocket (e.g. a realtime session) cannot be scrubbed, so it is refused in the error shape."""
    with proxy.http_client() as c:
        r = c.get("https://api.werker.health/v1/realtime",
                  headers={"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert r.status_code == 400
    err = orjson.loads(r.content)["error"]
    assert err["type"] == "werker_proxy_error" and err["code"] == "websocket_refused"
    assert up.requests == []


def test_trailing_dot_host_is_intercepted_too(proxy, up):
    """`api.werker.health.` (fully qualified) is the same host: it is decrypted and scrubbed, not tunnelled."""
    up.reply(f"Your SSN {SSN}")
    with proxy.http_client() as c:
        try:
            r = c.post("https://api.werker.health./v1/responses", json={"model": "m", "input": f"SSN {SSN}"})
        except httpx.ConnectError:
            # not intercepted would mean a tunnel to the real (unreachable) host: that is the failure
            raise AssertionError("the fully-qualified target host was tunnelled instead of intercepted") from None
    assert r.status_code == 200, r.text
    assert SSN not in r.text and SSN not in up.requests[-1].body.decode()


def test_unreachable_upstream_gives_an_openai_shaped_error(tmp_path, upstream):
    """When the upstream cannot be reached the SDK gets a 502 in OpenAI's error shape, not an HTML page."""
    import openai
    import pytest

    from tests.e2e.proxyproc import free_port, start_proxy

    class Closed:
        url = f"https://127.0.0.1:{free_port()}"  # nothing listens here
        ca_file = upstream.ca_file

    p = start_proxy(tmp_path, Closed)
    try:
        with pytest.raises(openai.APIStatusError) as e:
            p.client().responses.create(model="m", input="hello")
        assert e.value.status_code == 502
        assert e.value.body["type"] == "werker_proxy_error" and e.value.body["code"] == "upstream_unreachable"
    finally:
        p.stop()
