"""mitmproxy glue: proxy-generated error answers (upstream unreachable, protocol errors) in
OpenAI's error shape instead of mitmproxy's HTML page, so SDKs raise a readable exception.

mitmproxy has no option for this; its HTTP/1, /2 and /3 layers all render the body with
``format_error``, which we replace in those modules (same names in mitmproxy 11 and 12).
"""

from __future__ import annotations

import importlib

import orjson

CODES = {502: "upstream_unreachable", 504: "upstream_timeout", 400: "bad_request"}


def format_openai_error(status_code: int, message: str) -> bytes:
    return orjson.dumps({"error": {
        "message": f"werker-proxy: {message}" if message else f"werker-proxy: HTTP {status_code}",
        "type": "werker_proxy_error",
        "code": CODES.get(status_code, "proxy_error"),
        "param": None,
    }})


def install() -> bool:
    """Swap the error page renderer; False (and mitmproxy's own page) if its layout changed."""
    done = False
    for name in ("_http1", "_http2", "_http3"):
        try:
            mod = importlib.import_module(f"mitmproxy.proxy.layers.http.{name}")
        except ImportError:
            continue
        if hasattr(mod, "format_error"):
            mod.format_error = format_openai_error
            done = True
    return done
