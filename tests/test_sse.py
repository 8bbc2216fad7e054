"""Tests for werker_proxy.sse: every case is decoded whole, byte by byte and split at every
position (h11 style), and the results must agree."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from werker_proxy.sse import SSEDecoder, SSEEvent, decode_events, encode_event

E = SSEEvent


def _feed_all(chunks: list[bytes], **kw) -> list[SSEEvent]:
    dec = SSEDecoder(**kw)
    out: list[SSEEvent] = []
    for c in chunks:
        out += dec.feed(c)
    return out + dec.flush()


def decode_three_ways(data: bytes) -> list[SSEEvent]:
    """Decode whole, one byte at a time, and split in two at every position; all must agree."""
    whole = _feed_all([data])
    assert _feed_all([data[i : i + 1] for i in range(len(data))]) == whole
    for i in range(len(data) + 1):
        assert _feed_all([data[:i], data[i:]]) == whole, f"split at {i}"
    return whole


CASES: list[tuple[str, bytes, list[SSEEvent]]] = [
    ("lf", b"event: a\ndata: 1\n\n", [E(event="a", data="1")]),
    ("crlf", b"event: a\r\ndata: 1\r\n\r\n", [E(event="a", data="1")]),
    ("cr", b"event: a\rdata: 1\r\r", [E(event="a", data="1")]),
    ("mixed endings", b"event: a\r\ndata: 1\rdata: 2\n\r\n", [E(event="a", data="1\n2")]),
    ("no space after colon", b"event:a\ndata:1\n\n", [E(event="a", data="1")]),
    ("only one space stripped", b"data:  two\n\n", [E(data=" two")]),
    ("multi-line data", b"data: a\ndata: b\ndata:\n\n", [E(data="a\nb\n")]),
    ("field without colon", b"data\n\n", [E(data="")]),
    ("event without colon", b"event\ndata: x\n\n", [E(event="", data="x")]),
    ("colon in value", b"data: {\"a\": 1}\n\n", [E(data='{"a": 1}')]),
    ("comment", b": keep-alive\n\n", [E(comments=("keep-alive",))]),
    ("bare comment", b":\n\n", [E(comments=("",))]),
    (
        "comment inside frame",
        b": c1\nevent: x\n:c2\ndata: d\n\n",
        [E(event="x", data="d", comments=("c1", "c2"))],
    ),
    ("done", b"data: [DONE]\n\n", [E(data="[DONE]")]),
    ("id and retry", b"id: 7\nretry: 1500\ndata: x\n\n", [E(id="7", retry=1500, data="x")]),
    ("empty id", b"id\ndata: x\n\n", [E(id="", data="x")]),
    ("id with NUL ignored", b"id: a\x00b\ndata: x\n\n", [E(data="x")]),
    ("bad retry ignored", b"retry: 1s\ndata: x\n\n", [E(data="x")]),
    ("unicode digit retry ignored", "retry: ²\ndata: x\n\n".encode(), [E(data="x")]),
    ("unknown field ignored", b"foo: bar\ndata: x\n\n", [E(data="x")]),
    ("unknown-only frame dropped", b"foo: bar\n\ndata: x\n\n", [E(data="x")]),
    ("extra blank lines", b"\n\n\r\ndata: x\n\n\n\n", [E(data="x")]),
    ("event without data", b"event: ping\n\n", [E(event="ping")]),
    ("bom skipped", b"\xef\xbb\xbfdata: x\n\n", [E(data="x")]),
    ("bom only at start", b"data: x\n\n\xef\xbb\xbfdata: y\n\n", [E(data="x")]),
    ("unterminated final frame dropped", b"data: x\n\ndata: y\n", [E(data="x")]),
    ("unterminated final line dropped", b"data: x\n\ndata: y", [E(data="x")]),
    (
        "utf-8",
        "event: δ\ndata: ünïcödé 日本 🩺\n\n".encode(),
        [E(event="δ", data="ünïcödé 日本 🩺")],
    ),
    ("invalid utf-8 replaced", b"data: \xff\xfe\n\n", [E(data="\ufffd\ufffd")]),
    (
        "responses stream",
        b"event: response.output_text.delta\n"
        b'data: {"type":"response.output_text.delta","delta":"Hi","sequence_number":4}\n\n'
        b"event: response.completed\n"
        b'data: {"type":"response.completed","sequence_number":5}\n\n',
        [
            E(
                event="response.output_text.delta",
                data='{"type":"response.output_text.delta","delta":"Hi","sequence_number":4}',
            ),
            E(event="response.completed", data='{"type":"response.completed","sequence_number":5}'),
        ],
    ),
    (
        "chat stream",
        b'data: {"choices":[{"delta":{"content":"a"}}]}\r\n\r\ndata: [DONE]\r\n\r\n',
        [E(data='{"choices":[{"delta":{"content":"a"}}]}'), E(data="[DONE]")],
    ),
]


@pytest.mark.parametrize(("name", "raw", "expected"), CASES, ids=[c[0] for c in CASES])
def test_decode_cases(name: str, raw: bytes, expected: list[SSEEvent]) -> None:
    """Each case decodes to the expected events however the bytes are chunked."""
    assert decode_three_ways(raw) == expected


def test_crlf_and_lf_decode_alike() -> None:
    """The same frames with CRLF, LF or CR line endings decode to the same events."""
    lf = b"event: a\ndata: 1\ndata: 2\n\n: c\n\ndata: [DONE]\n\n"
    assert decode_three_ways(lf.replace(b"\n", b"\r\n")) == decode_three_ways(lf)
    assert decode_three_ways(lf.replace(b"\n", b"\r")) == decode_three_ways(lf)


def test_split_between_cr_and_lf_dispatches_once() -> None:
    """A frame ending in CRLF CRLF split between CR and LF yields the event at the CR, once."""
    dec = SSEDecoder()
    assert dec.feed(b"data: x\r\n\r") == [E(data="x")]
    assert dec.feed(b"\n") == []
    assert dec.feed(b"data: y\r\n\r\n") == [E(data="y")]
    assert dec.pending_bytes == 0


def test_split_inside_multibyte_char() -> None:
    """A multi-byte UTF-8 character cut between chunks is reassembled."""
    raw = "data: 🩺\n\n".encode()
    cut = raw.index(b"\xf0") + 2
    dec = SSEDecoder()
    assert dec.feed(raw[:cut]) == []
    assert dec.feed(raw[cut:]) == [E(data="🩺")]


def test_events_arrive_as_soon_as_terminated() -> None:
    """feed returns a frame as soon as its blank line arrives, without waiting for more."""
    dec = SSEDecoder()
    assert dec.feed(b"data: a\n") == []
    assert dec.feed(b"\n") == [E(data="a")]
    assert dec.feed(b"data: b\n\ndata: c\n\nda") == [E(data="b"), E(data="c")]
    assert dec.pending_bytes == 2


def test_pending_bytes_reports_truncation() -> None:
    """pending_bytes is non-zero while a frame is unterminated, and flush discards it."""
    dec = SSEDecoder()
    dec.feed(b"data: a\n\ndata: partial")
    assert dec.pending_bytes == len(b"data: partial")
    assert dec.flush() == []
    assert dec.pending_bytes == 0


def test_strict_errors_raise_on_invalid_utf8() -> None:
    """With errors='strict' invalid UTF-8 raises a ValueError."""
    with pytest.raises(ValueError):
        SSEDecoder(errors="strict").feed(b"data: \xff\n\n")


def test_max_frame_size_single_line() -> None:
    """A line longer than max_frame_bytes raises ValueError, even when dripped in."""
    dec = SSEDecoder(max_frame_bytes=100)
    dec.feed(b"data: " + b"x" * 90)
    with pytest.raises(ValueError):
        dec.feed(b"x" * 20)


def test_max_frame_size_many_lines() -> None:
    """A frame of many short lines over max_frame_bytes raises ValueError."""
    dec = SSEDecoder(max_frame_bytes=100)
    with pytest.raises(ValueError):
        dec.feed(b"data: 0123456789\n" * 10)


def test_max_frame_size_is_per_frame() -> None:
    """Many small frames in one chunk do not add up towards the limit."""
    dec = SSEDecoder(max_frame_bytes=100)
    frames = b"data: 0123456789\n\n" * 1000
    assert len(dec.feed(frames)) == 1000


def test_byte_at_a_time_is_linear() -> None:
    """A 1 MB stream fed one byte at a time (frames and one long line) decodes quickly."""
    frame = encode_event(E(event="response.output_text.delta", data='{"delta":"' + "a" * 40 + '"}'))
    raw = frame * (1_000_000 // len(frame))
    dec = SSEDecoder()
    t0 = time.perf_counter()
    n = 0
    for i in range(len(raw)):
        n += len(dec.feed(raw[i : i + 1]))
    assert n == 1_000_000 // len(frame)
    long_line = b"data: " + b"y" * 1_000_000 + b"\n\n"
    got = []
    for i in range(len(long_line)):
        got += dec.feed(long_line[i : i + 1])
    assert got == [E(data="y" * 1_000_000)]
    assert time.perf_counter() - t0 < 5.0


def test_encode_canonical_form() -> None:
    """encode_event writes comments, event, id, retry, then one data line per line of data."""
    ev = E(event="x", data="a\n\nb", id="1", retry=10, comments=("hi",))
    assert encode_event(ev) == b": hi\nevent: x\nid: 1\nretry: 10\ndata: a\ndata: \ndata: b\n\n"
    assert encode_event(E(data="[DONE]")) == b"data: [DONE]\n\n"
    assert encode_event(E()) == b""


@pytest.mark.parametrize(
    "ev",
    [
        E(event="a\nb"),
        E(event="a\rb"),
        E(data="a\rb"),
        E(id="a\x00"),
        E(id="a\n"),
        E(comments=("x\ny",)),
        E(retry=-1),
    ],
)
def test_encode_rejects_unencodable(ev: SSEEvent) -> None:
    """Values a frame cannot carry raise ValueError instead of corrupting the stream."""
    with pytest.raises(ValueError):
        encode_event(ev)


def test_reencode_roundtrip_of_decoded_stream() -> None:
    """Decoding, re-encoding and decoding again gives the same events."""
    raw = b": ka\r\nevent:a\r\ndata:1\r\ndata\r\n\r\nid: 3\nretry: 5\ndata: [DONE]\n\n"
    evs = decode_three_ways(raw)
    again = decode_three_ways(b"".join(encode_event(e) for e in evs))
    assert again == evs


def test_is_done() -> None:
    """is_done recognises the [DONE] sentinel only."""
    assert E(data="[DONE]").is_done
    assert not E(data="[DONE] ").is_done
    assert not E(event="[DONE]").is_done


# --- property: encode -> concatenate -> random chunking -> decode ------------------------------

_line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=20,
)
_events = st.builds(
    SSEEvent,
    event=st.none() | _line_text,
    data=st.none()
    | st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
        max_size=40,
    ),
    id=st.none() | _line_text.filter(lambda s: "\0" not in s),
    retry=st.none() | st.integers(min_value=0, max_value=10**9),
    comments=st.lists(_line_text, max_size=2).map(tuple),
).filter(lambda e: not e.is_empty)


@settings(max_examples=300, deadline=None)
@given(events=st.lists(_events, max_size=8), data=st.data())
def test_roundtrip_any_chunking(events: list[SSEEvent], data: st.DataObject) -> None:
    """For any events, encode, concatenate, cut anywhere and decode: the same events return."""
    raw = b"".join(encode_event(e) for e in events)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=10)))
    chunks = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]
    assert _feed_all(chunks) == events
    assert decode_events(raw) == events


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200), data=st.data())
def test_arbitrary_bytes_chunking_invariant(raw: bytes, data: st.DataObject) -> None:
    """On arbitrary bytes, decoding never crashes and does not depend on chunking."""
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=10)))
    chunks = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]
    assert _feed_all(chunks) == decode_events(raw)
