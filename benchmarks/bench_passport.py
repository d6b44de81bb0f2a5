"""Signing speed: raw ECDSA P-256 / RSA-PSS with `cryptography` vs full issuance and verification.

Full issuance = payload (names transliterated, schema-checked) → CBOR → COSE_Sign1 → zlib → Base45 →
``HC1:`` text (no QR image), as ``sign-batch`` runs it: ``issue_certificates`` over chunks of
``CLAIM`` people; one ``issue_certificate`` call at a time is reported beside it. Holders are
a stream of 200,000 synthetic residents (``vaxtrust.demo``: a province's names with their natural
repeats, partial dates of birth) with one to four doses of varied products: more people than a
measurement issues, so nobody is certified twice and no cache sees a repeated input. Full
verification = the reverse plus signer lookup, signature, expiry, key usage, schema and a
revocation-list lookup, over 4,096 certificates issued to them. All rates are measured side by side in one process, so the ratios
hold on any machine even though the absolute numbers are noisy on a shared one.

Targets (issue 5, item 7): issuance >= 1/3 of the raw ES256 sign rate, verification >= 1/3 of the
raw ES256 verify rate.

    .venv/bin/python benchmarks/bench_passport.py [--seconds 2] [--hsm]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from vaxtrust.demo.population import sample_identities
from vaxtrust.passport import pki
from vaxtrust.passport.issue import IssueRequest, issue_certificate, issue_certificates
from vaxtrust.passport.payload import Dose, Holder
from vaxtrust.passport.revocation import Revocation, RevocationList, revocation_document
from vaxtrust.passport.signer import LocalKeySigner, Signer
from vaxtrust.passport.trustlist import TrustedSigner, TrustList
from vaxtrust.passport.verify import verify_certificate
from vaxtrust.signing import CLAIM

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DOSES = [Dose(date(2021, 8, 2), "EU/1/21/1529"), Dose(date(2021, 10, 25), "EU/1/21/1529"),
         Dose(date(2022, 3, 1), "EU/1/20/1528")]
MESSAGE = os.urandom(330)  # about the size of a DCC's COSE Sig_structure
PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
HOLDERS = 200_000  # more than a 2 s measurement issues: no one is certified twice
DOSE_PLANS = [DOSES[:1], DOSES[:2], DOSES, [Dose(date(2021, 9, 14), "EU/1/20/1525")],
              [Dose(date(2021, 7, 1), "BBIBP-CorV"), Dose(date(2021, 7, 29), "BBIBP-CorV"),
               Dose(date(2022, 1, 5), "EU/1/20/1528"), Dose(date(2022, 6, 20), "EU/1/20/1507")]]


def synthetic_requests(count: int = HOLDERS) -> list[IssueRequest]:
    """Synthetic residents with varied dose histories: what a province's batch looks like."""
    return [(Holder(name, dob), DOSE_PLANS[index % len(DOSE_PLANS)])
            for index, (name, dob) in enumerate(sample_identities(count, seed=5772))]


def paired_rates(raw: Callable[[], int], full: Callable[[], int], seconds: float,
                 slice_seconds: float = 0.05) -> tuple[float, float]:
    """Rates of ``raw`` and ``full`` (each call returns how many operations it did), measured in
    alternating short slices.

    On a shared machine the load changes from second to second; alternating keeps both figures
    under the same load, so their ratio holds even when the absolute rates wander.
    """
    totals = {"raw": [0, 0.0], "full": [0, 0.0]}
    for action in (raw, full):
        for _ in range(3):
            action()
    deadline = time.perf_counter() + 2 * seconds
    while time.perf_counter() < deadline:
        for name, action in (("raw", raw), ("full", full)):
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < slice_seconds:
                count += action()
            totals[name][0] += count
            totals[name][1] += time.perf_counter() - start
    return totals["raw"][0] / totals["raw"][1], totals["full"][0] / totals["full"][1]


