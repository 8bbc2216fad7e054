"""Server-Sent-Event framing: a sans-I/O decoder (``feed`` / ``flush``) and an encoder.

Pure: no mitmproxy, no I/O, no logging. Bytes in, :class:`SSEEvent` out, and back::

    dec = SSEDecoder()
    for chunk in upstream_chunks:
        for ev in dec.feed(chunk):
            out.write(encode_event(ev))
    dec.flush()   # per the spec an unterminated final frame is discarded

Parsing follows the WHATWG "event stream interpretation" rules, as the ``openai`` SDKs do:
lines end with ``\\r\\n``, ``\\n`` or ``\\r``; a blank line ends a frame; ``field: value``
with one optional space after the colon; a line without a colon is a field with an empty
value; ``:comment`` lines; multi-line ``data`` joined with ``\\n``; ``id`` containing NUL and
non-digit ``retry`` are ignored, as are unknown fields; one leading UTF-8 BOM is skipped.

Unlike a browser, every non-empty frame is returned (also ones with no ``data`` line, such
as a comment-only keep-alive) so a proxy can re-emit the stream event for event.
Encoding is faithful at the event level: ``decode(encode_event(ev)) == [ev]`` and every
spec-compliant client sees the same events; only line endings, the optional space, field
order and ignored fields are normalised. There is deliberately no raw-bytes pass-through: a
rewritten event can never carry stale original bytes.

The decoder is linear in its input whatever the chunking (a slow-drip stream fed one byte at
a time costs O(n)): like h11's receive buffer it remembers how far it already searched for a
line end, and only the unterminated line is buffered. A frame larger than
``max_frame_bytes`` raises :class:`ValueError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_FRAME_BYTES", "SSEDecoder", "SSEEvent", "decode_events", "encode_event"]

DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile(rb"[\r\n]")


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One SSE frame.

    ``event``/``id``: the field's value, ``None`` if the frame has no such line (``""`` if the
    line was present but empty). ``data``: all ``data`` lines joined with ``\\n``, ``None`` if
    there was no ``data`` line. ``retry``: milliseconds, ``None`` if absent or invalid.
    ``comments``: the text of each ``:`` comment line, one optional leading space removed.
    """

    event: str | None = None
    data: str | None = None
    id: str | None = None
    retry: int | None = None
    comments: tuple[str, ...] = ()

    @property
    def is_done(self) -> bool:
        """True for the chat-completions end-of-stream sentinel ``data: [DONE]``."""
        return self.data == "[DONE]"

    @property
    def is_empty(self) -> bool:
        """True if the event carries nothing (encodes to ``b""``)."""
        return (
            self.event is None
            and self.data is None
            and self.id is None
            and self.retry is None
            and not self.comments
        )


def _check_line(what: str, value: str) -> None:
    if "\n" in value or "\r" in value:
        raise ValueError(f"SSE {what} must not contain a line break")


def encode_event(ev: SSEEvent) -> bytes:
    """Encode ``ev`` as one canonical frame: ``": c"``, ``event``, ``id``, ``retry``, then one
    ``data:`` line per line of data, ``\\n`` line ends and a blank-line terminator.

    An empty event encodes to ``b""``. Raises :class:`ValueError` for values a frame cannot
    carry (a line break in ``event``/``id``/a comment, ``\\r`` in ``data``, NUL in ``id``, a
    negative ``retry``).
    """
    parts: list[str] = []
    for c in ev.comments:
        _check_line("comment", c)
        parts.append(f": {c}\n")
    if ev.event is not None:
        _check_line("event", ev.event)
        parts.append(f"event: {ev.event}\n")
    if ev.id is not None:
        _check_line("id", ev.id)
        if "\0" in ev.id:
            raise ValueError("SSE id must not contain NUL")
        parts.append(f"id: {ev.id}\n")
    if ev.retry is not None:
        if isinstance(ev.retry, bool) or not isinstance(ev.retry, int) or ev.retry < 0:
            raise ValueError("SSE retry must be a non-negative int")
        parts.append(f"retry: {ev.retry}\n")
    if ev.data is not None:
        if "\r" in ev.data:
            raise ValueError("SSE data must not contain \\r")
        for line in ev.data.split("\n"):
            parts.append(f"data: {line}\n")
    if not parts:
        return b""
    parts.append("\n")
    return "".join(parts).encode("utf-8")


