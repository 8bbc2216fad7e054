"""End-to-end tests of the audit trail (DESIGN "Audit records", issue 5) through a real proxy.

Every test starts its own `werker-proxy run` process (real mitmproxy, real TLS) in front of the
module's fake upstream, with its own audit file, and checks the file the proxy wrote with the
real `werker-proxy audit verify` command line.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest

from tests.e2e.proxyproc import REPO, ProxyProcess, free_port, write_config
from tests.fake_upstream import error_body

_BIN = REPO / ".venv" / "bin" / "werker-proxy"
CLI = [str(_BIN)] if _BIN.exists() else [sys.executable, "-m", "werker_proxy.cli"]
API = "https://api.werker.health/v1"

REQUEST_FIELDS = {"v", "seq", "ts", "event", "flow_id", "method", "host", "path", "model", "stream",
                  "metadata", "status", "outcome", "reason", "redactions", "request_bytes",
                  "request_sha256", "prev", "hash"}
RESPONSE_FIELDS = REQUEST_FIELDS | {"response_bytes", "response_sha256", "duration_ms", "usage",
                                    "response_id"}


# --- helpers ----------------------------------------------------------------------------------

def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, cwd=str(REPO))


def verify(*args: str) -> subprocess.CompletedProcess:
    return cli("audit", "verify", *args)


def start_audit_proxy(workdir: Path, up, *, audit: str = "fsync: always", extra: str = "") -> ProxyProcess:
    """Like ``start_proxy``, but with the given lines in place of the config's ``fsync: never``."""
    workdir.mkdir(parents=True, exist_ok=True)
    admin_port = free_port()
    cfg = write_config(workdir, up.url, up.ca_file, admin_port, extra)
    text = cfg.read_text()
    assert text.count("  fsync: never\n") == 1, text
    cfg.write_text(text.replace("  fsync: never\n", textwrap.indent(textwrap.dedent(audit).strip() + "\n", "  ")))
    return ProxyProcess(workdir, cfg, free_port(), admin_port).start()


@pytest.fixture
def make_proxy(up, tmp_path):
    """``make_proxy(workdir=None, audit=..., extra=...)`` starts a proxy; all are stopped at teardown."""
    started: list[ProxyProcess] = []

    def make(workdir: Path | None = None, **kw) -> ProxyProcess:
        p = start_audit_proxy(workdir or tmp_path / "proxy", up, **kw)
        started.append(p)
        return p

    yield make
    for p in started:
        p.stop()


@pytest.fixture(scope="module")
def shared(upstream, tmp_path_factory):
    """One proxy (fsync=always) for the tests that only look at the records of their own calls."""
    p = start_audit_proxy(tmp_path_factory.mktemp("shared"), upstream, audit="fsync: always")
    yield p
    p.stop()


