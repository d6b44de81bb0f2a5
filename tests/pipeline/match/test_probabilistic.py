"""The Splink path on a small hand-built population: records without an ID find their person."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pyarrow as pa
import pytest

from tests.pipeline.match.std_tables import load, person, record
from vaxtrust.console import Console, RecordingConsole
from vaxtrust.engine import Engine
from vaxtrust.pipeline.decide import run_decide
from vaxtrust.pipeline.match import MatchSettings, probabilistic, run_matching

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"]
MIDDLES = ["Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu"]
GIVENS = ["Hùng", "Lan", "Anh", "Bình", "Dũng", "Hoa", "Tuấn", "Mai", "Sơn", "Hương", "Long",
          "Nga", "Phúc", "Quang", "Trang", "Việt", "Yến"]


def population(size: int) -> list[dict[str, Any]]:
    people = []
    for i in range(size):
        name = (f"{SURNAMES[i % len(SURNAMES)]} {MIDDLES[i // 7 % len(MIDDLES)]} "
                f"{GIVENS[i // 3 % len(GIVENS)]}")
        dob = f"{1950 + i % 60}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        people.append(person(f"0010{i:08d}", name, dob, "MF"[i % 2],
                             phone=f"09{i:08d}", commune=f"{i % 40:05d}"))
    return people


def as_record(record_id: str, who: dict[str, Any], *, name: str | None = None,
              dob: str | None = None, id_number: str | None = "same") -> dict[str, Any]:
    dob_text = dob or who["dob"].isoformat()
    return record(record_id, name or who["name_canonical"], dob_text, who["gender"],
                  who["person_id"] if id_number == "same" else id_number,
                  phone=who["phone"], commune=who["commune_code"])


def run(engine: Engine, records: list[dict[str, Any]], register: list[dict[str, Any]]
        ) -> dict[str, dict[str, Any]]:
    load(engine, records, register)
    settings = MatchSettings()
    run_matching(engine, settings, RecordingConsole())
    run_decide(engine, settings, RecordingConsole())
    return {row["record_id"]: row for row in engine.to_arrow("decisions").to_pylist()}


def test_records_without_id_link_through_splink(engine: Engine) -> None:
    people = population(400)
    records = [as_record(f"e{i}", who) for i, who in enumerate(people[:300])]
    lost = people[300]
    records.append(as_record("n1", lost, id_number=None,
                             name=lost["name_fold"].title()))
    result = run(engine, records, people)
    assert all(result[f"e{i}"]["status"] == "verified" for i in range(300))
    row = result["n1"]
    assert row["status"] == "corrected"
    assert row["path"] == "probabilistic"
    assert row["person_id"] == lost["person_id"]
    assert "id_missing" in row["reasons"]
    assert row["corrected_id_number"] == lost["person_id"]
    assert row["confidence"] >= 0.9999


def test_parents_id_on_childs_record_finds_the_child(engine: Engine) -> None:
    people = population(400)
    father, child = people[350], people[377]  # IDs two digits apart
    records = [as_record(f"e{i}", who) for i, who in enumerate(people[:300])]
    records.append(as_record("c1", child, id_number=father["person_id"]))
    row = run(engine, records, people)["c1"]
    assert row["status"] == "corrected"
    assert row["person_id"] == child["person_id"]
    assert "id_belongs_to_other_person" in row["reasons"]
    assert row["corrected_id_number"] == child["person_id"]


def test_an_id_whose_holder_has_the_records_birth_date_is_not_called_a_relatives(
        engine: Engine) -> None:
    people = population(400)
    own = people[377]
    # the ID's holder shares the record's date of birth and gender, not its name (a twin, or
    # the record's own person under a garbled name): not a parent's ID
    holder = dict(own, person_id="001099999993", name_canonical="Bùi Ngọc Khánh",
                  name_fold="BUI NGOC KHANH", surname_fold="BUI", middle_fold="NGOC",
                  given_fold="KHANH", phone="0999999993", commune_code="00093")
    records = [as_record(f"e{i}", who) for i, who in enumerate(people[:300])]
    records.append(as_record("o1", own, id_number=holder["person_id"]))
    run(engine, records, [*people, holder])
    verdicts = engine.query("SELECT person_id, id_verdict FROM match_candidates "
                            "WHERE record_id = 'o1'").to_pylist()
    assert {"person_id": own["person_id"], "id_verdict": "name_differs_on_own_id"} in verdicts
    assert all(row["id_verdict"] != "id_belongs_to_other_person" for row in verdicts)


def test_identical_namesakes_go_to_review_never_picked(engine: Engine) -> None:
    people = population(400)
    twin_a = people[360]
    twin_b = dict(twin_a, person_id="001099999999")  # same name, date and place: a namesake
    register = [*people, twin_b]
    records = [as_record(f"e{i}", who) for i, who in enumerate(people[:300])]
    records.append(as_record("x1", twin_a, id_number=None))
    row = run(engine, records, register)["x1"]
    assert row["status"] == "review"
    assert "ambiguous_candidates" in row["reasons"]
    ranked = engine.query(
        "SELECT person_id FROM review_candidates WHERE record_id = 'x1' ORDER BY rank")
    assert set(ranked.column("person_id").to_pylist()) == {twin_a["person_id"], "001099999999"}


def test_too_few_id_matches_to_learn_from_skips_the_path(engine: Engine) -> None:
    people = population(50)
    records = [as_record("n1", people[0], id_number=None)]
    load(engine, records, people)
    console = RecordingConsole()
    run_matching(engine, MatchSettings(), console)
    run_decide(engine, MatchSettings(), console)
    assert any("probabilistic linkage skipped" in str(text) for _, _, text in console.events)
    assert engine.to_arrow("decisions").column("status").to_pylist() == ["unmatched"]


def test_a_twin_sibling_is_no_competitor(engine: Engine) -> None:
    people = population(400)
    twin_a = people[370]
    twin_b = dict(twin_a, person_id="001099999998", name_canonical="Bùi Ngọc Khánh",
                  name_fold="BUI NGOC KHANH", surname_fold="BUI", middle_fold="NGOC",
                  given_fold="KHANH")  # same birth, phone and commune; another name
    records = [as_record(f"e{i}", who) for i, who in enumerate(people[:300])]
    records.append(as_record("t1", twin_a, id_number=None))
    row = run(engine, records, [*people, twin_b])["t1"]
    assert row["status"] == "corrected"
    assert row["person_id"] == twin_a["person_id"]


def _namesake(who: dict[str, Any], person_id: str, **changes: Any) -> dict[str, Any]:
    """Another register person with ``who``'s name, date of birth and gender."""
    return dict(who, person_id=person_id, id_clean=person_id, **changes)


