"""The fake upstream speaks the wire formats exactly: the official openai SDK, talking to it
directly, parses everything it sends."""

from __future__ import annotations

import gzip
import json
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest
from openai import OpenAI

from fake_upstream import FakeUpstream
from werker_proxy.sse import decode_events

TOOLS = [
    {
        "type": "function",
        "name": "lookup_patient",
        "description": "Find a patient",
        "parameters": {
            "type": "object",
            "properties": {"mrn": {"type": "string"}},
            "required": ["mrn"],
        },
    }
]
CHAT_TOOLS = [
    {
        "type": "function",
        "function": {k: v for k, v in TOOLS[0].items() if k != "type"},
    }
]


@pytest.fixture(scope="module")
def up():
    with FakeUpstream() as server:
        yield server


@pytest.fixture
def fake(up: FakeUpstream) -> FakeUpstream:
    up.reset()
    return up


@pytest.fixture
def client(fake: FakeUpstream):
    http = httpx.Client(verify=fake.ssl_context())
    yield OpenAI(base_url=fake.url + "/v1", api_key="test", http_client=http, max_retries=0)
    http.close()


def test_responses_plain(client: OpenAI, fake: FakeUpstream) -> None:
    """responses.create parses the Response object and its output_text."""
    fake.reply("The visit is booked.")
    r = client.responses.create(model="werker-med-1", input="Book a visit", metadata={"k": "v"})
    assert r.object == "response"
    assert r.id.startswith("resp_")
    assert r.status == "completed"
    assert r.output_text == "The visit is booked."
    msg = r.output[0]
    assert msg.type == "message" and msg.id.startswith("msg_") and msg.role == "assistant"
    assert msg.content[0].type == "output_text" and msg.content[0].annotations == []
    assert r.usage is not None
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.metadata == {"k": "v"}


def test_default_reply_echoes_input(client: OpenAI, fake: FakeUpstream) -> None:
    """Without a script the fake echoes the last user text."""
    r = client.responses.create(
        model="m",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "hello fake"}]}],
    )
    assert r.output_text == "You said: hello fake"
    c = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "yo"}])
    assert c.choices[0].message.content == "You said: yo"


def test_responses_stream_events(client: OpenAI, fake: FakeUpstream) -> None:
    """A Responses stream has the real event sequence, increasing sequence numbers, and
    deltas that add up to the done text and the completed response."""
    fake.reply(deltas=["Hel", "lo ", "wor", "ld"])
    events = list(client.responses.create(model="m", input="hi", stream=True))
    types = [e.type for e in events]
    assert types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 4,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert [d.delta for d in deltas] == ["Hel", "lo ", "wor", "ld"]
    assert all(d.logprobs == [] and d.item_id.startswith("msg_") for d in deltas)
    done = next(e for e in events if e.type == "response.output_text.done")
    assert done.text == "Hello world"
    assert events[-1].response.output_text == "Hello world"
    assert events[0].response.status == "in_progress"


def test_responses_stream_helper_final_response(client: OpenAI, fake: FakeUpstream) -> None:
    """The SDK's stream helper accumulates the stream into the same final response."""
    fake.reply("Take 5 mg daily with food.", chunking=3, obfuscation=True)
    with client.responses.stream(model="m", input="dose?") as stream:
        texts = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(texts) == "Take 5 mg daily with food."
    assert texts[0] == "Tak"
    assert final.output_text == "Take 5 mg daily with food."


def test_responses_wire_frames(fake: FakeUpstream) -> None:
    """Every Responses frame has an event line matching its data type."""
    fake.reply("a b c")
    with httpx.Client(verify=fake.ssl_context()) as http:
        r = http.post(fake.url + "/v1/responses", json={"model": "m", "input": "x", "stream": True})
    assert r.headers["content-type"].startswith("text/event-stream")
    evs = decode_events(r.content)
    assert all(json.loads(e.data)["type"] == e.event for e in evs)
    assert [json.loads(e.data)["sequence_number"] for e in evs] == list(range(len(evs)))


