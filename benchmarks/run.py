"""werker-proxy against bare mitmproxy, in the same run: `make bench` (`ARGS=--quick` for ~1-2 min).

Setup (identical for every proxy): reverse mode, the client speaks plain HTTP/1.1 keep-alive to
``http://127.0.0.1:PORT/v1/...``, the proxy speaks TLS to a local fast fake upstream
(``benchmarks/fast_upstream.py``, a separate process), ``connection_strategy=lazy``, each proxy
with its own confdir/state dir. Proxies, all started once and left idle between runs:

* ``bare``         mitmdump -q --mode reverse:https://127.0.0.1:UP (buffers SSE whole)
* ``bare+stream``  the same plus ``benchmarks/stream_sse.py`` (``flow.response.stream = True``
                   for ``text/event-stream``); the baseline for streaming scenarios
* ``werker``       ``werker-proxy run --mode reverse`` with the bundled default rules,
                   audit ``fsync: always`` (the default)
* ``werker-nofsync`` the same with audit ``fsync: never``

Scenarios are interleaved over rounds (every scenario x proxy once per round, proxy order
rotating). Each measurement is bounded by a call count AND a time cap. Request and response
bodies carry synthetic clinical notes with identifiers, so the engine does real work on both.

Columns: calls/s (completed calls / wall time, median over rounds), p50/p99 latency and time to
first delta (TTFD) over all rounds' calls, proxy CPU ms per call (utime+stime of the proxy
process from /proc, over all rounds), peak RSS (VmHWM, reset before each measurement through
/proc/PID/clear_refs; the 200-stream memory scenario runs on fresh instances of every proxy, so
no proxy carries the heap of scenarios another never served). Ratios compare with the matching bare row: JSON scenarios with ``bare``,
SSE scenarios with ``bare+stream``. Results go to ``benchmarks/results/run.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import corpus  # noqa: E402
from tests.e2e.proxyproc import free_port, stop_process  # noqa: E402 - the test suite's process helpers
from loadgen import build_request, percentile, run_load  # noqa: E402

PY = sys.executable
MITMDUMP = str(Path(PY).parent / "mitmdump")
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGET_HOST = "api.werker.health"


# ------------------------------------------------------------------------------------- processes

def wait_port(port: int, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port}:\n{log.read_text(errors='replace')[-3000:]}")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def reset_hwm(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@dataclass
class Proxy:
    name: str
    args: list[str]
    workdir: Path
    port: int
    proc: subprocess.Popen | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.workdir / f"{self.name}.log"

    def start(self) -> None:
        f = open(self.log, "ab")
        self.proc = subprocess.Popen(self.args, stdout=f, stderr=subprocess.STDOUT, cwd=str(self.workdir),
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)

    def ready(self, timeout: float = 60) -> None:
        assert self.proc is not None
        wait_port(self.port, timeout, self.proc, self.log)

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


def start_upstream(workdir: Path) -> tuple[subprocess.Popen, dict]:
    log = workdir / "upstream.err"
    proc = subprocess.Popen([PY, str(HERE / "fast_upstream.py"), "--port", "0", "--cert-dir", str(workdir / "up-ca")],
                            stdout=subprocess.PIPE, stderr=open(log, "wb"), start_new_session=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(5)
        raise RuntimeError("fast upstream did not start:\n" + log.read_text(errors="replace"))
    return proc, json.loads(line)


def werker_config(workdir: Path, name: str, up: dict, fsync: str) -> Path:
    cfg = workdir / f"{name}.yaml"
    cfg.write_text(textwrap.dedent(f"""\
        version: 1
        state_dir: {workdir / name / 'state'}
        cache_dir: {workdir / 'prefilter-cache'}
        rules_files: ['bundled:rules/*.yaml']
        upstream:
          url: {up['url']}
          ca_file: {up['ca_file']}
        audit:
          path: {workdir / name / 'audit' / 'audit.jsonl'}
          fsync: {fsync}
        """))
    return cfg


def warm_prefilter(cfg: Path) -> str:
    """Build the rule databases into the shared cache_dir before any proxy starts, so no
    measurement includes the one-off compile (~9 s of CPU, ~50 MB of peak memory)."""
    from werker_proxy.config import load_settings

    prefilter = load_settings(str(cfg)).redactor.prefilter
    return "ready" if prefilter.wait(600) else f"not in use ({prefilter.error})"


def make_proxies(workdir: Path, up: dict, names: list[str], tag: str = "") -> dict[str, Proxy]:
    """One process per name; ``tag`` gives another set its own directories (fresh instances)."""
    out: dict[str, Proxy] = {}
    for base in names:
        name = base + tag
        port = free_port()
        if name.startswith("bare"):
            confdir = workdir / name / "confdir"
            confdir.mkdir(parents=True, exist_ok=True)
            args = [MITMDUMP, "-q", "--mode", f"reverse:{up['url']}", "--listen-host", "127.0.0.1",
                    "--listen-port", str(port), "--set", f"confdir={confdir}",
                    "--set", "connection_strategy=lazy", "--set", "upstream_cert=false",
                    "--set", f"ssl_verify_upstream_trusted_ca={up['ca_file']}"]
            if base == "bare+stream":
                args += ["-s", str(HERE / "stream_sse.py")]
        else:
            fsync = "never" if base.endswith("nofsync") else "always"
            cfg = werker_config(workdir, name, up, fsync)
            if not tag and not any(n.startswith("werker") for n in out):
                print(f"prefilter databases: {warm_prefilter(cfg)}", flush=True)
            args = [PY, "-m", "werker_proxy.cli", "run", "--config", str(cfg), "--listen-port", str(port),
                    "--mode", "reverse"]
        out[base] = Proxy(name, args, workdir, port)
    return out


async def measure_fresh(workdir: Path, up: dict, name: str, sc: Scenario, reqs: list[bytes], cell: "Cell",
                        rnd: int, **kw) -> None:
    """A memory scenario runs on a fresh instance of the proxy, so its peak RSS is not the heap
    an earlier scenario left behind (the bare+stream baseline never serves the JSON ones)."""
    proxy = make_proxies(workdir, up, [name], tag=f"-mem{rnd}")[name]
    proxy.start()
    try:
        proxy.ready()
        await asyncio.sleep(1.0)
        await measure(proxy, sc, reqs, cell, **kw)
    finally:
        proxy.stop()


# ------------------------------------------------------------------------------------- scenarios

@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    api: str  # responses | chat
    stream: bool
    size: int = 2000  # JSON answer bytes
    deltas: int = 60
    pace_ms: float = 0.0
    concurrency: int | None = None  # None: the run's default
    count: int | None = None
    time_cap: float | None = None
    memory: bool = False
    grace: float | None = None  # seconds calls in flight at the time cap may still take
    fsync_variant: bool = False  # also measure werker-nofsync here


SCENARIOS = [
    Scenario("resp_json_2k", "Responses JSON 2 KB", "responses", False, size=2_000, fsync_variant=True),
    Scenario("resp_json_20k", "Responses JSON 20 KB", "responses", False, size=20_000, fsync_variant=True),
    Scenario("resp_json_200k", "Responses JSON 200 KB", "responses", False, size=200_000),
    Scenario("chat_json_20k", "Chat JSON 20 KB", "chat", False, size=20_000),
    Scenario("resp_sse_60", "Responses SSE 60 deltas", "responses", True, deltas=60, fsync_variant=True),
    Scenario("chat_sse_60", "Chat SSE 60 chunks", "chat", True, deltas=60),
    Scenario("resp_sse_paced", "Responses SSE 40 x 5 ms", "responses", True, deltas=40, pace_ms=5),
    Scenario("resp_sse_500", "Responses SSE 500 deltas, 1 client", "responses", True, deltas=500,
             concurrency=1, count=20, time_cap=30.0),
    Scenario("paced_x200", "200 concurrent paced streams", "responses", True, deltas=40, pace_ms=5,
             concurrency=200, count=200, time_cap=30.0, grace=30.0, memory=True),
]


def request_bodies(sc: Scenario, n_variants: int = 16, text_bytes: int = 1500) -> list[bytes]:
    """Clinical text with identifiers in every request (about ``text_bytes`` of note per call)."""
    docs = corpus.corpus(n_variants * text_bytes * 2, seed=3)
    out, i = [], 0
    for v in range(n_variants):
        parts, n = [], 0
        while n < text_bytes:
            d = docs[i % len(docs)]
            parts.append(d)
            n += len(d)
            i += 1
        text = "\n\n".join(parts)[:text_bytes]
        if sc.api == "responses":
            body = {"model": "werker-med-1", "input": [{"role": "user", "content": text}], "stream": sc.stream}
        else:
            body = {"model": "werker-med-1", "stream": sc.stream, "messages": [
                {"role": "system", "content": "You are a clinical documentation assistant."},
                {"role": "user", "content": text}]}
        out.append(json.dumps(body).encode())
    return out


def requests_for(sc: Scenario, host_header: str) -> list[bytes]:
    path = "/v1/responses" if sc.api == "responses" else "/v1/chat/completions"
    hdrs = {"x-bench-stream": "1", "x-bench-deltas": str(sc.deltas), "x-bench-pace-ms": str(sc.pace_ms)} \
        if sc.stream else {"x-bench-size": str(sc.size)}
    return [build_request(path, host_header, b, hdrs) for b in request_bodies(sc)]


def proxies_for(sc: Scenario, names: list[str]) -> list[str]:
    # bare+stream only differs from bare for event streams; the fsync variant only where asked
    return [n for n in names if (sc.stream or n != "bare+stream") and (sc.fsync_variant or n != "werker-nofsync")]


# ------------------------------------------------------------------------------------- measuring

@dataclass
class Cell:
    calls: int = 0
    errors: int = 0
    blocked: int = 0
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    ttfd: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    hwm_kb: int = 0
    rss_end_kb: int = 0
    first_error: str | None = None

    def summary(self) -> dict:
        ms = lambda v: None if v is None else v * 1000  # noqa: E731
        return {
            "calls": self.calls, "errors": self.errors, "blocked": self.blocked,
            "calls_per_s": median(self.rates) if self.rates else 0.0, "rounds_calls_per_s": self.rates,
            "p50_ms": ms(percentile(self.latencies, 50)), "p99_ms": ms(percentile(self.latencies, 99)),
            "ttfd_p50_ms": ms(percentile(self.ttfd, 50)), "ttfd_p99_ms": ms(percentile(self.ttfd, 99)),
            "cpu_ms_per_call": self.cpu_s * 1000 / self.calls if self.calls else None,
            "peak_rss_mb": self.hwm_kb / 1024, "first_error": self.first_error,
        }


async def measure(proxy: Proxy, sc: Scenario, reqs: list[bytes], cell: Cell, *, concurrency: int, count: int,
                  time_cap: float, warmup: int, grace: float) -> None:
    pid = proxy.pid
    conc = sc.concurrency or concurrency
    n = sc.count or max(count, conc)
    cap = sc.time_cap or time_cap
    grace = sc.grace or grace
    hwm_ok = reset_hwm(pid)
    peak = [status_kb(pid, "VmRSS")]
    stop = asyncio.Event()

    async def sample() -> None:  # VmRSS sampling, a floor if VmHWM cannot be reset
        while not stop.is_set():
            peak[0] = max(peak[0], status_kb(pid, "VmRSS"))
            try:
                await asyncio.wait_for(stop.wait(), 0.05)
            except asyncio.TimeoutError:
                pass

    sampler = asyncio.create_task(sample())
    # warm-up is excluded from CPU: measure CPU around the timed part only
    if warmup:  # a couple of calls on one connection: code paths, upstream TLS session
        await run_load("127.0.0.1", proxy.port, reqs, stream=sc.stream, concurrency=1,
                       count=warmup, time_cap=max(2.0, cap), warmup=0, grace=grace)
    c0 = cpu_seconds(pid)
    res = await run_load("127.0.0.1", proxy.port, reqs, stream=sc.stream, concurrency=conc, count=n,
                         time_cap=cap, warmup=0, grace=grace)
    c1 = cpu_seconds(pid)
    stop.set()
    await sampler
    hwm = status_kb(pid, "VmHWM") if hwm_ok else 0
    cell.calls += res.calls
    cell.errors += res.errors
    cell.blocked += res.blocked
    cell.first_error = cell.first_error or res.first_error
    if res.wall_s > 0:
        cell.rates.append(res.calls / res.wall_s)
    cell.latencies += res.latencies
    cell.ttfd += res.ttfd
    cell.cpu_s += c1 - c0
    cell.hwm_kb = max(cell.hwm_kb, hwm, peak[0])
    await settle(pid, 30.0)


async def settle(pid: int, max_s: float) -> None:
    """Wait (bounded) until the proxy is idle: abandoned calls must not eat the next run's CPU."""
    deadline = time.monotonic() + max_s
    while time.monotonic() < deadline:
        c0 = cpu_seconds(pid)
        await asyncio.sleep(0.2)
        if cpu_seconds(pid) - c0 <= 0.02:
            return