def repeated(action: Callable[[], object], times: int = 5) -> Callable[[], int]:
    def run() -> int:
        for _ in range(times):
            action()
        return times
    return run


def cycling(items: list[Any], chunk: int, action: Callable[[list[Any]], object]) -> Callable[[], int]:
    """Calls ``action`` on the next ``chunk`` of ``items``, round and round."""
    position = 0

    def run() -> int:
        nonlocal position
        part = items[position:position + chunk]
        position = (position + chunk) % len(items)
        action(part)
        return len(part)
    return run


def make_signer(key_type: pki.KeyType) -> tuple[LocalKeySigner, x509.Certificate]:
    csca_key, csca = pki.new_csca(country="VN", common_name="bench CSCA", now=NOW - timedelta(days=1))
    key = pki.new_private_key(key_type)
    certificate = pki.new_document_signer(
        csca_key=csca_key, csca_certificate=csca, public_key=key.public_key(),
        common_name="bench DSC", now=NOW - timedelta(days=1),
    )
    return LocalKeySigner(key, certificate), csca


def revocation_list_with(entries: int) -> RevocationList:
    """A revocation list with ``entries`` unrelated certificates (the lookup a verifier pays)."""
    revocations = [
        Revocation(uci=f"URN:UVCI:01:VN:{index:032X}", country="VN", kid=b"\x01" * 8,
                   signature=os.urandom(64), revoked_at=NOW, expires=NOW + timedelta(days=365),
                   reason="bench")
        for index in range(entries)
    ]
    return RevocationList.from_document(revocation_document(revocations, country="VN", now=NOW), now=NOW)


def bench_algorithm(name: str, signer: Signer, csca: x509.Certificate, raw_sign: Callable[[], object],
                    raw_verify: Callable[[], object], seconds: float, revoked: RevocationList,
                    requests: list[IssueRequest]) -> list[str]:
    trust = TrustList([TrustedSigner(signer.certificate, "VN")], [csca])
    texts = [certificate.qr_text for certificate in issue_certificates(requests[:4096], signer, now=NOW)
             if not isinstance(certificate, Exception)]
    sign_rate, batch_rate = paired_rates(repeated(raw_sign), cycling(
        requests, CLAIM, lambda part: issue_certificates(part, signer, now=NOW)), seconds)
    _, single_rate = paired_rates(repeated(raw_sign), cycling(
        requests, 5, lambda part: [issue_certificate(*request, signer, now=NOW) for request in part]),
        seconds)
    verify_rate, full_verify_rate = paired_rates(repeated(raw_verify), cycling(
        texts, 5, lambda part: [verify_certificate(text, trust, now=NOW, revocation=revoked)
                                for text in part]), seconds)
    return [
        f"| {name} sign: issuance as sign-batch runs it ({CLAIM} a call) | {sign_rate:,.0f} | "
        f"{batch_rate:,.0f} | {batch_rate / sign_rate:.2f} |",
        f"| {name} sign: one issue_certificate call at a time | {sign_rate:,.0f} | "
        f"{single_rate:,.0f} | {single_rate / sign_rate:.2f} |",
        f"| {name} verify | {verify_rate:,.0f} | {full_verify_rate:,.0f} | {full_verify_rate / verify_rate:.2f} |",
    ]


