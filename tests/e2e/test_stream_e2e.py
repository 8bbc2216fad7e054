"""Streams end to end: the official openai SDK, through a real proxy process, against the fake.

Every PHI value is split across two or three upstream deltas; the SDK must parse every event,
and its final objects (which it assembles from the deltas and checks against ``.done``) must
hold no PHI. Streaming must be real (the first delta arrives long before the upstream ends),
and an upstream that dies mid-stream ends the client's stream with an ``upstream_error`` audit.
"""

from __future__ import annotations

import json
import time

import pytest

SSN, PHONE, EMAIL = "123-45-6789", "617-555-0142", "maria.lopez@mail.org"
PHI = (SSN, PHONE, EMAIL, "123456789", "6175550142")
DELTAS = ["Seen today. SSN 123-", "45-67", "89, phone 617-5", "55-01", "42, email maria.lo",
          "pez@mail", ".org. Stable, review in two weeks."]
ARGS = {"ssn": SSN, "phone": PHONE, "note": "call " + PHONE, "n": 5}
ARG_DELTAS = ['{"ssn": "123-4', '5-6789", "phone": "617-55', '5-0142", "note": "call 617', '-555-0142", "n": 5}']
assert "".join(ARG_DELTAS) == json.dumps(ARGS)
MESSAGES = [{"role": "user", "content": "Summarise the visit."}]


def no_phi(text: str) -> None:
    for value in PHI:
        assert value not in text, f"{value!r} reached the client: {text!r}"


def last_response_record(proxy) -> dict:
    return [r for r in proxy.audit_records() if r["event"] == "response"][-1]


