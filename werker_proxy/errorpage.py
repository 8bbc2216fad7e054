"""Proxy-generated error answers (upstream unreachable, protocol errors) in OpenAI's error
shape instead of mitmproxy's HTML page, so SDKs raise a readable exception. Pure: the addon
installs ``format_openai_error`` in mitmproxy's HTTP layers (``addon.install_error_page``).
"""

from __future__ import annotations

import orjson

CODES = {502: "upstream_unreachable", 504: "upstream_timeout", 400: "bad_request"}


def format_openai_error(status_code: int, message: str) -> bytes:
    return orjson.dumps({"error": {
        "message": f"werker-proxy: {message}" if message else f"werker-proxy: HTTP {status_code}",
        "type": "werker_proxy_error",
        "code": CODES.get(status_code, "proxy_error"),
        "param": None,
    }})
