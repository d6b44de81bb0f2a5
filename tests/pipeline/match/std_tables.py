"""Hand-built ``std_records`` / ``std_register`` tables for the matching tests.

The folding here is a small stand-in for ``vaxtrust.vn`` so these tests pin the matching rules
alone: NFC, Đ→D, diacritics removed, upper case.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

import pyarrow as pa

from vaxtrust.engine import Engine


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(stripped.upper().split())


def canonical(text: str) -> str:
    return " ".join(word.capitalize() for word in unicodedata.normalize("NFC", text).split())


def _name_columns(name: str | None) -> dict[str, Any]:
    if not name:
        return dict.fromkeys(("name_canonical", "name_fold", "surname_fold", "middle_fold",
                              "given_fold"))
    folded = fold(name).split()
    return {
        "name_canonical": canonical(name),
        "name_fold": " ".join(folded),
        "surname_fold": folded[0],
        "middle_fold": " ".join(folded[1:-1]),
        "given_fold": folded[-1] if len(folded) > 1 else "",
    }


def _dob_columns(dob: str | None) -> dict[str, Any]:
    if not dob:
        return {"dob": None, "dob_year": None, "dob_month": None, "dob_day": None,
                "dob_precision": None}
    parts = [int(part) for part in dob.split("-")]
    year = parts[0]
    month, day = (parts[1:] + [None, None])[:2]
    return {
        "dob": date(year, month or 1, day or 1), "dob_year": year, "dob_month": month,
        "dob_day": day, "dob_precision": ("year", "month", "day")[len(parts) - 1],
    }


def _id_kind(id_number: str | None) -> str:
    if id_number is None:
        return "missing"
    if id_number.isdigit() and len(id_number) == 12:
        return "cccd"
    if id_number.isdigit() and len(id_number) == 9:
        return "cmnd"
    return "passport" if id_number[:1].isalpha() else "invalid"


def person(person_id: str, name: str, dob: str, gender: str | None, *, old_id: str | None = None,
           phone: str | None = None, commune: str | None = "00001") -> dict[str, Any]:
    return {
        "person_id": person_id, **_name_columns(name), "name_flags": [], **_dob_columns(dob),
        "gender": gender, "id_clean": person_id, "id_kind": "cccd", "id_repairs": [],
        "old_id": old_id, "phone": phone, "province_code": "01", "district_code": "001",
        "commune_code": commune,
    }


def record(record_id: str, name: str | None, dob: str | None, gender: str | None,
           id_number: str | None, *, phone: str | None = None, commune: str | None = "00001",
           id_repairs: list[str] | None = None, dose: int = 1,
           dob_typed: str | None = None) -> dict[str, Any]:
    """``dob_typed``: the digits (yyyymmdd) of a typed date of birth that is no date (then
    ``dob`` is None)."""
    kind = _id_kind(id_number)
    return {
        "record_id": record_id, "source": "test.csv", "row_number": int(record_id[1:] or 0)
        if record_id[1:].isdigit() else 0,
        **_name_columns(name), "name_flags": [], **_dob_columns(dob), "dob_typed": dob_typed,
        "gender": gender,
        "id_clean": id_number if kind != "invalid" else None, "id_kind": kind,
        "id_repairs": id_repairs or [], "phone": phone, "province_code": "01",
        "district_code": "001", "commune_code": commune, "dose_number": dose,
        "vaccine_mp": "EU/1/20/1528", "vaccine_ma": "ORG-100030215", "vaccine_vp": "J07BN01",
        "vaccinated_on": date(2021, 9, 1), "facility_id": "F1", "lot": "L1",
    }


_STRING_LIST = pa.list_(pa.string())
_TYPES = {"dob": pa.date32(), "vaccinated_on": pa.date32(), "dob_year": pa.int32(),
          "dob_month": pa.int32(), "dob_day": pa.int32(), "dose_number": pa.int32(),
          "row_number": pa.int64(), "name_flags": _STRING_LIST, "id_repairs": _STRING_LIST}


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    columns = list(rows[0])
    schema = pa.schema([(name, _TYPES.get(name, pa.string())) for name in columns])
    return pa.Table.from_pylist(rows, schema=schema)


def load(engine: Engine, records: list[dict[str, Any]], register: list[dict[str, Any]]) -> None:
    engine.register("std_records", _table(records))
    engine.register("std_register", _table(register))
