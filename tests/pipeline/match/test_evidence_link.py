"""Links on the combined evidence: below the path rules' thresholds, within the calibrated error
limit, and never where a guard (an outsider's ID, a twin, another name, a competitor) says no."""

from __future__ import annotations

from typing import Any

from tests.pipeline.match.std_tables import load
from tests.pipeline.match.test_probabilistic import as_record, population
from vaxtrust.console import RecordingConsole
from vaxtrust.engine import Engine
from vaxtrust.pipeline.decide import run_decide
from vaxtrust.pipeline.match import MatchSettings, run_matching

PEOPLE = population(400)
KNOWN = [as_record(f"e{i}", who) for i, who in enumerate(PEOPLE[:300])]
MOVED = PEOPLE[380]
OWN = PEOPLE[377]  # Trần Thu Tuấn, born 1967-06-14, commune 00017


def _decide(engine: Engine, records: list[dict[str, Any]],
            register: list[dict[str, Any]] = PEOPLE,
            settings: MatchSettings | None = None) -> dict[str, dict[str, Any]]:
    settings = settings or MatchSettings()
    load(engine, [*KNOWN, *records], register)
    run_matching(engine, settings, RecordingConsole())
    run_decide(engine, settings, RecordingConsole())
    return {row["record_id"]: row for row in engine.to_arrow("decisions").to_pylist()}


def _moved(record_id: str, **changes: Any) -> dict[str, Any]:
    """MOVED's record without an ID, entered where the person lives now: another phone and
    commune (the same province)."""
    return dict(as_record(record_id, MOVED, id_number=None), phone="0911111111",
                commune_code="00039", **changes)


def _own_id_other_name(record_id: str, name: str) -> dict[str, Any]:
    from tests.pipeline.match.std_tables import record

    return record(record_id, name, OWN["dob"].isoformat(), OWN["gender"], OWN["person_id"],
                  phone=OWN["phone"], commune=OWN["commune_code"])


def test_all_fields_agree_but_phone_and_commune_moved_links_on_the_evidence(
        engine: Engine) -> None:
    row = _decide(engine, [_moved("m1")])["m1"]
    assert row["status"] == "corrected" and row["person_id"] == MOVED["person_id"]
    assert "calibrated_link" in row["reasons"] and "id_missing" in row["reasons"]
    assert 1.0 - row["confidence"] <= MatchSettings().calibrated_link_error


def test_without_the_evidence_link_the_same_record_waits_in_review(engine: Engine) -> None:
    row = _decide(engine, [_moved("m1")], settings=MatchSettings(calibrated_link_error=0.0))["m1"]
    assert row["status"] == "review" and row["person_id"] is None


def test_nothing_about_where_the_person_lives_agrees_no_link(engine: Engine) -> None:
    # an outsider born the same day under the same name lives elsewhere: phone and province
    row = _decide(engine, [_moved("m1", province_code="79")])["m1"]
    assert row["status"] == "review" and row["person_id"] is None


def test_a_cccd_the_register_does_not_know_is_somebody_outside_it(engine: Engine) -> None:
    # every CCCD issued is in the register: one it lacks belongs to another person
    row = _decide(engine, [_moved("m1", id_clean="079067000123", id_kind="cccd")])["m1"]
    assert row["person_id"] is None and row["status"] in ("review", "unmatched")


def test_own_id_and_birth_date_under_a_garbled_name_link_when_the_given_name_is_written(
        engine: Engine) -> None:
    row = _decide(engine, [_own_id_other_name("g1", "Đinh Văn Tun")])["g1"]
    assert row["status"] == "corrected" and row["person_id"] == OWN["person_id"]
    assert {"calibrated_link", "name_differs_on_own_id"} <= set(row["reasons"])
    assert row["corrected_full_name"] == OWN["name_canonical"]


def test_own_id_under_another_name_altogether_stays_in_review(engine: Engine) -> None:
    # nothing of the person's given name: whose dose is it? A person decides.
    row = _decide(engine, [_own_id_other_name("g1", "Bùi Ngọc Khánh")])["g1"]
    assert row["status"] == "review" and "calibrated_link" not in row["reasons"]


def test_a_twin_in_the_register_keeps_the_own_id_record_in_review(engine: Engine) -> None:
    # born the same day in the same commune: the record may be the twin's with the sibling's ID
    twin = dict(OWN, person_id="001099999990", name_canonical="Trần Thu Tâm",
                name_fold="TRAN THU TAM", given_fold="TAM", phone="0999999990")
    row = _decide(engine, [_own_id_other_name("g1", "Đinh Văn Tun")], [*PEOPLE, twin])["g1"]
    assert row["status"] == "review" and row["person_id"] is None


def test_own_id_and_full_name_link_with_a_date_of_birth_no_slip_explains(engine: Engine) -> None:
    # a parent and child do not share a full name: this is the ID holder, the date is wrong
    from tests.pipeline.match.std_tables import record

    wrong_date = record("d1", OWN["name_canonical"], "1989-02-23", OWN["gender"],
                        OWN["person_id"], phone=OWN["phone"], commune=OWN["commune_code"])
    row = _decide(engine, [wrong_date])["d1"]
    assert row["status"] == "corrected" and row["person_id"] == OWN["person_id"]
    assert {"calibrated_link", "dob_different"} <= set(row["reasons"])
    assert row["corrected_dob"] == OWN["dob"].isoformat()


