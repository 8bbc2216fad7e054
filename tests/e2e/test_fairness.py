"""One large body must not stop every other call on the proxy.

A black-box probe found that scrubbing a 2 MB request (or answer) ran on the proxy's event
loop: a concurrent stream got nothing for 8 s, then all its deltas at once. DESIGN: a delta with
nothing held is forwarded at once. Large bodies are now scrubbed on worker threads.
"""

from __future__ import annotations

import threading
import time

import pytest

# ~0.5 MB of synthetic note lines, each with identifiers: seconds of scrubbing whether or not the
# Hyperscan prefilter is ready yet (text without identifiers goes by too fast to show anything)
LINE = "Seen {i}: SSN 123-45-{n:04d}, phone 617-555-{n:04d}, DOB 03/14/1950, MRN {m}; BP 128/82, stable.\n"
BIG = "".join(LINE.format(i=i, n=i % 10000, m=4400000 + i) for i in range(5000))
STREAM = [f"word{i} " for i in range(60)]


@pytest.mark.parametrize("side", ["request", "response"])
def test_a_stream_keeps_flowing_while_a_large_body_is_scrubbed(proxy, up, side):
    up.reply(deltas=STREAM, delay=0.05)  # the stream: ~3 s upstream
    up.reply(BIG if side == "response" else "ok")
    big_client = proxy.client(timeout=120)
    done: dict[str, float] = {}

    def big_call() -> None:
        t = time.monotonic()
        done["start"] = t
        big_client.responses.create(model="m", input=BIG if side == "request" else "summarise")
        done["end"] = time.monotonic()

    worker = threading.Thread(target=big_call)
    arrivals: list[float] = []
    for event in proxy.client().responses.create(model="m", input="hello", stream=True):
        if event.type == "response.output_text.delta":
            arrivals.append(time.monotonic())
            if len(arrivals) == 3:
                worker.start()
    worker.join(120)
    assert "end" in done, "the large call did not finish"
    took = done["end"] - done["start"]
    assert took > 1.0, f"the large call took {took:.2f} s: too fast to show anything"
    during = [t for t in arrivals if done["start"] <= t <= done["end"]]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:]) if done["start"] <= b <= done["end"] + 1.0]
    assert len(during) >= 3, f"only {len(during)} of {len(arrivals)} deltas arrived during the {took:.1f} s call"
    assert max(gaps) < took / 3, (f"the stream stopped for {max(gaps):.2f} s while a {took:.1f} s body was scrubbed; "
                                  f"deltas at {[round(t - arrivals[0], 2) for t in arrivals]}")