def test_responses_stream_parses_and_holds_no_phi(proxy, up):
    up.reply(deltas=DELTAS)
    events = list(proxy.client().responses.create(model="m", input="Summarise the visit.", stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) == len(DELTAS)  # held text moves between deltas; no delta is invented or dropped
    joined = "".join(deltas)
    done = next(e for e in events if e.type == "response.output_text.done")
    final = events[-1]
    assert final.type == "response.completed"
    assert done.text == joined == final.response.output_text
    no_phi(joined)
    assert "[SSN]" in joined and "review in two weeks." in joined
    assert last_response_record(proxy)["outcome"] == "completed"


def test_responses_stream_helper_final_response(proxy, up):
    """``responses.stream`` accumulates the deltas and checks them against each ``.done``."""
    up.reply(deltas=DELTAS)
    with proxy.client().responses.stream(model="m", input="Summarise the visit.") as stream:
        texts = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert final.output_text == "".join(texts)
    no_phi(final.output_text)


def test_chat_stream_parses_and_holds_no_phi(proxy, up):
    up.reply(deltas=DELTAS)
    chunks = list(proxy.client().chat.completions.create(model="m", messages=MESSAGES, stream=True))
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    no_phi(content)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert "[SSN]" in content and content.endswith("review in two weeks.")
    up.reply(deltas=DELTAS)
    with proxy.client().chat.completions.stream(model="m", messages=MESSAGES) as stream:
        final = stream.get_final_completion()
    no_phi(final.choices[0].message.content or "")


def test_responses_function_call_arguments_stream(proxy, up):
    up.reply(function_call={"name": "lookup", "arguments": ARGS}, deltas=ARG_DELTAS)
    with proxy.client().responses.stream(model="m", input="look it up") as stream:
        arg_deltas = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    call = next(o for o in final.output if o.type == "function_call")
    assert call.arguments == "".join(arg_deltas)
    no_phi(call.arguments)
    args = json.loads(call.arguments)
    assert args["n"] == 5 and args["ssn"] != SSN and "617" not in args["note"]


def test_chat_tool_call_arguments_stream(proxy, up):
    up.reply(function_call={"name": "lookup", "arguments": ARGS}, deltas=ARG_DELTAS)
    chunks = list(proxy.client().chat.completions.create(model="m", messages=MESSAGES, stream=True))
    joined = "".join(tc.function.arguments or "" for c in chunks if c.choices
                     for tc in (c.choices[0].delta.tool_calls or []))
    no_phi(joined)
    assert json.loads(joined)["n"] == 5
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_streaming_is_real(proxy, up):
    """10 deltas 0.3 s apart: the first reaches the client long before the upstream is done."""
    deltas = [f"line {i} of the note is fine. " for i in range(10)]
    up.reply(deltas=deltas, delay=0.3)
    t0 = time.monotonic()
    arrivals: list[tuple[float, str]] = []
    for e in proxy.client().responses.create(model="m", input="go", stream=True):
        if e.type == "response.output_text.delta":
            arrivals.append((time.monotonic() - t0, e.delta))
    total = time.monotonic() - t0
    assert len(arrivals) == 10 and total >= 2.7
    assert "".join(d for _, d in arrivals) == "".join(deltas)
    # A held delta waits at most for the next one (0.3 s); buffering would give first ≈ total.
    # Text must flow too, not only (empty) delta events: the first words arrive early.
    first_event = arrivals[0][0]
    first_text = next(t for t, d in arrivals if d)
    # (times from the request: the first call also pays for the upstream connection)
    assert total - first_event > 2.0, arrivals
    assert total - first_text > 1.8, (
        f"no text before {first_text:.2f}s of {total:.2f}s: {[(round(t, 2), d) for t, d in arrivals]}")


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_upstream_dying_mid_stream_ends_the_client_stream(proxy, up, api):
    up.reply(deltas=DELTAS, break_after=3)  # dies after "89, phone 617-5": held, never released
    client = proxy.client()
    got: list[str] = []
    with _ends_or_raises():
        if api == "responses":
            for e in client.responses.create(model="m", input="x", stream=True):
                if e.type == "response.output_text.delta":
                    got.append(e.delta)
                assert e.type != "response.completed"
        else:
            for c in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
                got += [c.choices[0].delta.content or ""] if c.choices else []
                assert not c.choices or c.choices[0].finish_reason is None
    text = "".join(got)
    no_phi(text)
    assert "617" not in text  # the held fragment is dropped, never released
    rec = _wait_for(lambda: last_response_record(proxy), lambda r: r["outcome"] != "completed")
    assert rec["outcome"] == "upstream_error", rec


def test_gzip_compressed_stream_is_scrubbed(proxy, up):
    up.reply(deltas=DELTAS, content_encoding="gzip")
    with proxy.client().responses.stream(model="m", input="x") as stream:
        final = stream.get_final_response()
    no_phi(final.output_text)
    assert "[SSN]" in final.output_text


SSN_FRAME = (b'data: {"type":"response.output_text.delta","item_id":"msg_1","output_index":0,'
             b'"content_index":0,"delta":"ssn 123-45-6789","sequence_number":0}\n\n')


def _stream_request(body: bytes = b'{"model":"m","input":"x","stream":true}') -> bytes:
    return (b"POST /v1/responses HTTP/1.1\r\nHost: api.werker.health\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


@pytest.mark.parametrize("encoding", ["x-custom", "compress"])
def test_a_stream_in_an_undecodable_encoding_gets_the_error_and_not_one_upstream_byte(proxy, up, encoding):
    """Blocked when its headers arrive: the client gets the OpenAI-shaped error, whole, and
    nothing of the upstream body after it (the body mitmproxy reads later must not replace it)."""
    up.reply(raw_sse=[SSN_FRAME, SSN_FRAME], headers={"Content-Encoding": encoding}, delay=0.2)
    t0 = time.monotonic()
    got = proxy.raw_exchange(_stream_request())
    assert time.monotonic() - t0 < 8, "the client waited for its timeout"
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 502"), got[:200]
    length = int(next(l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")))
    assert len(body) == length, got
    err = json.loads(body)["error"]
    assert (err["type"], err["code"]) == ("werker_proxy_error", "upstream_bad_encoding")
    assert b"6789" not in got and b"delta" not in got
    rec = _wait_for(lambda: last_response_record(proxy), lambda r: r["outcome"] == "blocked")
    assert (rec["outcome"], rec["reason"]) == ("blocked", "upstream_bad_encoding")


def test_a_stream_that_turns_out_corrupt_ends_the_clients_stream(proxy, up):
    """gzip announced, garbage sent: decoding fails mid-stream. The client's stream must end at
    once (not hang until its own timeout) with nothing unscrubbed, and the audit says blocked."""
    up.reply(raw_sse=[b"\x1f\x8b\x08\x00garbage " + SSN_FRAME, SSN_FRAME], headers={"Content-Encoding": "gzip"},
             delay=3.0)
    t0 = time.monotonic()
    got = proxy.raw_exchange(_stream_request(), timeout=20)
    assert time.monotonic() - t0 < 2.5, "the client's stream stayed open after the failure"
    assert b"6789" not in got and b"garbage" not in got
    rec = _wait_for(lambda: last_response_record(proxy), lambda r: r["outcome"] == "blocked")
    assert (rec["outcome"], rec["reason"]) == ("blocked", "upstream_bad_encoding")
    with _ends_or_raises():  # and the SDK sees an error or an ending, never a hang
        up.reply(raw_sse=[b"\x1f\x8b\x08\x00garbage " + SSN_FRAME], headers={"Content-Encoding": "gzip"})
        for e in proxy.client(timeout=10).responses.create(model="m", input="x", stream=True):
            assert "6789" not in str(e)


class _ends_or_raises:
    """The client's stream must end: cleanly (iteration stops) or with an SDK/transport error."""

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        import httpx
        import openai

        return typ is not None and issubclass(typ, (httpx.HTTPError, openai.APIError))


def _wait_for(get, ok, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)
