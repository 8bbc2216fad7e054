"""The pure core never imports mitmproxy; only the glue (addon, runner) does."""

from __future__ import annotations

import subprocess
import sys

CORE = ["werker_proxy.config", "werker_proxy.rules", "werker_proxy.redact", "werker_proxy.payload",
        "werker_proxy.jsontext", "werker_proxy.normalize", "werker_proxy.sse", "werker_proxy.stream", "werker_proxy.channel",
        "werker_proxy.audit", "werker_proxy.auditlog", "werker_proxy.decoders", "werker_proxy.flowstate",
        "werker_proxy.examples", "werker_proxy.cli", "werker_proxy.prefilter", "werker_proxy.hsdb",
        "werker_proxy.errorpage"]


def test_core_does_not_load_mitmproxy():
    """Importing every core module (and the CLI entry point) leaves mitmproxy unloaded."""
    code = "import sys\n" + "".join(f"import {m}\n" for m in CORE) + \
        "bad = [m for m in sys.modules if m.split('.')[0] == 'mitmproxy']\nprint(bad)\nassert not bad\n"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