def _candidates(engine: Engine, record_id: str) -> dict[str, float]:
    rows = engine.query(f"SELECT person_id, match_probability FROM match_candidates "
                        f"WHERE record_id = '{record_id}'").to_pylist()
    return {row["person_id"]: row["match_probability"] for row in rows}


def test_namesake_elsewhere_is_set_apart_by_phone_and_commune(engine: Engine) -> None:
    people = population(400)
    own = people[360]
    elsewhere = _namesake(own, "001099999997", phone="0999999997", commune_code="00097")
    records = [as_record(f"e{i}", who) for i, who in enumerate(people[:300])]
    records.append(as_record("x1", own, id_number=None))
    row = run(engine, records, [*people, elsewhere])["x1"]
    # the namesake is a close candidate; only where the record lives tells them apart
    assert _candidates(engine, "x1")[elsewhere["person_id"]] >= MatchSettings().competitor_floor
    assert row["status"] == "corrected"
    assert row["person_id"] == own["person_id"]
    assert "ambiguous_candidates" not in row["reasons"]


def test_namesakes_the_evidence_cannot_separate_stay_in_review(engine: Engine) -> None:
    people = population(400)
    a, b, c = people[360], people[361], people[362]
    register = [
        *people,
        # same commune as the record, another phone: the commune does not separate them
        _namesake(a, "001099999996", phone="0999999996"),
        # the record gives only a phone, and this namesake's phone is unknown
        _namesake(b, "001099999995", phone=None, commune_code="00095"),
        # another phone and commune, but the record agrees with neither candidate
        _namesake(c, "001099999994", phone="0999999994", commune_code="00094"),
    ]
    records = [as_record(f"e{i}", who) for i, who in enumerate(people[:300])]
    records.append(dict(as_record("s1", a, id_number=None), phone="0988888881"))
    records.append(dict(as_record("s2", b, id_number=None), commune_code=None))
    records.append(dict(as_record("s3", c, id_number=None), phone=None, commune_code=None))
    result = run(engine, records, register)
    for record_id in ("s1", "s2", "s3"):
        assert result[record_id]["status"] == "review", record_id
        assert "ambiguous_candidates" in result[record_id]["reasons"], record_id