def test_chat_plain(client: OpenAI, fake: FakeUpstream) -> None:
    """chat.completions.create parses a chat.completion with usage."""
    fake.reply("Fine, thanks.")
    c = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert c.object == "chat.completion"
    assert c.id.startswith("chatcmpl-")
    assert c.choices[0].message.content == "Fine, thanks."
    assert c.choices[0].message.role == "assistant"
    assert c.choices[0].finish_reason == "stop"
    assert c.usage is not None and c.usage.total_tokens > 0


def test_chat_stream(client: OpenAI, fake: FakeUpstream) -> None:
    """A chat stream: role delta, content deltas, stop chunk, usage chunk, then [DONE]."""
    fake.reply(deltas=["One ", "two ", "three"])
    chunks = list(
        client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "count"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "One two three"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert all(c.object == "chat.completion.chunk" for c in chunks)


def test_chat_stream_ends_with_done(fake: FakeUpstream) -> None:
    """On the wire, a chat stream ends with data: [DONE] and has no usage chunk by default."""
    with httpx.Client(verify=fake.ssl_context()) as http:
        r = http.post(
            fake.url + "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True},
        )
    evs = decode_events(r.content)
    assert evs[-1].is_done
    assert all(e.event is None for e in evs)
    assert "usage" not in json.loads(evs[-2].data)


def test_responses_function_call(client: OpenAI, fake: FakeUpstream) -> None:
    """A function call comes back as a function_call output item, plain and streamed."""
    fc = {"name": "lookup_patient", "arguments": {"mrn": "A-12345"}, "call_id": "call_abc"}
    fake.reply(function_call=fc)
    r = client.responses.create(model="m", input="find", tools=TOOLS)
    item = r.output[0]
    assert item.type == "function_call"
    assert (item.name, item.call_id) == ("lookup_patient", "call_abc")
    assert json.loads(item.arguments) == {"mrn": "A-12345"}

    fake.reply(function_call=fc, chunking=4)
    with client.responses.stream(model="m", input="find", tools=TOOLS) as stream:
        events = list(stream)
        final = stream.get_final_response()
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert len(deltas) > 1 and "".join(deltas) == done.arguments
    assert json.loads(final.output[0].arguments) == {"mrn": "A-12345"}


def test_chat_function_call(client: OpenAI, fake: FakeUpstream) -> None:
    """A chat tool call: tool_calls plain, and argument deltas with finish_reason tool_calls."""
    fc = {"name": "lookup_patient", "arguments": '{"mrn": "A-12345"}'}
    fake.reply(function_call=fc)
    msgs = [{"role": "user", "content": "find"}]
    c = client.chat.completions.create(model="m", messages=msgs, tools=CHAT_TOOLS)
    call = c.choices[0].message.tool_calls[0]
    assert c.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "lookup_patient"
    assert call.function.arguments == '{"mrn": "A-12345"}'
    assert call.id.startswith("call_")

    fake.reply(function_call=fc, deltas=['{"mrn"', ': "A-1', '2345"}'])
    chunks = list(
        client.chat.completions.create(model="m", messages=msgs, tools=CHAT_TOOLS, stream=True)
    )
    first = chunks[0].choices[0].delta.tool_calls[0]
    assert first.function.name == "lookup_patient" and first.id.startswith("call_")
    args = "".join(
        c.choices[0].delta.tool_calls[0].function.arguments
        for c in chunks
        if c.choices and c.choices[0].delta.tool_calls
    )
    assert args == '{"mrn": "A-12345"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_refusal(client: OpenAI, fake: FakeUpstream) -> None:
    """A refusal is a refusal content part / chat refusal, plain and streamed."""
    fake.reply(refusal="I can't help with that.")
    r = client.responses.create(model="m", input="x")
    assert r.output[0].content[0].type == "refusal"
    fake.reply(refusal="I can't help with that.", chunking=5)
    with client.responses.stream(model="m", input="x") as stream:
        deltas = [e.delta for e in stream if e.type == "response.refusal.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output[0].content[0].refusal == "I can't help with that."
    fake.reply(refusal="No.")
    c = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert c.choices[0].message.refusal == "No." and c.choices[0].message.content is None


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (401, openai.AuthenticationError),
    ],
)
def test_error_status(client: OpenAI, fake: FakeUpstream, status: int, exc: type) -> None:
    """An error status with an OpenAI error body raises the SDK's exception."""
    fake.reply(status=status)
    with pytest.raises(exc) as ei:
        client.responses.create(model="m", input="x")
    assert ei.value.status_code == status
    assert set(ei.value.body) == {"message", "type", "param", "code"}


