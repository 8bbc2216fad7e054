"""Smoke test: the official openai SDK through a real proxy process gets scrubbed answers."""

from __future__ import annotations


def test_request_and_response_are_scrubbed_through_the_proxy(proxy, up):
    """An SSN in the request never reaches the upstream; one in the answer never reaches the app."""
    up.reply("Your SSN 987-65-4321 is on file.")
    r = proxy.client().responses.create(model="m", input="My SSN is 123-45-6789")
    assert "123-45-6789" not in up.requests[-1].body.decode()
    assert "987-65-4321" not in r.output_text and "[SSN]" in r.output_text
    events = [(rec["event"], rec["outcome"]) for rec in proxy.audit_records()[-2:]]
    assert events == [("request", "forwarded"), ("response", "completed")]