def test_splink_links_lower_only_where_every_field_verdict_corroborates(engine: Engine) -> None:
    settings = MatchSettings(probabilistic_corroborated_link=0.99, probabilistic_auto_link=0.999)
    rows = [  # path, name, dob, gender, id verdict -> threshold
        ("probabilistic", "equal", "equal", "equal", "id_missing", 0.99),
        ("probabilistic", "name_regional_variant", "equal", "gender_missing", "id_missing", 0.99),
        ("probabilistic", "equal", "equal", "equal", "id_belongs_to_other_person", 0.99),
        # a person outside the register often carries an ID of their own
        ("probabilistic", "equal", "equal", "equal", "id_not_in_register", 0.999),
        ("probabilistic", "name_middle_added", "equal", "equal", "id_missing", 0.999),
        ("probabilistic", "equal", "dob_placeholder", "equal", "id_missing", 0.999),
        ("probabilistic", "equal", "equal", "gender_flipped", "id_missing", 0.999),
        ("id_anchored", "equal", "dob_typo", "equal", "equal", 0.95),
    ]
    columns = ("path", "name_verdict", "dob_verdict", "gender_verdict", "id_verdict", "want")
    engine.register("pairs", pa.table({name: [row[i] for row in rows]
                                       for i, name in enumerate(columns)}))
    got = engine.query(f"SELECT want, {settings.auto_link_sql('pairs')} AS threshold "
                       "FROM pairs").to_pylist()
    assert [float(row["threshold"]) for row in got] == [row["want"] for row in got]


def _without_id_or_phone(record_id: str, who: dict[str, Any], dob: str) -> dict[str, Any]:
    return dict(as_record(record_id, who, id_number=None, dob=dob), phone=None)


def _first_candidate(engine: Engine, record_id: str) -> str | None:
    rows = engine.query(f"SELECT person_id FROM match_candidates WHERE record_id = '{record_id}' "
                        "ORDER BY match_probability DESC LIMIT 1").to_pylist()
    return rows[0]["person_id"] if rows else None


def _lost_among_known(engine: Engine, index: int, record_id: str,
                      dob: Callable[[date], str], **changes: Any) -> dict[str, Any]:
    """One person's record without ID or phone (its date of birth ``dob`` of theirs, fields
    ``changes``) among 300 others' clean records; asserts the person is its first candidate and
    returns its decision."""
    people = population(400)
    lost = people[index]
    records = [as_record(f"e{i}", who) for i, who in enumerate(people[:300])]
    records.append(dict(_without_id_or_phone(record_id, lost, dob(lost["dob"])), **changes))
    row = run(engine, records, people)[record_id]
    assert _first_candidate(engine, record_id) == lost["person_id"]
    assert row["person_id"] in (None, lost["person_id"])
    return row


def test_a_mistyped_birth_year_without_id_or_phone_still_finds_the_person(
        engine: Engine) -> None:
    # no ID, no phone, and the year one off: only the birthday, the name and the commune are
    # left to find the person by (blocked on birthday and name, and on name and commune)
    row = _lost_among_known(engine, 305, "y1", lambda born: f"{born.year + 1}-{born:%m-%d}")
    assert row["status"] in ("corrected", "review")
    assert "dob_typo" in row["reasons"]


def test_a_placeholder_date_of_birth_is_no_evidence_against_the_person(engine: Engine) -> None:
    # 01/01/1970 typed for "unknown", no ID, no phone: the full name in the person's commune
    # still finds them
    row = _lost_among_known(engine, 306, "p1", lambda born: "1970-01-01")
    assert row["status"] in ("corrected", "review")
    assert "dob_placeholder" in row["reasons"]


def test_a_mistyped_birth_year_without_any_address_still_finds_the_person(
        engine: Engine) -> None:
    # no ID, no phone, no address, and a digit of the year mistyped: the birthday and the name
    # are all there is (the rule for a mistyped year otherwise looks in the person's province)
    _lost_among_known(engine, 307, "y2", lambda born: f"{born.year - 10}-{born:%m-%d}",
                      province_code=None, district_code=None, commune_code=None)