def test_custom_error_body(client: OpenAI, fake: FakeUpstream) -> None:
    """A scripted error body is sent as is."""
    body = {"error": {"message": "nope", "type": "werker_proxy_error", "param": None, "code": "x"}}
    fake.reply(status=400, error_body=body)
    with pytest.raises(openai.BadRequestError) as ei:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert ei.value.body == body["error"]
    assert "nope" in str(ei.value)


def test_broken_stream_raises(client: OpenAI, fake: FakeUpstream) -> None:
    """A stream cut after K deltas gives the client those deltas, then an error."""
    fake.reply(deltas=["a", "b", "c", "d"], break_after=2)
    got = []
    with pytest.raises((httpx.HTTPError, openai.APIError)):
        for e in client.responses.create(model="m", input="x", stream=True):
            got.append(e.type)
    assert got.count("response.output_text.delta") == 2
    assert "response.completed" not in got

    fake.reply(deltas=["a", "b"], break_after=1)
    msgs = [{"role": "user", "content": "x"}]
    with pytest.raises((httpx.HTTPError, openai.APIError)):
        list(client.chat.completions.create(model="m", messages=msgs, stream=True))


def test_break_after_all_deltas_drops_done(client: OpenAI, fake: FakeUpstream) -> None:
    """break_after equal to the delta count cuts before the .done event."""
    fake.reply(deltas=["a", "b"], break_after=2)
    got = []
    with pytest.raises((httpx.HTTPError, openai.APIError)):
        for e in client.responses.create(model="m", input="x", stream=True):
            got.append(e.type)
    assert got[-1] == "response.output_text.delta"


def test_gzip_bodies(client: OpenAI, fake: FakeUpstream) -> None:
    """gzip-encoded JSON and SSE bodies are decoded by the client."""
    fake.reply("zipped", content_encoding="gzip")
    assert client.responses.create(model="m", input="x").output_text == "zipped"
    fake.reply("zipped stream", content_encoding="gzip")
    with client.responses.stream(model="m", input="x") as stream:
        assert stream.get_final_response().output_text == "zipped stream"
    fake.reply("raw", content_encoding="gzip")
    with httpx.Client(verify=fake.ssl_context()) as http:
        body = {"model": "m", "input": "x"}
        with http.stream("POST", fake.url + "/v1/responses", json=body) as r:
            raw = b"".join(r.iter_raw())
    assert r.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(raw))["output"][0]["content"][0]["text"] == "raw"


def test_stream_is_incremental(fake: FakeUpstream) -> None:
    """With a delay, the first delta arrives long before the stream ends."""
    fake.reply(deltas=["a", "b", "c"], delay=0.3)
    t0 = time.perf_counter()
    first = None
    with httpx.Client(verify=fake.ssl_context()) as http:
        body = {"model": "m", "input": "x", "stream": True}
        with http.stream("POST", fake.url + "/v1/responses", json=body) as r:
            for chunk in r.iter_raw():
                if first is None and b"output_text.delta" in chunk:
                    first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    assert first is not None and total >= 0.55 and total - first >= 0.45


def test_raw_sse_chunks(fake: FakeUpstream) -> None:
    """raw_sse sends exactly the given bytes, chunk by chunk."""
    frames = [b"data: {\"a\":", b" 1}\r\n\r\n", b"data: [DONE]\r\n\r\n"]
    fake.reply(raw_sse=frames)
    with httpx.Client(verify=fake.ssl_context()) as http:
        r = http.post(fake.url + "/v1/chat/completions", json={"model": "m", "stream": True})
    assert r.content == b"".join(frames)