def records_of(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def wait_for(pred, timeout: float = 10.0, what: str = "condition"):
    """Poll ``pred()`` (bounded) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def flow_records(proxy: ProxyProcess, flow_id: str) -> list[dict]:
    return [r for r in proxy.audit_records() if r.get("flow_id") == flow_id]


def new_records(proxy: ProxyProcess, since: int) -> list[dict]:
    """The records after the first ``since`` ones (tests on the shared proxy run one at a time)."""
    return proxy.audit_records()[since:]


def response_record_for(proxy: ProxyProcess, pred) -> dict:
    return wait_for(lambda: next((r for r in proxy.audit_records()
                                  if r.get("event") == "response" and pred(r)), None),
                    what="the response record")


def post(proxy: ProxyProcess, path: str, **kw):
    with proxy.http_client() as c:
        return c.post(API + path, **kw)


def assert_openai_error(resp, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert err["type"] == "werker_proxy_error" and err["code"] == code and err["param"] is None
    assert isinstance(err["message"], str) and err["message"]


def parse_ts(ts: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)", ts), ts
    dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    assert dt.utcoffset() == timezone.utc.utcoffset(None)
    return dt


def flip_hex_char(line: bytes, field: str) -> bytes:
    """Change one hex digit inside ``"field":"<hex>"`` (the line stays valid JSON)."""
    m = re.search(rb'"' + field.encode() + rb'":"([0-9a-f])', line)
    assert m, line
    i = m.start(1)
    new = b"1" if line[i:i + 1] != b"1" else b"2"
    return line[:i] + new + line[i + 1:]


# --- 1. every call has its records -------------------------------------------------------------

def test_every_call_has_exactly_its_records_under_concurrency(make_proxy, up):
    """200 concurrent calls through one proxy with fsync=always leave exactly one forwarded request and one completed response record each, in seq order, and the chain verifies."""
    proxy = make_proxy(audit="fsync: always")
    client = proxy.client()
    n, workers = 200, 16

    def call(i: int) -> str:
        return client.responses.create(model="m", input=f"ping {i}").output_text

    t0 = time.monotonic()
    with ThreadPoolExecutor(workers) as ex:
        outs = list(ex.map(call, range(n)))
    elapsed = time.monotonic() - t0
    print(f"\n[audit e2e] {n} calls, {workers} workers, fsync=always: {elapsed:.2f}s = {n / elapsed:.0f} calls/s")
    assert [o.endswith(f"ping {i}") for i, o in enumerate(outs)] == [True] * n

    records = proxy.audit_records()
    seqs = [r["seq"] for r in records]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "seq must increase by one in file order"
    by_flow: dict[str, list] = defaultdict(list)
    for r in records:
        by_flow[r["flow_id"]].append((r["event"], r["outcome"]))
    assert len(by_flow) == n
    bad = {f: ev for f, ev in by_flow.items() if ev != [("request", "forwarded"), ("response", "completed")]}
    assert not bad
    # the records belong to these very calls: their hashes are of the bodies the upstream received
    assert len(up.requests) == n
    assert sorted(r["request_sha256"] for r in records if r["event"] == "request") == \
        sorted(sha256(q.body) for q in up.requests)

    res = verify(str(proxy.audit_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"OK: {2 * n} records" in res.stdout


# --- 2. no PHI in the trail or the logs --------------------------------------------------------

def test_no_phi_or_api_key_in_audit_trail_or_logs(make_proxy, up):
    """Identifiers planted in every request field, in the upstream's JSON, streamed and error answers, and the API key never appear in the audit files or the proxy log, and the recorded metadata is scrubbed."""
    proxy = make_proxy(audit="fsync: always", extra="logging: {level: debug}\n")
    api_key = f"sk-live-SECRET123-{secrets.token_hex(6)}"
    from openai import OpenAI
    client = OpenAI(base_url=API, api_key=api_key, max_retries=0, http_client=proxy.http_client())
    ssn = ["123-45-6781", "234-56-7812", "345-67-8923", "456-78-9034", "567-89-0145", "678-90-1256",
           "712-34-5678", "701-23-4569", "623-45-6790", "534-56-7801", "445-67-8912"]
    phone = ["(415) 555-0142", "212-555-0199", "617-555-0123", "303-555-0177", "702-555-0188", "503-555-0166"]
    email = ["jane.roe@example.org", "bob.k@mail.test", "amy.q@corp.example", "carl.z@host.example",
             "dan.w@clinic.example", "eve.p@ward.example"]
    request_ids = ssn[:7] + phone[:4] + email[:4]
    response_ids = ssn[7:] + phone[4:] + email[4:]

    # a) Responses, JSON answer: message, function call arguments, tool output, instructions, metadata, tools
    up.reply(f"Patient SSN {ssn[7]}, write to {email[4]}.")
    client.responses.create(
        model="phi-a",
        instructions=f"Reply to {email[0]} only.",
        input=[
            {"role": "user", "content": [{"type": "input_text", "text": f"My SSN is {ssn[0]}, phone {phone[0]}"}]},
            {"type": "function_call", "call_id": "call_1", "name": "lookup",
             "arguments": json.dumps({"ssn": ssn[1], "note": f"mail {email[1]}"})},
            {"type": "function_call_output", "call_id": "call_1", "output": json.dumps({"phone": phone[1]})},
        ],
        tools=[{"type": "function", "name": "lookup", "description": "look a patient up",
                "parameters": {"type": "object", "properties": {"ssn": {"type": "string"}}}}],
        metadata={"ticket": ssn[2], "callback": phone[2]},
    )
    # b) Responses, streamed answer with identifiers split across deltas
    up.reply(deltas=["Your SSN ", ssn[8][:5], ssn[8][5:], " and phone ", phone[4][:7], phone[4][7:], "."])
    with client.responses.stream(model="phi-b", input=f"SSN {ssn[3]}", metadata={"mrn": email[2]}) as s:
        for _ in s:
            pass
    # c) Chat, tool call arguments in the request and in the JSON answer
    up.reply(function_call={"name": "notify", "arguments": {"to": email[5], "ssn": ssn[9]}})
    client.chat.completions.create(
        model="phi-c",
        messages=[
            {"role": "system", "content": f"Escalate to {email[3]}"},
            {"role": "user", "content": f"SSN {ssn[4]}"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_2", "type": "function",
                 "function": {"name": "lookup", "arguments": json.dumps({"phone": phone[3]})}}]},
            {"role": "tool", "tool_call_id": "call_2", "content": f"found {ssn[5]}"},
        ],
        metadata={"case": ssn[6]},
    )
    # d) Chat, streamed answer
    up.reply(f"On file: {phone[5]}", chunking=4)
    for _ in client.chat.completions.create(model="phi-d", messages=[{"role": "user", "content": "hi"}],
                                            stream=True):
        pass
    # e) an upstream error whose message holds an identifier
    up.reply(status=400, error_body=error_body(400, f"bad patient {ssn[10]}"))
    with pytest.raises(Exception):
        client.responses.create(model="phi-e", input="hi")
    # f) a malformed body (blocked) that holds an identifier
    bad = post(proxy, "/responses", content=f'{{"model":"phi-f","input":"{ssn[0]} {email[0]}'.encode(),
               headers={"content-type": "application/json", "authorization": f"Bearer {api_key}"})
    assert bad.status_code == 400
    # g) identifiers where only structure belongs: the model name, the upstream's response id
    structural = ["612-34-5670", "613-45-6701"]
    up.reply(raw_body=json.dumps({"id": f"resp_{structural[1]}", "object": "response", "status": "completed",
                                  "model": "m", "output": []}).encode())
    assert post(proxy, "/responses", json={"model": f"phi-g {structural[0]}", "input": "hi"},
                headers={"authorization": f"Bearer {api_key}"}).status_code == 200

    # the upstream never saw the request identifiers (the records describe scrubbed bodies)
    sent = b"".join(q.body for q in up.requests)
    assert [i for i in request_ids if i.encode() in sent] == []

    wait_for(lambda: sum(r["event"] == "response" for r in proxy.audit_records()) >= 5, what="5 response records")
    proxy.stop()
    audit_files = sorted(proxy.audit_path.parent.iterdir())
    trail = b"".join(p.read_bytes() for p in audit_files if p.is_file())
    log = proxy.log().encode()
    assert b"phi-a" in trail and b"listening on" in log  # we are looking at the right files
    planted = [*request_ids, *response_ids, *structural, api_key, "SECRET123"]
    in_trail = [i for i in planted if i.encode() in trail]
    in_log = [i for i in planted if i.encode() in log]
    assert in_trail == [] and in_log == [], f"in audit: {in_trail}; in log: {in_log}"

    recs = records_of(proxy.audit_path)
    meta = {r["model"]: r["metadata"] for r in recs if r.get("event") == "request"}
    assert meta["phi-a"] == {"ticket": "[SSN]", "callback": "[PHONE]"}
    assert meta["phi-b"] == {"mrn": "[EMAIL]"}
    assert meta["phi-c"] == {"case": "[SSN]"}
    counts = {r["model"]: r["redactions"] for r in recs if r.get("event") == "response"}
    assert counts["phi-a"]["request"].get("ssn", 0) >= 3 and counts["phi-a"]["response"].get("ssn", 0) >= 1
    assert counts["phi-b"]["response"].get("ssn", 0) >= 1


