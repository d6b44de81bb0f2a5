"""Small synthetic cleaning runs for store tests: two provinces, three facilities, six people."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from vaxtrust.pipeline.run_folder import RunManifest
from vaxtrust.pipeline.settings import CleanSettings
from vaxtrust.schema import (
    IDENTITY_FIELDS,
    ORIGINAL_FIELDS,
    REGISTER_COLUMNS,
    RUN_DOSE_HISTORY,
    RUN_PERSONS,
    RUN_RECORDS,
    RUN_RESULTS,
    RUN_REVIEW_CANDIDATES,
    RUN_SUMMARY,
)

# Synthetic register: (person_id, full_name, dob, gender, province, commune)
PEOPLE = [
    ("001090000001", "Nguyễn Văn An", "1990-02-03", "M", "01", "00004"),
    ("001085000002", "Trần Thị Bình", "1985-07-21", "F", "01", "00004"),
    ("001170000003", "Lê Thị Cúc", "1970-11-30", "F", "01", "00007"),
    ("079095000004", "Phạm Văn Dũng", "1995-01-15", "M", "79", "26734"),
    ("079188000005", "Hoàng Thị Em", "1988-05-05", "F", "79", "26734"),
    ("079092000006", "Vũ Văn Phúc", "1992-09-09", "M", "79", "26737"),
]
FACILITIES = {"HN-01": "01", "HN-02": "01", "HCM-01": "79"}


def register_rows() -> list[dict[str, str]]:
    return [
        {"person_id": pid, "old_id": "", "full_name": name, "dob": dob, "dob_precision": "day",
         "gender": gender, "province_code": prov, "district_code": "001",
         "commune_code": commune, "phone": ""}
        for pid, name, dob, gender, prov, commune in PEOPLE
    ]


def record(record_id: str, facility: str, *, name: str, dob: str, gender: str, id_number: str,
           commune: str, dose: int = 1) -> dict[str, str]:
    return {
        "record_id": record_id, "full_name": name, "dob": dob, "gender": gender,
        "id_number": id_number, "phone": "0912345678", "province": FACILITIES[facility],
        "district": "001", "commune": commune, "dose_number": str(dose),
        "vaccine": "Comirnaty", "lot": "FK1234", "vaccinated_on": "2021-09-01",
        "facility_id": facility,
    }


def result(record_id: str, status: str, person_id: str | None = None, reasons: list[str] | None = None,
           **corrected: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "record_id": record_id, "status": status, "person_id": person_id,
        "corrected_full_name": None, "corrected_dob": None, "corrected_gender": None,
        "corrected_id_number": None, "confidence": 0.99 if person_id else None,
        "reasons": reasons or [],
    }
    row.update({f"corrected_{key}": value for key, value in corrected.items()})
    return row


def comparison(name: tuple[str, str], dob: tuple[str, str]) -> str:
    return json.dumps({
        "full_name": {"record": name[0], "register": name[1],
                      "verdict": "equal" if name[0] == name[1] else "different"},
        "dob": {"record": dob[0], "register": dob[1],
                "verdict": "equal" if dob[0] == dob[1] else "different"},
    }, ensure_ascii=False)


@dataclass
class RunSpec:
    """What a run directory holds; ``baseline()`` is the standard first run."""

    records: list[dict[str, str]]
    results: list[dict[str, Any]]
    candidates: list[dict[str, Any]] = field(default_factory=list)
    doses: list[dict[str, Any]] = field(default_factory=list)
    run_id: str | None = None

    def write(self, run_dir: Path) -> Path:
        """The run folder ``vaxtrust clean`` would write for these rows (no original inputs)."""
        run_dir.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(self.results, schema=RESULTS_SCHEMA),
                       run_dir / RUN_RESULTS)
        pq.write_table(pa.Table.from_pylist(self.candidates, schema=CANDIDATES_SCHEMA),
                       run_dir / RUN_REVIEW_CANDIDATES)
        pq.write_table(pa.Table.from_pylist(self.doses, schema=DOSES_SCHEMA),
                       run_dir / RUN_DOSE_HISTORY)
        pq.write_table(pa.Table.from_pylist(self.publish_records(), schema=RECORDS_SCHEMA),
                       run_dir / RUN_RECORDS)
        pq.write_table(pa.Table.from_pylist(self.persons(), schema=PERSONS_SCHEMA),
                       run_dir / RUN_PERSONS)
        run_id = self.run_id or "run-factory"
        (run_dir / RUN_SUMMARY).write_text(json.dumps({"run_id": run_id}), encoding="utf-8")
        RunManifest(run_id=run_id, created_at="2022-06-30T00:00:00+00:00",
                    vaxtrust_version="test", engine="duckdb",
                    settings=CleanSettings().to_document(RUN_TODAY)).write(run_dir)
        return run_dir

    def publish_records(self) -> list[dict[str, Any]]:
        """records.parquet: a rejected record has no accepted row, hence no originals."""
        order = {row["record_id"]: index for index, row in enumerate(self.records, start=1)}
        originals = {row["record_id"]: row for row in self.records}
        rows = []
        for found in self.results:
            record = originals.get(found["record_id"])
            if found["status"] == "rejected":
                rows.append(_rejected_record(found, record))
            else:
                rows.append(_publish_record(found, record, order.get(found["record_id"])))
        return rows

    def persons(self) -> list[dict[str, str]]:
        """persons.parquet: register rows the run refers to."""
        wanted = {row["person_id"] for row in (*self.results, *self.candidates)}
        wanted |= {row["id_number"] for row in self.records}
        return [row for row in register_rows() if row["person_id"] in wanted]


RUN_TODAY = dt.date(2022, 6, 30)


def _rejected_record(found: dict[str, Any], record: dict[str, str] | None) -> dict[str, Any]:
    """No accepted row, no originals: only the facility and typed province of the row."""
    row = _publish_record(found, None, None)
    if record is not None:
        row.update(facility_id=record["facility_id"], province_code=record["province"].zfill(2))
    return row


def _publish_record(found: dict[str, Any], source: dict[str, str] | None,
                    row_number: int | None) -> dict[str, Any]:
    original = source or {}
    row: dict[str, Any] = {
        "record_id": found["record_id"],
        "facility_id": original.get("facility_id") or "unassigned",
        "province_code": original["province"].zfill(2) if source else "unknown",
        "commune_code": original["commune"].zfill(5) if source else None,
        **{f"original_{name}": original.get(name) for name in ORIGINAL_FIELDS},
        **{name: found[f"corrected_{name}"] or original.get(name) for name in IDENTITY_FIELDS},
        "status": found["status"], "person_id": found["person_id"],
        "confidence": found["confidence"], "reasons": found["reasons"],
        "input_order": 1_000_000_000_000 + row_number if source and row_number else None,
    }
    return row


RESULTS_SCHEMA = pa.schema([
    ("record_id", pa.string()), ("status", pa.string()), ("person_id", pa.string()),
    ("corrected_full_name", pa.string()), ("corrected_dob", pa.string()),
    ("corrected_gender", pa.string()), ("corrected_id_number", pa.string()),
    ("confidence", pa.float64()), ("reasons", pa.list_(pa.string())),
])
CANDIDATES_SCHEMA = pa.schema([
    ("record_id", pa.string()), ("rank", pa.int32()), ("person_id", pa.string()),
    ("match_probability", pa.float64()), ("comparison", pa.string()),
    ("reasons", pa.list_(pa.string())),
])
DOSES_SCHEMA = pa.schema([
    ("person_id", pa.string()), ("record_id", pa.string()), ("dose_number", pa.int32()),
    ("vaccine_mp", pa.string()), ("vaccine_ma", pa.string()), ("vaccine_vp", pa.string()),
    ("vaccinated_on", pa.date32()), ("facility_id", pa.string()), ("duplicate_of", pa.string()),
    ("flags", pa.list_(pa.string())),
])


RECORDS_SCHEMA = pa.schema([
    *((name, pa.string()) for name in ("record_id", "facility_id", "province_code",
                                       "commune_code")),
    *((f"original_{name}", pa.string()) for name in ORIGINAL_FIELDS),
    *((name, pa.string()) for name in IDENTITY_FIELDS),
    ("status", pa.string()), ("person_id", pa.string()), ("confidence", pa.float64()),
    ("reasons", pa.list_(pa.string())), ("input_order", pa.int64()),
])
PERSONS_SCHEMA = pa.schema([(name, pa.string()) for name in REGISTER_COLUMNS])


def dose(person_id: str, record_id: str, facility: str, number: int = 1) -> dict[str, Any]:
    import datetime as dt

    return {"person_id": person_id, "record_id": record_id, "dose_number": number,
            "vaccine_mp": "EU/1/20/1528", "vaccine_ma": "ORG-100030215", "vaccine_vp": "1119349007",
            "vaccinated_on": dt.date(2021, 9, 1), "facility_id": facility, "duplicate_of": None,
            "flags": []}


def baseline() -> RunSpec:
    """R1 verified, R2 corrected (name), R3 review (2 candidates), R4 unmatched (HCM),
    R5 verified (HCM), R6 review (HCM), R7 rejected, R8 verified (HN-02)."""
    p = PEOPLE
    records = [
        record("R1", "HN-01", name=p[0][1], dob="03/02/1990", gender="Nam", id_number=p[0][0],
               commune="4"),
        record("R2", "HN-01", name="Tran Thi Binh", dob="21/07/1985", gender="Nữ",
               id_number=p[1][0], commune="4"),
        record("R3", "HN-01", name="Lê Thị Cúc", dob="30/11/1907", gender="Nữ",
               id_number="", commune="7"),
        record("R4", "HCM-01", name="Đỗ Văn Giang", dob="01/01/1960", gender="Nam",
               id_number="", commune="26734"),
        record("R5", "HCM-01", name=p[3][1], dob="15/01/1995", gender="Nam", id_number=p[3][0],
               commune="26734"),
        record("R6", "HCM-01", name="Hoang Thi Em", dob="05/05/1988", gender="Nữ",
               id_number="79188000005", commune="26734"),
        record("R7", "HN-02", name="", dob="", gender="", id_number="", commune="4"),
        record("R8", "HN-02", name=p[2][1], dob="30/11/1970", gender="Nữ", id_number=p[2][0],
               commune="7"),
    ]
    results = [
        result("R1", "verified", p[0][0]),
        result("R2", "corrected", p[1][0], ["name_tone_style"], full_name=p[1][1]),
        result("R3", "review", None, ["dob_year_typo"]),
        result("R4", "unmatched"),
        result("R5", "verified", p[3][0]),
        result("R6", "review", None, ["id_leading_zero_lost", "name_tone_style"]),
        result("R7", "rejected", None, ["missing_name"]),
        result("R8", "verified", p[2][0]),
    ]
    candidates = [
        {"record_id": "R3", "rank": 1, "person_id": p[2][0], "match_probability": 0.91,
         "comparison": comparison(("Lê Thị Cúc", p[2][1]), ("1907-11-30", p[2][2])),
         "reasons": ["dob_year_typo"]},
        {"record_id": "R3", "rank": 2, "person_id": p[1][0], "match_probability": 0.12,
         "comparison": comparison(("Lê Thị Cúc", p[1][1]), ("1907-11-30", p[1][2])),
         "reasons": []},
        {"record_id": "R6", "rank": 1, "person_id": p[4][0], "match_probability": 0.88,
         "comparison": comparison(("Hoang Thi Em", p[4][1]), ("1988-05-05", p[4][2])),
         "reasons": ["id_leading_zero_lost"]},
    ]
    doses = [dose(p[0][0], "R1", "HN-01"), dose(p[1][0], "R2", "HN-01"),
             dose(p[3][0], "R5", "HCM-01"), dose(p[2][0], "R8", "HN-02")]
    return RunSpec(records, results, candidates, doses, run_id="run-1")


def with_second_dose_under_review(run_id: str = "run-2") -> RunSpec:
    """The baseline plus R9: Lê Thị Cúc's second dose (Moderna, 15/10/2021, HN-01) with the year
    of birth mistyped and no ID, under review with her register entry as the only candidate.
    Her first dose (R8, Comirnaty, 01/09/2021) is verified."""
    spec = baseline()
    spec.run_id = run_id
    cuc = PEOPLE[2]
    nine = record("R9", "HN-01", name=cuc[1], dob="30/11/1907", gender="Nữ", id_number="",
                  commune="7", dose=2)
    nine.update(vaccine="Moderna", lot="MD0042", vaccinated_on="15/10/2021")
    spec.records.append(nine)
    spec.results.append(result("R9", "review", None, ["dob_year_typo"]))
    spec.candidates.append({
        "record_id": "R9", "rank": 1, "person_id": cuc[0], "match_probability": 0.9,
        "comparison": comparison((cuc[1], cuc[1]), ("1907-11-30", cuc[2])),
        "reasons": ["dob_year_typo"]})
    return spec


def with_tentative_link(run_id: str = "run-2") -> RunSpec:
    """The baseline plus R10: a second dose (Comirnaty, 06/10/2021, HN-01) that the run links to
    Nguyễn Văn An but also sends to review (the run's results keep the link, and its dose
    history counts the dose as his second)."""
    spec = baseline()
    spec.run_id = run_id
    an = PEOPLE[0]
    ten = record("R10", "HN-01", name="Nguyen Van An", dob="03/02/1990", gender="Nam",
                 id_number="", commune="4", dose=2)
    ten["vaccinated_on"] = "06/10/2021"
    spec.records.append(ten)
    spec.results.append(result("R10", "review", an[0], ["name_tone_style"]))
    spec.candidates.append({
        "record_id": "R10", "rank": 1, "person_id": an[0], "match_probability": 0.7,
        "comparison": comparison(("Nguyen Van An", an[1]), ("1990-02-03", an[2])),
        "reasons": ["name_tone_style"]})
    second = dose(an[0], "R10", "HN-01", 2)
    second["vaccinated_on"] = dt.date(2021, 10, 6)
    spec.doses.append(second)
    return spec
