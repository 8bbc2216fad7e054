"""Fixtures for end-to-end tests: a fake upstream and a real proxy process in front of it."""

from __future__ import annotations

import pytest

from tests.e2e.proxyproc import ProxyProcess, start_proxy
from tests.fake_upstream import FakeUpstream


@pytest.fixture(scope="module")
def upstream():
    with FakeUpstream() as up:
        yield up


@pytest.fixture
def up(upstream):
    """The module's fake upstream, with recorded requests and scripted replies reset per test."""
    upstream.reset()
    upstream.clear()
    yield upstream


@pytest.fixture(scope="module")
def proxy(upstream, tmp_path_factory) -> ProxyProcess:
    p = start_proxy(tmp_path_factory.mktemp("proxy"), upstream)
    yield p
    p.stop()
