"""Fixtures and helpers for the key, trust-list, revocation and batch tests (imported by conftest.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.conftest import require_service
from vaxtrust.passport import pki
from vaxtrust.passport.keystore import KeyStore

KEYS_NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CSCA_PASSPHRASE = "csca passphrase for tests"
KEY_PASSPHRASE = "signer passphrase for tests"
SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN_LABEL = "vaxtrust-test"
TOKEN_PIN = "4711-0815"


def passphrase(text: str) -> pki.Passphrase:
    return pki.Passphrase.of(text)


def verify_cose_signature(certificate: x509.Certificate, message: bytes, signature: bytes) -> None:
    """Check a COSE signature (ES256 r||s or PS256) with the certificate's key; raises if wrong."""
    public_key = certificate.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        assert len(signature) == 64
        der = encode_dss_signature(int.from_bytes(signature[:32]), int.from_bytes(signature[32:]))
        public_key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(public_key, rsa.RSAPublicKey)
        public_key.verify(
            signature, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256(),
        )


@pytest.fixture
def keystore(tmp_path: Path) -> KeyStore:
    """A key store with a P-256 CSCA and one national file-key signer named ``vn-national``."""
    store = KeyStore.create(
        tmp_path / "keys", country="VN", common_name="VN CSCA test", now=KEYS_NOW,
        passphrase=passphrase(CSCA_PASSPHRASE),
    )
    store.new_signer(
        "vn-national", csca_passphrase=passphrase(CSCA_PASSPHRASE),
        key_passphrase=passphrase(KEY_PASSPHRASE), now=KEYS_NOW,
    )
    return store


@dataclass(frozen=True)
class SoftToken:
    module: Path
    label: str
    pin: str


@pytest.fixture(scope="session")
def soft_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftToken]:
    """A fresh SoftHSM2 token in a temporary directory (SOFTHSM2_CONF points there for the session).

    PKCS#11 libraries read their configuration once per process, so the token is made before the
    first test loads the module, and lives for the whole session.
    """
    tool = shutil.which("softhsm2-util")
    if not SOFTHSM_MODULE.is_file() or tool is None:
        require_service(f"SoftHSM2 missing ({SOFTHSM_MODULE}); apt-get install softhsm2")
        raise AssertionError("unreachable")
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    config = root / "softhsm2.conf"
    config.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)
    subprocess.run(
        [tool, "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", TOKEN_PIN,
         "--so-pin", "so-" + TOKEN_PIN],
        check=True, capture_output=True, env=os.environ.copy(),
    )
    yield SoftToken(SOFTHSM_MODULE, TOKEN_LABEL, TOKEN_PIN)
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def assert_sealed_in_token(token: SoftToken, key_label: str) -> None:
    """The private key ``key_label`` is sensitive and non-extractable: its value cannot be read."""
    import pkcs11

    from vaxtrust.passport.pkcs11 import token_session

    with token_session(token.module, token.label, token.pin) as session:
        key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=key_label)
        assert key[pkcs11.Attribute.EXTRACTABLE] is False
        assert key[pkcs11.Attribute.SENSITIVE] is True
        with pytest.raises(pkcs11.AttributeSensitive):
            key[pkcs11.Attribute.VALUE]


def odd_signer_certificate(
    store: KeyStore, *, eku: list[str] | None, valid_from: datetime = KEYS_NOW,
    valid_for: timedelta = timedelta(days=365), key: pki.PrivateKey | None = None,
) -> tuple[pki.PrivateKey, x509.Certificate]:
    """A signer certificate from the store's CSCA with any EKU and validity (for bad-signer tests)."""
    csca_key = pki.load_private_key(store.directory / "csca" / "csca.key.p8", passphrase(CSCA_PASSPHRASE))
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "odd signer")]))
        .issuer_name(store.csca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_from + valid_for)
    )
    if eku is not None:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(oid) for oid in eku]), critical=False
        )
    return key, builder.sign(csca_key, hashes.SHA256())


