"""The SQL of vaxtrust.vn.sql (through the standardise stage) and the Python functions agree."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaxtrust.demo.messy import messy_records
from vaxtrust.engine.duckdb import DuckDBEngine
from vaxtrust.pipeline.standardise import (
    register_vn_functions,
    standardise_doses_sql,
    standardise_records_sql,
    standardise_register_sql,
)
from vaxtrust.vn import admin, dates, gender, ids, names, phones, vaccines
from vaxtrust.vn.sql import NAME_CANONICAL_UDF, name_query


def _python_row(raw: dict[str, Any]) -> dict[str, Any]:
    """What the Python functions say one raw record standardises to (std_records columns)."""
    name = names.standardise(raw["full_name"])
    dob = dates.parse(raw["dob"])
    vax = dates.parse(raw["vaccinated_on"])
    parsed_id = ids.parse(raw["id_number"])
    product = vaccines.parse(raw["vaccine"]).vaccine
    place = admin.parse(raw["province"], raw["district"], raw["commune"])
    missing = name.canonical is None
    return {
        "record_id": raw["record_id"],
        "name_canonical": name.canonical, "name_fold": name.fold,
        "surname_fold": None if missing else name.surname,
        "middle_fold": None if missing else name.middle,
        "given_fold": None if missing else name.given, "name_flags": list(name.flags),
        "dob": dob.value, "dob_year": dob.year if dob.valid else None,
        "dob_month": dob.month if dob.valid else None, "dob_day": dob.day if dob.valid else None,
        "dob_precision": dob.precision, "dob_typed": dob.typed_digits,
        "gender": gender.parse(raw["gender"]),
        "id_clean": parsed_id.clean, "id_kind": parsed_id.kind,
        "id_repairs": list(parsed_id.repairs),
        "phone": phones.parse(raw["phone"]).number,
        "province_code": place.province_code, "district_code": place.district_code,
        "commune_code": place.commune_code,
        "dose_number": vaccines.parse_dose_number(raw["dose_number"]),
        "vaccine_mp": product.mp if product else None,
        "vaccine_ma": product.ma if product else None,
        "vaccine_vp": product.vp if product else None,
        "vaccinated_on": vax.value if vax.precision == "day" else None,
    }


def _compare(engine: DuckDBEngine, table: pa.Table) -> None:
    engine.register("raw_records", table)
    sql_rows = {row["record_id"]: row for row in
                engine.query(standardise_records_sql("raw_records")).to_pylist()}
    assert len(sql_rows) == table.num_rows
    mismatches = []
    for raw in table.to_pylist():
        expected = _python_row(raw)
        got = sql_rows[raw["record_id"]]
        for column, value in expected.items():
            if got[column] != value:
                mismatches.append((column, raw.get(_SOURCE.get(column, column)), value,
                                   got[column]))
    assert not mismatches, mismatches[:20]


_SOURCE = {"name_canonical": "full_name", "name_fold": "full_name", "name_flags": "full_name",
           "surname_fold": "full_name", "middle_fold": "full_name", "given_fold": "full_name",
           "dob_year": "dob", "dob_month": "dob", "dob_day": "dob", "dob_precision": "dob",
           "dob_typed": "dob",
           "id_clean": "id_number", "id_kind": "id_number", "id_repairs": "id_number",
           "province_code": "province", "district_code": "district", "commune_code": "commune",
           "vaccine_mp": "vaccine", "vaccine_ma": "vaccine", "vaccine_vp": "vaccine"}


def test_sql_equals_python_on_messy_records(vn_engine: DuckDBEngine) -> None:
    _compare(vn_engine, messy_records(3000, seed=11))


@pytest.mark.slow
def test_sql_equals_python_on_a_large_messy_sample(vn_engine: DuckDBEngine) -> None:
    _compare(vn_engine, messy_records(60_000, seed=3))


def test_std_records_has_the_documented_columns(vn_engine: DuckDBEngine) -> None:
    vn_engine.register("raw_records", messy_records(5))
    columns = vn_engine.query(standardise_records_sql("raw_records")).column_names
    assert columns == [
        "record_id", "source", "row_number", "name_canonical", "name_fold", "surname_fold",
        "middle_fold", "given_fold", "name_flags", "dob", "dob_year", "dob_month", "dob_day",
        "dob_precision", "dob_typed", "gender", "id_clean", "id_kind", "id_repairs", "phone",
        "province_code", "district_code", "commune_code", "dose_number", "vaccine_mp",
        "vaccine_ma", "vaccine_vp", "vaccinated_on", "facility_id", "lot",
    ]


def test_std_doses_are_the_dose_columns_of_std_records(vn_engine: DuckDBEngine) -> None:
    records = messy_records(2000, seed=5)
    columns = ["record_id", "source", "row_number", "dose_number", "vaccine_mp", "vaccine_ma",
               "vaccine_vp", "vaccinated_on", "facility_id"]
    vn_engine.register("raw_records", records)
    full = vn_engine.query(f"SELECT {', '.join(columns)} FROM "
                           f"({standardise_records_sql('raw_records')}) ORDER BY record_id")
    with DuckDBEngine(threads=1) as plain:   # no vn functions or reference tables needed
        plain.register("raw_records", records.select(
            ["record_id", "source", "row_number", "dose_number", "vaccine", "vaccinated_on",
             "facility_id"]))
        doses = plain.query(f"SELECT * FROM ({standardise_doses_sql('raw_records')}) "
                            "ORDER BY record_id")
    assert doses.column_names == columns
    assert doses.to_pylist() == full.to_pylist()


def test_std_register_caps_dob_at_the_register_precision(vn_engine: DuckDBEngine) -> None:
    register = pa.table({
        "person_id": ["001190012345", "079085000111"], "old_id": ["012345678", ""],
        "full_name": ["Nguyễn Thị Hoà", "Trần Văn An"], "dob": ["1990-05-17", "1985-01-01"],
        "dob_precision": ["day", "year"], "gender": ["F", "M"],
        "province_code": ["01", "79"], "district_code": ["001", ""],
        "commune_code": ["00001", ""], "phone": ["0912345678", "01623456789"],
    })
    vn_engine.register("raw_register", register)
    rows = {r["person_id"]: r for r in
            vn_engine.query(standardise_register_sql("raw_register")).to_pylist()}
    first, second = rows["001190012345"], rows["079085000111"]
    assert (first["dob"], first["dob_precision"]) == (date(1990, 5, 17), "day")
    assert (second["dob_year"], second["dob_month"], second["dob_precision"]) == (1985, None,
                                                                                   "year")
    assert first["name_canonical"] == "Nguyễn Thị Hòa" and first["old_id"] == "012345678"
    assert first["id_kind"] == "cccd" and second["phone"] == "0323456789"
    assert second["district_code"] is None


# Random text built from the characters that matter: Vietnamese letters, legacy-encoding
# characters, digits, separators and a few oddities.
_ALPHABET = ("aăâeêioôơuưyAĂÂEÊIOÔƠUƯYđĐÐhnguyễàáảãạóòỏõọíìủũụứừửữựýỳỷỹỵ"
             "qgkt ÔÕÞ×µ¸¨©ª«¬\xadùøûõïñöÑÖ012345789./-+E'?,\u0301\u0300\ufffd"
             "\u0302\u0303\u0306\u0309\u031b\u0323")
_text = st.text(alphabet=_ALPHABET, max_size=24)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(_text, min_size=20, max_size=60))
def test_sql_equals_python_on_random_text(vn_engine: DuckDBEngine, values: list[str]) -> None:
    fields = ("full_name", "dob", "gender", "id_number", "phone", "province", "district",
              "commune", "dose_number", "vaccine", "lot", "vaccinated_on", "facility_id")
    table = pa.table({
        "record_id": [str(i) for i in range(len(values))],
        **{f: values[i:] + values[:i] for i, f in enumerate(fields)},
        "source": ["h"] * len(values), "row_number": [str(i) for i in range(len(values))],
    })
    _compare(vn_engine, table)


def test_sql_equals_python_on_addresses_in_the_2025_units(vn_engine: DuckDBEngine) -> None:
    addresses = [("Thành phố Hồ Chí Minh", None, "Xã Bàu Bàng"),
                 ("TP.HCM", "", "Bàu Bàng"),
                 ("Tỉnh Tuyên Quang", None, "Xã Lũng Cú"),
                 ("Tỉnh Tuyên Quang", "Huyện Đồng Văn", "Xã Lũng Cú"),
                 ("Thành phố Hà Nội", None, "Phường Hồng Hà"),
                 (None, None, "Xã Bàu Bàng")]
    records = messy_records(len(addresses), seed=1)
    for index, level in enumerate(("province", "district", "commune")):
        records = records.set_column(records.schema.get_field_index(level), level,
                                     pa.array([a[index] for a in addresses], pa.string()))
    _compare(vn_engine, records)


def _names_sent_to_python(names_in: list[str]) -> tuple[dict[str, Any], list[str]]:
    """name_query's rows by name, and the names it handed to the Python function."""
    sent: list[str] = []

    def spy(values: pa.Array) -> pa.Array:
        sent.extend(values.to_pylist())
        return pa.array([names.standardise(v).canonical for v in values.to_pylist()],
                        pa.string())

    with DuckDBEngine(threads=1) as engine:
        register_vn_functions(engine)
        engine.register_function(NAME_CANONICAL_UDF, spy, [pa.string()], pa.string())
        engine.register("raw", pa.table({"full_name": pa.array(names_in, pa.string())}))
        rows = {r["full_name"]: r for r in engine.query(f"SELECT * FROM {name_query('raw')}")
                .to_pylist()}
    return rows, sent