# --- 3. record fields ---------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_record_fields_and_body_hashes(shared, up, encoding):
    """A request and a response record carry every DESIGN field, with hashes and sizes of the scrubbed request the upstream got and the decoded response the client got."""
    proxy = shared
    model = f"fields-{encoding}"
    up.reply("Hello, your SSN 987-65-4320 is on file.", content_encoding=encoding)
    body = {"model": model, "input": "my SSN is 123-45-6789", "metadata": {"ticket": "T-17"}}
    t0 = datetime.now(timezone.utc)
    resp = post(proxy, "/responses", json=body)
    assert resp.status_code == 200, resp.text
    flow = [r for r in proxy.audit_records() if r.get("model") == model]
    assert [(r["event"], r["outcome"]) for r in flow] == [("request", "forwarded"), ("response", "completed")]
    req, rsp = flow
    assert REQUEST_FIELDS <= set(req), REQUEST_FIELDS - set(req)
    assert RESPONSE_FIELDS <= set(rsp), RESPONSE_FIELDS - set(rsp)
    for r in flow:
        assert r["v"] == 1 and isinstance(r["seq"], int) and r["flow_id"] == req["flow_id"]
        assert abs((parse_ts(r["ts"]) - t0).total_seconds()) < 300
        assert (r["method"], r["host"], r["path"]) == ("POST", "api.werker.health", "/v1/responses")
        assert (r["model"], r["stream"]) == (model, False)
        assert r["metadata"] == {"ticket": "T-17"}
        assert r["reason"] is None
        assert re.fullmatch(r"[0-9a-f]{64}", r["hash"]) and re.fullmatch(r"[0-9a-f]{64}", r["prev"])
        # anyone can re-check the hash with a few lines of code (DESIGN)
        assert r["hash"] == sha256(orjson.dumps({k: v for k, v in r.items() if k != "hash"},
                                                option=orjson.OPT_SORT_KEYS))
    assert rsp["seq"] > req["seq"] and rsp["prev"] == (req["hash"] if rsp["seq"] == req["seq"] + 1 else rsp["prev"])
    assert req["status"] is None and rsp["status"] == 200
    assert req["redactions"] == {"request": {"ssn": 1}}
    assert rsp["redactions"]["request"] == {"ssn": 1} and rsp["redactions"]["response"].get("ssn") == 1

    sent = up.requests[-1].body
    assert b"123-45-6789" not in sent
    assert (req["request_bytes"], req["request_sha256"]) == (len(sent), sha256(sent))
    assert (rsp["request_bytes"], rsp["request_sha256"]) == (len(sent), sha256(sent))
    got = resp.content  # decoded, as the client received it
    assert b"987-65-4320" not in got
    assert (rsp["response_bytes"], rsp["response_sha256"]) == (len(got), sha256(got))
    answer = resp.json()
    assert rsp["response_id"] == answer["id"] and rsp["response_id"].startswith("resp_")
    assert rsp["usage"]["input_tokens"] == answer["usage"]["input_tokens"]
    assert rsp["usage"]["output_tokens"] == answer["usage"]["output_tokens"]
    assert isinstance(rsp["duration_ms"], (int, float)) and 0 <= rsp["duration_ms"] < 60_000


