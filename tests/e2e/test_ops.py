"""Operating a real proxy process: live reload under traffic, health and metrics, logs, shutdown."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import openai
import orjson
import pytest
from openai import OpenAI

from tests.e2e.proxyproc import WERKER, ProxyProcess, free_port, start_proxy, write_config
from tests.fake_upstream import error_body
from tests.transcripts import Text, responses_transcript

pytestmark = pytest.mark.e2e

API = "https://api.werker.health/v1"
BANNER_PREFIXES = ("werker-proxy listening on", "CA certificate:", "Point an app at it", "  export ", "Audit log:")
# ~20 deltas, the SSN split over three of them
STREAM_DELTAS = ["Note ", "for ", "the ", "chart: ", "patient ", "SSN ", "987-", "65-", "4321 ", "was ",
                 "verified ", "at ", "intake ", "and ", "the ", "plan ", "is ", "unchanged ", "for ", "now."]
STREAM_SCRUBBED = "".join(STREAM_DELTAS).replace("987-65-4321", "[SSN]")
LOCAL_SSN_RULES = """\
rules:
  - name: ssn
    label: SSN
    pattern: '(?<!\\d)\\d{3}-\\d{2}-\\d{4}(?!\\d)'
"""


# --- helpers -----------------------------------------------------------------------------------------


def wait_for(cond, what: str, timeout: float = 15.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def log_lines(proxy: ProxyProcess) -> list[str]:
    return [ln for ln in proxy.log().splitlines() if ln.strip() and not ln.startswith(BANNER_PREFIXES)]


def log_events(proxy: ProxyProcess, name: str | None = None) -> list[dict]:
    out = []
    for ln in log_lines(proxy):
        try:
            ev = json.loads(ln)
        except ValueError:
            continue
        if isinstance(ev, dict) and (name is None or ev.get("event") == name):
            out.append(ev)
    return out


def write_atomic(path: Path, text: str, *, keep_mtime: bool = False) -> None:
    """Replace the file at once; with keep_mtime, keep its size-and-mtime stamp so no file watcher notices."""
    st = path.stat()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    if keep_mtime:
        assert len(text.encode()) == st.st_size
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(tmp, path)


def werker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*WERKER, *args], capture_output=True, text=True, timeout=timeout)


def parse_prometheus(text: str) -> dict[tuple[str, frozenset], float]:
    """Parse Prometheus text format 0.0.4 strictly enough to catch a malformed exposition."""
    assert text.endswith("\n")
    samples: dict[tuple[str, frozenset], float] = {}
    typed: dict[str, str] = {}
    helped: set[str] = set()
    name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
    sample_re = re.compile(rf"^({name_re})(?:\{{((?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\n]|\\.)*\",?)*)\}})? (\S+)$")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split(" ")[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            typed[name] = kind
        else:
            m = sample_re.match(line)
            assert m, f"not a Prometheus sample line: {line!r}"
            name, labels, value = m.groups()
            assert name in typed and name in helped, f"{name} has no # TYPE / # HELP before it"
            pairs = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or ""))
            samples[(name, pairs)] = float(value)
    return samples


def metric(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(proxy: ProxyProcess) -> dict:
    r = httpx.get(f"http://127.0.0.1:{proxy.admin_port}/metrics", timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse_prometheus(r.text)


def listening_ports(pid: int) -> set[int]:
    """TCP ports process ``pid`` listens on (Linux /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            cols = row.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A = LISTEN
                ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


class Streams:
    """N concurrent streamed calls through the proxy, each in its own thread."""

    def __init__(self, proxy: ProxyProcess, up, n: int = 3):
        self.n, self.results, self.gaps, self.first = n, [None] * n, [0.0] * n, [False] * n
        up.reply(deltas=STREAM_DELTAS, delay=0.1, times=n)
        self.threads = [threading.Thread(target=self._one, args=(proxy, i), daemon=True) for i in range(n)]
        for t in self.threads:
            t.start()
        wait_for(lambda: len(up.requests) >= n, f"{n} streams to reach the upstream")
        wait_for(lambda: all(self.first), "every stream's first delta")

    def _one(self, proxy: ProxyProcess, i: int) -> None:
        try:
            deltas, final, last = [], None, None
            with proxy.client() as client:
                with client.responses.create(model="m", input=f"stream {i}", stream=True) as s:
                    for ev in s:
                        now = time.monotonic()
                        if ev.type == "response.output_text.delta":
                            deltas.append(ev.delta)
                            self.first[i] = True
                            if last is not None:
                                self.gaps[i] = max(self.gaps[i], now - last)
                            last = now
                        elif ev.type == "response.completed":
                            final = ev.response.output_text
            self.results[i] = ("".join(deltas), final)
        except Exception as e:  # noqa: BLE001 - reported by check()
            self.results[i] = e

    def in_flight(self) -> bool:
        return all(t.is_alive() for t in self.threads)

    def check(self) -> None:
        for t in self.threads:
            t.join(60)
        for i, r in enumerate(self.results):
            assert not isinstance(r, Exception) and r is not None, f"stream {i} failed: {r!r}"
            joined, final = r
            assert joined == final == STREAM_SCRUBBED, f"stream {i}: {joined!r} / {final!r}"
        assert max(self.gaps) < 5, f"a stream stalled (longest pause between deltas: {max(self.gaps):.1f}s)"


def upstream_saw(proxy: ProxyProcess, up, text: str) -> str:
    with proxy.client() as client:
        client.responses.create(model="m", input=text)
    return up.requests[-1].json["input"]


# --- 1. live reload ---------------------------------------------------------------------------------


def test_live_reload_under_streaming_traffic(up, tmp_path):
    """SIGHUP, config and rules file changes reload under traffic; a broken file is refused with file:line, old rules serve."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ssn.yaml").write_text(LOCAL_SSN_RULES)
    admin_port = free_port()
    cfg = write_config(tmp_path, up.url, up.ca_file, admin_port)
    base = cfg.read_text()
    assert "rules_files: ['bundled:rules/*.yaml']" in base
    base = base.replace("rules_files: ['bundled:rules/*.yaml']", "rules_files: [rules/ssn.yaml]")
    banana_rule = "rules:\n  - name: banana\n    label: FRUIT\n    pattern: 'BANANA42'\n"
    cfg.write_text(base + "#" * (len(banana_rule) - 1) + "\n")  # same size as with the rule
    banana = base + banana_rule
    broken = banana + "  - name: cherry\n    label: FRUIT\n    pattern: 'CHERRY7('\n"
    fixed = broken.replace("'CHERRY7('", "'CHERRY7'")
    bad_line = broken.splitlines().index("    pattern: 'CHERRY7('") + 1

    proxy = ProxyProcess(tmp_path, cfg, free_port(), admin_port).start()
    try:
        assert upstream_saw(proxy, up, "BANANA42 123-45-6789") == "BANANA42 [SSN]"

        # (a) a new inline rule, unnoticeable by the file watcher, + SIGHUP while streams are in flight
        loaded = len(log_events(proxy, "config_loaded"))
        streams = Streams(proxy, up)
        assert streams.in_flight()
        write_atomic(cfg, banana, keep_mtime=True)
        proxy.signal(signal.SIGHUP)
        wait_for(lambda: len(log_events(proxy, "config_loaded")) > loaded, "the reload after SIGHUP")
        assert [e["reason"] for e in log_events(proxy, "reload_requested")] == ["SIGHUP"]
        streams.check()
        assert upstream_saw(proxy, up, "BANANA42 and 123-45-6789") == "[FRUIT] and [SSN]"

        # (b) the file changes on disk (no signal) to an invalid regex: refused, old rules keep serving
        up.clear()
        streams = Streams(proxy, up)
        assert streams.in_flight()
        write_atomic(cfg, broken)
        rejected = wait_for(lambda: log_events(proxy, "config_rejected"), "the broken config to be refused")
        assert f"{cfg}:{bad_line}:" in rejected[-1]["error"]
        assert "invalid regex" in rejected[-1]["error"]
        streams.check()
        assert upstream_saw(proxy, up, "BANANA42 CHERRY7 123-45-6789") == "[FRUIT] CHERRY7 [SSN]"
        assert httpx.get(f"http://127.0.0.1:{proxy.admin_port}/healthz", timeout=10).status_code == 200
        assert proxy.proc.poll() is None

        # (c) the file is fixed: the new rules apply
        loaded = len(log_events(proxy, "config_loaded"))
        write_atomic(cfg, fixed)
        wait_for(lambda: len(log_events(proxy, "config_loaded")) > loaded, "the fixed config to load")
        assert upstream_saw(proxy, up, "BANANA42 CHERRY7 123-45-6789") == "[FRUIT] [FRUIT] [SSN]"

        # (d) a rules file changes on disk: its new version applies too
        loaded = len(log_events(proxy, "config_loaded"))
        write_atomic(tmp_path / "rules" / "ssn.yaml", LOCAL_SSN_RULES.replace("label: SSN", "label: SOCIAL"))
        wait_for(lambda: len(log_events(proxy, "config_loaded")) > loaded, "the changed rules file to load")
        assert upstream_saw(proxy, up, "CHERRY7 123-45-6789") == "[FRUIT] [SOCIAL]"
    finally:
        proxy.stop()


# --- 2. health and metrics --------------------------------------------------------------------------


def test_healthz_answers_a_real_http_client(proxy):
    """GET /healthz answers 200 with JSON status ok, config loaded and audit writable."""
    r = httpx.get(f"http://127.0.0.1:{proxy.admin_port}/healthz", timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["status"] == "ok" and body["config_loaded"] is True and body["audit_writable"] is True


def block_a_call(proxy: ProxyProcess) -> None:
    with proxy.http_client() as c:
        r = c.post(f"{API}/responses", content=b'{"model": "m", "input": ', headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_body"


def grew(before: dict, after: dict, name: str, **labels: str) -> float:
    return metric(after, name, **labels) - metric(before, name, **labels)


def test_metrics_count_calls_blocks_redactions_audit_and_held_chars(proxy, up):
    """GET /metrics is Prometheus text whose counters follow blocked, scrubbed and streamed calls."""
    before = scrape(proxy)
    block_a_call(proxy)
    middle = scrape(proxy)
    with proxy.client() as client:
        client.responses.create(model="m", input="My SSN is 123-45-6789")
        up.reply("Your SSN 987-65-4321 is on file.", chunking=3)
        with client.responses.create(model="m", input="hello", stream=True) as s:
            assert "987-65-4321" not in "".join(e.delta for e in s if e.type == "response.output_text.delta")
    after = scrape(proxy)

    assert grew(before, middle, "werker_blocked_total", reason="malformed_body") == 1
    assert grew(before, middle, "werker_calls_total", outcome="blocked") == 1
    assert grew(before, middle, "werker_audit_records_total") == 1  # the blocked request record only
    assert grew(before, middle, "werker_calls_total", outcome="completed") == 0
    assert grew(middle, after, "werker_calls_total", outcome="forwarded") == 2
    assert grew(middle, after, "werker_calls_total", outcome="completed") == 2
    assert grew(middle, after, "werker_redactions_total", direction="request", rule="ssn") == 1
    assert grew(middle, after, "werker_redactions_total", direction="response", rule="ssn") == 1
    assert grew(middle, after, "werker_audit_records_total") == 4  # 2 x (request, response)
    assert metric(after, "werker_audit_failures_total") == 0
    assert metric(after, "werker_stream_held_chars_max") > 0
    assert metric(after, "werker_config_loaded") == 1


def test_proxy_puts_the_prefilter_to_use(proxy):
    """The running proxy builds (or loads) its Hyperscan rule databases in the background and then
    scrubs through them; /metrics says when they are in use."""
    import platform
    import sys

    if not (sys.platform == "linux" and platform.machine() == "x86_64"):
        pytest.skip("hyperscan is installed on Linux x86_64 only")
    wait_for(lambda: metric(scrape(proxy), "werker_prefilter_active") == 1, "the prefilter", timeout=120, every=0.5)


def test_metrics_count_an_aborted_or_broken_stream_once(proxy, up):
    """A stream the client abandons, and one the upstream breaks off, each add exactly 1 to their outcome."""
    before = scrape(proxy)
    records = len(proxy.audit_records())
    with proxy.http_client() as c:
        up.reply("Patient SSN 987-65-4321 and some more text to stream", chunking=3, delay=0.2)
        with c.stream("POST", f"{API}/responses", json={"model": "m", "input": "hi", "stream": True}) as s:
            next(s.iter_lines())
        up.reply("Patient SSN 987-65-4321 and some more text to stream", chunking=3, break_after=3)
        with pytest.raises(httpx.HTTPError):
            with c.stream("POST", f"{API}/responses", json={"model": "m", "input": "hi", "stream": True}) as s:
                for _ in s.iter_lines():
                    pass
    wait_for(lambda: len(proxy.audit_records()) >= records + 4, "both response records")
    outcomes = sorted(r["outcome"] for r in proxy.audit_records()[records:] if r["event"] == "response")
    assert outcomes == ["client_abort", "upstream_error"]
    after = scrape(proxy)
    assert grew(before, after, "werker_calls_total", outcome="client_abort") == 1
    assert grew(before, after, "werker_calls_total", outcome="upstream_error") == 1


def test_health_command_exits_zero_while_up_and_non_zero_once_stopped(up, tmp_path):
    """`werker-proxy health --config F` exits 0 while the proxy runs and non-zero after it stopped."""
    p = start_proxy(tmp_path, up)
    try:
        r = werker("health", "--config", str(p.config_path))
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["status"] == "ok"
    finally:
        assert p.stop() == 0
    r = werker("health", "--config", str(p.config_path))
    assert r.returncode != 0
    assert "cannot reach" in r.stderr


def test_admin_listener_is_off_without_admin_section(proxy, up, tmp_path):
    """Without `admin:` the proxy opens no port but its own, and `health` says the listener is off."""
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs Linux /proc to list a process's listening sockets")
    assert listening_ports(proxy.proc.pid) == {proxy.port, proxy.admin_port}  # the helper sees both
    cfg = write_config(tmp_path, up.url, up.ca_file, 9)
    cfg.write_text("".join(ln for ln in cfg.read_text().splitlines(True) if not ln.startswith("admin:")))
    p = ProxyProcess(tmp_path, cfg, free_port(), 0).start()
    try:
        assert listening_ports(p.proc.pid) == {p.port}
        r = werker("health", "--config", str(cfg))
        assert r.returncode == 2 and "admin listener is off" in r.stderr
    finally:
        p.stop()


# --- 3. logs -----------------------------------------------------------------------------------------

SECRETS = ["Grace", "Al-Farsi", "03/14/1961", "00482913", "123-45-6789", "grace.alfarsi@example.org",
           "987-65-4321", "617-555-0142", "sk-live-XYZ"]
NOTE = ("Patient: Grace Al-Farsi, DOB 03/14/1961, MRN 00482913, SSN 123-45-6789, "
        "email grace.alfarsi@example.org")


def test_logs_never_hold_body_text_matched_values_or_keys(proxy, up):
    """After scrubbed, streamed, blocked, failed and abandoned calls the log holds no identifier or API key."""
    records = len(proxy.audit_records())
    with proxy.http_client() as http_client:
        client = OpenAI(base_url=API, api_key="sk-live-XYZ", max_retries=0, http_client=http_client)
        client.responses.create(model="m", input=NOTE, metadata={"patient": "Grace Al-Farsi"})
        up.reply("Call Grace at 617-555-0142, SSN 987-65-4321.", chunking=3)
        with client.responses.create(model="m", input=NOTE, stream=True) as s:
            for _ in s:
                pass
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": NOTE}])
        up.reply(status=400, error_body=error_body(400, "bad input for Grace Al-Farsi 987-65-4321"))
        with pytest.raises(openai.BadRequestError):
            client.responses.create(model="m", input=NOTE)
        up.reply(raw_body=b'{"output": "987-65-4321 Grace Al-Farsi"')  # not JSON: upstream_bad_json
        with pytest.raises(openai.APIStatusError, match="upstream_bad_json"):
            client.responses.create(model="m", input=NOTE)
        r = http_client.post(f"{API}/responses", content=NOTE.encode(),
                             headers={"authorization": "Bearer sk-live-XYZ", "content-type": "application/json"})
        assert r.status_code == 400
        up.reply("Grace 987-65-4321 " * 5, chunking=3, delay=0.1)
        with http_client.stream("POST", f"{API}/responses", json={"model": "m", "input": NOTE, "stream": True},
                                headers={"authorization": "Bearer sk-live-XYZ"}) as s:
            next(s.iter_lines())
    wait_for(lambda: any(r["outcome"] == "client_abort" for r in proxy.audit_records()[records:]),
             "the abandoned stream")
    log = proxy.log()
    assert "call_blocked" in log  # the blocked calls were logged...
    for secret in SECRETS:
        assert secret not in log  # ...without any of what they carried


def test_logs_are_json_lines_off_a_terminal(proxy):
    """Off a TTY every log line but the start-up banner is a JSON object with an `event`."""
    lines = log_lines(proxy)
    assert lines
    for ln in lines:
        ev = json.loads(ln)
        assert isinstance(ev, dict) and isinstance(ev.get("event"), str), ln
        assert {"level", "timestamp"} <= ev.keys()


def _unit_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "unit.yaml"
    cfg.write_text(f"""\
version: 1
state_dir: {tmp_path / 'state'}
rules_files: ['bundled:rules/*.yaml']
audit: {{path: {tmp_path / 'audit' / 'audit.jsonl'}, fsync: never}}
""")
    return cfg


def _call(body: bytes):
    from mitmproxy import http
    from mitmproxy.test import tflow

    f = tflow.tflow()
    f.request = http.Request.make("POST", f"{API}/responses", body,
                                  {"authorization": "Bearer sk-live-XYZ", "content-type": "application/json"})
    return f


def _feed(f, chunk: bytes) -> bytes:
    out = f.response.stream(chunk)  # the addon's stream adapter: bytes, or [] while holding back
    return out if isinstance(out, bytes) else b"".join(out)


def _hook(result):
    """Run a hook that may be a coroutine (request and response are async: they await the audit)."""
    import asyncio
    import inspect

    if inspect.isawaitable(result):
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(result)
        finally:
            loop.close()
    return result


def test_addon_hooks_log_no_payload_text(tmp_path):
    """Unit: structlog events from the addon's hooks (request, response, stream, block, reload) carry no payload."""
    import structlog
    from mitmproxy import flow as mflow
    from mitmproxy import http
    from mitmproxy.addons.proxyserver import Proxyserver
    from mitmproxy.test import taddons
    from structlog.testing import capture_logs

    from werker_proxy.addon import WerkerProxy

    cfg = _unit_config(tmp_path)
    addon = WerkerProxy(str(cfg))
    with taddons.context(Proxyserver(), addon) as tctx:
        tctx.configure(addon, werker_config=str(cfg))
        with capture_logs(processors=[structlog.processors.format_exc_info]) as logs:
            ok = _call(orjson.dumps({"model": "m", "input": NOTE, "metadata": {"who": "Grace Al-Farsi"}}))
            addon.requestheaders(ok)
            _hook(addon.request(ok))
            assert ok.response is None and b"123-45-6789" not in ok.request.content
            ok.response = http.Response.make(200, orjson.dumps({"output": [{"type": "message", "content": [
                {"type": "output_text", "text": "SSN 987-65-4321 for Grace Al-Farsi"}]}]}),
                {"content-type": "application/json"})
            addon.responseheaders(ok)
            _hook(addon.response(ok))

            streamed = _call(orjson.dumps({"model": "m", "input": NOTE, "stream": True}))
            _hook(addon.request(streamed))
            streamed.response = http.Response.make(200, b"", {"content-type": "text/event-stream"})
            addon.responseheaders(streamed)
            sse = responses_transcript([Text(["SSN 987-", "65-43", "21 Grace ", "Al-Farsi"])])
            out = b"".join(_feed(streamed, sse[i:i + 50]) for i in range(0, len(sse), 50)) + _feed(streamed, b"")
            assert b"987-65-4321" not in out

            broken = _call(orjson.dumps({"model": "m", "input": NOTE, "stream": True}))
            _hook(addon.request(broken))
            broken.response = http.Response.make(200, b"", {"content-type": "text/event-stream"})
            addon.responseheaders(broken)
            _feed(broken, sse[: len(sse) // 3])
            broken.error = mflow.Error("server disconnected 987-65-4321")
            addon.error(broken)

            bad = _call(NOTE.encode())
            _hook(addon.request(bad))
            assert bad.response is not None and bad.response.status_code == 400
            addon.reload(str(tmp_path / "missing.yaml"), raise_errors=False)
    events = [e["event"] for e in logs]
    assert "call_blocked" in events and "config_rejected" in events
    text = repr(logs)
    for secret in SECRETS:
        assert secret not in text


def test_internal_error_in_a_hook_logs_no_payload_text(tmp_path, monkeypatch):
    """Unit: when scrubbing raises an exception quoting body text, the call is blocked and the log omits that text."""
    import structlog
    from mitmproxy.addons.proxyserver import Proxyserver
    from mitmproxy.test import taddons
    from structlog.testing import capture_logs

    import werker_proxy.addon as addon_mod

    def failing(raw, *a, **k):
        raise KeyError(orjson.loads(raw)["input"])  # a bug whose message quotes the body

    cfg = _unit_config(tmp_path)
    addon = addon_mod.WerkerProxy(str(cfg))
    with taddons.context(Proxyserver(), addon) as tctx:
        tctx.configure(addon, werker_config=str(cfg))
        monkeypatch.setattr(addon_mod, "scrub_body_bytes", failing)
        with capture_logs(processors=[structlog.processors.format_exc_info]) as logs:
            f = _call(orjson.dumps({"model": "m", "input": NOTE}))
            _hook(addon.request(f))
    assert f.response is not None and f.response.status_code == 500
    assert "request_hook_failed" in [e["event"] for e in logs]
    for secret in SECRETS:
        assert secret not in repr(logs)


# --- 4. start and stop ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sigtermed(upstream, tmp_path_factory):
    """A proxy that served a call, then got SIGTERM while the app still held its keep-alive connection."""
    p = start_proxy(tmp_path_factory.mktemp("sigterm"), upstream)
    client = p.client()
    client.responses.create(model="m", input="hello")
    t0 = time.monotonic()
    p.signal(signal.SIGTERM)
    try:
        rc = p.proc.wait(15)
    except subprocess.TimeoutExpired:
        p.proc.kill()
        rc = None
    elapsed = time.monotonic() - t0
    client.close()
    return p, rc, elapsed


def test_sigterm_stops_cleanly(sigtermed):
    """SIGTERM ends the proxy with exit code 0 within a few seconds and closes its listeners."""
    p, rc, elapsed = sigtermed
    assert rc == 0
    assert elapsed < 10
    for port in (p.port, p.admin_port):
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_sigterm_leaves_only_json_lines_in_the_log(sigtermed):
    """Stopping with client connections still open adds no traceback: the log stays JSON lines."""
    p, _, _ = sigtermed
    for ln in log_lines(p):
        assert isinstance(json.loads(ln), dict), ln


def test_broken_config_at_start_exits_non_zero_with_file_and_line(up, tmp_path):
    """`werker-proxy run` with an invalid regex in its config exits non-zero naming file:line."""
    cfg = write_config(tmp_path, up.url, up.ca_file, free_port(),
                       "rules:\n  - name: broken\n    label: X\n    pattern: 'BROKEN('\n")
    line = cfg.read_text().splitlines().index("    pattern: 'BROKEN('") + 1
    port = free_port()
    r = werker("run", "--config", str(cfg), "--listen-port", str(port), timeout=60)
    assert r.returncode != 0
    assert f"{cfg}:{line}:" in r.stderr
    assert "invalid regex" in r.stderr


def test_unscrubbable_bodies_are_refused_by_the_addon(tmp_path):
    """Unit: stream_large_bodies cannot be switched on at runtime (rolled back), a body that was
    streamed past the hooks is never audited as forwarded or completed, and an addon after ours
    that could stream makes every call to a target refused."""
    import types

    from mitmproxy import exceptions, http
    from mitmproxy.addons.proxyserver import Proxyserver
    from mitmproxy.test import taddons

    from werker_proxy.addon import WerkerProxy, addons_after

    cfg = _unit_config(tmp_path)
    addon = WerkerProxy(str(cfg))
    with taddons.context(Proxyserver(), addon) as tctx:
        tctx.configure(addon, werker_config=str(cfg))
        with pytest.raises(exceptions.OptionsError, match="stream_large_bodies"):
            tctx.options.update(stream_large_bodies="1k")
        assert not tctx.options.stream_large_bodies

        early = _call(orjson.dumps({"model": "m", "input": NOTE}))
        early.request.stream = True  # an addon before ours asked for streaming
        addon.requestheaders(early)
        assert not early.request.stream
        _hook(addon.request(early))
        assert early.response is None and b"123-45-6789" not in early.request.content

        late = _call(orjson.dumps({"model": "m", "input": NOTE}))
        late.request.data.content = None  # streamed after our check: never buffered
        _hook(addon.request(late))
        assert late.response is not None and late.response.status_code == 400
        assert orjson.loads(late.response.content)["error"]["code"] == "stream_refused"

        ok = _call(orjson.dumps({"model": "m", "input": NOTE}))
        _hook(addon.request(ok))
        ok.response = http.Response.make(200, b"", {"content-type": "application/json"})
        ok.response.stream = True  # an addon before ours asked for streaming
        addon.responseheaders(ok)
        assert not ok.response.stream
        ok.response.data.content = None  # ...and one after ours switched it back on
        _hook(addon.response(ok))
        assert orjson.loads(ok.response.content)["error"]["code"] == "stream_refused"

        records = [orjson.loads(ln) for ln in (tmp_path / "audit" / "audit.jsonl").read_text().splitlines()]
        late_rec = [r for r in records if r["flow_id"] == late.id]
        assert [(r["event"], r["outcome"], r["reason"]) for r in late_rec] == [("request", "blocked", "stream_refused")]
        ok_rec = [r for r in records if r["flow_id"] == ok.id and r["event"] == "response"]
        assert [(r["outcome"], r["reason"]) for r in ok_rec] == [("blocked", "stream_refused")]

        # the addon order: a script module after ours that defines requestheaders
        later = types.ModuleType("streamer")
        later.__file__ = "/tmp/streamer.py"
        later.requestheaders = lambda flow: None
        harmless = types.ModuleType("counter")
        harmless.request = lambda flow: None
        assert addons_after(addon, [later, addon]) == []
        assert addons_after(addon, [addon, harmless, later]) == ["/tmp/streamer.py"]
        addon.refusal = "x runs after werker-proxy"
        refused = _call(orjson.dumps({"model": "m", "input": "hi"}))
        _hook(addon.request(refused))
        assert refused.response.status_code == 503
        assert orjson.loads(refused.response.content)["error"]["code"] == "unsafe_addon_order"

        # the order is checked again for every call, before its body moves (scripts reload at
        # runtime): such a call is audited and killed, since an answer would not stop streaming
        upstream_call = _call(orjson.dumps({"model": "m", "input": NOTE}))
        addon.requestheaders(upstream_call)
        assert addon.refusal is None and upstream_call.error is None
        _hook(addon.request(upstream_call))
        tctx.master.addons.add(later)
        cut = _call(orjson.dumps({"model": "m", "input": NOTE}))
        addon.requestheaders(cut)
        assert addon.refusal is not None and "/tmp/streamer.py" in addon.refusal
        assert cut.error is not None and cut.error.msg == cut.error.KILLED_MESSAGE
        upstream_call.response = http.Response.make(200, b"{}", {"content-type": "application/json"})
        addon.responseheaders(upstream_call)  # an answer arriving after the reload is cut off too
        assert upstream_call.error is not None and upstream_call.error.msg == upstream_call.error.KILLED_MESSAGE
        records = [orjson.loads(ln) for ln in (tmp_path / "audit" / "audit.jsonl").read_text().splitlines()]
        assert [(r["event"], r["outcome"], r["reason"]) for r in records if r["flow_id"] == cut.id] == [
            ("request", "blocked", "unsafe_addon_order")]
        assert [(r["event"], r["outcome"], r["reason"]) for r in records if r["flow_id"] == upstream_call.id] == [
            ("request", "forwarded", None), ("response", "blocked", "unsafe_addon_order")]
