"""Each rule path on hand-built standardised tables, through to the decision."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.pipeline.match.std_tables import load, person, record
from vaxtrust.console import RecordingConsole
from vaxtrust.engine import Engine
from vaxtrust.pipeline.decide import run_decide
from vaxtrust.pipeline.match import MatchSettings, run_matching
from vaxtrust.schema import RESULT_COLUMNS, REVIEW_CANDIDATE_COLUMNS

RULES_ONLY = MatchSettings(probabilistic=False)

HUNG = person("001080000001", "Nguyễn Văn Hùng", "1980-05-12", "M", phone="0912345678")
LAN = person("079192000002", "Trần Thị Lan", "1992-03-07", "F", old_id="023456789")
CHILD = person("001210000003", "Lê Minh Anh", "2010-11-02", "M")
FATHER = person("001078000004", "Lê Văn Bình", "1978-01-20", "M")
TWIN_HOA = person("001300000005", "Phạm Thị Hoa", "2000-06-15", "F")
TWIN_HONG = person("001300000006", "Phạm Thị Hồng", "2000-06-15", "F")
REGISTER = [HUNG, LAN, CHILD, FATHER, TWIN_HOA, TWIN_HONG]


def decide(engine: Engine, records: list[dict[str, Any]],
           register: list[dict[str, Any]] = REGISTER,
           settings: MatchSettings = RULES_ONLY) -> dict[str, dict[str, Any]]:
    load(engine, records, register)
    console = RecordingConsole()
    run_matching(engine, settings, console)
    run_decide(engine, settings, console)
    rows = engine.to_arrow("decisions").to_pylist()
    assert len(rows) == len(records)
    return {row["record_id"]: row for row in rows}


def test_exact_record_is_verified_without_corrections(engine: Engine) -> None:
    result = decide(engine, [record("r1", "Nguyễn Văn Hùng", "1980-05-12", "M", "001080000001")])
    row = result["r1"]
    assert row["status"] == "verified"
    assert row["person_id"] == "001080000001"
    assert row["confidence"] == 1.0
    assert row["reasons"] == []
    assert [row[f"corrected_{f}"] for f in ("full_name", "dob", "gender", "id_number")] == [
        None] * 4
    assert row["path"] == "exact"


def test_a_name_repaired_from_a_wrong_encoding_is_written_back_corrected(engine: Engine) -> None:
    # the standardiser read "Nguyá»\x85n VÄ\x83n Hùng" back as the register's name
    repaired = dict(record("r1", "Nguyễn Văn Hùng", "1980-05-12", "M", "001080000001"),
                    name_flags=["name_mojibake_repaired"])
    row = decide(engine, [repaired])["r1"]
    assert row["status"] == "corrected" and row["person_id"] == "001080000001"
    assert row["corrected_full_name"] == "Nguyễn Văn Hùng"
    assert row["reasons"] == ["name_mojibake_repaired"]


def test_id_anchored_explains_and_corrects_each_field(engine: Engine) -> None:
    result = decide(engine, [record("r1", "NGUYEN VAN HUNG", "1980-12-05", None, "001080000001")])
    row = result["r1"]
    assert row["status"] == "corrected"
    assert row["path"] == "id_anchored"
    assert set(row["reasons"]) == {"name_no_diacritics", "dob_day_month_swapped",
                                   "gender_missing"}
    assert row["corrected_full_name"] == "Nguyễn Văn Hùng"
    assert row["corrected_dob"] == "1980-05-12"
    assert row["corrected_gender"] == "M"
    assert row["corrected_id_number"] is None
    assert 0.95 <= row["confidence"] < 1.0


@pytest.mark.parametrize(("name", "dob", "reason"), [
    ("Nguyễn Hùng", "1980-05-12", "name_middle_dropped"),
    ("Hùng Nguyễn Văn", "1980-05-12", "name_order_swapped"),
    ("Nguyễn Văn Hùnh", "1980-05-12", "name_typo"),
    ("Nguyễn Văn Hùng", "1980", "dob_year_only"),
    ("Nguyễn Văn Hùng", "1980-01-01", "dob_placeholder"),
    ("Nguyễn Văn Hùng", "1980-05-13", "dob_typo"),
])
def test_id_anchored_reason_codes(engine: Engine, name: str, dob: str, reason: str) -> None:
    row = decide(engine, [record("r1", name, dob, "M", "001080000001")])["r1"]
    assert row["status"] == "corrected"
    assert reason in row["reasons"]


def test_regional_surname_variant_is_explained(engine: Engine) -> None:
    register = [person("001080000009", "Hoàng Văn Nam", "1980-05-12", "M")]
    row = decide(engine, [record("r1", "Huỳnh Văn Nam", "1980-05-12", "M", "001080000009")],
                 register)["r1"]
    assert row["status"] == "corrected"
    assert row["reasons"] == ["name_regional_variant"]
    assert row["corrected_full_name"] == "Hoàng Văn Nam"


def test_a_short_surname_replaced_outright_is_no_typo(engine: Engine) -> None:
    # Đỗ -> Lê is two edits of the folded name, but another family: not a slip of the hand
    register = [person("042180410977", "Lê Phước Bình", "1980-10-08", "F")]
    other_family = record("r1", "Đỗ Phước Bình", "1980-10-08", "F", "042180410977")
    slip = record("r2", "Lê Phước Bìnk", "1980-10-08", "F", "042180410977")
    result = decide(engine, [other_family, slip], register)
    assert "name_typo" not in result["r1"]["reasons"]
    assert result["r1"]["person_id"] is None
    assert result["r2"]["reasons"] == ["name_typo"] and result["r2"]["status"] == "corrected"


def test_gender_flip_is_corrected(engine: Engine) -> None:
    row = decide(engine, [record("r1", "Nguyễn Văn Hùng", "1980-05-12", "F",
                                 "001080000001")])["r1"]
    assert row["status"] == "corrected"
    assert row["reasons"] == ["gender_flipped"]
    assert row["corrected_gender"] == "M"


def test_parents_id_on_a_childs_record_never_links(engine: Engine) -> None:
    row = decide(engine, [record("r1", "Lê Minh Anh", "2010-11-02", "M", FATHER["person_id"])])[
        "r1"]
    assert row["status"] == "unmatched"
    assert row["person_id"] is None
    assert "id_belongs_to_other_person" in row["reasons"]


def test_twins_id_never_links_to_the_sibling(engine: Engine) -> None:
    register = [person("001300000105", "Phạm Thị Hoa", "2000-06-15", "F"),
                person("001300000236", "Phạm Thị Hồng", "2000-06-15", "F")]
    row = decide(engine, [record("r1", "Phạm Thị Hồng", "2000-06-15", "F", "001300000105")],
                 register)["r1"]
    assert row["status"] == "unmatched"
    assert row["person_id"] is None
    # same date of birth and gender as the ID's holder: only the name tells them apart
    assert "name_differs_on_own_id" in row["reasons"]


def test_own_id_date_and_gender_with_another_name_is_not_called_someone_elses_id(
        engine: Engine) -> None:
    result = decide(engine, [
        record("own", "Nguyễn Thành Long", "1980-05-12", "M", "001080000001"),
        record("slip", "Nguyễn Thành Long", "1980-12-05", "M", "001080000001"),
        record("parent", "Nguyễn Thành Long", "2010-05-12", "M", "001080000001"),
        record("other_gender", "Nguyễn Thị Loan", "1980-05-12", "F", "001080000001"),
    ])
    for record_id in ("own", "slip"):
        assert result[record_id]["person_id"] is None, record_id
        assert "name_differs_on_own_id" in result[record_id]["reasons"], record_id
        assert "id_belongs_to_other_person" not in result[record_id]["reasons"], record_id
    for record_id in ("parent", "other_gender"):
        assert "id_belongs_to_other_person" in result[record_id]["reasons"], record_id
        assert "name_differs_on_own_id" not in result[record_id]["reasons"], record_id


def test_twins_adjacent_id_leads_to_the_named_twin(engine: Engine) -> None:
    row = decide(engine, [record("r1", "Phạm Thị Hồng", "2000-06-15", "F",
                                 TWIN_HOA["person_id"])])["r1"]
    assert row["status"] == "corrected"
    assert row["person_id"] == TWIN_HONG["person_id"]


def test_id_with_right_name_but_other_date_goes_to_review(engine: Engine) -> None:
    result = decide(engine, [record("r1", "Nguyễn Văn Hùng", "1985-02-03", "M", "001080000001")])
    assert result["r1"]["status"] == "review"
    candidates = engine.to_arrow("review_candidates").to_pylist()
    assert engine.to_arrow("review_candidates").column_names == list(REVIEW_CANDIDATE_COLUMNS)
    assert [c["person_id"] for c in candidates] == ["001080000001"]
    comparison = json.loads(candidates[0]["comparison"])
    assert comparison["dob"]["verdict"] == "dob_different"
    assert comparison["name"]["verdict"] == "equal"


@pytest.mark.parametrize("name", ["Nguyễn Văn Minh Hùng", "Nguyễn Văn Đức Hùng"])
def test_a_middle_name_added_links_on_the_id(engine: Engine, name: str) -> None:
    row = decide(engine, [record("r1", name, "1980-05-12", "M", "001080000001")])["r1"]
    assert row["status"] == "corrected"
    assert "name_middle_added" in row["reasons"]
    assert row["corrected_full_name"] == "Nguyễn Văn Hùng"


def test_a_middle_name_added_to_a_two_word_name(engine: Engine) -> None:
    register = [person("001300000105", "Phạm Hoa", "2000-06-15", "F")]
    row = decide(engine, [record("r1", "Phạm Thị Hoa", "2000-06-15", "F", "001300000105")],
                 register)["r1"]
    assert row["status"] == "corrected" and row["reasons"] == ["name_middle_added"]


@pytest.mark.parametrize("name", ["Hùng Nguyễn", "Minh Hùng Nguyễn Văn"])
def test_middle_name_dropped_or_added_and_order_changed(engine: Engine, name: str) -> None:
    row = decide(engine, [record("r1", name, "1980-05-12", "M", "001080000001")])["r1"]
    assert row["status"] == "corrected" and "name_words_rearranged" in row["reasons"]


def test_a_changed_middle_name_links_only_with_supporting_fields(engine: Engine) -> None:
    changed = record("r1", "Nguyễn Đức Hùng", "1980-05-12", "M", "001080000001", commune=None)
    assert decide(engine, [changed])["r1"]["status"] == "review"
    supported = record("r1", "Nguyễn Đức Hùng", "1980-05-12", "M", "001080000001",
                       phone="0912345678")
    row = decide(engine, [supported])["r1"]
    assert row["status"] == "corrected" and row["person_id"] == "001080000001"
    assert {"name_middle_changed", "phone_agrees", "commune_agrees"} <= set(row["reasons"])


def test_an_unnamed_name_difference_links_on_overwhelming_evidence(engine: Engine) -> None:
    # surname and given name agree; the middle differs in a way no rule names
    unnamed = record("r1", "Nguyễn Thanh Tâm Hùng", "1980-05-12", "M", "001080000001",
                     phone="0912345678")
    row = decide(engine, [unnamed])["r1"]
    assert row["status"] == "corrected" and "name_partial_match" in row["reasons"]
    # the ID's own full date of birth with the given name written exactly is evidence enough
    alone = record("r1", "Nguyễn Thanh Tâm Hùng", "1980-05-12", "M", "001080000001",
                   commune=None)
    assert decide(engine, [alone])["r1"]["status"] == "corrected"
    # a slip in the given name too (same first letter, four letters or more) needs the phone
    slipped = record("r1", "Nguyễn Thanh Tâm Hùnh", "1980-05-12", "M", "001080000001",
                     phone="0912345678")
    assert "name_partial_match" in decide(engine, [slipped])["r1"]["reasons"]
    slipped_alone = record("r1", "Nguyễn Thanh Tâm Hùnh", "1980-05-12", "M", "001080000001",
                           commune=None)
    assert decide(engine, [slipped_alone])["r1"]["status"] == "review"
    # nor is a full date of birth evidence when only the year is known
    year_only = record("r1", "Nguyễn Thanh Tâm Hùng", "1980", "M", "001080000001", commune=None)
    assert decide(engine, [year_only])["r1"]["status"] == "review"


@pytest.mark.parametrize("name", [
    "Nguyễ Văn Minh Hùng",    # a typo in the surname and a middle name added
    "Nguyễnn Minh Hùng",       # a key struck twice, another middle name
    "Hùng Nguyễ Văn Minh",     # words moved, a typo and a middle name added
    "Huỳnh Van Hung",          # not a regional pair of this surname: stays apart (below)
])
def test_several_slips_at_once_link_on_the_ids_own_date_of_birth(engine: Engine,
                                                                 name: str) -> None:
    row = decide(engine, [record("r1", name, "1980-05-12", "M", "001080000001",
                                 commune=None)])["r1"]
    if name.startswith("Huỳnh"):
        assert row["person_id"] is None and "name_several_slips" not in row["reasons"]
        return
    assert row["status"] == "corrected" and row["person_id"] == "001080000001"
    assert "name_several_slips" in row["reasons"]
    assert row["corrected_full_name"] == "Nguyễn Văn Hùng"


def test_several_slips_never_link_without_a_date_of_birth(engine: Engine) -> None:
    row = decide(engine, [record("r1", "Nguyễ Văn Minh Hùng", None, "M", "001080000001",
                                 phone="0912345678")])["r1"]
    assert row["person_id"] is None and "dob_missing" in row["reasons"]


def test_several_slips_keep_short_given_names_apart(engine: Engine) -> None:
    # Lan / Lam: a short given name is how siblings are told apart, so it must be exact
    row = decide(engine, [record("r1", "Trần Thị Ngọc Lam", "1992-03-07", "F", LAN["person_id"],
                                 phone="0900000000")])["r1"]
    assert row["person_id"] is None


def test_a_twin_with_the_siblings_id_and_a_middle_name_added_never_links(engine: Engine) -> None:
    register = [person("001300000105", "Phạm Thị Hoa", "2000-06-15", "F", phone="0911111111")]
    row = decide(engine, [record("r1", "Phạm Thị Ngọc Hồng", "2000-06-15", "F", "001300000105",
                                 phone="0911111111")], register)["r1"]
    assert row["person_id"] is None


def test_full_name_in_other_words_links_without_a_date_of_birth(engine: Engine) -> None:
    # Hoàng/Huỳnh or the words moved: still the whole name, unlike a father's with the son's
    register = [person("089074656017", "Huỳnh Văn Phong", "1974-11-23", "M")]
    for name in ("Hoàng Văn Phong", "Phong Huỳnh Văn"):
        row = decide(engine, [record("r1", name, None, "M", "089074656017")], register)["r1"]
        assert row["status"] == "corrected" and row["person_id"] == "089074656017", name


def test_a_twins_id_never_links_whatever_agrees(engine: Engine) -> None:
    register = [person("001300000105", "Phạm Thị Hoa", "2000-06-15", "F", phone="0911111111")]
    row = decide(engine, [record("r1", "Phạm Thị Hồng", "2000-06-15", "F", "001300000105",
                                 phone="0911111111")], register)["r1"]
    assert row["person_id"] is None and "name_differs_on_own_id" in row["reasons"]


def test_parents_id_never_links_even_with_the_household_phone(engine: Engine) -> None:
    father = person("001078000004", "Lê Văn Bình", "1978-01-20", "M", phone="0922222222")
    row = decide(engine, [record("r1", "Lê Minh Anh", "2010-11-02", "M", "001078000004",
                                 phone="0922222222")], [father])["r1"]
    assert row["person_id"] is None and "id_belongs_to_other_person" in row["reasons"]


def test_own_id_and_name_with_a_garbled_date_link_on_phone_and_commune(engine: Engine) -> None:
    row = decide(engine, [record("r1", "Nguyễn Văn Hùng", "1985-02-03", "M", "001080000001",
                                 phone="0912345678")])["r1"]
    assert row["status"] == "corrected" and row["corrected_dob"] == "1980-05-12"
    assert {"dob_different", "phone_agrees"} <= set(row["reasons"])


def test_a_son_named_like_his_father_never_takes_the_fathers_id(engine: Engine) -> None:
    father = person("054074488247", "Nguyễn Văn Hùng", "1974-01-22", "M", phone="0985447715")
    row = decide(engine, [record("r1", "Nguyễn Văn Hùng", "2005-07-05", "M", "054074488247",
                                 phone="0985447715")], [father])["r1"]
    assert row["person_id"] is None and "dob_different" in row["reasons"]


@pytest.mark.parametrize("name", ["Hồ Đông Phong", "Hồ Văn Đông Phong"])
def test_a_fathers_id_on_a_record_without_date_of_birth_needs_the_full_name(
        engine: Engine, name: str) -> None:
    father = person("089074656017", "Hồ Văn Phong", "1974-11-23", "M", phone="0385724524")
    row = decide(engine, [record("r1", name, None, "M", "089074656017", phone="0385724524")],
                 [father])["r1"]
    assert row["person_id"] is None and "dob_missing" in row["reasons"]


@pytest.mark.parametrize("typed", ["99800512", "16800512", "19800572"])
def test_an_impossible_date_one_digit_from_the_persons_is_repaired(engine: Engine,
                                                                   typed: str) -> None:
    # 12/05/9980, 1680-05-12, 72/05/1980: no date of birth, one key away from Hùng's 1980-05-12
    slipped = record("r1", "Nguyễn Văn Hung", None, "M", "001080000001", dob_typed=typed)
    row = decide(engine, [slipped])["r1"]
    assert row["status"] == "corrected" and row["person_id"] == "001080000001"
    assert row["corrected_dob"] == "1980-05-12"
    assert set(row["reasons"]) == {"dob_typo", "name_diacritics_differ"}


def test_an_impossible_date_is_unknown_with_its_reason_and_the_guards_hold(
        engine: Engine) -> None:
    father = person("089074656017", "Hồ Văn Phong", "1974-11-23", "M", phone="0385724524")
    records = [
        # the person's own record: the full name links without a date
        record("r1", "Hồ Văn Phong", None, "M", "089074656017", dob_typed="99741132"),
        # his son's record with his ID: a typed date that is no slip of his stays unknown
        record("r2", "Hồ Đông Phong", None, "M", "089074656017", phone="0385724524",
               dob_typed="20081405"),
    ]
    result = decide(engine, records, [father])
    assert result["r1"]["status"] == "corrected" and result["r1"]["corrected_dob"] == "1974-11-23"
    assert result["r1"]["reasons"] == ["dob_unusable"]
    assert result["r2"]["person_id"] is None and "dob_unusable" in result["r2"]["reasons"]


def test_a_fathers_id_with_a_fixed_placeholder_date_needs_the_full_name(engine: Engine) -> None:
    father = person("014077945200", "Đặng Đình Hùng", "1977-07-05", "M", phone="0885481489")
    son = record("r1", "Đặng Minh Hùng", "1900-01-01", "M", "014077945200", phone="0885481489")
    row = decide(engine, [son], [father])["r1"]
    assert row["person_id"] is None and "dob_placeholder" in row["reasons"]


def test_transposed_id_is_repaired(engine: Engine) -> None:
    row = decide(engine, [record("r1", "Trần Thị Lan", "1992-03-07", "F", "079192000020")])["r1"]
    assert row["status"] == "corrected"
    assert row["path"] == "id_repair"
    assert row["reasons"] == ["id_digits_swapped"]
    assert row["corrected_id_number"] == "079192000002"


def test_one_digit_typo_is_repaired(engine: Engine) -> None:
    row = decide(engine, [record("r1", "Trần Thị Lan", "1992-03-07", "F", "079192000008")])["r1"]
    assert row["status"] == "corrected"
    assert row["reasons"] == ["id_digit_mistyped"]
    assert row["corrected_id_number"] == "079192000002"


def test_id_typo_reaching_two_namesakes_goes_to_review(engine: Engine) -> None:
    register = [person("079192000002", "Trần Thị Lan", "1992-03-07", "F"),
                person("079192000004", "Trần Thị Lan", "1992-03-07", "F")]
    row = decide(engine, [record("r1", "Trần Thị Lan", "1992-03-07", "F", "079192000003")],
                 register)["r1"]
    assert row["status"] == "review"
    assert "ambiguous_candidates" in row["reasons"]
    assert engine.count("review_candidates") == 2


def test_old_cmnd_reaches_the_person(engine: Engine) -> None:
    row = decide(engine, [record("r1", "Trần Thị Lan", "1992-03-07", "F", "023456789")])["r1"]
    assert row["status"] == "corrected"
    assert row["reasons"] == ["id_old_cmnd"]
    assert row["corrected_id_number"] == "079192000002"


def test_standardiser_id_repairs_are_reported(engine: Engine) -> None:
    row = decide(engine, [record("r1", "Nguyễn Văn Hùng", "1980-05-12", "M", "001080000001",
                                 id_repairs=["id_leading_zero_lost"])])["r1"]
    assert row["status"] == "corrected"
    assert row["reasons"] == ["id_leading_zero_lost"]
    assert row["corrected_id_number"] == "001080000001"


# the phone the two records share, or, with no phone known, the commune
@pytest.mark.parametrize("key", [{"phone": "0912345678"}, {"phone": None, "commune": "00042"}])
def test_other_dose_lends_its_person(engine: Engine, key: dict[str, Any]) -> None:
    records = [
        record("r1", "Nguyễn Văn Hùng", "1980-05-12", "M", "001080000001", **key),
        record("r2", "Nguyen Van Hung", "1980-05-12", "M", None, dose=2, **key),
    ]
    result = decide(engine, records)
    assert result["r1"]["status"] == "verified"
    row = result["r2"]
    assert row["status"] == "corrected"
    assert row["path"] == "household_evidence"
    assert row["person_id"] == "001080000001"
    assert set(row["reasons"]) == {"name_no_diacritics", "id_missing"}
    assert row["corrected_id_number"] == "001080000001"


def test_another_dose_lends_nothing_without_the_full_date_of_birth(engine: Engine) -> None:
    # a year alone is shared by too many namesakes, though both records give the same
    records = [
        record("r1", "Nguyễn Văn Hùng", "1980", "M", "001080000001", phone="0912345678"),
        record("r2", "Nguyen Van Hung", "1980", "M", None, phone="0912345678", dose=2),
    ]
    result = decide(engine, records)
    assert result["r1"]["status"] == "corrected"
    assert result["r2"]["path"] != "household_evidence"


def test_foreign_passport_is_unmatched(engine: Engine) -> None:
    row = decide(engine, [record("r1", "John Smith", "1975-04-04", "M", "B1234567")])["r1"]
    assert row["status"] == "unmatched"
    assert row["reasons"] == ["foreign_passport"]


@pytest.mark.parametrize(("name", "dob", "reasons"), [
    (None, "1975-04-04", ["name_unusable", "id_missing"]),
    ("Đỗ Thị Mai", None, ["dob_unusable", "id_missing"]),
    (None, None, ["name_unusable", "dob_unusable", "id_missing"]),
])
def test_record_without_identity_is_rejected_with_reasons_in_the_order_of_the_checks(
    engine: Engine, name: str | None, dob: str | None, reasons: list[str]
) -> None:
    row = decide(engine, [record("r1", name, dob, "M", None)])["r1"]
    assert row["status"] == "rejected"
    assert row["reasons"] == reasons
    assert row["confidence"] == 1.0


def test_decisions_follow_the_results_contract(engine: Engine) -> None:
    decide(engine, [record("r1", "Nguyễn Văn Hùng", "1980-05-12", "M", "001080000001"),
                    record("r2", "X", None, None, None)])
    columns = engine.to_arrow("decisions").column_names
    assert columns == [*RESULT_COLUMNS, "path"]


def test_stages_are_reported(engine: Engine) -> None:
    load(engine, [record("r1", "Nguyễn Văn Hùng", "1980-05-12", "M", "001080000001")], REGISTER)
    console = RecordingConsole()
    run_matching(engine, RULES_ONLY, console)
    assert console.stages() == ["match_exact", "match_id_anchored", "match_id_repair",
                                "match_household_evidence"]


def test_tone_style_is_reported_on_a_verified_record(engine: Engine) -> None:
    styled = record("r1", "Nguyễn Văn Hùng", "1980-05-12", "M", "001080000001")
    styled["name_flags"] = ["name_tone_style"]
    row = decide(engine, [styled])["r1"]
    assert row["status"] == "verified"
    assert row["reasons"] == ["name_tone_style"]


def test_record_agreeing_with_a_less_precise_register_date_is_verified(engine: Engine) -> None:
    register = [person("001080000009", "Hoàng Văn Nam", "1980-05", "M")]
    row = decide(engine, [record("r1", "Hoàng Văn Nam", "1980-05-01", "M", "001080000009")],
                 register)["r1"]
    assert row["status"] == "verified"
    assert row["corrected_dob"] is None


def test_corrected_dob_is_as_precise_as_the_register(engine: Engine) -> None:
    register = [person("001080000009", "Hoàng Văn Nam", "1980-05", "M")]
    row = decide(engine, [record("r1", "Hoàng Văn Nam", "1980", "M", "001080000009")],
                 register)["r1"]
    assert row["status"] == "corrected"
    assert row["reasons"] == ["dob_year_only"]
    assert row["corrected_dob"] == "1980-05"


def test_name_parts_are_compared_by_position_whatever_the_split(engine: Engine) -> None:
    register = [person("001080000009", "Võ Anh Minh", "1976-06-11", "M")]
    typed = record("r1", "Vũ Minh", "1976-06-11", "M", "001080000009")
    typed["surname_fold"], typed["middle_fold"] = "VU MINH", ""  # a compound-surname split
    row = decide(engine, [typed], register)["r1"]
    assert row["status"] == "corrected"
    assert row["reasons"] == ["name_middle_dropped"]


def test_conflicting_evidence_lends_nobody(engine: Engine) -> None:
    # Two register namesakes born the same day sharing a phone, each with a record of their own.
    register = [person("001080000001", "Nguyễn Văn Hùng", "1980-05-12", "M"),
                person("001080000002", "Nguyễn Văn Hùng", "1980-05-12", "M")]
    records = [
        record("r1", "Nguyễn Văn Hùng", "1980-05-12", "M", "001080000001", phone="0912345678"),
        record("r2", "Nguyễn Văn Hùng", "1980-05-12", "M", "001080000002", phone="0912345678"),
        record("r3", "Nguyễn Văn Hùng", "1980-05-12", "M", None, phone="0912345678"),
    ]
    result = decide(engine, records, register)
    assert result["r1"]["status"] == result["r2"]["status"] == "verified"
    assert result["r3"]["status"] == "unmatched"
    assert result["r3"]["person_id"] is None


@pytest.mark.parametrize("change", [
    {"auto_link": 1.5}, {"review_floor": -0.1}, {"review_floor": 0.99},
    {"review_candidates": 0}, {"candidate_floor": 0.5},
])
def test_invalid_settings_are_refused(change: dict[str, Any]) -> None:
    from vaxtrust.errors import ConfigError

    with pytest.raises(ConfigError, match="match setting"):
        MatchSettings(**change)


def test_no_records_gives_empty_tables(engine: Engine) -> None:
    load(engine, [record("r1", "Nguyễn Văn Hùng", "1980-05-12", "M", "001080000001")], REGISTER)
    engine.create_table("one_record", "SELECT * FROM std_records")
    engine.create_table("std_records", "SELECT * FROM one_record LIMIT 0")
    run_matching(engine, MatchSettings(), RecordingConsole())
    run_decide(engine, MatchSettings(), RecordingConsole())
    assert engine.count("decisions") == 0
    assert engine.count("review_candidates") == 0