def test_stream_record_hashes_what_the_client_received(shared, up):
    """For a streamed call, the response record's size and hash are of the scrubbed event stream the client received, with usage and the upstream's response id."""
    proxy = shared
    up.reply(deltas=["Your SSN ", "987-6", "5-4320", " is on file."])
    body = {"model": "stream-m", "input": "hello", "stream": True}
    with proxy.http_client() as c, c.stream("POST", API + "/responses", json=body) as resp:
        assert resp.status_code == 200
        got = resp.read()
    assert b"987-65-4320" not in got and b"[SSN]" in got
    rsp = response_record_for(proxy, lambda r: r.get("model") == "stream-m")
    assert RESPONSE_FIELDS <= set(rsp)
    assert (rsp["outcome"], rsp["stream"], rsp["status"]) == ("completed", True, 200)
    assert (rsp["response_bytes"], rsp["response_sha256"]) == (len(got), sha256(got))
    completed = [json.loads(line[6:]) for line in got.decode().splitlines()
                 if line.startswith("data: ") and '"response.completed"' in line][0]
    assert rsp["response_id"] == completed["response"]["id"]
    assert rsp["usage"]["total_tokens"] == completed["response"]["usage"]["total_tokens"]


# --- 4. blocked and failed calls are audited ---------------------------------------------------

def test_malformed_body_is_blocked_and_audited(shared, up):
    """A malformed JSON body gets a 400 in the OpenAI error shape, is not forwarded, and leaves a blocked request record with a reason code."""
    proxy = shared
    since = len(proxy.audit_records())
    resp = post(proxy, "/responses", content=b'{"model": "m", "input": "SSN 321-54-9876',
                headers={"content-type": "application/json"})
    assert_openai_error(resp, 400, "malformed_body")
    assert up.requests == []
    recs = wait_for(lambda: [r for r in new_records(proxy, since) if r["event"] == "request"],
                    what="a request record")
    assert len(recs) == 1
    rec = recs[0]
    assert (rec["outcome"], rec["status"], rec["reason"]) == ("blocked", 400, "malformed_body")
    assert REQUEST_FIELDS <= set(rec)
    assert b"321-54-9876" not in proxy.audit_path.read_bytes()


