"""EU DCC vaccination payloads (schema 1.3.0) from a person's verified dose history."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from vaxtrust.errors import CertificateError
from vaxtrust.passport import schemas
from vaxtrust.vn import names, vaccines

COVID_19 = "840539006"                  # SNOMED CT, disease-agent-targeted
COUNTRY = "VN"
DEFAULT_ISSUER = "Ministry of Health Viet Nam"
UVCI_PREFIX = "URN:UVCI:01:VN:"
UVCI_PATTERN = re.compile(r"^URN:UVCI:01:VN:[0-9A-F]{32}$")
_PARTIAL_DOB = re.compile(r"^(?:\d{4}(?:-\d{2}(?:-\d{2})?)?)?$")
_PLAIN_FOLDED = re.compile(r"[A-Z ]*")
_MAX_TEXT = 80                          # schema maxLength of names, issuer and ci
_PRECISION_OF_ISO_LENGTH = {10: "day", 7: "month", 4: "year"}


@dataclass(frozen=True)
class Holder:
    """The certificate holder as the population register has them.

    ``full_name`` is written in Vietnamese order (family, middle, given). ``date_of_birth`` is ISO
    text with only the known part: ``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY`` or ``""``. An unknown day
    or month is never filled in.
    """

    full_name: str
    date_of_birth: str

    @classmethod
    def from_register(cls, full_name: str, dob: str, dob_precision: str | None) -> Holder:
        """From the register's ``dob`` (ISO) and ``dob_precision`` (day | month | year).

        A register without the precision column (it is optional) has ``dob`` written at its known
        precision, so the form of ``dob`` says it, as the cleaning's standardiser reads it too.
        """
        precision = dob_precision or (_PRECISION_OF_ISO_LENGTH.get(len(dob), "")
                                      if _PARTIAL_DOB.fullmatch(dob) else "")
        keep = {"day": 10, "month": 7, "year": 4}.get(precision)
        if keep is None:
            raise CertificateError(f"field dob_precision: {dob_precision!r} is not day, month or year"
                                   f" and dob {dob!r} is not ISO YYYY-MM-DD, YYYY-MM or YYYY")
        return cls(full_name, dob[:keep])


@dataclass(frozen=True)
class Dose:
    """One verified dose: when, and which product.

    ``product`` is the EU value-set ``mp`` code the cleaning run resolved (``vaccine_mp`` of the dose
    history, e.g. ``EU/1/21/1529``) or a :mod:`vaxtrust.vn.vaccines` product key (``astrazeneca``).
    Free text is not guessed here: mapping typed brand names is the cleaning pipeline's job.
    """

    vaccinated_on: date
    product: str
    country: str = COUNTRY


@dataclass(frozen=True)
class StandardName:
    """``nam`` of the DCC: as written (NFC) and ICAO 9303 transliterated, split like a VN passport MRZ."""

    family: str
    given: str
    family_icao: str
    given_icao: str

    def as_payload(self) -> dict[str, str]:
        nam = {"fn": self.family, "fnt": self.family_icao}
        if self.given:
            nam |= {"gn": self.given, "gnt": self.given_icao}
        return nam


def new_uvci() -> str:
    """A fresh UVCI: 128 random bits as 32 upper-case hex characters, like Viet Nam's own."""
    return UVCI_PREFIX + secrets.token_hex(16).upper()


def standard_name(full_name: str) -> StandardName:
    """Family name vs middle+given names (``NGUYEN`` / ``THI<THUY``), as the passport MRZ splits them."""
    written = " ".join(unicodedata.normalize("NFC", full_name).split())
    if not written:
        raise CertificateError("field full_name: empty name")
    surname, middle, given_name = names.split_words(written.split(" "))
    if not surname:                     # a single-word name is the primary identifier (ICAO 9303)
        surname, given_name = given_name, []
    family = " ".join(surname)
    given = " ".join(middle + given_name)
    family_icao, given_icao = _icao(family), _icao(given)
    if family_icao is None or given_icao is None:   # not plain letters: the full name rules decide
        transliterated = names.icao(written)
        family_icao, given_icao = transliterated.family, transliterated.given
        if not family_icao:
            family_icao, given_icao = given_icao, ""
    name = StandardName(family, given, family_icao, given_icao)
    for field, value in vars(name).items():
        if len(value) > _MAX_TEXT:
            raise CertificateError(f"field full_name: {field} is longer than {_MAX_TEXT} characters")
    if not name.family_icao:
        raise CertificateError(f"field full_name: {written!r} has no transliterable family name")
    return name


