"""Signing never trusts an edited run folder: a run is checked against the content manifest its
cleaning wrote before it is published, and signing reads only the store."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.passport.conftest_keys import (
    KEY_PASSPHRASE,
    KEYS_NOW,
    SyntheticPerson,
    synthetic_people,
    write_run,
)
from vaxtrust.app.signing import SignRequest, StoreChoice, embedded_store_url, sign
from vaxtrust.errors import InputError
from vaxtrust.passport.keystore import KeyStore
from vaxtrust.passport.trustlist import trust_list_of
from vaxtrust.passport.verify import verify_certificate
from vaxtrust.pipeline.outputs import (
    RUN_CONTENTS,
    check_contents,
    file_sha256,
    staged_run_dir,
    write_contents,
)
from vaxtrust.store.audit_key import AuditKey
from vaxtrust.store.db import Store
from vaxtrust.store.tables import Certificate

SIGN_AT = KEYS_NOW + dt.timedelta(days=1)
# In the register, never vaccinated: the tamperer wants P001's doses on a certificate for them.
NEVER_VACCINATED = SyntheticPerson("P900", "Vũ Thị Mai", "2001-04-04", doses=[])
DONOR = "P001"


def _people() -> list[SyntheticPerson]:
    return [*(person for person in synthetic_people() if person.in_register), NEVER_VACCINATED]


def _give_the_donors_doses(run: Path) -> None:
    """What an attacker with write access to the run folder does after clean."""
    results = pq.read_table(run / "results.parquet")
    donor_rows = results.filter(pa.compute.equal(results["person_id"], DONOR)).to_pylist()
    extra = [row | {"record_id": row["record_id"] + "-x", "person_id": NEVER_VACCINATED.person_id}
             for row in donor_rows]
    pq.write_table(pa.concat_tables([results, pa.Table.from_pylist(extra, schema=results.schema)]),
                   run / "results.parquet")
    history = pq.read_table(run / "dose_history.parquet")
    donor_doses = history.filter(pa.compute.equal(history["person_id"], DONOR)).to_pylist()
    stolen = [row | {"person_id": NEVER_VACCINATED.person_id, "record_id": row["record_id"] + "-x"}
              for row in donor_doses]
    pq.write_table(pa.concat_tables([history, pa.Table.from_pylist(stolen, schema=history.schema)]),
                   run / "dose_history.parquet")


def _sign(keystore: KeyStore, run: Path | None, register: Path | None, out: Path) -> None:
    sign(SignRequest(store=StoreChoice(keystore=keystore.directory), out=out, run=run,
                     passphrase=KEY_PASSPHRASE), now=lambda: SIGN_AT)


def _holders_of_the_donors_doses(keystore: KeyStore, *outs: Path) -> set[str]:
    """Everyone holding a valid certificate (in any output) that carries the donor's last dose."""
    trust = trust_list_of(keystore, now=SIGN_AT)
    holders = set()
    for out in outs:
        if not (out / "certificates.parquet").is_file():
            continue
        for row in pq.read_table(out / "certificates.parquet").to_pylist():
            vaccination = verify_certificate(row["qr_text"], trust, now=SIGN_AT).payload["v"][0]
            if (vaccination["dt"], vaccination["dn"]) == ("2021-10-25", 2):
                holders.add(row["person_id"])
    return holders


def _store_certificate_holders(keystore: KeyStore) -> set[str]:
    store = Store.open(embedded_store_url(keystore.directory))
    try:
        with store.transaction() as session:
            return set(session.scalars(Certificate.__table__.select().with_only_columns(
                Certificate.person_id).where(Certificate.state == "issued")))
    finally:
        store.close()


def test_a_run_edited_after_cleaning_is_refused(keystore: KeyStore, tmp_path: Path) -> None:
    run, register = write_run(tmp_path, _people())
    _give_the_donors_doses(run)
    with pytest.raises(InputError, match=r"changed after cleaning \(dose_history.parquet, results.parquet\)"):
        _sign(keystore, run, register, tmp_path / "out")
    assert _holders_of_the_donors_doses(keystore, tmp_path / "out") == set()
    assert not (keystore.directory / "store.db").exists() or _store_certificate_holders(keystore) == set()