def test_blocked_call_has_no_completed_response_record(shared, up):
    """A call blocked before forwarding is never recorded as `completed`: its only record is the blocked request record."""
    proxy = shared
    since = len(proxy.audit_records())
    resp = post(proxy, "/responses", content=b'{"model": "m", "input": ', headers={"content-type": "application/json"})
    assert resp.status_code == 400
    time.sleep(0.3)  # give a (wrong) late record the chance to land
    recs = new_records(proxy, since)
    assert [(r["event"], r["outcome"]) for r in recs] == [("request", "blocked")]


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_upstream_dying_mid_response_is_audited_as_upstream_error(shared, up, stream):
    """An upstream that drops the connection in the middle of its answer leaves a response record with outcome upstream_error and a reason code."""
    proxy = shared
    model = f"broken-{'stream' if stream else 'json'}"
    up.reply("one two three four five six seven eight", break_after=2)
    client = proxy.client()
    try:
        if stream:
            with client.responses.stream(model=model, input="hi") as s:
                for _ in s:
                    pass
        else:
            client.responses.create(model=model, input="hi")
    except Exception:  # noqa: BLE001 - the SDK may or may not raise; the record is what counts
        pass
    rsp = response_record_for(proxy, lambda r: r.get("model") == model)
    assert rsp["outcome"] == "upstream_error"
    assert isinstance(rsp["reason"], str) and re.fullmatch(r"[a-z_]+", rsp["reason"])
    assert RESPONSE_FIELDS <= set(rsp)
    reqs = [r for r in proxy.audit_records() if r["flow_id"] == rsp["flow_id"]]
    assert [(r["event"], r["outcome"]) for r in reqs] == [("request", "forwarded"), ("response", "upstream_error")]


# --- 5. restart continuity ---------------------------------------------------------------------

@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_chain_continues_across_a_restart(make_proxy, up, tmp_path, how):
    """A proxy stopped (SIGTERM, or killed) and started again on the same audit file continues the chain, and the whole file verifies."""
    workdir = tmp_path / "proxy"
    first = make_proxy(workdir, audit="fsync: always")
    client = first.client()
    for i in range(3):
        client.responses.create(model="m", input=f"before {i}")
    if how == "sigterm":
        assert first.stop() == 0, first.log()[-2000:]
    else:
        first.proc.kill()
        first.proc.wait(10)
    before = records_of(first.audit_path)
    assert len(before) >= 6

    second = make_proxy(workdir, audit="fsync: always")
    assert second.audit_path == first.audit_path
    client = second.client()
    for i in range(3):
        client.responses.create(model="m", input=f"after {i}")
    assert second.stop() == 0
    recs = records_of(second.audit_path)
    assert recs[:len(before)] == before
    resumed = recs[len(before)]
    assert (resumed["seq"], resumed["prev"]) == (before[-1]["seq"] + 1, before[-1]["hash"])
    assert sum(r["event"] == "request" for r in recs) == 6 and sum(r["event"] == "response" for r in recs) == 6
    res = verify(str(second.audit_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"OK: {len(recs)} records" in res.stdout


# --- 6. a record that cannot be written blocks the call ------------------------------------------

@pytest.fixture
def small_fs(tmp_path):
    """A 256 KiB tmpfs mounted at ``tmp_path/proxy/audit`` (skips where mounting is not allowed)."""
    mnt = tmp_path / "proxy" / "audit"
    mnt.mkdir(parents=True)
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mnt)],
                         capture_output=True, text=True, timeout=20)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    yield mnt
    # Request make_proxy after this fixture so the proxy is stopped before the unmount; the lazy
    # unmount also copes with a process still holding the file open.
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=20)