def _icao(words: str) -> str | None:
    """ICAO 9303 form of names written in Vietnamese letters (the register's), else None.

    Folding diacritics off letter by letter is all ICAO asks of them; anything else (digits,
    apostrophes, damaged encodings) goes through :func:`vaxtrust.vn.names.icao`'s full rules.
    """
    folded = names.fold_canonical(words)
    return folded.replace(" ", "<") if _PLAIN_FOLDED.fullmatch(folded) else None


def date_of_birth(value: str) -> str:
    """Check a partial ISO date of birth; returns it unchanged (never completed)."""
    text = value.strip()
    if not _PARTIAL_DOB.match(text):
        raise CertificateError(f"field dob: {value!r} is not YYYY-MM-DD, YYYY-MM, YYYY or empty")
    year = int(text[:4]) if text else 1900
    if text and not 1900 <= year <= 2099:
        raise CertificateError(f"field dob: year {year} outside 1900-2099")
    month = int(text[5:7]) if len(text) >= 7 else 1
    day = int(text[8:10]) if len(text) == 10 else 1
    try:
        date(year, month, day)
    except ValueError:
        raise CertificateError(f"field dob: {value!r} is not a calendar date") from None
    return text


def vaccine_product(code: str) -> vaccines.Vaccine | None:
    """The product of an ``mp`` code or product key, from the vaccine mapping of :mod:`vaxtrust.vn`."""
    return _products_by_code().get(code)


@cache
def _products_by_code() -> dict[str, vaccines.Vaccine]:
    """Product keys and ``mp`` codes → product (a key wins over an equal ``mp`` code)."""
    known = vaccines.products()
    by_mp: dict[str, vaccines.Vaccine] = {}
    for product in known.values():
        by_mp.setdefault(product.mp, product)
    return by_mp | known


def vaccination_entry(doses: Sequence[Dose], *, issuer: str, uvci: str) -> dict[str, Any]:
    """The ``v[0]`` entry for the latest dose: ``dn`` = doses received, ``sd`` per product.

    ``sd`` is the product's primary course; once a person has more doses than that (boosters),
    ``sd`` = ``dn`` as the eHealth Network's booster encoding (3/3) asks.
    """
    if not doses:
        raise CertificateError("field doses: no verified dose to certify")
    ordered = sorted(doses, key=lambda dose: dose.vaccinated_on)
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if earlier.vaccinated_on == later.vaccinated_on:
            raise CertificateError(f"field doses: two doses on {later.vaccinated_on} (duplicate record?)")
    latest = ordered[-1]
    product = vaccine_product(latest.product)
    if product is None:
        raise CertificateError(f"field vaccine: unknown product code {latest.product!r}")
    dose_number = len(ordered)
    return {
        "tg": COVID_19,
        "vp": product.vp,
        "mp": product.mp,
        "ma": product.ma,
        "dn": dose_number,
        "sd": max(product.primary_doses, dose_number),
        "dt": latest.vaccinated_on.isoformat(),
        "co": latest.country,
        "is": issuer,
        "ci": uvci,
    }


def build_payload(holder: Holder, doses: Sequence[Dose], *, issuer: str = DEFAULT_ISSUER,
                  uvci: str | None = None) -> dict[str, Any]:
    """A schema-valid DCC 1.3.0 vaccination payload; raises :class:`CertificateError` otherwise."""
    issuer = unicodedata.normalize("NFC", issuer).strip()
    if not 0 < len(issuer) <= _MAX_TEXT:
        raise CertificateError(f"field issuer: must be 1 to {_MAX_TEXT} characters")
    uvci = uvci or new_uvci()
    if not UVCI_PATTERN.match(uvci):
        raise CertificateError(f"field uvci: {uvci!r} is not URN:UVCI:01:VN: + 32 hex characters")
    payload = {
        "ver": schemas.ISSUED_VERSION,
        "nam": standard_name(holder.full_name).as_payload(),
        "dob": date_of_birth(holder.date_of_birth),
        "v": [vaccination_entry(doses, issuer=issuer, uvci=uvci)],
    }
    schemas.validate(payload, schemas.ISSUED_VERSION)
    return payload
