"""Profile werker-proxy under load with cProfile (stdlib; no py-spy needed).

    .venv/bin/python benchmarks/profile_proxy.py --scenario resp_json_20k --seconds 8
    .venv/bin/python benchmarks/profile_proxy.py --scenario resp_sse_60 --top 15

Starts the fast fake upstream and ``werker-proxy run --mode reverse`` under ``cProfile``
(mitmproxy runs every hook on the event loop's main thread, so cProfile sees all of it),
drives one scenario of ``run.py`` for a bounded time, stops the proxy with SIGTERM (the profile
is written on exit) and prints the top functions by cumulative and by self time. The raw
profile is kept in ``benchmarks/results/profile-<scenario>.prof``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import pstats
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402
from loadgen import percentile, run_load  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="resp_json_20k", choices=[s.key for s in bench.SCENARIOS])
    ap.add_argument("--seconds", type=float, default=8.0, help="load duration (bounded)")
    ap.add_argument("--count", type=int, default=2000, help="max calls")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--fsync", default="always", choices=("always", "never"))
    args = ap.parse_args(argv)

    sc = next(s for s in bench.SCENARIOS if s.key == args.scenario)
    workdir = Path(tempfile.mkdtemp(prefix="werker-prof-"))
    out_dir = HERE / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    prof_path = out_dir / f"profile-{sc.key}.prof"
    up_proc, up = bench.start_upstream(workdir)
    cfg = bench.werker_config(workdir, "werker", up, args.fsync)
    print(f"prefilter databases: {bench.warm_prefilter(cfg)}", flush=True)  # not the one-off build
    port = bench.free_port()
    proxy = bench.Proxy("werker-prof", [bench.PY, str(HERE / "_profiled_werker.py"), str(prof_path),
                                        "run", "--config", str(cfg), "--listen-port", str(port), "--mode", "reverse"],
                        workdir, port)
    if prof_path.exists():
        prof_path.unlink()
    try:
        proxy.start()
        proxy.ready()
        time.sleep(1.0)
        reqs = bench.requests_for(sc, "127.0.0.1")
        asyncio.run(run_load("127.0.0.1", port, reqs, stream=sc.stream, concurrency=1, count=2, time_cap=5.0))
        proxy.proc.send_signal(signal.SIGUSR1)  # profile the load only, not start-up
        time.sleep(0.2)
        c0 = bench.cpu_seconds(proxy.pid)
        res = asyncio.run(run_load("127.0.0.1", port, reqs, stream=sc.stream, concurrency=args.concurrency,
                                   count=args.count, time_cap=args.seconds, grace=30.0))
        c1 = bench.cpu_seconds(proxy.pid)
        proxy.proc.send_signal(signal.SIGUSR2)
        for _ in range(100):
            if prof_path.exists():
                break
            time.sleep(0.1)
        time.sleep(0.5)
        print(f"{sc.title}: {res.calls} calls, {res.errors} errors, {res.calls / res.wall_s:.1f} calls/s, "
              f"p50 {(percentile(res.latencies, 50) or 0) * 1000:.1f} ms, CPU {(c1 - c0) * 1000 / max(1, res.calls):.1f} "
              f"ms/call (under cProfile: inflated)")
    finally:
        proxy.stop()
        bench.stop_process(up_proc, grace=5)
        shutil.rmtree(workdir, ignore_errors=True)
    if not prof_path.exists():
        print("no profile written (the proxy did not exit cleanly)", file=sys.stderr)
        return 1
    views = (("cumulative", "cumulative time, werker_proxy functions", "werker_proxy"),
             ("cumulative", "cumulative time, all", None), ("tottime", "self time, all", None))
    for key, title, only in views:
        buf = io.StringIO()
        st = pstats.Stats(str(prof_path), stream=buf)
        st.sort_stats(key)
        if only:
            st.print_stats(only, args.top)
        else:
            st.print_stats(args.top)
        text = buf.getvalue()
        body = text[text.find("   ncalls"):].replace(str(HERE.parent) + "/", "").replace(
            str(Path(bench.PY).parent.parent) + "/lib/python3.11/site-packages/", "")
        print(f"\n=== top {args.top} by {title} ===\n{body.rstrip()}")
    print(f"\nprofile: {prof_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