# ------------------------------------------------------------------------------------- report

def ratio(a, b) -> str:
    if a is None or b is None or not b:
        return "-"
    return f"{a / b:.2f}x"


def fmt(v, nd=1) -> str:
    return "-" if v is None else f"{v:.{nd}f}"


def baseline_for(sc: Scenario, names: list[str]) -> str:
    return "bare+stream" if sc.stream and "bare+stream" in names else "bare"


def print_table(results: dict, scenarios: list[Scenario], names: list[str]) -> str:
    head = (f"{'scenario':<30} {'proxy':<15} {'calls/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'TTFD ms':>8} "
            f"{'CPU ms/call':>11} {'RSS MB':>7} | {'x calls/s':>9} {'x p50':>6} {'x TTFD':>7} {'dTTFD ms':>8} "
            f"{'x CPU':>6} {'x RSS':>6} {'err':>4}")
    lines = [head, "-" * len(head)]
    for sc in scenarios:
        base = results[sc.key].get(baseline_for(sc, names))
        for name in proxies_for(sc, names):
            r = results[sc.key].get(name)
            if r is None:
                continue
            is_base = name == baseline_for(sc, names)
            dttfd = None
            if base and r["ttfd_p50_ms"] is not None and base["ttfd_p50_ms"] is not None:
                dttfd = r["ttfd_p50_ms"] - base["ttfd_p50_ms"]
            lines.append(
                f"{sc.title:<30} {name:<15} {r['calls_per_s']:>8.1f} {fmt(r['p50_ms'], 2):>8} {fmt(r['p99_ms'], 2):>8} "
                f"{fmt(r['ttfd_p50_ms'], 2):>8} {fmt(r['cpu_ms_per_call'], 2):>11} {r['peak_rss_mb']:>7.0f} | "
                + ("    (base)" + " " * 44 if is_base or not base else
                   f"{ratio(r['calls_per_s'], base['calls_per_s']):>9} {ratio(r['p50_ms'], base['p50_ms']):>6} "
                   f"{ratio(r['ttfd_p50_ms'], base['ttfd_p50_ms']):>7} {fmt(dttfd, 2) if dttfd is not None else '-':>8} "
                   f"{ratio(r['cpu_ms_per_call'], base['cpu_ms_per_call']):>6} "
                   f"{ratio(r['peak_rss_mb'], base['peak_rss_mb']):>6}")
                + f" {r['errors']:>4}")
        lines.append("")
    return "\n".join(lines)


