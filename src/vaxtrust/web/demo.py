"""``vaxtrust serve --demo DIR``: the web app on a ``vaxtrust demo`` folder, with an account per
role whose passwords are made up now and printed once.

The demo signs its passports through the store's signing queue, so the store already knows every
certificate its issuance journal holds; the web app reads the journal for the QR text only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from vaxtrust.store.db import Store

PROVINCE_OFFICER = "so-y-te-demo"
FACILITY_OFFICER = "co-so-demo"
CODES_FILE = "web-codes.txt"


@dataclass(frozen=True)
class Citizen:
    id_number: str
    dob: str
    phone: str


@dataclass
class PreparedDemo:
    database_url: str
    trust_list: Path
    csca: Path
    journal: Path
    codes: Path
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # role, user, password
    citizen: Citizen | None = None

    def web_options(self) -> dict[str, Any]:
        return {"trust_list": str(self.trust_list), "csca": [str(self.csca)],
                "journals": [str(self.journal)], "code_sender": f"file:{self.codes}",
                "signing_out": str(self.journal.parent)}

    def complaints_options(self) -> dict[str, Any]:
        """The citizens' photos go into the demo's folder, beside its store."""
        return {"attachments_dir": str(self.codes.parent / "complaint-attachments")}

    def passport_options(self) -> dict[str, Any]:
        """The demo's key store and signer: the signing page signs into the demo's journal."""
        from vaxtrust.demo.steps import DEMO_SIGNER

        return {"keystore": str(self.csca.parent.parent), "signer": DEMO_SIGNER}

    def lines(self, host: str, port: int) -> list[str]:
        url = f"http://{host}:{port}"
        lines = [f"Web app: open {url}/ . Demo accounts (passwords made up now, shown once):"]
        lines += [f"  {role:<9} {username:<14} {password}"
                  for role, username, password in self.accounts]
        if self.citizen:
            lines.append(f"  citizen   {url}/citizen with ID {self.citizen.id_number}, date of "
                         f"birth {self.citizen.dob}, phone {self.citizen.phone}; the one-time "
                         f"code is written to {self.codes}")
        lines.append(f"  verifier  {url}/verify (try {self.journal.parent / 'example.png'})")
        return lines


def prepare_demo(out: Path, *, persons: int = 20_000, seed: int = 2022) -> PreparedDemo:
    """Run the demo into ``out`` unless it holds one; then accounts, certificates, a citizen."""
    from vaxtrust.demo.steps import DEMO_OFFICER

    if not (out / "store.db").is_file():
        from vaxtrust.app.demo import run_demo
        from vaxtrust.config import load_settings

        run_demo(load_settings(), persons=persons, seed=seed, out=out)
    passports = out / "passports"
    prepared = PreparedDemo(
        database_url=f"sqlite:///{(out / 'store.db').resolve()}",
        trust_list=(passports / "trust-list.json").resolve(),
        csca=(passports / "keys" / "csca" / "csca.pem").resolve(),
        journal=(passports / "issuance.sqlite").resolve(), codes=(out / CODES_FILE).resolve())
    store = Store.open(prepared.database_url)
    try:
        prepared.accounts = demo_accounts(store, DEMO_OFFICER)
        prepared.citizen = demo_citizen(store)
    finally:
        store.close()
    return prepared


def demo_accounts(store: Store, ministry: str) -> list[tuple[str, str, str]]:
    """A ministry, a province and a facility officer, each with a fresh password."""
    from vaxtrust.store.scope import load_actor
    from vaxtrust.store.tables import ReviewItem, User, VaccinationRecord
    from vaxtrust.store.users import add_user, set_password

    accounts = []
    with store.transaction() as session:
        by = load_actor(session, ministry)
        # the facility with the most to review; with nothing to review, the one with most doses
        busiest = None
        for table in (ReviewItem, VaccinationRecord):
            busiest = session.execute(
                select(table.province_code, table.facility_id, func.count())
                .group_by(table.province_code, table.facility_id)
                .order_by(func.count().desc()).limit(1)).first()
            if busiest:
                break
        province, facility = (busiest[0], busiest[1]) if busiest else ("01", None)
        wanted = [("ministry", ministry, {}),
                  ("province", PROVINCE_OFFICER, {"province_code": province})]
        if facility:
            wanted.append(("facility", FACILITY_OFFICER, {"facility_id": facility}))
        for role, username, scope in wanted:
            password = secrets.token_urlsafe(12)
            if session.scalar(select(User.id).where(User.username == username)) is None:
                add_user(session, by=by, username=username, role=role, password=password,
                         display_name=f"{role} (demo)", **scope)
            else:
                set_password(session, by=by, username=username, password=password)
            accounts.append((role, username, password))
    return accounts


def demo_citizen(store: Store) -> Citizen | None:
    """A person with a current certificate and a phone on a dose record."""
    from vaxtrust.store.tables import Certificate, Person, VaccinationRecord
    from vaxtrust.vn import phones

    with store.transaction() as session:
        rows = session.execute(
            select(Person.person_id, Person.dob, VaccinationRecord.original_phone)
            .join(Certificate, Certificate.person_id == Person.person_id)
            .join(VaccinationRecord, VaccinationRecord.person_id == Person.person_id)
            .where(Certificate.state == "issued", VaccinationRecord.original_phone.is_not(None))
            .order_by(Person.person_id).limit(200)).all()
    for person_id, dob, phone in rows:
        number = phones.parse(phone).number
        if number and dob and len(dob) == 10:
            return Citizen(person_id, dob, number)
    return None