def test_the_persons_own_id_stands_in_for_where_they_live(engine: Engine) -> None:
    # vaccinated in another province (no phone, no commune written) under a changed middle
    # name: no outsider holds this ID
    from tests.pipeline.match.std_tables import record

    far = dict(record("f1", "Trần Văn Tuấn", OWN["dob"].isoformat(), OWN["gender"],
                      OWN["person_id"], phone=None, commune=None), province_code="79")
    row = _decide(engine, [far])["f1"]
    assert row["status"] == "corrected" and row["person_id"] == OWN["person_id"]
    assert {"calibrated_link", "name_middle_changed"} <= set(row["reasons"])
    held = _decide(engine, [dict(far, record_id="f2", id_clean=None, id_kind="missing")])["f2"]
    assert held["person_id"] is None


def test_a_date_typed_as_no_date_one_digit_from_the_persons_links(engine: Engine) -> None:
    # 14/06/1967 typed 14/06/1667: no date of birth, but one digit from the person's
    from tests.pipeline.match.std_tables import record

    def typed(record_id: str, digits: str) -> dict[str, Any]:
        return record(record_id, OWN["name_canonical"], None, OWN["gender"], None,
                      commune=OWN["commune_code"], dob_typed=digits)

    rows = _decide(engine, [typed("u1", "16670614"), typed("u2", "16670615")])
    assert rows["u1"]["status"] == "corrected" and rows["u1"]["person_id"] == OWN["person_id"]
    assert {"calibrated_link", "dob_typo"} <= set(rows["u1"]["reasons"])
    assert rows["u1"]["corrected_dob"] == OWN["dob"].isoformat()
    assert rows["u2"]["person_id"] is None  # two digits away: not a slip of this date


SHORT = PEOPLE[301]  # Vũ Thị Việt: a two-letter surname, where one slip makes another name


def _short(record_id: str, name: str, *, phone: str | None = None,
           commune: str | None = None, id_number: str | None = None) -> dict[str, Any]:
    from tests.pipeline.match.std_tables import record

    return record(record_id, name, SHORT["dob"].isoformat(), SHORT["gender"], id_number,
                  phone=phone, commune=commune)


def test_a_name_no_rule_explains_links_at_the_persons_home_without_an_id(
        engine: Engine) -> None:
    # Ũv Thị Việt / Vũ Thị Ivệt: letters swapped, no ID, born that day, at the person's home
    rows = _decide(engine, [
        _short("h1", "Ũv Thị Việt", commune=SHORT["commune_code"]),
        _short("h2", "Vũ Thị Ivệt", phone=SHORT["phone"]),
    ])
    for row in rows["h1"], rows["h2"]:
        assert row["status"] == "corrected" and row["person_id"] == SHORT["person_id"]
        assert {"calibrated_link", "name_different"} <= set(row["reasons"])
        assert row["corrected_full_name"] == SHORT["name_canonical"]


def test_a_name_no_rule_explains_stays_in_review_when_the_home_says_otherwise(
        engine: Engine) -> None:
    rows = _decide(engine, [
        # the commune agrees but the phone is known and another
        _short("h1", "Ũv Thị Việt", phone="0911111111", commune=SHORT["commune_code"]),
        # a CCCD the register does not know: somebody else's record
        _short("h2", "Ũv Thị Việt", commune=SHORT["commune_code"], id_number="079067000123"),
    ])
    assert all(rows[key]["status"] == "review" and rows[key]["person_id"] is None
               for key in ("h1", "h2"))


def test_a_twin_at_home_keeps_a_record_under_a_name_no_rule_explains_in_review(
        engine: Engine) -> None:
    twin = dict(SHORT, person_id="001099999991", name_canonical="Vũ Thị Viên",
                name_fold="VU THI VIEN", given_fold="VIEN", phone="0999999991")
    row = _decide(engine, [_short("h1", "Ũv Thị Việt", commune=SHORT["commune_code"])],
                  [*PEOPLE, twin])["h1"]
    assert row["status"] == "review" and row["person_id"] is None


LAN = PEOPLE[309]  # Vũ Minh Lan


def _month_only(record_id: str, *, phone: str | None = None, commune: str | None = None,
                id_number: str | None = None) -> dict[str, Any]:
    from tests.pipeline.match.std_tables import record

    return record(record_id, LAN["name_canonical"], f"{LAN['dob']:%Y-%m}", LAN["gender"],
                  id_number, phone=phone, commune=commune)


def test_a_year_and_month_of_birth_link_under_the_full_name_in_the_persons_commune(
        engine: Engine) -> None:
    row = _decide(engine, [_month_only("y1", commune=LAN["commune_code"])])["y1"]
    assert row["status"] == "corrected" and row["person_id"] == LAN["person_id"]
    assert {"calibrated_link", "dob_month_only"} <= set(row["reasons"])


def test_a_year_and_month_of_birth_alone_do_not_link_elsewhere_or_with_another_phone(
        engine: Engine) -> None:
    rows = _decide(engine, [
        _month_only("y1", phone="0911111111", commune=LAN["commune_code"]),
        _month_only("y2", commune="00039"),  # another commune of the province
        _month_only("y3", commune=LAN["commune_code"], id_number="079067000123"),
    ])
    assert all(rows[key]["person_id"] is None for key in ("y1", "y2", "y3"))
