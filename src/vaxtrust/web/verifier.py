"""The verifier pages' one answer: valid or not, why, and whose certificate it is.

Uses the passport library's ``verify_certificate`` against the trust and revocation lists the
server publishes for offline verifier apps. Images are checked by content (Pillow must find a
PNG, JPEG, GIF or WebP of sane size) before the QR reader sees them.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vaxtrust.errors import (
    CertificateError,
    CertificateExpired,
    CertificateRevoked,
    ConfigError,
    InputError,
    InvalidCertificate,
    UntrustedSigner,
)
from vaxtrust.passport.fields import Field, certificate_fields, full_name

logger = logging.getLogger(__name__)
IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
MAX_PIXELS = 25_000_000
MAX_TEXT = 8_000


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reason: str             # a code of labels.VERIFIER_REASONS
    detail: str = ""        # the library's one-line explanation (English)
    holder: str = ""
    dob: str = ""
    doses: str = ""         # "2/2"
    fields: list[Field] = field(default_factory=list)
    expires_at: str = ""
    unpinned: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"valid": self.valid, "reason": self.reason, "detail": self.detail,
                "holder": self.holder, "date_of_birth": self.dob, "doses": self.doses,
                "expires_at": self.expires_at, "unpinned": self.unpinned,
                "fields": [{"number": f.number, "label_vi": f.label_vi, "label_en": f.label_en,
                            "value": f.value} for f in self.fields]}


def reason_of(error: CertificateError) -> str:
    message = str(error)
    if isinstance(error, CertificateRevoked):
        return "revoked"
    if isinstance(error, CertificateExpired):
        return "expired"
    if isinstance(error, UntrustedSigner):
        return "bad_signature" if "does not verify" in message else "unknown_key"
    if isinstance(error, InvalidCertificate) and message.startswith("qr: no readable"):
        return "no_qr"
    return "not_a_certificate"


class Verifier:
    """Trust anchors loaded from the configured files; reloaded when a file changes."""

    def __init__(self, trust_list: Path | None, revocation_list: Path | None,
                 cscas: list[Path], *, unpinned: bool) -> None:
        if trust_list is not None and not cscas and not unpinned:
            raise ConfigError("the verifier needs a pinned CSCA (--csca) or --insecure-unpinned")
        self.trust_path, self.revocation_path = trust_list, revocation_list
        self.csca_paths, self.unpinned = cscas, unpinned and not cscas
        self._loaded: tuple[float, float] | None = None
        self._trust: Any = None
        self._revocation: Any = None

    @property
    def configured(self) -> bool:
        return self.trust_path is not None

    def _mtimes(self) -> tuple[float, float]:
        def mtime(path: Path | None) -> float:
            return path.stat().st_mtime if path is not None and path.exists() else 0.0
        return mtime(self.trust_path), mtime(self.revocation_path)

    def _anchors(self, now: datetime) -> tuple[Any, Any]:
        from vaxtrust.passport.pki import load_certificate
        from vaxtrust.passport.revocation import RevocationList
        from vaxtrust.passport.trustlist import TrustList

        if self.trust_path is None:
            raise ConfigError("this server has no trust list configured")
        stamp = self._mtimes()
        if self._loaded != stamp:
            pinned = [load_certificate(path) for path in self.csca_paths] or None
            self._trust = TrustList.load(self.trust_path, pinned_cscas=pinned)
            self._revocation = (RevocationList.load(self.revocation_path, now=now,
                                                    pinned_cscas=pinned)
                                if self.revocation_path else None)
            self._loaded = stamp
        return self._trust, self._revocation

    def verify_text(self, text: str, *, now: datetime | None = None) -> Verdict:
        from vaxtrust.passport.verify import verify_certificate

        clock = now or datetime.now(UTC)
        trust, revocation = self._anchors(clock)
        try:
            verified = verify_certificate(text[:MAX_TEXT + 1], trust, now=clock,
                                          revocation=revocation)
        except CertificateError as error:
            return Verdict(False, reason_of(error), str(error), unpinned=self.unpinned)
        payload = verified.payload
        entry = (payload.get("v") or [{}])[0]
        doses = f"{entry.get('dn', '')}/{entry.get('sd', '')}" if "v" in payload else ""
        return Verdict(True, "valid", holder=full_name(payload), dob=str(payload.get("dob", "")),
                       doses=doses, fields=certificate_fields(
                           payload, issuing_country=verified.issuer_country),
                       expires_at=verified.expires_at.strftime("%Y-%m-%d"),
                       unpinned=self.unpinned)

    def verify_image(self, data: bytes, *, now: datetime | None = None) -> Verdict:
        from vaxtrust.passport.qr import read_qr

        try:
            checked_image(data)
            text = read_qr(data)
        except InvalidCertificate as error:
            return Verdict(False, reason_of(error), str(error), unpinned=self.unpinned)
        return self.verify_text(text, now=now)

    def document(self, which: str) -> bytes:
        path = self.trust_path if which == "trust" else self.revocation_path
        if path is None or not path.is_file():
            raise InputError(f"this server publishes no {which} list")
        return path.read_bytes()


def checked_image(data: bytes) -> None:
    """Refuse anything that is not a plain raster image of sane size, by its content."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            width, height = image.size
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        raise InvalidCertificate("qr: no readable QR code in the image (not an image)") from None
    if kind not in IMAGE_FORMATS:
        raise InvalidCertificate(f"qr: no readable QR code in the image ({kind} is not accepted)")
    if width * height > MAX_PIXELS:
        raise InvalidCertificate("qr: no readable QR code in the image (image too large)")
