"""werker-proxy: scrub PHI from calls to the Werker Health LLM API (mitmproxy addons)."""

__version__ = "0.1.0"