def is_json(line: bytes) -> bool:
    """A whole JSON line (a full disk may leave a half-written one)."""
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def fill(directory: Path) -> int:
    """Fill the filesystem of ``directory`` with a filler file; returns the bytes written."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    written = 0
    try:
        for _ in range(100_000):  # bounded: far more than the small tmpfs holds
            try:
                written += os.write(fd, b"\0" * 4096)
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
                return written
        raise AssertionError("the filesystem never filled up")
    finally:
        os.close(fd)


@pytest.mark.parametrize("how", ["disk_full", "file_removed", "file_replaced"])
def test_audit_write_failure_blocks_the_call(request, up, tmp_path, how):
    """When the audit log cannot be written (disk full, file removed or replaced) the next call gets a 503 audit_failure in the OpenAI error shape, nothing reaches the upstream, and the proxy log says why."""
    mnt = request.getfixturevalue("small_fs") if how == "disk_full" else None
    make_proxy = request.getfixturevalue("make_proxy")  # set up after small_fs: torn down first
    proxy = make_proxy(audit="fsync: always")
    path = proxy.audit_path
    if how == "disk_full":
        assert mnt is not None and path.parent == mnt
        # the log is still empty: the next record needs a fresh page of the full filesystem
        assert path.stat().st_size == 0
        fill(mnt)
        why = "No space left on device"
    else:
        proxy.client().responses.create(model="m", input="before")
        if how == "file_removed":
            path.unlink()
            why = "No such file or directory"
        else:
            tmp = path.with_name("audit.jsonl.copy")
            tmp.write_bytes(path.read_bytes())
            os.replace(tmp, path)
            why = "replaced"
    up.clear()
    resp = post(proxy, "/responses", json={"model": "m", "input": "after the failure"})
    assert_openai_error(resp, 503, "audit_failure")
    assert up.requests == [], "a call without its audit record reached the upstream"

    def log_says_why() -> str | None:
        lg = proxy.log()
        return lg if why in lg and "audit_failure" in lg else None

    log = wait_for(log_says_why, what=f"the proxy log to say {why!r}")
    assert re.search(r"audit_write_failed|audit_failure", log)

    if how == "disk_full":
        # room again: calls go through again and the chain is whole
        (mnt / "filler").unlink()
        r = proxy.client().responses.create(model="m", input="after freeing space")
        assert r.output_text.endswith("after freeing space")
        proxy.stop()
        recs = records_of(path)
        assert [(r["event"], r["outcome"]) for r in recs] == [("request", "forwarded"), ("response", "completed")]
        res = verify(str(path))
        assert res.returncode == 0, res.stdout + res.stderr


def test_no_forwarded_record_for_a_call_that_was_blocked(request, up):
    """Every `forwarded` request record belongs to a call the upstream actually received, also when the disk fills up."""
    mnt = request.getfixturevalue("small_fs")
    proxy = request.getfixturevalue("make_proxy")(audit="fsync: always")
    proxy.client().responses.create(model="m", input="before")
    fill(mnt)
    up.clear()
    statuses = [post(proxy, "/responses", json={"model": "m", "input": f"after {i}"}).status_code
                for i in range(3)]
    assert 503 in statuses or len(up.requests) == 3
    time.sleep(0.3)
    recs = [json.loads(line) for line in proxy.audit_path.read_bytes().splitlines() if is_json(line)]
    forwarded = [r for r in recs if r.get("event") == "request" and r.get("outcome") == "forwarded"]
    assert len(forwarded) - 1 == len(up.requests), (statuses, len(forwarded), len(up.requests))


# --- 7. seals through the proxy ------------------------------------------------------------------

def test_seals_verify_and_catch_edits_and_rechained_forgeries(make_proxy, up, tmp_path):
    """A proxy with a seal key writes seals that `audit verify --key` accepts; a flipped byte fails naming its line, and a rewritten-and-rehashed chain passes without the key but fails with it."""
    keys = tmp_path / "keys"
    keys.mkdir()
    seal_key, verify_key = keys / "seal.key", tmp_path / "verify.key"
    res = cli("audit", "keygen", "--seal-key", str(seal_key), "--verify-key", str(verify_key))
    assert res.returncode == 0, res.stderr
    proxy = make_proxy(audit=f"fsync: always\nseal_key_file: {seal_key}\nseal_every_records: 5\n")
    client = proxy.client()
    for i in range(12):
        client.responses.create(model="m", input=f"call {i}")
    assert proxy.stop() == 0
    path = proxy.audit_path

    recs = records_of(path)
    seals = [r for r in recs if r["event"] == "seal"]
    assert sum(r["event"] in ("request", "response") for r in recs) == 24
    assert len(seals) >= 24 // 5
    # forward security: the key on the host has moved on from the one kept off the host
    on_host, kept = orjson.loads(seal_key.read_bytes()), orjson.loads(verify_key.read_bytes())
    assert on_host["index"] >= len(seals) and on_host["key"] != kept["key"]

    res = verify("--key", str(verify_key), str(path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"OK: {len(recs)} records, {len(seals)} seals" in res.stdout

    lines = path.read_bytes().splitlines(keepends=True)
    mid = next(i for i in range(len(lines) // 2, len(lines)) if orjson.loads(lines[i])["event"] == "request")

    # one flipped byte in a middle record
    flipped = tmp_path / "flipped.jsonl"
    flipped.write_bytes(b"".join(lines[:mid] + [flip_hex_char(lines[mid], "request_sha256")] + lines[mid + 1:]))
    res = verify("--key", str(verify_key), str(flipped))
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"{flipped}:{mid + 1}: edited" in res.stderr

    # an intruder without the key edits a record and re-hashes the chain after it
    forged_recs = [orjson.loads(line) for line in lines]
    forged_recs[mid]["request_bytes"] += 1
    prev = forged_recs[mid - 1]["hash"]
    for r in forged_recs[mid:]:
        r["prev"] = prev
        r["hash"] = sha256(orjson.dumps({k: v for k, v in r.items() if k != "hash"}, option=orjson.OPT_SORT_KEYS))
        prev = r["hash"]
    forged = tmp_path / "forged.jsonl"
    forged.write_bytes(b"".join(orjson.dumps(r, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
                                for r in forged_recs))
    assert verify(str(forged)).returncode == 0  # the chain alone cannot tell
    res = verify("--key", str(verify_key), str(forged))
    assert res.returncode == 1, res.stdout + res.stderr
    first_seal_after = next(i for i in range(mid, len(forged_recs)) if forged_recs[i]["event"] == "seal")
    assert f"{forged}:{first_seal_after + 1}: seal" in res.stderr


# --- 8. tamper detection on a real proxy-written file ---------------------------------------------

@pytest.fixture(scope="module")
def written_log(upstream, tmp_path_factory) -> Path:
    """An audit file (and its head file) written by a real proxy for 6 calls, proxy stopped."""
    proxy = start_audit_proxy(tmp_path_factory.mktemp("written"), upstream, audit="fsync: always")
    try:
        client = proxy.client()
        for i in range(6):
            client.responses.create(model="m", input=f"call {i}")
    finally:
        assert proxy.stop() == 0
    assert verify(str(proxy.audit_path)).returncode == 0
    return proxy.audit_path


def test_deleted_middle_line_is_named(written_log, tmp_path):
    """Deleting a middle line of a proxy-written audit file makes `audit verify` exit 1 naming that line."""
    lines = written_log.read_bytes().splitlines(keepends=True)
    k = len(lines) // 2  # 1-based number of the deleted line
    tampered = tmp_path / "deleted.jsonl"
    tampered.write_bytes(b"".join(lines[:k - 1] + lines[k:]))
    res = verify(str(tampered))
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"{tampered}:{k}: deleted" in res.stderr


def test_cut_tail_is_caught_by_the_head_file(written_log, tmp_path):
    """Cutting the last record of a proxy-written audit file (the chain alone cannot tell) fails verification against the head file the proxy left."""
    lines = written_log.read_bytes().splitlines(keepends=True)
    d = tmp_path / "cut"
    d.mkdir()
    cut = d / written_log.name
    cut.write_bytes(b"".join(lines[:-1]))
    (d / (written_log.name + ".head")).write_bytes(Path(str(written_log) + ".head").read_bytes())
    res = verify(str(cut))
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"{cut}:{len(lines)}: truncated" in res.stderr


# --- findings: identifiers outside field values -------------------------------------------------

def test_identifier_in_url_path_stays_out_of_the_trail(shared, up):
    """An identifier in the URL path of a call to a target host never appears in the audit trail."""
    proxy = shared
    post(proxy, "/responses/432-10-9876", json={"model": "path-m", "input": "hi"})
    response_record_for(proxy, lambda r: r.get("model") == "path-m")
    assert b"432-10-9876" not in proxy.audit_path.read_bytes()
