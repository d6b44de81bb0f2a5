"""The independent evaluation set: deterministic, complete truth, its error rates, loadable."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import statistics
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from benchmarks.independent import errors
from benchmarks.independent.generate import facility, generate

PERSONS = 300


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("independent") / "set"
    generate(PERSONS, 11, out)
    return out


def _records(folder: Path) -> list[dict[str, str]]:
    options = pacsv.ConvertOptions(strings_can_be_null=False,
                                   column_types={c: "string" for c in ("dob", "id_number",
                                                                       "phone", "dose_number",
                                                                       "vaccinated_on", "gender")})
    return pacsv.read_csv(folder / "records.csv", convert_options=options).to_pylist()


def test_same_seed_same_files_other_seed_other_files(small_set: Path, tmp_path: Path) -> None:
    generate(PERSONS, 11, tmp_path / "again")
    generate(PERSONS, 12, tmp_path / "other")
    assert _digest(tmp_path / "again") == _digest(small_set)
    assert _digest(tmp_path / "other")["records.csv"] != _digest(small_set)["records.csv"]


def test_an_existing_folder_is_replaced_only_when_asked(small_set: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="exists"):
        generate(PERSONS, 11, small_set)
    (tmp_path / "mine").mkdir()
    with pytest.raises(SystemExit, match="not written by this generator"):
        generate(PERSONS, 11, tmp_path / "mine", overwrite=True)


def test_truth_covers_every_record_and_points_into_the_register(small_set: Path) -> None:
    records = _records(small_set)
    truth = pq.read_table(small_set / "truth/records_truth.parquet").to_pylist()
    register = {r["person_id"]: r for r in pq.read_table(small_set / "register.parquet").to_pylist()}
    persons = pq.read_table(small_set / "truth/persons.parquet").to_pylist()
    assert [r["record_id"] for r in records] == [t["record_id"] for t in truth]
    assert len({r["record_id"] for r in records}) == len(records) > 2 * PERSONS
    outside = {p["person_key"] for p in persons if not p["in_register"]}
    assert outside and all(p["person_id"] not in register for p in persons if not p["in_register"])
    for t in truth:
        if t["person_key"] in outside:
            assert t["true_person_id"] is None
        else:
            person = register[t["true_person_id"]]
            assert (person["full_name"], person["dob"]) == (t["true_full_name"], t["true_dob"])


def test_register_ids_encode_gender_and_birth_year(small_set: Path) -> None:
    """vn-facts §1.1: PPP G YY RRRRRR; G = century * 2 + female."""
    for person in pq.read_table(small_set / "register.parquet").to_pylist():
        number, year = person["person_id"], int(person["dob"][:4])
        assert len(number) == 12 and number.isdigit() and number[0] == "0"
        assert int(number[3]) == (year // 100 - 19) * 2 + (person["gender"] == "F")
        assert number[4:6] == f"{year % 100:02d}"


def _adult() -> errors.Person:
    return errors.Person(surname="Hoàng", middles=["Thị"], given="Thủy", gender="F",
                         dob=dt.date(1985, 3, 7), dob_precision="day", person_id="040185123456",
                         old_id="371234567", register_old_id=None, spouse_id="040085654321",
                         phone="0321234567")


# (code, expected share among entries of _adult() at scale 1 and facility factor 1)
EXPECTED = [
    ("name_middle_added", 0.012), ("name_middle_dropped", 0.010), ("name_middle_changed", 0.006),
    ("name_regional_variant", 0.12), ("name_word_order", 0.004), ("name_wrong_tone", 0.012),
    ("name_tone_style", 0.08), ("name_typo", 0.015), ("name_no_diacritics", 0.012 * 0.99),
    ("dob_placeholder_jan1", 0.008), ("dob_placeholder_fixed", 0.002), ("dob_year_only", 0.004),
    ("dob_day_month_swapped", 0.012 * 0.986), ("dob_year_off_by_one", 0.008),
    ("dob_digit_typo", 0.008), ("gender_missing", 0.008), ("gender_flipped", 0.004),
    ("id_missing", 0.03), ("id_household_member", 0.002 * 0.97), ("id_old_cmnd", 0.15 * 0.968),
    ("id_cmnd_not_in_register", 0.15 * 0.968), ("id_digit_typo", 0.006 * 0.97),
    ("phone_missing", 0.06), ("phone_old_prefix", 0.10 * 0.94),
]


@pytest.mark.parametrize("keyboard", ["telex", "vni"])
def test_each_error_kind_appears_at_its_rate(keyboard: str) -> None:
    draws = 20_000
    rng = random.Random(5)
    rate = errors.rate_function(1.0, 1.0)
    seen: dict[str, int] = {}
    for _ in range(draws):
        for kind in set(errors.enter_identity(_adult(), rng, rate, keyboard).kinds):
            seen[kind] = seen.get(kind, 0) + 1
    for code, expected in EXPECTED:
        assert abs(seen.get(code, 0) / draws - expected) <= 0.3 * expected + 0.0015, code
    full, partial = seen.get(f"name_{keyboard}_full", 0), seen.get(f"name_{keyboard}_partial", 0)
    assert abs(full / draws - 0.004) < 0.0025 and abs(partial / draws - 0.007) < 0.003


def test_doubling_doubles_rates_and_every_kind_occurs(tmp_path: Path) -> None:
    manifest = generate(1500, 3, tmp_path / "double", error_scale=2.0)
    for code, (rate, _) in errors.RATES.items():
        assert manifest["rates"][code] == pytest.approx(min(2 * rate, errors.MAX_RATE))
    realised = set(manifest["counts"]["records_per_error_kind"])
    wanted = {c for c in errors.RATES if not c.startswith("name_keyboard")}
    assert wanted - realised == set()
    assert {"name_telex_full", "name_telex_partial", "name_vni_partial"} <= realised
    assert {"twin", "not_in_register", "foreigner"} <= set(manifest["counts"]["records_per_trait"])


def test_rates_vary_by_facility() -> None:
    factors = [facility(1, f"TYT{i:05d}", "40").multiplier for i in range(2000)]
    assert 0.85 < statistics.mean(factors) < 1.15
    deciles = statistics.quantiles(factors, n=10)
    assert deciles[-1] / deciles[0] > 4


def test_realistic_mismatch_share(small_set: Path) -> None:
    """vn-facts §7: about a quarter of vaccinated people mismatched the register in March 2022."""
    shares = json.loads((small_set / "manifest.json").read_text(encoding="utf-8"))["shares"]
    assert 0.15 < shares["vaccinated_residents_with_identity_mismatch"] < 0.4


@pytest.mark.slow
def test_the_files_load_with_vaxtrust_clean(small_set: Path, tmp_path: Path) -> None:
    """The set is in the standard import formats: every record gets a result row, and the only
    rejects are the impossible dates of birth the error model writes on purpose."""
    from benchmarks.independent.score import score
    from typer.testing import CliRunner

    from vaxtrust.cli import app

    run = tmp_path / "run"
    done = CliRunner().invoke(app, ["clean", "--records", str(small_set / "records.csv"),
                                    "--register", str(small_set / "register.parquet"),
                                    "--out", str(run)])
    assert done.exit_code == 0, done.output
    figures = score(small_set, run / "results.parquet", run / "review_candidates.parquet")
    assert figures["missing"] == 0
    assert figures["auto_resolved"] > 0.8
    truth = {t["record_id"]: t["error_kinds"]
             for t in pq.read_table(small_set / "truth/records_truth.parquet").to_pylist()}
    rejects = pacsv.read_csv(run / "rejects.csv").to_pylist()
    for reject in rejects:
        assert reject["reason"] == "date_out_of_range" and reject["field"] == "dob"
        assert "dob_impossible" in truth[reject["record_id"]]


def test_the_readme_lists_every_rate() -> None:
    readme = (Path(errors.__file__).parent / "README.md").read_text(encoding="utf-8")
    for code, (rate, where) in errors.RATES.items():
        assert f"| `{code}` | {rate:g} | {where} |" in readme, code
