"""Score the verifier (and issuer) against dgc-testdata-format files.

Each ``EXPECTED*`` flag of a file is one check: ``true`` = that step must succeed, ``false`` = it
must fail. A check whose inputs the file lacks is *not evaluable*, never a failure. Each check
runs on the file's own field for its step (``BASE45`` for Base45, ``COMPRESSED`` for zlib, ...),
falling back to the chain from ``PREFIX`` when that field is missing.
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from vaxtrust.errors import CertificateError, InputError
from vaxtrust.passport import qr, schemas, verify
from vaxtrust.passport._hazmat import DecodeError, base45, cose, limits
from vaxtrust.passport.issue import SignedCertificate
from vaxtrust.passport.signer import kid_of

# Flag → category. Transport and crypto are the verifier's core; schema and issuer are reported apart.
FLAGS: dict[str, str] = {
    "EXPECTEDPICTUREDECODE": "transport",
    "EXPECTEDUNPREFIX": "transport",
    "EXPECTEDB45DECODE": "transport",
    "EXPECTEDCOMPRESSION": "transport",
    "EXPECTEDDECODE": "decoding",
    "EXPECTEDVALIDJSON": "decoding",
    "EXPECTEDVERIFY": "crypto",
    "EXPECTEDEXPIRATIONCHECK": "crypto",
    "EXPECTEDKEYUSAGE": "crypto",
    "EXPECTEDSCHEMAVALIDATION": "schema",
    "EXPECTEDVALIDOBJECT": "issuer",
    "EXPECTEDENCODE": "issuer",
}
ISSUER_FLAGS = frozenset({"EXPECTEDVALIDOBJECT", "EXPECTEDENCODE"})
# Upstream harness test names (known_issues.upstream.csv) → the flags they score.
UPSTREAM_TESTS = {
    "test_cose_schema": ("EXPECTEDSCHEMAVALIDATION",),
    "test_cose_json": ("EXPECTEDDECODE", "EXPECTEDVALIDJSON"),
    "test_cbor_json": ("EXPECTEDDECODE",),
    "test_verification_check": ("EXPECTEDVERIFY",),
    "test_expiration_check": ("EXPECTEDEXPIRATIONCHECK",),
    "test_expected_key_usage": ("EXPECTEDKEYUSAGE",),
}

Outcome = tuple[bool | None, str]   # (step succeeded? None = not evaluable, detail)


class _Unavailable(Exception):
    """The file lacks an input this check needs."""


@dataclass(frozen=True)
class FlagResult:
    flag: str
    expected: bool
    actual: bool | None
    detail: str = ""

    @property
    def category(self) -> str:
        return FLAGS[self.flag]

    @property
    def outcome(self) -> str:
        if self.actual is None:
            return "not evaluable"
        return "agree" if self.actual == self.expected else "disagree"


@dataclass(frozen=True)
class FileResult:
    path: str
    results: tuple[FlagResult, ...]
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and all(r.outcome != "disagree" for r in self.results)


@dataclass
class Report:
    files: list[FileResult]
    known_issues: set[tuple[str, str]] = field(default_factory=set)   # (file path, flag)

    def flag_table(self, *, upstream_comparable: bool = False) -> dict[str, dict[str, int]]:
        """Per flag: agree/disagree/not evaluable, positives and negatives counted apart."""
        table: dict[str, Counter[str]] = {flag: Counter() for flag in FLAGS}
        for file in self.files:
            for result in file.results:
                if upstream_comparable and self._dropped(file.path, result.flag):
                    continue
                sign = "positive" if result.expected else "negative"
                table[result.flag][f"{sign} {result.outcome}"] += 1
        return {flag: dict(counts) for flag, counts in table.items() if counts}

    def _dropped(self, path: str, flag: str) -> bool:
        return flag in ISSUER_FLAGS or (path, flag) in self.known_issues

    def disagreements(self) -> list[tuple[str, FlagResult]]:
        return [(f.path, r) for f in self.files for r in f.results if r.outcome == "disagree"]

    def summary(self) -> dict[str, Any]:
        by_category: dict[str, Counter[str]] = {}
        for file in self.files:
            for result in file.results:
                sign = "positive" if result.expected else "negative"
                by_category.setdefault(result.category, Counter())[f"{sign} {result.outcome}"] += 1
        comparable = [
            f for f in self.files
            if not f.error and all(r.outcome != "disagree" or self._dropped(f.path, r.flag)
                                   for r in f.results)
        ]
        return {
            "files": len(self.files),
            "files_passed": sum(f.passed for f in self.files),
            "files_passed_upstream_comparable": len(comparable),
            "unreadable_files": [f.path for f in self.files if f.error],
            "by_category": {name: dict(counts) for name, counts in sorted(by_category.items())},
            "by_flag": self.flag_table(),
            "by_flag_upstream_comparable": self.flag_table(upstream_comparable=True),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "files": [
                {"path": f.path, "passed": f.passed, "error": f.error or None,
                 "flags": [{"flag": r.flag, "category": r.category, "expected": r.expected,
                            "actual": r.actual, "outcome": r.outcome, "detail": r.detail}
                           for r in f.results]}
                for f in self.files
            ],
        }


def dcc_test_file(certificate: SignedCertificate, signer: x509.Certificate, *, clock: datetime,
                  description: str = "") -> dict[str, Any]:
    """A dgc-testdata-format file for a certificate vaxtrust issued, every flag expected true."""
    compressed = base45.decode(certificate.qr_text.removeprefix("HC1:"))
    return {
        "JSON": certificate.payload,
        "CBOR": cbor2.dumps(certificate.payload).hex(),
        "COSE": certificate.cose.hex(),
        "COMPRESSED": compressed.hex(),
        "BASE45": certificate.qr_text.removeprefix("HC1:"),
        "PREFIX": certificate.qr_text,
        "2DCODE": base64.b64encode(certificate.png()).decode("ascii"),
        "TESTCTX": {
            "VERSION": 1,
            "SCHEMA": certificate.payload["ver"],
            "CERTIFICATE": base64.b64encode(signer.public_bytes(Encoding.DER)).decode("ascii"),
            "VALIDATIONCLOCK": clock.isoformat(),
            "DESCRIPTION": description,
        },
        "EXPECTEDRESULTS": dict.fromkeys(FLAGS, True),
    }


# --- running ---------------------------------------------------------------------------------

def find_test_files(directory: Path) -> list[Path]:
    """Every ``*.json`` under ``directory`` that carries ``EXPECTEDRESULTS`` (sorted)."""
    if not directory.is_dir():
        raise InputError("not a directory", path=str(directory))
    found = []
    for path in sorted(directory.rglob("*.json")):
        try:
            content = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            found.append(path)   # reported as unreadable, never silently dropped
            continue
        if isinstance(content, dict) and "EXPECTEDRESULTS" in content:
            found.append(path)
    return found


def run_directory(directory: Path, *, progress: Callable[[int, int], None] | None = None) -> Report:
    """Score every test file under ``directory``; reads ``known_issues.upstream.csv`` if present."""
    files = find_test_files(directory)
    results = []
    for index, path in enumerate(files, start=1):
        results.append(run_file(path, relative_to=directory))
        if progress:
            progress(index, len(files))
    return Report(results, _known_issues(directory, results))


def run_file(path: Path, *, relative_to: Path | None = None) -> FileResult:
    name = str(path.relative_to(relative_to)) if relative_to else str(path)
    try:
        content = json.loads(path.read_text("utf-8"))
        expected = content["EXPECTEDRESULTS"]
        if not isinstance(expected, dict):
            raise TypeError("EXPECTEDRESULTS is not an object")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        return FileResult(name, (), error=f"unreadable test file: {error}")
    case = _Case(content)
    results = tuple(
        FlagResult(flag, value, *case.check(flag))
        for flag, value in expected.items()
        if flag in FLAGS and isinstance(value, bool)
    )
    return FileResult(name, results)


def _known_issues(directory: Path, results: Iterable[FileResult]) -> set[tuple[str, str]]:
    csv_path = directory / "known_issues.upstream.csv"
    if not csv_path.is_file():
        return set()
    pairs: set[tuple[str, str]] = set()
    paths = [r.path for r in results]
    with csv_path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for path in paths:
                parts = Path(path).parts
                if parts[0] != row["country"]:
                    continue
                if row["test_set"] and Path(path).stem != row["test_set"]:
                    continue
                pairs.update((path, flag) for flag in UPSTREAM_TESTS.get(row["test_name"], ()))
    return pairs


# --- one file ----------------------------------------------------------------------------------

class _Case:
    """The checks of one test file, each catching its own failure."""

    def __init__(self, content: Mapping[str, Any]) -> None:
        self.content = content
        context = content.get("TESTCTX")
        self.context: dict[str, Any] = context if isinstance(context, dict) else {}

    def check(self, flag: str) -> Outcome:
        method = getattr(self, "_" + flag.removeprefix("EXPECTED").lower())
        try:
            ok, detail = method()
        except _Unavailable as missing:
            return None, f"not evaluable: no {missing}"
        except (CertificateError, DecodeError, cose.SignatureError) as error:
            return False, str(error)
        except (ValueError, TypeError, KeyError, binascii.Error) as error:
            return False, f"{type(error).__name__}: {error}"
        return ok, detail

    # inputs
    def _field(self, key: str) -> Any:
        value = self.content.get(key)
        if value in (None, ""):
            raise _Unavailable(key)
        return value

    def _hex(self, key: str) -> bytes:
        return bytes.fromhex(str(self._field(key)).strip())

    def _cose_bytes(self) -> bytes:
        if self.content.get("COSE"):
            return self._hex("COSE")
        return verify.inflate(verify.decode_base45(verify.strip_prefix(self._field("PREFIX"))))

    def _decoded(self) -> verify.DecodedCertificate:
        return verify.decode_cose(self._cose_bytes())

    def _certificate(self) -> x509.Certificate:
        text = self.context.get("CERTIFICATE")
        if not text:
            raise _Unavailable("TESTCTX.CERTIFICATE")
        return x509.load_der_x509_certificate(base64.b64decode(text))

    def _clock(self) -> datetime:
        text = self.context.get("VALIDATIONCLOCK")
        if not text:
            raise _Unavailable("TESTCTX.VALIDATIONCLOCK")
        return parse_instant(str(text))

    # checks
    def _picturedecode(self) -> Outcome:
        image = base64.b64decode(self._field("2DCODE"))
        text = qr.read_qr(image)
        prefix = self.content.get("PREFIX")
        return (prefix is None or text == prefix), "" if text == prefix else "decoded text differs from PREFIX"

    def _unprefix(self) -> Outcome:
        rest = verify.strip_prefix(self._field("PREFIX"))
        b45 = self.content.get("BASE45")
        if b45 and rest != b45:
            return False, "text after HC1: differs from BASE45"
        return True, ""

    def _b45decode(self) -> Outcome:
        data = base45.decode(self._field("BASE45"))
        compressed = self.content.get("COMPRESSED")
        if compressed and data != bytes.fromhex(compressed):
            return False, "decoded bytes differ from COMPRESSED"
        return True, ""

    def _compression(self) -> Outcome:
        data = limits.inflate(self._hex("COMPRESSED"))
        cose_hex = self.content.get("COSE")
        if cose_hex and data != bytes.fromhex(cose_hex):
            return False, "inflated bytes differ from COSE"
        return True, ""

    def _decode(self) -> Outcome:
        payload = self._decoded().payload
        if self.content.get("JSON") is not None and not same_payload(payload, self.content["JSON"]):
            return False, "decoded payload differs from JSON"
        if self.content.get("CBOR"):
            if not same_payload(payload, _cbor_payload(self._hex("CBOR"))):
                return False, "decoded payload differs from CBOR"
        return True, ""

    def _verify(self) -> Outcome:
        message = cose.decode_sign1(self._cose_bytes())
        verify.check_signature(message, _SingleSigner(self._certificate()))
        return True, ""

    def _expirationcheck(self) -> Outcome:
        verify.check_validity(self._decoded(), self._clock())
        return True, ""

    def _keyusage(self) -> Outcome:
        verify.check_key_usage(self._decoded(), self._certificate())
        return True, ""

    def _schemavalidation(self) -> Outcome:
        try:
            payload: Any = self._decoded().payload
        except CertificateError:
            payload = self._field("JSON")
        errors = schemas.schema_errors(payload)
        return not errors, "; ".join(errors)

    def _validjson(self) -> Outcome:
        expected = self._field("JSON")
        text = self.content.get("PREFIX") or qr.read_qr(base64.b64decode(self._field("2DCODE")))
        payload = verify.decode(text).payload
        return same_payload(payload, expected), ""

    def _validobject(self) -> Outcome:
        payload = self._field("JSON")
        claimed = self.context.get("SCHEMA")
        version = schemas.schema_version_for(claimed) if claimed else None
        errors = schemas.schema_errors(payload, version)
        return not errors, "; ".join(errors)

    def _encode(self) -> Outcome:
        encoded = limits.loads(cbor2.dumps(self._field("JSON")))
        return same_payload(encoded, _cbor_payload(self._hex("CBOR"))), ""


class _SingleSigner:
    """The test file's DSC as a one-entry trust list (kid from its DER)."""

    def __init__(self, certificate: x509.Certificate) -> None:
        self.certificate = certificate

    def certificates_for(self, kid: bytes) -> list[x509.Certificate]:
        return [self.certificate] if kid == kid_of(self.certificate) else []


def _cbor_payload(data: bytes) -> Any:
    """The DCC of a ``CBOR`` field, which holds either the payload or the whole CWT claims map."""
    item = limits.loads(data)
    if isinstance(item, Mapping) and -260 in item:
        hcert = item[-260]
        return hcert.get(1) if isinstance(hcert, Mapping) else hcert
    return item


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_instant(text: str) -> datetime:
    """ISO 8601 instant; no offset means UTC; fractions beyond microseconds are cut."""
    value = datetime.fromisoformat(_LONG_FRACTION.sub(r"\1", text.strip()).replace("z", "Z"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    if isinstance(value, str) and _DATE_TIME.match(value):
        try:
            instant = parse_instant(value).astimezone(UTC)
        except ValueError:
            return value
        return instant.replace(microsecond=0).isoformat()
    return value


def same_payload(left: Any, right: Any) -> bool:
    """Semantic equality of two DCC payloads: same values, date-times compared as UTC instants."""
    return bool(_normalise(limits.to_json(left)) == _normalise(limits.to_json(right)))