def print_targets(results: dict, names: list[str]) -> str:
    """The issue-7 targets, checked against this run's numbers."""
    out = ["targets (issue 7):"]

    def get(sk, name, key):
        r = results.get(sk, {}).get(name)
        return None if r is None else r.get(key)

    def line(label, value, ok):
        out.append(f"  [{'ok' if ok else 'MISS'}] {label}: {value}")

    w = "werker"
    if w not in names:
        return ""
    for sk, title in (("resp_json_20k", "Responses JSON 20 KB"), ("chat_json_20k", "Chat JSON 20 KB")):
        a, b = get(sk, w, "calls_per_s"), get(sk, "bare", "calls_per_s")
        if a is not None and b:
            line(f"{title} calls/s >= 0.85x bare", f"{a / b:.2f}x", a / b >= 0.85)
        a, b = get(sk, w, "cpu_ms_per_call"), get(sk, "bare", "cpu_ms_per_call")
        if a is not None and b:
            line(f"{title} CPU/call <= 1.25x bare", f"{a / b:.2f}x", a / b <= 1.25)
    for sk, title in (("resp_sse_60", "Responses SSE 60"), ("chat_sse_60", "Chat SSE 60"),
                      ("resp_sse_paced", "paced SSE")):
        a, b = get(sk, w, "calls_per_s"), get(sk, "bare+stream", "calls_per_s")
        if a is not None and b:
            line(f"{title} calls/s >= 0.85x bare+stream", f"{a / b:.2f}x", a / b >= 0.85)
        a, b = get(sk, w, "ttfd_p50_ms"), get(sk, "bare+stream", "ttfd_p50_ms")
        if a is not None and b is not None:
            line(f"{title} TTFD p50 within +2 ms of bare+stream", f"{a - b:+.2f} ms", a - b <= 2.0)
    a, b = get("paced_x200", w, "peak_rss_mb"), get("paced_x200", "bare+stream", "peak_rss_mb")
    if a is not None and b:
        line("200 paced streams peak RSS <= 1.3x bare+stream", f"{a / b:.2f}x", a / b <= 1.3)
    if "werker-nofsync" in names:
        for sk in ("resp_json_2k", "resp_json_20k"):
            a, b = get(sk, w, "calls_per_s"), get(sk, "werker-nofsync", "calls_per_s")
            if a is not None and b:
                line(f"{sk}: fsync always costs <= 10 % calls/s vs never", f"{(1 - a / b) * 100:+.1f} %",
                     (1 - a / b) <= 0.10)
    return "\n".join(out)


