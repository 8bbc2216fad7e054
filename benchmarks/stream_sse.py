"""mitmdump addon for the "bare mitmproxy with SSE streaming" baseline: stream event streams."""

from mitmproxy import http


def responseheaders(flow: http.HTTPFlow) -> None:
    if flow.response is not None and "text/event-stream" in flow.response.headers.get("content-type", ""):
        flow.response.stream = True