def test_names_typed_in_nfd_stay_in_sql_and_agree_with_python() -> None:
    nfd = [unicodedata.normalize("NFD", n) for n in
           ("Nguyễn Thị Hoà", "ĐẶNG VĂN THUỶ", "Trần  Quốc-Tuấn", "Lê Ngọc Ánh")]
    rows, sent = _names_sent_to_python(nfd)
    assert sent == []
    for name in nfd:
        expected = names.standardise(name)
        assert rows[name]["name_canonical"] == expected.canonical
        assert rows[name]["name_fold"] == expected.fold
        assert rows[name]["name_flags"] == list(expected.flags)


def test_names_needing_python_still_go_there_in_nfd() -> None:
    needing = [
        unicodedata.normalize("NFD", "Nguyễnx Văn An"),     # keyboard residue
        unicodedata.normalize("NFD", "Nguyễn Văn Bß"),      # a character outside the alphabet
        "NguyÔn V\u0103n An",                               # TCVN3 damage
        unicodedata.normalize("NFD", "Le Van Huúnh"),       # no syllable: TCVN3 for Huỳnh
        "Ngu\u0301\u0301yen",                             # marks that compose to no letter
    ]
    rows, sent = _names_sent_to_python(needing)
    assert sorted(sent) == sorted(needing)
    for name in needing:
        assert rows[name]["name_canonical"] == names.standardise(name).canonical