def bench_hsm(seconds: float) -> list[str]:
    """ES256 issuance with the key in a SoftHSM2 token (a throw-away token in a temp dir)."""
    tool = shutil.which("softhsm2-util")
    module = Path("/usr/lib/softhsm/libsofthsm2.so")
    if tool is None or not module.is_file():
        return ["(SoftHSM2 not installed: HSM rows skipped)"]
    root = Path(tempfile.mkdtemp(prefix="bench-softhsm-"))
    (root / "tokens").mkdir()
    (root / "softhsm2.conf").write_text(f"directories.tokendir = {root / 'tokens'}\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(root / "softhsm2.conf")
    subprocess.run([tool, "--init-token", "--free", "--label", "bench", "--pin", "1234", "--so-pin", "4321"],
                   check=True, capture_output=True)
    from vaxtrust.passport.keystore import KeyStore, TokenKey

    store = KeyStore.create(root / "keys", country="VN", common_name="bench CSCA",
                            passphrase=pki.Passphrase.of("bench passphrase"), now=NOW - timedelta(days=1))
    store.new_signer("hsm", csca_passphrase=pki.Passphrase.of("bench passphrase"),
                     token=TokenKey(module, "bench", "1234"), now=NOW - timedelta(days=1))
    signer = store.load_signer("hsm", now=NOW, pin="1234")
    requests = synthetic_requests(1024)
    raw, full = paired_rates(repeated(lambda: signer.sign(MESSAGE)), cycling(
        requests, CLAIM, lambda part: issue_certificates(part, signer, now=NOW)), seconds)
    shutil.rmtree(root, ignore_errors=True)
    return [f"| ES256 sign, SoftHSM2 token | {raw:,.0f} (token) | {full:,.0f} | {full / raw:.2f} |"]


def bench_batch(people: int) -> list[str]:
    """People per second through ``sign-batch --run``: the run published into an embedded SQLite
    store, then its queue signed (claim, reserve UVCIs, payload, ES256, journal fsync, store
    confirm); publish and signing are timed apart."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vaxtrust.app.signing import StoreChoice, publish_for_signing
    from vaxtrust.console import NoopConsole
    from vaxtrust.pipeline.outputs import write_contents
    from vaxtrust.pipeline.run_folder import RunManifest
    from vaxtrust.pipeline.settings import CleanSettings
    from vaxtrust.schema import ORIGINAL_FIELDS, REGISTER_COLUMNS
    from vaxtrust.signing.batch import sign_from_store
    from vaxtrust.signing.journal import IssuanceJournal
    from vaxtrust.store.db import Store
    from vaxtrust.store.scope import load_actor
    from vaxtrust.store.users import add_user

    root = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    run = root / "run"
    run.mkdir()
    ids = [f"P{index:09d}" for index in range(people)]
    records = [f"R{index}" for index in range(people)]
    pq.write_table(pa.table({
        "record_id": records, "status": ["verified"] * people, "person_id": ids,
        "corrected_full_name": pa.nulls(people, pa.string()), "corrected_dob": pa.nulls(people, pa.string()),
        "corrected_gender": pa.nulls(people, pa.string()), "corrected_id_number": pa.nulls(people, pa.string()),
        "confidence": [0.99] * people, "reasons": pa.array([[]] * people, pa.list_(pa.string())),
    }), run / "results.parquet")
    pq.write_table(pa.table({
        "person_id": ids, "record_id": records, "dose_number": pa.array([1] * people, pa.int32()),
        "vaccine_mp": ["EU/1/21/1529"] * people, "vaccine_ma": pa.nulls(people, pa.string()),
        "vaccine_vp": pa.nulls(people, pa.string()), "vaccinated_on": [date(2021, 8, 2)] * people,
        "facility_id": ["FAC-01"] * people, "duplicate_of": pa.nulls(people, pa.string()),
        "flags": pa.array([[]] * people, pa.list_(pa.string())),
    }), run / "dose_history.parquet")
    originals = {f"original_{name}": pa.nulls(people, pa.string()) for name in ORIGINAL_FIELDS}
    pq.write_table(pa.table({
        "record_id": records, "facility_id": ["FAC-01"] * people, "province_code": ["01"] * people,
        "commune_code": pa.nulls(people, pa.string()), **originals,
        "full_name": ["Trần Thị Minh Khai"] * people, "dob": ["1979-09-02"] * people,
        "gender": ["F"] * people, "id_number": ids, "status": ["verified"] * people,
        "person_id": ids, "confidence": [0.99] * people,
        "reasons": pa.array([[]] * people, pa.list_(pa.string())),
        "input_order": pa.array(range(people), pa.int64()),
    }), run / "records.parquet")
    pq.write_table(pa.table({
        name: ids if name == "person_id" else ["Trần Thị Minh Khai"] * people if name == "full_name"
        else ["1979-09-02"] * people if name == "dob" else ["day"] * people
        if name == "dob_precision" else ["01"] * people if name == "province_code"
        else pa.nulls(people, pa.string()) for name in REGISTER_COLUMNS
    }), run / "persons.parquet")
    RunManifest(run_id=f"run-bench-{people}", created_at=NOW.isoformat(), vaxtrust_version="bench",
                engine="duckdb", settings=CleanSettings().to_document(NOW.date())).write(run)
    write_contents(run)
    signer, _ = make_signer("ec")
    store = Store.open(StoreChoice(keystore=root).url)
    with store.transaction() as session:
        add_user(session, by=None, username="bench", role="ministry", password=os.urandom(16).hex())
    with store.transaction() as session:
        actor = load_actor(session, "bench")
    start = time.perf_counter()
    publish_for_signing(store, actor, run, NoopConsole())
    published = time.perf_counter() - start
    with IssuanceJournal(root / "out" / "issuance.sqlite") as journal:
        start = time.perf_counter()
        summary = sign_from_store(store, actor, journal, lambda person: ("bench", signer),
                                  worker="bench", now=lambda: NOW)
        elapsed = time.perf_counter() - start
    store.close()
    shutil.rmtree(root, ignore_errors=True)
    return [f"| sign-batch, {summary.issued:,} people from the store's queue (ES256, file key) | "
            f"| {summary.issued / elapsed:,.0f} | |",
            f"| sign-batch --run, {summary.issued:,} people: publish + sign | "
            f"| {summary.issued / (elapsed + published):,.0f} | |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per figure")
    parser.add_argument("--revoked", type=int, default=10_000, help="entries in the revocation list")
    parser.add_argument("--hsm", action="store_true", help="also measure a SoftHSM2 token signer")
    parser.add_argument("--batch", type=int, default=0, help="also run sign-batch over N people")
    args = parser.parse_args()

    revoked = revocation_list_with(args.revoked)
    requests = synthetic_requests()
    gc.freeze()  # the pool of people is set-up, not work: keep it out of the collector's rounds
    rows = ["| operation | raw cryptography /s | full vaxtrust /s | ratio (target >= 0.33) |",
            "| --- | ---: | ---: | ---: |"]

    es_signer, es_csca = make_signer("ec")
    es_key = es_signer.private_key
    assert isinstance(es_key, ec.EllipticCurvePrivateKey)
    es_signature = es_key.sign(MESSAGE, ec.ECDSA(hashes.SHA256()))
    es_public = es_key.public_key()
    rows += bench_algorithm(
        "ES256", es_signer, es_csca,
        lambda: es_key.sign(MESSAGE, ec.ECDSA(hashes.SHA256())),
        lambda: es_public.verify(es_signature, MESSAGE, ec.ECDSA(hashes.SHA256())),
        args.seconds, revoked, requests,
    )

    ps_signer, ps_csca = make_signer("rsa")
    ps_key = ps_signer.private_key
    assert isinstance(ps_key, rsa.RSAPrivateKey)
    ps_signature = ps_key.sign(MESSAGE, PSS, hashes.SHA256())
    ps_public = ps_key.public_key()
    rows += bench_algorithm(
        f"PS256 (RSA-{ps_key.key_size})", ps_signer, ps_csca,
        lambda: ps_key.sign(MESSAGE, PSS, hashes.SHA256()),
        lambda: ps_public.verify(ps_signature, MESSAGE, PSS, hashes.SHA256()),
        args.seconds, revoked, requests,
    )
    if args.hsm:
        rows += bench_hsm(args.seconds)
    if args.batch:
        rows += bench_batch(args.batch)
    print(f"passport signing benchmark ({args.seconds:g} s per figure, raw and full measured in "
          f"alternating slices; revocation list of {len(revoked):,} hashes; one thread)")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
