"""DCC extended key usage of document signer certificates (hcert spec Appendix A.4)."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from vaxtrust.errors import UntrustedSigner

# Type letter → OIDs. The second of each pair is the early draft's typo (an extra ``.0``) that 391
# of 582 test signers still carry; verifiers accept both, vaxtrust issues only the first.
DCC_KEY_USAGE = {
    "t": ("1.3.6.1.4.1.1847.2021.1.1", "1.3.6.1.4.1.0.1847.2021.1.1"),
    "v": ("1.3.6.1.4.1.1847.2021.1.2", "1.3.6.1.4.1.0.1847.2021.1.2"),
    "r": ("1.3.6.1.4.1.1847.2021.1.3", "1.3.6.1.4.1.0.1847.2021.1.3"),
}
_ALL_DCC_OIDS = {oid for pair in DCC_KEY_USAGE.values() for oid in pair}
ISSUED_OIDS = {kind: x509.ObjectIdentifier(pair[0]) for kind, pair in DCC_KEY_USAGE.items()}


def extended_key_usages(certificate: x509.Certificate) -> set[str]:
    """Dotted EKU OIDs of ``certificate``; read leniently when the DER is not strict."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        return {usage.dotted_string for usage in extension.value}
    except x509.ExtensionNotFound:
        return set()
    except ValueError:
        # Some real signers encode e.g. an explicit cA=FALSE, which cryptography refuses.
        from asn1crypto import x509 as lenient

        try:
            parsed = lenient.Certificate.load(certificate.public_bytes(Encoding.DER))
            usages = parsed.extended_key_usage_value
        except (ValueError, TypeError) as error:
            raise UntrustedSigner(f"cannot read the signer certificate's key usage ({error})") from None
        return {usage.dotted for usage in usages} if usages is not None else set()


def allows(certificate: x509.Certificate, kind: str) -> bool:
    """Whether the signer may sign DCCs of ``kind`` (``v``/``t``/``r``); no DCC EKU = any kind."""
    dcc_usages = _dcc_usages(certificate)
    return not dcc_usages or not dcc_usages.isdisjoint(DCC_KEY_USAGE.get(kind, ()))


# Every certificate issued or verified asks about its signer: read each signer's extension once.
# Keyed by identity, as hashing an x509.Certificate hashes its DER (~2 µs); each entry holds its
# certificate, so the id cannot be reused while cached.
_DCC_USAGES: dict[int, tuple[x509.Certificate, frozenset[str]]] = {}
_MAX_CACHED = 256


def _dcc_usages(certificate: x509.Certificate) -> frozenset[str]:
    cached = _DCC_USAGES.get(id(certificate))
    if cached is not None and cached[0] is certificate:
        return cached[1]
    usages = frozenset(extended_key_usages(certificate) & _ALL_DCC_OIDS)
    if len(_DCC_USAGES) >= _MAX_CACHED:
        _DCC_USAGES.clear()
    _DCC_USAGES[id(certificate)] = (certificate, usages)
    return usages
