"""The one exception tree of vaxtrust.

Every error a user can cause or meet derives from :class:`VaxtrustError`. The CLI turns any of them
into one red line (``VAXTRUST_DEBUG=1`` shows the traceback); the web layer maps them to HTTP codes.
"""

from __future__ import annotations


class VaxtrustError(Exception):
    """Base of every error vaxtrust raises on purpose."""


class ConfigError(VaxtrustError):
    """A setting, option or argument is missing or invalid."""


class InputError(VaxtrustError):
    """An input file cannot be used at all (missing, empty, wrong headers, unreadable encoding).

    Row-level problems never raise: they go to the rejects output with row, field and reason.
    """

    def __init__(self, message: str, *, path: str | None = None, row: int | None = None,
                 field: str | None = None, line: int | None = None) -> None:
        where = ", ".join(
            part for part in (
                f"file {path}" if path else "",
                f"line {line}" if line is not None else "",
                f"row {row}" if row is not None else "",
                f"field {field}" if field else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.line = line  # physical line of the file (1 = a CSV header)
        self.row = row
        self.field = field


class EngineError(VaxtrustError):
    """A batch engine (DuckDB, Spark) is unavailable or failed outside a stage."""


class PipelineStageError(VaxtrustError):
    """A pipeline stage failed; carries the stage name and the SQL that failed."""

    def __init__(self, stage: str, message: str, sql: str | None = None) -> None:
        super().__init__(f"stage {stage}: {message}")
        self.stage = stage
        self.sql = sql


class LinkageError(VaxtrustError):
    """Probabilistic linkage could not be trained or run."""


class StoreError(VaxtrustError):
    """The operational store refused a write or cannot be reached."""


class NotFound(StoreError):
    """The requested item does not exist or is outside the caller's scope."""


class PermissionDenied(StoreError):
    """The actor's role or scope does not allow this action."""


class AuthenticationFailed(PermissionDenied):
    """A sign-in was refused. The message never says whether the user exists or why."""


class ReviewConflict(StoreError):
    """Another officer decided or changed the item first (optimistic locking)."""


class AlreadyRunning(StoreError):
    """The job runs already (a signing batch started elsewhere); wait for it to finish."""


class CertificateError(VaxtrustError):
    """Issuing or verifying a vaccine passport failed."""


class InvalidCertificate(CertificateError):
    """The certificate is malformed: prefix, Base45, zlib, COSE, CBOR or schema."""


class UntrustedSigner(CertificateError):
    """No trusted signer verifies the signature, or the signer may not sign vaccinations."""


class CertificateExpired(CertificateError):
    """The certificate or its signer is outside its validity at the given time."""


class CertificateRevoked(CertificateError):
    """The certificate is on a revocation list."""


class SigningKeyError(CertificateError):
    """A signing key cannot be loaded, is of the wrong type, or its token is unavailable."""
