"""Issue 15: complaints of known truth (the generator's extension) and the triage scorer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.store.factory import PEOPLE
from vaxtrust.app import complaints as app
from vaxtrust.config import Settings
from vaxtrust.demo import complaints as known
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor

# The baseline run's records and whose they truly are (R4: Đỗ Văn Giang, not in the register;
# R7, rejected without any identity, was Nguyễn Văn An's).
TRUTH: dict[str, str | None] = {
    "R1": PEOPLE[0][0], "R2": PEOPLE[1][0], "R3": PEOPLE[2][0], "R4": None,
    "R5": PEOPLE[3][0], "R6": PEOPLE[4][0], "R7": PEOPLE[0][0], "R8": PEOPLE[2][0]}


def _generated(store: Store, tmp_path: Path, count: int) -> tuple[Path, Path]:
    with store.engine.connect() as connection:
        rows, expected = known.known_complaints(connection, TRUTH, count=count, seed=3)
    assert len(rows) == len(expected) == count
    out, truth_out = tmp_path / "phan-anh.csv", tmp_path / "truth.csv"
    known.write(rows, expected, out, truth_out)
    return out, truth_out


def test_generated_complaints_cover_every_situation_with_the_expected_resolution(
        published: Store, tmp_path: Path) -> None:
    _, truth_out = _generated(published, tmp_path, 400)
    expected = known.read_expected(truth_out)
    situations = {e.situation for e in expected.values()}
    assert {"dose_exists", "missing_link", "wrong_link", "not_in_register", "refuse_name",
            "refuse_no_diacritics", "refuse_dob", "refuse_photo"} <= situations
    link = next(e for e in expected.values() if e.situation == "missing_link")
    assert link.expected == "link_record" and link.record_ids <= {"R3", "R6", "R4"}
    refusals = {e.ground for e in expected.values() if e.expected == "refuse"}
    assert refusals == {"name_contradicts_certificate", "name_without_diacritics",
                        "dob_differs_from_system"}
    assert all(e.expected is None and e.ground for e in expected.values()
               if e.situation == "refuse_photo")


def test_triage_of_generated_complaints_is_scored_right_wrong_or_none(
        published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    out, truth_out = _generated(published, tmp_path, 300)
    report = app.import_file(Settings(), published, actors["minh"], out,
                             today=dt.date(2026, 12, 1))
    assert report.rows_in == report.accepted + report.rejected == 300
    with published.engine.connect() as connection:
        scored = known.score(known.stored_proposals(connection),
                             known.read_expected(truth_out))
    assert scored.total == report.accepted
    assert scored.right + scored.wrong + scored.none == scored.total
    assert scored.wrong == 0, scored.wrong_examples
    assert scored.by_situation["missing_link"]["right"] > 0
    assert scored.by_situation["refuse_dob"]["right"] > 0
    assert scored.by_situation["refuse_photo"].keys() == {"none"}
    assert scored.none_expected <= scored.none


@pytest.mark.parametrize(("proposal", "verdict"), [
    (("link_record", "R3", None), "right"),
    (("link_record", "R6", None), "wrong"),        # another record
    (("dose_exists", "R3", None), "wrong"),        # another kind
    ((None, None, None), "none"),
])
def test_the_scorer_judges_each_proposal(proposal: tuple[str | None, str | None, str | None],
                                         verdict: str) -> None:
    truth = {"PA-1": known.Expected("missing_link", "link_record", frozenset({"R3"})),
             "PA-2": known.Expected("refuse_photo", None, ground="photo_unreadable")}
    scored = known.score(iter([("PA-1", *proposal)]), truth)
    assert (scored.right, scored.wrong, scored.none) == (
        int(verdict == "right"), int(verdict == "wrong"), int(verdict == "none"))
    officer_only = known.score(iter([("PA-2", "dose_exists", "R1", None)]), truth)
    assert officer_only.wrong == 1   # a proposal where only an officer can tell is wrong
    refusal = known.Expected("refuse_dob", "refuse", ground="dob_differs_from_system")
    assert known.score(iter([("PA-3", "refuse", None, "name_without_diacritics")]),
                       {"PA-3": refusal}).wrong == 1