def test_a_mistyped_surname_elsewhere_is_still_found_by_birth_date_and_given_name(
        engine: Engine) -> None:
    # no ID, no phone, typed in another commune, and the family name mistyped (Hoàg for Hoàng):
    # the date of birth and the given name are the only blocking rule left to find the person
    # (one that kept only pairs of the same family would lose them)
    people = population(400)
    lost = people[308]
    typed = lost["name_canonical"].replace("Hoàng", "Hoàg")
    assert typed != lost["name_canonical"]
    elsewhere = f"{(int(lost['commune_code']) + 1) % 40:05d}"
    records = [as_record(f"e{i}", who) for i, who in enumerate(people[:300])]
    records.append(dict(as_record("s1", lost, id_number=None, name=typed), phone=None,
                        commune_code=elsewhere))
    run(engine, records, people)
    assert _first_candidate(engine, "s1") == lost["person_id"]


def _m_probabilities(engine: Engine) -> dict[tuple[str, str], float]:
    [row] = engine.query(f"SELECT model FROM {probabilistic.MODEL_TABLE}").to_pylist()
    return {(comparison["output_column_name"], level["label_for_charts"]): level["m_probability"]
            for comparison in json.loads(row["model"])["comparisons"]
            for level in comparison["comparison_levels"] if "m_probability" in level}


def _train_over_everything(engine: Engine, settings: MatchSettings,
                           console: Console) -> dict[str, Any]:
    """Splink's own way: u and m estimated over the linker's whole inputs."""
    from splink import Linker

    _, inputs = probabilistic._linker_inputs(engine, "match_splink_records",
                                             "match_splink_register")
    linker = Linker(inputs, probabilistic._settings(engine), log_level=None)
    linker.training.estimate_u_using_random_sampling(
        max_pairs=settings.u_max_pairs, seed=probabilistic.U_SAMPLING_SEED, num_chunks=1)
    linker.training.estimate_m_from_pairwise_labels("match_splink_labels")
    trained: dict[str, Any] = linker.misc.save_model_to_json()
    return trained


def test_m_learned_from_the_labelled_rows_alone_is_splinks_own_estimate(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    people = population(400)
    records = [as_record(f"e{i}", who) for i, who in enumerate(people[:300])]
    # labelled pairs of several kinds, so that m is learned for more than one level
    for i, who in enumerate(people[:60]):
        surname, *_, given = who["name_canonical"].split()
        records.append(dict(as_record(f"v{i}", who, name=f"{surname} {given}"), phone=None,
                            commune_code=f"{(int(who['commune_code']) + 1) % 40:05d}"))
    records.append(as_record("n1", people[320], id_number=None))
    run(engine, records, people)
    ours = _m_probabilities(engine)
    assert ours[("name", "middle name differs")] == pytest.approx(60 / 360)  # learned

    engine.execute(f"DROP TABLE {probabilistic.MODEL_TABLE}")
    for table in ("decisions", "review_candidates", "match_candidates"):
        engine.drop(table)
    monkeypatch.setattr(probabilistic, "_train", _train_over_everything)
    run(engine, records, people)
    assert _m_probabilities(engine) == pytest.approx(ours, rel=1e-9)


def test_an_outsider_with_an_id_of_the_persons_birth_year_and_province_never_links(
        engine: Engine) -> None:
    # The person's ID is 001 000 000300; the record's has the same province, century, sex and
    # year (the first six digits) and another serial: a namesake outside the register, living
    # in the same commune.
    people = population(400)
    records = [as_record(f"e{i}", who) for i, who in enumerate(people[:300])]
    who = people[300]
    records.append(record("x1", who["name_canonical"], who["dob"].isoformat(), who["gender"],
                          "001000731956", commune=who["commune_code"]))
    records.append(as_record("s1", people[301], id_number="001000990301"))  # two digits slipped
    result = run(engine, records, people)
    outsider, slipped = result["x1"], result["s1"]
    assert outsider["person_id"] is None and outsider["status"] in ("review", "unmatched")
    assert "id_other_serial" in outsider["reasons"]
    assert slipped["status"] == "corrected" and slipped["person_id"] == people[301]["person_id"]
    assert "id_other_serial" not in slipped["reasons"]