def test_eth_typed_for_d_stays_in_sql_where_no_legacy_reading_could_win() -> None:
    # Ð (U+00D0) beside a letter no legacy encoding can start from (ư, ệ, đ...): only the
    # reading as Đ is possible, in Python as in SQL. Unaccented or Latin-1-only names keep
    # going to Python, where TCVN3 reads Ð as é and the better-scoring reading wins.
    in_sql = ["Hà Văn Ðiệp", "Ðỗ Ðức Tường", "NGUYỄN TRUNG ÐỨC", "Đinh Bích Ðoan"]
    in_python = ["NGUYEN ÐONG SON", "Lê Ðá", "Nguyễnx Ðức", "Ðinh ðức",
                 unicodedata.normalize("NFD", "Trần Minh Ðình Hợp")]  # SQL reads NFD only
    rows, sent = _names_sent_to_python(in_sql + in_python)
    assert sorted(sent) == sorted(in_python)
    for name in in_sql + in_python:
        expected = names.standardise(name)
        assert rows[name]["name_canonical"] == expected.canonical
        assert rows[name]["name_fold"] == expected.fold
        assert rows[name]["name_flags"] == list(expected.flags)
    assert rows["Hà Văn Ðiệp"]["name_canonical"] == "Hà Văn Điệp"


def test_a_word_that_is_no_syllable_stays_in_sql_where_no_legacy_reading_is_possible() -> None:
    # A typo beside a letter beyond Latin-1 (ễ, ị, ă): Python keeps it as typed too. Latin-1-only
    # text may be TCVN3 (Huúnh is Huỳnh), and so may a canonical form that lost such a letter
    # when its tone moved (Oũ -> Õu, TCVN3 for Ếu): those still go to Python.
    in_sql = ["Nguyễnn Thái Chi", "Nguyễn Thhị Vi", "Hoàng Thanh Huyềền", "Lê Văn Huúnh"]
    in_python = ["Le Van Huúnh", "Oũ", "Nguyễnn Văn Anhf"]
    rows, sent = _names_sent_to_python(in_sql + in_python)
    assert sorted(sent) == sorted(in_python)
    for name in in_sql + in_python:
        expected = names.standardise(name)
        assert rows[name]["name_canonical"] == expected.canonical
        assert rows[name]["name_flags"] == list(expected.flags)
    assert rows["Le Van Huúnh"]["name_canonical"] == "Le Van Huỳnh"