# ------------------------------------------------------------------------------------- main

async def upstream_direct(up: dict, scenarios: list[Scenario], time_cap: float) -> dict:
    """The fake upstream alone (TLS, no proxy): it must be far faster than any proxy row."""
    import ssl

    ctx = ssl.create_default_context(cafile=up["ca_file"])
    out = {}
    for sc in scenarios:
        if sc.memory or sc.pace_ms:
            continue
        reqs = requests_for(sc, "127.0.0.1")
        res = await run_load("127.0.0.1", up["port"], reqs, stream=sc.stream, concurrency=8, count=2000,
                             time_cap=min(time_cap, 2.0), warmup=16, ssl_ctx=ctx)
        out[sc.key] = {"calls_per_s": res.calls / res.wall_s if res.wall_s else 0, "errors": res.errors,
                       "p50_ms": (percentile(res.latencies, 50) or 0) * 1000}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 round, short runs (~1-2 minutes)")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3, quick 1)")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--count", type=int, default=None, help="max calls per measurement (default 3000, quick 600)")
    ap.add_argument("--time-cap", type=float, default=None, help="max seconds per measurement (default 3, quick 1)")
    ap.add_argument("--scenarios", default="", help="comma-separated scenario keys (default: all)")
    ap.add_argument("--proxies", default="bare,bare+stream,werker,werker-nofsync",
                    help="comma-separated: bare, bare+stream, werker, werker-nofsync")
    ap.add_argument("--out", default=str(HERE / "results" / "run.json"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, audit files)")
    args = ap.parse_args(argv)

    rounds = args.rounds or (1 if args.quick else 3)
    count = args.count or (600 if args.quick else 3000)
    time_cap = args.time_cap or (1.0 if args.quick else 3.0)
    grace = 30.0  # calls in flight at the time cap finish (slow proxies) unless they take longer
    warmup = 2
    names = [n.strip() for n in args.proxies.split(",") if n.strip()]
    keys = [k.strip() for k in args.scenarios.split(",") if k.strip()]
    scenarios = [s for s in SCENARIOS if not keys or s.key in keys]

    workdir = Path(tempfile.mkdtemp(prefix="werker-bench-"))
    t_start = time.monotonic()
    up_proc, up = start_upstream(workdir)
    proxies = make_proxies(workdir, up, names)
    print(f"werker-proxy benchmark: {rounds} round(s), concurrency {args.concurrency}, <= {count} calls and "
          f"<= {time_cap:g} s per measurement; python {platform.python_version()}, {os.cpu_count()} cores; "
          f"corpus {corpus.SOURCE}; work dir {workdir}", flush=True)
    results: dict = {}
    try:
        for p in proxies.values():
            p.start()
        for p in proxies.values():
            p.ready()
        time.sleep(1.0)  # let start-up settle (rule compile, CA written)
        direct = asyncio.run(upstream_direct(up, scenarios, time_cap))
        print("fake upstream alone (TLS, 8 clients): " + ", ".join(
            f"{k} {v['calls_per_s']:.0f}/s" for k, v in direct.items()), flush=True)

        cells = {sc.key: {n: Cell() for n in proxies_for(sc, names)} for sc in scenarios}
        reqs = {sc.key: requests_for(sc, "127.0.0.1") for sc in scenarios}
        for rnd in range(rounds):
            for sc in scenarios:
                order = proxies_for(sc, names)
                k = (rnd + scenarios.index(sc)) % len(order)
                order = order[k:] + order[:k]
                for name in order:
                    kw = dict(concurrency=args.concurrency, count=count, time_cap=time_cap,
                              warmup=0 if sc.memory else warmup, grace=grace)
                    if sc.memory:
                        asyncio.run(measure_fresh(workdir, up, name, sc, reqs[sc.key], cells[sc.key][name], rnd,
                                                  **kw))
                        continue
                    asyncio.run(measure(proxies[name], sc, reqs[sc.key], cells[sc.key][name], **kw))
                    if proxies[name].proc.poll() is not None:
                        raise RuntimeError(f"{name} died:\n{proxies[name].log.read_text(errors='replace')[-3000:]}")
            print(f"round {rnd + 1}/{rounds} done ({time.monotonic() - t_start:.0f} s)", flush=True)
        for sc in scenarios:
            results[sc.key] = {n: c.summary() for n, c in cells[sc.key].items()}
    finally:
        for p in proxies.values():
            p.stop()
        stop_process(up_proc, grace=5)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    table = print_table(results, scenarios, names)
    targets = print_targets(results, names)
    print()
    print(table)
    print(targets)
    errs = [(sk, n, r["errors"], r["first_error"]) for sk, d in results.items() for n, r in d.items() if r["errors"]]
    for sk, n, e, fe in errs:
        print(f"  note: {sk} / {n}: {e} errors (first: {fe})")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "settings": {"rounds": rounds, "concurrency": args.concurrency, "count": count, "time_cap_s": time_cap,
                     "grace_s": grace,
                     "quick": args.quick, "python": platform.python_version(), "cores": os.cpu_count(),
                     "corpus": corpus.SOURCE, "mode": "reverse, plain HTTP client side, TLS upstream"},
        "scenarios": {sc.key: sc.__dict__ for sc in scenarios},
        "upstream_direct": direct,
        "results": results,
        "elapsed_s": time.monotonic() - t_start,
    }, indent=2))
    print(f"wrote {out} ({time.monotonic() - t_start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