def test_a_run_edited_after_signing_changes_nothing(keystore: KeyStore, tmp_path: Path) -> None:
    run, register = write_run(tmp_path, _people())
    _sign(keystore, run, register, tmp_path / "out")
    assert _holders_of_the_donors_doses(keystore, tmp_path / "out") == {DONOR}
    _give_the_donors_doses(run)
    with pytest.raises(InputError, match="changed after cleaning"):
        _sign(keystore, run, register, tmp_path / "again")
    _sign(keystore, None, None, tmp_path / "from-the-store")  # reads the store, not the folder
    assert _holders_of_the_donors_doses(keystore, tmp_path / "out", tmp_path / "again",
                                        tmp_path / "from-the-store") == {DONOR}
    assert NEVER_VACCINATED.person_id not in _store_certificate_holders(keystore)


def test_the_manifest_itself_and_added_files_are_checked(tmp_path: Path) -> None:
    run, _ = write_run(tmp_path, _people())
    check_contents(run)
    (run / "persons.parquet").write_bytes(b"PAR1")  # a file the cleaning never wrote
    with pytest.raises(InputError, match=r"\(persons.parquet\)"):
        check_contents(run)
    (run / "persons.parquet").unlink()
    (run / RUN_CONTENTS).write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="no readable contents.json"):
        check_contents(run)
    (run / RUN_CONTENTS).unlink()
    with pytest.raises(InputError, match="no readable contents.json"):
        check_contents(run)


def test_the_cleaning_s_staged_folder_writes_the_manifest_last(tmp_path: Path) -> None:
    with staged_run_dir(tmp_path / "run") as staging:
        (staging / "results.parquet").write_bytes(b"results")
        (staging / "summary.json").write_text("{}", encoding="utf-8")
    check_contents(tmp_path / "run")
    (tmp_path / "run" / "summary.json").write_text('{"evaluation": {}}', encoding="utf-8")
    check_contents(tmp_path / "run")  # the demo adds its evaluation to the summary afterwards
    (tmp_path / "run" / "results.parquet").write_bytes(b"edited")
    with pytest.raises(InputError, match=r"\(results.parquet\)"):
        check_contents(tmp_path / "run")


def _recompute_manifest_unkeyed(run: Path) -> None:
    """What an attacker without the audit key can do: hash the edited files again."""
    files = {name: file_sha256(run / name) for name in ("dose_history.parquet", "persons.parquet",
                                                        "records.parquet", "results.parquet",
                                                        "review_candidates.parquet", "run.json")
             if (run / name).is_file()}
    (run / RUN_CONTENTS).write_text(json.dumps({"sha256": files}), encoding="utf-8")


def test_a_tampered_run_with_a_recomputed_manifest_is_refused(keystore: KeyStore,
                                                              tmp_path: Path) -> None:
    run, register = write_run(tmp_path, _people())
    _give_the_donors_doses(run)
    write_contents(run, AuditKey(secrets.token_bytes(32), "the attacker's own key"))
    with pytest.raises(InputError, match="not made with this store's audit key"):
        _sign(keystore, run, register, tmp_path / "out")
    check_contents(run)  # the hashes themselves agree: only the key tells the runs apart
    _recompute_manifest_unkeyed(run)
    with pytest.raises(InputError, match="contents.json is not keyed"):
        _sign(keystore, run, register, tmp_path / "out")
    assert _holders_of_the_donors_doses(keystore, tmp_path / "out") == set()


def test_a_keyed_manifest_verifies_with_its_key_only(tmp_path: Path) -> None:
    run, _ = write_run(tmp_path, _people())
    key = AuditKey(secrets.token_bytes(32), "test")
    write_contents(run, key)
    check_contents(run, key)
    another = AuditKey(secrets.token_bytes(32), "another")
    with pytest.raises(InputError, match=f"cleaning used key {key.key_id}, this store's is "
                                         f"{another.key_id}; configure the same key"):
        check_contents(run, another)
    body = json.loads((run / RUN_CONTENTS).read_text(encoding="utf-8"))
    body["sha256"]["results.parquet"] = "0" * 64   # edit the manifest, keep its MAC
    (run / RUN_CONTENTS).write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(InputError, match=f"edited after cleaning .*audit key {key.key_id}"):
        check_contents(run, key)