# --- a synthetic cleaning run (results, dose history) and register -------------------------------

VAXZEVRIA = "EU/1/21/1529"
COMIRNATY = "EU/1/20/1528"


@dataclass
class SyntheticPerson:
    """One synthetic register person with their linked doses (never a real person)."""

    person_id: str
    full_name: str
    dob: str
    dob_precision: str = "day"
    province: str = "01"
    status: str = "verified"
    doses: list[tuple[str, str]] | None = None  # (vaccinated_on, mp)
    flags: list[str] | None = None
    in_register: bool = True


def synthetic_people() -> list[SyntheticPerson]:
    return [
        SyntheticPerson("P001", "Nguyễn Thị Thuỷ", "1980-05-17", doses=[("2021-08-02", VAXZEVRIA), ("2021-10-25", VAXZEVRIA)]),
        SyntheticPerson("P002", "Trần Văn Đức", "1975-01-01", "year", province="79", status="corrected",
                        doses=[("2021-09-01", COMIRNATY), ("2021-09-29", COMIRNATY), ("2022-03-01", COMIRNATY)]),
        SyntheticPerson("P003", "Lê Hoàng Minh Anh", "1992-11-30", province="48", doses=[("2021-11-11", COMIRNATY)]),
        SyntheticPerson("P004", "Phạm Quang Huy", "1988-02-02", status="review", doses=[("2021-12-01", COMIRNATY)]),
        SyntheticPerson("P005", "Võ Thị Lan", "1990-07-07", doses=[("2021-12-01", COMIRNATY)], flags=["dose_interval_too_short"]),
        SyntheticPerson("P006", "Đặng Văn Nam", "1970-03-03", doses=[("2021-12-01", COMIRNATY)], in_register=False),
        SyntheticPerson("P007", "Bùi Thị Hoa", "1965-06", "month", doses=[("2021-10-10", VAXZEVRIA)]),
    ]


