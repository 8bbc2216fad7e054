"""The first stream after a cold start must not stop the proxy while a matcher is built.

The plain engine's stream gate (one alternation of all rules) takes over a second of CPU to
compile. Built on the first streamed delta, on the proxy's event loop, it froze every call
(a black-box probe: every delta of the first stream, and an unrelated call, waited ~6 s).
"""

from __future__ import annotations

import time

import pytest

from werker_proxy import hsdb
from werker_proxy.config import load_settings
from werker_proxy.redact import Redactor

TEXT = "Patient: Maria Lopez, SSN 123-45-"


@pytest.fixture(scope="module")
def settings():
    return load_settings(None)


def _patterns(settings):
    return [r.as_written for r in settings.ruleset.rules]


def test_a_stream_scan_while_the_prefilter_is_building_does_not_build_the_gate(settings, tmp_path):
    pf = hsdb.Prefilter(_patterns(settings), str(tmp_path))  # background build, not started yet
    assert not pf.ready
    red = Redactor(settings.ruleset, prefilter=pf)
    got = red.scan(TEXT, "response", partial=True, tail=16)
    assert red.gate_ready("response") is False  # nothing was compiled on the caller's thread
    want = Redactor(settings.ruleset).scan(TEXT, "response", partial=True, tail=16)
    assert got[:2] == want[:2]
    assert got[1] < len(TEXT)  # the SSN's start is held


def test_without_hyperscan_the_gate_is_built_in_the_background(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(hsdb, "hyperscan", None)
    pf = hsdb.Prefilter(_patterns(settings), str(tmp_path))
    assert pf.ready and not pf.active
    red = Redactor(settings.ruleset, prefilter=pf)
    want = Redactor(settings.ruleset).scan(TEXT, "response", partial=True, tail=16)
    assert red.scan(TEXT, "response", partial=True, tail=16)[:2] == want[:2]
    deadline = time.monotonic() + 60
    while not red.gate_ready("response") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert red.gate_ready("response")
    assert red.scan(TEXT, "response", partial=True, tail=16)[:2] == want[:2]  # now through the gate


def test_a_plain_engine_builds_its_gate_when_first_needed(settings):
    red = Redactor(settings.ruleset)
    red.scan(TEXT, "response", partial=True, tail=16)
    assert red.gate_ready("response")
