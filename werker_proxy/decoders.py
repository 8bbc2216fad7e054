"""Incremental Content-Encoding decoders for streamed bodies (httpx ``_decoders`` shape).

``make_decoder(encoding)`` returns an object with ``decode(bytes) -> bytes`` and
``flush() -> bytes``; an encoding we cannot decode raises ``UpstreamError`` so the stream is
blocked, never passed on undecoded.
"""

from __future__ import annotations

import zlib
from typing import Any, Protocol

from .errors import UpstreamError


class Decoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class IdentityDecoder:
    def decode(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class ZlibDecoder:
    """gzip (wbits 16+) or deflate (zlib-wrapped, falling back to raw deflate)."""

    def __init__(self, gzip: bool):
        self._gzip = gzip
        self._first = True
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)

    def decode(self, data: bytes) -> bytes:
        try:
            if self._first and not self._gzip and data:
                self._first = False
                try:
                    return self._obj.decompress(data)
                except zlib.error:
                    self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._obj.decompress(data)
        except zlib.error as e:
            raise UpstreamError(f"cannot decode the upstream's compressed stream ({e})",
                                code="upstream_bad_encoding") from None

    def flush(self) -> bytes:
        return self._obj.flush()


class BrotliDecoder:
    def __init__(self) -> None:
        import brotli  # a mitmproxy dependency

        self._obj = brotli.Decompressor()

    def decode(self, data: bytes) -> bytes:
        try:
            return self._obj.process(data)
        except Exception as e:  # brotli.error
            raise UpstreamError(f"cannot decode the upstream's br stream ({e})", code="upstream_bad_encoding") from None

    def flush(self) -> bytes:
        return b""


class ZstdDecoder:
    """zstd via the standard library's ``compression.zstd`` (3.14, or ``backports.zstd`` that
    mitmproxy 12 brings) or the ``zstandard`` package that mitmproxy 11 brings."""

    def __init__(self) -> None:
        try:
            from compression import zstd  # type: ignore[import-not-found]
        except ImportError:
            try:
                from backports import zstd  # type: ignore[import-not-found,no-redef]
            except ImportError:
                zstd = None
        if zstd is not None:
            self._new: Any = zstd.ZstdDecompressor
            self._obj: Any = self._new()
            self._frames = True
        else:
            import zstandard

            self._obj = zstandard.ZstdDecompressor().decompressobj()
            self._frames = False

    def decode(self, data: bytes) -> bytes:
        try:
            if not self._frames:
                return self._obj.decompress(data)
            out = []
            while data:
                out.append(self._obj.decompress(data))
                if self._obj.eof:  # one frame ended; another may follow
                    data = self._obj.unused_data
                    self._obj = self._new()
                else:
                    data = b""
            return b"".join(out)
        except Exception as e:  # ZstdError of either library
            raise UpstreamError(f"cannot decode the upstream's zstd stream ({e})", code="upstream_bad_encoding") from None

    def flush(self) -> bytes:
        return b""


def make_decoder(encoding: str) -> Decoder:
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        return IdentityDecoder()
    if enc in ("gzip", "x-gzip"):
        return ZlibDecoder(gzip=True)
    if enc == "deflate":
        return ZlibDecoder(gzip=False)
    if enc == "br":
        return BrotliDecoder()
    if enc == "zstd":
        return ZstdDecoder()
    raise UpstreamError(f"the upstream stream uses Content-Encoding {enc!r}, which cannot be decoded",
                        code="upstream_bad_encoding")
