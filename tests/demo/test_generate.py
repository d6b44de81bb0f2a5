"""The synthetic generator: layout, ID structure, realism, error kinds, truth, determinism, bad input."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.demo.conftest import Generated
from vaxtrust.cli import app
from vaxtrust.demo import reference as ref
from vaxtrust.demo.errors import KIND_CODES
from vaxtrust.demo.generate import GenerateOptions, generate
from vaxtrust.errors import ConfigError
from vaxtrust.schema import DOSE_RECORD_COLUMNS, REGISTER_COLUMNS, TRUTH_COLUMNS
from vaxtrust.vn.legacy import decode_tcvn3, decode_vni
from vaxtrust.vn.names import canonical

GSO_PROVINCES = set(ref.admin_units().province_codes.tolist())
EXCEL_EPOCH = dt.date(1899, 12, 30)
GENDER_TEXT = {"Nam": "M", "Nữ": "F", "M": "M", "F": "F", "1": "M", "0": "F", "nam": "M", "nữ": "F",
               "NAM": "M", "NỮ": "F", "Male": "M", "Female": "F"}


def parse_record_date(text: str) -> dt.date | int:
    """A record date in any export format (year-only gives the int year)."""
    if re.fullmatch(r"\d{4}", text) and 1900 <= int(text) <= 2030:
        return int(text)   # Excel serials of that range would be 1905-1906 births: none here
    if re.fullmatch(r"\d{4,5}", text):
        return EXCEL_EPOCH + dt.timedelta(days=int(text))
    if m := re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)", text):
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})", text)
    assert m, text
    return dt.date(int(m[3]), int(m[2]), int(m[1]))


def rows_by_id(table: object, key: str) -> dict[str, dict[str, object]]:
    return {row[key]: row for row in table.to_pylist()}  # type: ignore[attr-defined]


def test_layout_and_columns(small: Generated) -> None:
    folder = small.folder
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "records.csv",
                                                         "register.parquet", "truth"]
    records = small.records()
    assert tuple(records.column_names) == DOSE_RECORD_COLUMNS
    assert tuple(small.register().column_names) == REGISTER_COLUMNS
    assert tuple(small.truth().column_names) == TRUTH_COLUMNS
    assert (folder / "records.csv").read_bytes().decode("utf-8")
    ids = records["record_id"].to_pylist()
    assert len(set(ids)) == len(ids) == small.manifest["counts"]["records"]
    assert all(re.fullmatch(r"R\d{10}", i) for i in ids)
    assert small.truth()["record_id"].to_pylist() == ids
    assert not list(folder.parent.glob(".small.partial-*"))


def test_personal_ids_have_the_legal_structure(small: Generated) -> None:
    register = small.register().to_pylist()
    assert len({r["person_id"] for r in register}) == len(register)
    for person in register:
        pid = person["person_id"]
        assert re.fullmatch(r"\d{12}", pid), pid
        assert pid[0] == "0" and pid[1:3] in GSO_PROVINCES
        year = int(person["dob"][:4])
        century_digit = int(pid[3])
        assert (19 + century_digit // 2) * 100 + int(pid[4:6]) == year
        assert century_digit % 2 == (person["gender"] == "F")
        if person["old_id"] is not None:
            assert re.fullmatch(r"\d{9}", person["old_id"]) and year <= 2003
    old_ids = [r["old_id"] for r in register if r["old_id"]]
    assert len(set(old_ids)) == len(old_ids) and 0.2 < len(old_ids) / len(register) < 0.6


def test_register_values_follow_the_contract(small: Generated) -> None:
    admin = ref.admin_units()
    units = {(p, d, c) for p, d, c in zip(admin.province_code, admin.district_code, admin.commune_code,
                                           strict=True)}
    precisions = Counter()
    styles = Counter()
    for person in small.register().to_pylist():
        precisions[person["dob_precision"]] += 1
        pattern = {"day": r"\d{4}-\d\d-\d\d", "month": r"\d{4}-\d\d", "year": r"\d{4}"}
        assert re.fullmatch(pattern[person["dob_precision"]], person["dob"])
        assert person["gender"] in ("M", "F")
        assert (person["province_code"], person["district_code"], person["commune_code"]) in units
        name = person["full_name"]
        assert name == unicodedata.normalize("NFC", name) and "  " not in name and "Ð" not in name
        assert person["phone"] is None or re.fullmatch(r"0\d{9}", person["phone"])
        styles["new" if re.search(r"(oà|oá|oả|oã|oạ|uỳ|uý|uỷ|uỹ|uỵ)\b", name) else
               "old" if re.search(r"(òa|óa|ỏa|õa|ọa|ùy|úy|ủy|ũy|ụy)\b", name) else "none"] += 1
    assert precisions["day"] > 0.9 * sum(precisions.values()) and precisions["year"] > 0
    assert styles["new"] > 0 and styles["old"] > 0, "the register mixes both tone-mark styles"


def test_households_share_surname_address_and_phone(small: Generated) -> None:
    persons = [p for p in small.persons().to_pylist() if p["household_id"]]
    by_household: dict[str, list[dict[str, object]]] = {}
    for person in persons:
        by_household.setdefault(str(person["household_id"]), []).append(person)
    multi = [members for members in by_household.values() if len(members) > 1]
    assert len(multi) > 0.7 * len(by_household)
    for members in multi:
        assert len({m["commune_code"] for m in members}) == 1
        children = [m for m in members if m["household_role"] == "child"]
        fathers = [m for m in members if m["household_role"] in ("head", "spouse") and m["gender"] == "M"]
        if children and fathers:
            surnames = {str(c["full_name"]).split(" ")[0] for c in children}
            assert surnames == {str(fathers[0]["full_name"]).split(" ")[0]}
    twins = [p for p in persons if p["twin_of"]]
    by_key = rows_by_id(small.persons(), "person_key")
    assert twins, "a few thousand people include twins"
    for twin in twins:
        sibling = by_key[str(twin["twin_of"])]
        assert sibling["dob"] == twin["dob"] and sibling["household_id"] == twin["household_id"]


def test_common_names_repeat_within_a_birth_year(medium: Generated) -> None:
    register = medium.register()
    pairs = Counter(zip(register["full_name"].to_pylist(),
                        pc.utf8_slice_codeunits(register["dob"], 0, 4).to_pylist(), strict=True))
    assert pairs.most_common(1)[0][1] >= 3
    surnames = Counter(n.split(" ")[0] for n in register["full_name"].to_pylist())
    assert 0.3 < surnames["Nguyễn"] / len(register) < 0.45


def test_records_mostly_in_register_with_a_few_foreigners(medium: Generated) -> None:
    shares, counts = medium.manifest["shares"], medium.manifest["counts"]
    assert shares["records_in_register"] >= 0.9
    assert 0.01 < counts["error_kinds"]["foreigner_passport"] / counts["records"] < 0.05
    assert 1.8 < counts["records"] / counts["residents"] < 2.6


def test_default_error_rates_are_realistic(medium: Generated) -> None:
    shares = medium.manifest["shares"]
    assert 0.2 < shares["vaccinated_residents_with_mismatch"] < 0.33
    assert 0.03 < shares["vaccinated_residents_without_usable_id"] < 0.08


def test_error_scale_doubles_the_rates(medium: Generated, doubled: Generated) -> None:
    base, twice = medium.manifest["counts"]["error_kinds"], doubled.manifest["counts"]["error_kinds"]
    for kind in ("name_typo", "name_no_diacritics", "dob_day_month_swapped", "id_old_cmnd",
                 "id_leading_zero_lost", "gender_missing", "duplicate_entry"):
        assert 1.6 < twice[kind] / base[kind] < 2.5, kind
    assert doubled.manifest["rates"]["name_typo"] == pytest.approx(2 * medium.manifest["rates"]["name_typo"])


def test_every_error_kind_occurs(noisy: Generated) -> None:
    seen = {k for kinds in noisy.truth()["error_kinds"].to_pylist() for k in kinds}
    assert seen == set(KIND_CODES)


def test_truth_matches_register_and_clean_records(small: Generated) -> None:
    register = rows_by_id(small.register(), "person_id")
    records = small.records().to_pylist()
    for record, truth in zip(records, small.truth().to_pylist(), strict=True):
        if truth["true_person_id"] is not None:
            person = register[truth["true_person_id"]]
            assert (truth["true_full_name"], truth["true_dob"], truth["true_gender"],
                    truth["true_id_number"]) == (person["full_name"], person["dob"],
                                                 person["gender"], person["person_id"])
        if truth["error_kinds"]:
            continue
        assert record["full_name"] == truth["true_full_name"]
        assert record["id_number"] == truth["true_id_number"]
        assert GENDER_TEXT[record["gender"]] == truth["true_gender"]
        parsed = parse_record_date(record["dob"])
        true_dob = truth["true_dob"]
        if isinstance(parsed, int):
            assert len(true_dob) == 4 and parsed == int(true_dob)
        else:
            assert parsed.isoformat().startswith(true_dob)


def _damaged(generated: Generated, kind: str) -> list[tuple[dict[str, str], dict[str, object]]]:
    pairs = [(r, t) for r, t in generated.pairs() if kind in t["error_kinds"]]
    assert pairs, kind
    return pairs


def test_injected_errors_are_what_the_truth_says(noisy: Generated) -> None:
    only = lambda kinds, name: [k for k in kinds if k.startswith(name)] == [kinds[0]]  # noqa: E731
    for record, _ in _damaged(noisy, "name_no_diacritics"):
        assert record["full_name"].isascii()
    for record, truth in _damaged(noisy, "name_mojibake_tcvn3"):
        if only(truth["error_kinds"], "name_"):
            assert decode_tcvn3(record["full_name"]) == truth["true_full_name"]
    for record, truth in _damaged(noisy, "name_mojibake_vni"):
        if only(truth["error_kinds"], "name_"):
            assert decode_vni(record["full_name"]) == truth["true_full_name"]
    for record, _ in _damaged(noisy, "name_nfd"):
        assert record["full_name"] != unicodedata.normalize("NFC", record["full_name"])
    for record, truth in _damaged(noisy, "id_leading_zero_lost"):
        assert re.fullmatch(r"[1-9]\d+", record["id_number"])
        if only(truth["error_kinds"], "id_"):
            assert record["id_number"] == str(truth["true_id_number"]).lstrip("0")
    for record, _ in _damaged(noisy, "id_scientific_notation"):
        assert re.fullmatch(r"\d(\.\d+)?E\+\d\d", record["id_number"])
    for record, truth in _damaged(noisy, "id_old_cmnd"):
        if only(truth["error_kinds"], "id_"):
            assert re.fullmatch(r"\d{9}", record["id_number"])
    for record, _ in _damaged(noisy, "id_missing"):
        assert record["id_number"] == ""
    for record, _ in _damaged(noisy, "gender_missing"):
        assert record["gender"] == ""
    for record, truth in _damaged(noisy, "gender_flipped"):
        assert GENDER_TEXT[record["gender"]] != truth["true_gender"]
    for record, _ in _damaged(noisy, "phone_old_prefix"):
        assert re.fullmatch(r"(01|\+841|841)\d{9}", record["phone"])
    for record, truth in _damaged(noisy, "dob_day_month_swapped"):
        parsed = parse_record_date(record["dob"])
        true = dt.date.fromisoformat(str(truth["true_dob"]))
        assert isinstance(parsed, dt.date) and (parsed.day, parsed.month) == (true.month, true.day)
    for record, truth in _damaged(noisy, "foreigner_passport"):
        assert truth["true_person_id"] is None and re.fullmatch(r"[A-Z]\d{8}", record["id_number"])


def test_issue_13_error_kinds_are_what_the_truth_says(noisy: Generated) -> None:
    only = lambda kinds, field: [k for k in kinds if k.startswith(field)]  # noqa: E731
    for record, truth in _damaged(noisy, "name_middle_added"):
        if only(truth["error_kinds"], "name_") == ["name_middle_added"]:
            typed, true = record["full_name"].split(" "), str(truth["true_full_name"]).split(" ")
            assert len(typed) == len(true) + 1 and (typed[0], typed[-1]) == (true[0], true[-1])
    for record, truth in _damaged(noisy, "name_middle_changed"):
        if only(truth["error_kinds"], "name_") == ["name_middle_changed"]:
            typed, true = record["full_name"].split(" "), str(truth["true_full_name"]).split(" ")
            assert len(typed) == len(true) and typed[-2] != true[-2]
    for code in ("name_telex_residue", "name_vni_residue"):
        for record, truth in _damaged(noisy, code):
            assert record["full_name"].isascii() or code == "name_telex_residue" or \
                re.search(r"\d", record["full_name"])
            if only(truth["error_kinds"], "name_") == [code]:
                assert canonical(record["full_name"]) == canonical(str(truth["true_full_name"]))
    register = noisy.register().to_pylist()
    old_ids = {p["old_id"] for p in register} | {p["person_id"] for p in register}
    for record, truth in _damaged(noisy, "id_old_cmnd_unregistered"):
        if only(truth["error_kinds"], "id_") == ["id_old_cmnd_unregistered"]:
            assert re.fullmatch(r"\d{9}", record["id_number"]) and record["id_number"] not in old_ids
    for record, truth in _damaged(noisy, "dob_year_off_by_one"):
        parsed = parse_record_date(record["dob"])
        true = dt.date.fromisoformat(str(truth["true_dob"]))
        assert isinstance(parsed, dt.date) and abs(parsed.year - true.year) == 1
    impossible = 0
    for record, truth in _damaged(noisy, "dob_digit_mistyped"):
        true = dt.date.fromisoformat(str(truth["true_dob"]))
        try:
            parsed = parse_record_date(record["dob"])
        except (ValueError, AssertionError):   # 32/05/1990, or a serial beyond any layout
            impossible += 1
            continue
        impossible += isinstance(parsed, dt.date) and not 1900 <= parsed.year <= 2030
        if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", record["dob"]):
            written = f"{true.day:02d}{true.month:02d}{true.year}"
            day, month, year = record["dob"].split("/")
            typed = f"{int(day):02d}{int(month):02d}{year}"
            assert sum(a != b for a, b in zip(typed, written, strict=True)) == 1
    assert impossible > 0   # some slips give dates that cannot be (01/08/9968, 32/05/1990)


def test_parent_ids_and_duplicates_point_at_real_rows(noisy: Generated) -> None:
    persons = noisy.persons().to_pylist()
    by_id = {p["person_id"]: p for p in persons if p["person_id"]}
    for record, truth in _damaged(noisy, "id_parent_on_child"):
        child = by_id[truth["true_id_number"]]
        if [k for k in truth["error_kinds"] if k.startswith("id_")] == ["id_parent_on_child"]:
            parent = by_id[record["id_number"]]
            assert parent["household_id"] == child["household_id"] and parent["household_role"] == "head"
    records = noisy.records().to_pylist()
    content = Counter(tuple(r[c] for c in DOSE_RECORD_COLUMNS[1:]) for r in records)
    for record, _ in _damaged(noisy, "duplicate_entry"):
        assert content[tuple(record[c] for c in DOSE_RECORD_COLUMNS[1:])] >= 2


def test_dose_records_follow_the_campaign(small: Generated) -> None:
    vaccine_names = {name for v in ref.VACCINES for name in v.names}
    for record in small.records().to_pylist():
        date = parse_record_date(record["vaccinated_on"])
        assert isinstance(date, dt.date) and dt.date(2021, 3, 8) <= date <= dt.date(2022, 12, 31)
        assert record["vaccine"] in vaccine_names
        assert re.fullmatch(r"(Mũi )?[1-4]", record["dose_number"])
        assert re.fullmatch(r"TT?YT\d{3,5}", record["facility_id"])


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    def run(name: str, seed: int) -> Path:
        generate(GenerateOptions(persons=800, seed=seed, out=tmp_path / name, chunk_persons=300))
        return tmp_path / name

    first, again, other = run("a", 4), run("b", 4), run("c", 5)
    for file in ("records.csv", "register.parquet", "truth/records_truth.parquet",
                 "truth/persons.parquet", "manifest.json"):
        assert (first / file).read_bytes() == (again / file).read_bytes(), file
    assert (first / "records.csv").read_bytes() != (other / "records.csv").read_bytes()


def test_parquet_records_hold_the_same_rows_as_csv(small: Generated, tmp_path: Path) -> None:
    generate(GenerateOptions(persons=4_000, seed=11, out=tmp_path / "pq", chunk_persons=2_500,
                             records_format="parquet"))
    assert not (tmp_path / "pq" / "records.csv").exists()
    assert pq.read_table(tmp_path / "pq" / "records.parquet").equals(small.records())


def test_a_chosen_province_only(tmp_path: Path) -> None:
    generate(GenerateOptions(persons=600, seed=3, out=tmp_path / "na", provinces=("40",)))
    generated = Generated(tmp_path / "na", {})
    assert set(generated.register()["province_code"].to_pylist()) == {"40"}
    assert set(generated.persons()["province_code"].to_pylist()) == {"40"}
    assert {r["province"] for r in generated.records().to_pylist()} <= {"Tỉnh Nghệ An", "Nghệ An", ""}


def test_xlsx_records_are_text_cells(small: Generated, tmp_path: Path) -> None:
    import openpyxl

    generate(GenerateOptions(persons=4_000, seed=11, out=tmp_path / "x", chunk_persons=2_500,
                             records_format="xlsx"))
    sheet = openpyxl.load_workbook(tmp_path / "x" / "records.xlsx", read_only=True)["records"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == DOSE_RECORD_COLUMNS
    expected = small.records().to_pylist()
    assert len(rows) - 1 == len(expected)
    for row, record in zip(rows[1:200], expected, strict=False):
        assert all(isinstance(v, str) or v is None for v in row)
        assert tuple(v or "" for v in row) == tuple(record[c] for c in DOSE_RECORD_COLUMNS)


@pytest.mark.parametrize(("options", "message"), [
    ({"provinces": ("99",)}, "--province '99' is not a pre-2025 GSO province code"),
    ({"records_format": "ods"}, "--format must be one of csv, parquet, xlsx"),
    ({"records_format": "xlsx", "persons": 500_000}, "--format xlsx is for up to 400,000 persons"),
    ({"persons": 0}, "--persons must be between 1"),
    ({"persons": -5}, "--persons must be between 1"),
    ({"error_scale": -1.0}, "--error-scale must be between 0 and 20"),
    ({"error_scale": float("nan")}, "--error-scale"),
    ({"seed": -1}, "--seed"),
])
def test_bad_options_are_refused(tmp_path: Path, options: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"persons": 10, "seed": 1, "out": tmp_path / "out", **options}
    with pytest.raises(ConfigError, match=re.escape(message)):
        generate(GenerateOptions(**values))  # type: ignore[arg-type]


def test_out_dir_must_be_empty_or_overwritten(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(ConfigError, match="is not empty"):
        generate(GenerateOptions(persons=10, seed=1, out=tmp_path / "full"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        generate(GenerateOptions(persons=10, seed=1, out=tmp_path / "file"))
    with pytest.raises(ConfigError, match="only replaces a folder written by"):
        generate(GenerateOptions(persons=10, seed=1, out=tmp_path / "full", overwrite=True))
    assert (tmp_path / "full" / "keep.txt").exists()
    generate(GenerateOptions(persons=10, seed=1, out=tmp_path / "made"))
    (tmp_path / "made" / "stale.txt").write_text("x")
    generate(GenerateOptions(persons=12, seed=1, out=tmp_path / "made", overwrite=True))
    assert not (tmp_path / "made" / "stale.txt").exists()


def test_cli_generate_reports_errors_in_one_line(tmp_path: Path) -> None:
    from vaxtrust.cli import main

    runner = CliRunner()
    ok = runner.invoke(app, ["generate", "--persons", "50", "--seed", "2", "--out", str(tmp_path / "g")])
    assert ok.exit_code == 0, ok.output
    assert "dose records" in ok.output and (tmp_path / "g" / "records.csv").is_file()
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--persons", "0", "--out", str(tmp_path / "h")])
    assert exit_info.value.code == 2
