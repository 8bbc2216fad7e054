"""The error tree of werker-proxy.

Every error the proxy can turn into a blocked call carries an HTTP ``status`` hint and a
machine-readable ``code`` (used in the OpenAI-shaped error body and as the audit ``reason``).
Messages never contain request or response text.

    WerkerError                      base; status 500, code "internal_error"
    ├── ConfigError                  bad config or rules file (source, line, reason); status 503
    ├── BadRequest                   client sent something we cannot scrub; status 400
    │   ├── MalformedBody            body is not valid JSON / not UTF-8
    │   ├── UnsupportedEncoding      Content-Encoding we cannot decode
    │   ├── AttachmentBlocked        base64 attachment under ``attachments: block``
    │   └── BodyTooLarge             body over the configured limit; status 413
    ├── RedactionFailed              a rule timed out or the engine failed; status 500
    ├── UpstreamError                upstream sent something we cannot scrub; status 502
    ├── AuditError                   an audit record could not be written; status 503
    └── NotConfigured                proxy has no valid config loaded; status 503
"""

from __future__ import annotations


class WerkerError(Exception):
    """Base class: ``status`` is the HTTP status to answer with, ``code`` the error code."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class ConfigError(WerkerError):
    """A config or rules file is invalid; reads like ``config/rules.yaml:12: rules[3].pattern: ...``."""

    status = 503
    code = "config_error"

    def __init__(self, source: str, line: int | None, reason: str):
        self.source = source
        self.line = line
        self.reason = reason
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {reason}")


class BadRequest(WerkerError):
    status = 400
    code = "bad_request"


class MalformedBody(BadRequest):
    code = "malformed_body"


class UnsupportedEncoding(BadRequest):
    code = "unsupported_encoding"


class AttachmentBlocked(BadRequest):
    code = "attachment_blocked"


class BodyTooLarge(BadRequest):
    status = 413
    code = "body_too_large"


class RedactionFailed(WerkerError):
    status = 500
    code = "redaction_failed"


class UpstreamError(WerkerError):
    status = 502
    code = "upstream_error"


class AuditError(WerkerError):
    status = 503
    code = "audit_failure"


class NotConfigured(WerkerError):
    status = 503
    code = "not_configured"