def write_run(directory: Path, people: list[SyntheticPerson]) -> tuple[Path, Path]:
    """Write the run folder ``vaxtrust clean`` would write for ``people`` (results, dose history,
    publish-ready records and persons, run.json, contents.json) and a register; returns (run
    dir, register)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vaxtrust.pipeline.outputs import write_contents
    from vaxtrust.schema import DOSE_HISTORY_COLUMNS, REGISTER_COLUMNS, RESULT_COLUMNS

    run = directory / "run"
    run.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[object]] = {name: [] for name in RESULT_COLUMNS}
    history: dict[str, list[object]] = {name: [] for name in DOSE_HISTORY_COLUMNS}
    register: dict[str, list[object]] = {name: [] for name in REGISTER_COLUMNS}
    records: list[dict[str, object]] = []
    for person in people:
        if person.in_register:
            for name, value in zip(REGISTER_COLUMNS, (
                person.person_id, None, person.full_name,
                person.dob if len(person.dob) == 10 else (person.dob + "-01-01")[:10],
                person.dob_precision, "F", person.province, None, None, None,
            ), strict=True):
                register[name].append(value)
        for number, (day, mp) in enumerate(person.doses or [], start=1):
            record_id = f"R-{person.person_id}-{number}"
            records.append({"record_id": record_id, "full_name": person.full_name, "dob": person.dob,
                            "gender": "F", "province": person.province, "dose_number": str(number),
                            "vaccine": mp, "vaccinated_on": day,
                            "facility_id": f"FAC-{person.province}",
                            "review": person.status == "review", "person": person.person_id,
                            "status": person.status,
                            "linked": person.person_id if person.status in ("verified", "corrected") else None})
            linked = person.status in ("verified", "corrected")
            result_row: tuple[object, ...] = (
                record_id, person.status, person.person_id if linked else None,
                None, None, None, None, 0.99, [],
            )
            for name, cell in zip(RESULT_COLUMNS, result_row, strict=True):
                results[name].append(cell)
            if linked:
                dose_row: tuple[object, ...] = (
                    person.person_id, record_id, number, mp, None, None,
                    datetime.fromisoformat(day).date(), f"FAC-{person.province}", None,
                    list(person.flags or []),
                )
                for name, cell in zip(DOSE_HISTORY_COLUMNS, dose_row, strict=True):
                    history[name].append(cell)
    pq.write_table(pa.table(results, schema=pa.schema([
        (name, pa.float64() if name == "confidence" else pa.list_(pa.string()) if name == "reasons" else pa.string())
        for name in RESULT_COLUMNS
    ])), run / "results.parquet")
    pq.write_table(pa.table(history, schema=pa.schema([
        (name, pa.int32() if name == "dose_number" else pa.date32() if name == "vaccinated_on"
         else pa.list_(pa.string()) if name == "flags" else pa.string())
        for name in DOSE_HISTORY_COLUMNS
    ])), run / "dose_history.parquet")
    pq.write_table(pa.table({
        "record_id": [row["record_id"] for row in records if row["review"]],
        "rank": pa.array([1 for row in records if row["review"]], pa.int32()),
        "person_id": [row["person"] for row in records if row["review"]],
        "match_probability": pa.array([0.6 for row in records if row["review"]], pa.float64()),
        "comparison": ["{}" for row in records if row["review"]],
        "reasons": pa.array([[] for row in records if row["review"]], pa.list_(pa.string())),
    }), run / "review_candidates.parquet")
    _write_publish_tables(run, records, [person for person in people if person.in_register])
    write_contents(run)  # what clean writes last: signing refuses a run edited afterwards
    register_path = directory / "register.parquet"
    pq.write_table(pa.table(register, schema=pa.schema([(name, pa.string()) for name in REGISTER_COLUMNS])),
                   register_path)
    return run, register_path


def _write_publish_tables(run: Path, records: list[dict[str, object]],
                          persons: list[SyntheticPerson]) -> None:
    """records.parquet, persons.parquet, summary.json and run.json, as the cleaning writes them."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.store.factory import PERSONS_SCHEMA, RECORDS_SCHEMA, RUN_TODAY
    from vaxtrust.pipeline.run_folder import RunManifest
    from vaxtrust.pipeline.settings import CleanSettings
    from vaxtrust.schema import ORIGINAL_FIELDS

    rows = []
    for order, record in enumerate(records, start=1):
        original = {"full_name": record["full_name"], "dob": record["dob"], "gender": "F",
                    "province": record["province"], "dose_number": record["dose_number"],
                    "vaccine": record["vaccine"], "vaccinated_on": record["vaccinated_on"],
                    "facility_id": record["facility_id"]}
        rows.append({
            "record_id": record["record_id"], "facility_id": record["facility_id"],
            "province_code": record["province"], "commune_code": None,
            **{f"original_{name}": original.get(name) for name in ORIGINAL_FIELDS},
            "full_name": record["full_name"], "dob": record["dob"], "gender": "F", "id_number": None,
            "status": record["status"], "person_id": record["linked"], "confidence": 0.99,
            "reasons": [], "input_order": 1_000_000_000_000 + order,
        })
    pq.write_table(pa.Table.from_pylist(rows, schema=RECORDS_SCHEMA), run / "records.parquet")
    pq.write_table(pa.Table.from_pylist([{
        "person_id": person.person_id, "full_name": person.full_name,
        "dob": person.dob if len(person.dob) == 10 else (person.dob + "-01-01")[:10],
        "dob_precision": person.dob_precision, "gender": "F", "province_code": person.province,
    } for person in persons], schema=PERSONS_SCHEMA), run / "persons.parquet")
    run_id = "run-" + hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()[:12]
    (run / "summary.json").write_text(json.dumps({"run_id": run_id}), encoding="utf-8")
    RunManifest(run_id=run_id, created_at="2022-06-30T00:00:00+00:00", vaxtrust_version="test",
                engine="duckdb", settings=CleanSettings().to_document(RUN_TODAY)).write(run)