def test_requests_recorded(client: OpenAI, fake: FakeUpstream) -> None:
    """Each request is recorded with method, path, headers, raw body and parsed JSON."""
    client.responses.create(model="m", input="record me", metadata={"trace": "1"})
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "me too"}])
    a, b = fake.requests
    assert (a.method, a.path) == ("POST", "/v1/responses")
    assert a.json["input"] == "record me" and a.json["metadata"] == {"trace": "1"}
    assert a.headers["authorization"] == "Bearer test"
    assert json.loads(a.body) == a.json
    assert b.path == "/v1/chat/completions" and b.json["messages"][0]["content"] == "me too"
    fake.clear()
    assert fake.requests == []


def test_reply_queue_and_always(client: OpenAI, fake: FakeUpstream) -> None:
    """Queued replies are used in order, then the reply_always one."""
    fake.reply_always("always")
    fake.reply("first")
    fake.reply("second", times=2)
    got = [client.responses.create(model="m", input="x").output_text for _ in range(5)]
    assert got == ["first", "second", "second", "always", "always"]


def test_concurrent_streams(fake: FakeUpstream) -> None:
    """Concurrent slow streams are served in parallel."""
    fake.reply_always(deltas=["a", "b", "c", "d"], delay=0.2)
    http = httpx.Client(verify=fake.ssl_context())
    client = OpenAI(base_url=fake.url + "/v1", api_key="t", http_client=http, max_retries=0)
    results: list[str] = []

    def run() -> None:
        with client.responses.stream(model="m", input="x") as s:
            results.append(s.get_final_response().output_text)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == ["abcd"] * 6
    assert time.perf_counter() - t0 < 3.0  # serially: 6 x 0.6 s
    http.close()


def test_certificate_names(fake: FakeUpstream) -> None:
    """The certificate is valid for localhost too (and api.werker.health via SNI)."""
    with httpx.Client(verify=fake.ssl_context()) as http:
        url = f"https://localhost:{fake.port}/v1/responses"
        r = http.post(url, json={"model": "m", "input": "x"})
    assert r.status_code == 200


def test_certificate_valid_for_api_host(fake: FakeUpstream) -> None:
    """A TLS client asking for api.werker.health (SNI) verifies the fake's certificate."""
    import socket

    with socket.create_connection((fake.host, fake.port), timeout=5) as raw:
        with fake.ssl_context().wrap_socket(raw, server_hostname="api.werker.health") as tls:
            assert tls.version() is not None


def test_broken_plain_body(client: OpenAI, fake: FakeUpstream) -> None:
    """break_after on a non-stream reply cuts the JSON body in half: the SDK raises."""
    fake.reply("x" * 100, break_after=0)
    with pytest.raises((httpx.HTTPError, openai.APIError)):
        client.responses.create(model="m", input="x")


def test_unknown_path_404(fake: FakeUpstream) -> None:
    """An unknown path gets an OpenAI-shaped 404."""
    with httpx.Client(verify=fake.ssl_context()) as http:
        r = http.post(fake.url + "/v1/embeddingz", json={})
    assert r.status_code == 404 and "error" in r.json()


def test_main_standalone() -> None:
    """python tests/fake_upstream.py --port 0 prints its URL and CA, and serves."""
    script = Path(__file__).with_name("fake_upstream.py")
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--text", "bench"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(proc.stdout.readline())
        assert info["url"].startswith("https://127.0.0.1:")
        ctx = ssl.create_default_context(cafile=info["ca_file"])
        with httpx.Client(verify=ctx) as http:
            r = http.post(info["url"] + "/v1/responses", json={"model": "m", "input": "x"})
        assert r.json()["output"][0]["content"][0]["text"] == "bench"
    finally:
        proc.terminate()
        proc.wait(10)