class SSEDecoder:
    """Incremental SSE frame decoder: ``feed(chunk) -> events``, ``flush() -> events``.

    ``max_frame_bytes`` bounds the bytes buffered for one frame (its lines so far plus the
    unterminated line); exceeding it raises :class:`ValueError`, after which the decoder must
    not be used again. ``errors`` is the UTF-8 error handler (the spec says ``"replace"``;
    ``"strict"`` makes invalid UTF-8 raise :class:`UnicodeDecodeError`, a ``ValueError``).
    """

    __slots__ = (
        "_buf",
        "_scan",
        "_skip_lf",
        "_at_start",
        "_frame_bytes",
        "_max",
        "_errors",
        "_event",
        "_data",
        "_id",
        "_retry",
        "_comments",
    )

    def __init__(
        self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES, *, errors: str = "replace"
    ) -> None:
        if max_frame_bytes <= 0:
            raise ValueError("max_frame_bytes must be positive")
        self._max = max_frame_bytes
        self._errors = errors
        self._buf = bytearray()  # the unterminated line only
        self._scan = 0  # bytes of _buf already searched for a line end
        self._skip_lf = False  # last line ended with "\r": drop a "\n" that follows
        self._at_start = True  # a BOM may still be pending
        self._frame_bytes = 0  # bytes of the current frame's complete lines
        self._reset_frame()

    def _reset_frame(self) -> None:
        self._event: str | None = None
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None
        self._comments: list[str] = []
        self._frame_bytes = 0

    @property
    def pending_bytes(self) -> int:
        """Bytes of a frame received but not yet terminated (non-zero at EOF = truncated)."""
        return self._frame_bytes + len(self._buf)

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Add ``chunk`` and return the frames it completed, in order."""
        if not chunk:
            return []
        buf = self._buf
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
                if not chunk:
                    return []
        buf += chunk
        if self._at_start:
            if len(buf) < 3 and _BOM.startswith(buf):
                return []
            self._at_start = False
            if buf.startswith(_BOM):
                del buf[:3]
                self._scan = 0
        out: list[SSEEvent] = []
        search = _LINE_END.search
        pos = self._scan
        start = 0
        n = len(buf)
        while (m := search(buf, pos)) is not None:
            end = m.start()
            nxt = end + 1
            if buf[end] == 0x0D:  # "\r", maybe "\r\n"
                if nxt < n:
                    if buf[nxt] == 0x0A:
                        nxt += 1
                else:
                    self._skip_lf = True
            if end > start:
                self._frame_bytes += nxt - start
                if self._frame_bytes > self._max:
                    raise ValueError(f"SSE frame exceeds {self._max} bytes")
                self._field(bytes(buf[start:end]))
                start = pos = nxt
            else:
                start = pos = nxt
                ev = self._dispatch()
                if ev is not None:
                    out.append(ev)
        if start:
            del buf[:start]
        self._scan = len(buf)
        if self._frame_bytes + self._scan > self._max:
            raise ValueError(f"SSE frame exceeds {self._max} bytes")
        return out

    def flush(self) -> list[SSEEvent]:
        """End of stream: reset, returning nothing.

        As the spec (and the ``openai`` SDK) does, a final frame without its blank-line
        terminator is discarded, never dispatched; check :attr:`pending_bytes` first to
        detect a truncated stream.
        """
        self._buf.clear()
        self._scan = 0
        self._skip_lf = False
        self._at_start = True
        self._reset_frame()
        return []

    def _field(self, line: bytes) -> None:
        text = line.decode("utf-8", self._errors)
        name, _, value = text.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if not name:
            self._comments.append(value)
        elif name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
        # any other field is ignored, as the spec says

    def _dispatch(self) -> SSEEvent | None:
        data = self._data
        if (
            not data
            and self._event is None
            and self._id is None
            and self._retry is None
            and not self._comments
        ):
            self._frame_bytes = 0
            return None
        ev = SSEEvent(
            event=self._event,
            data="\n".join(data) if data else None,
            id=self._id,
            retry=self._retry,
            comments=tuple(self._comments),
        )
        self._reset_frame()
        return ev


def decode_events(data: bytes, *, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> list[SSEEvent]:
    """Decode a whole SSE body at once (convenience for tests and non-streamed bodies)."""
    dec = SSEDecoder(max_frame_bytes)
    return dec.feed(data) + dec.flush()
