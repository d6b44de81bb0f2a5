"""A person's dose history follows officers' decisions, with the cleaning's own rules."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import delete, select

from tests.store.factory import PEOPLE, with_second_dose_under_review, with_tentative_link
from vaxtrust.demo.generate import GenerateOptions, generate
from vaxtrust.pipeline.run import clean
from vaxtrust.pipeline.settings import CleanSettings
from vaxtrust.review.queue import AcceptCandidate, DecisionInput, RejectAll, decide, list_items
from vaxtrust.schema import RUN_DOSE_HISTORY
from vaxtrust.store.db import Store
from vaxtrust.store.doses import refresh_dose_history
from vaxtrust.store.publish import RunFolder, publish_run
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import DoseHistory

AN, CUC = PEOPLE[0][0], PEOPLE[2][0]
MODERNA, PFIZER = "EU/1/20/1507", "EU/1/20/1528"
ROW = ("dose_number", "vaccine_mp", "vaccinated_on", "duplicate_of", "flags")


def _publish(store: Store, actor: Actor, run_dir: Path) -> None:
    with store.transaction() as session:
        publish_run(session, actor, RunFolder.open(run_dir))


def _decide(store: Store, actor: Actor, record_id: str, decision: DecisionInput) -> None:
    with store.transaction() as session:
        item = next(i for i in list_items(session, actor).items if i.record_id == record_id)
        decide(session, actor, item.id, decision)


def _history(store: Store, person_id: str) -> dict[str, tuple[Any, ...]]:
    """The person's dose history as sign-from-store reads it: record → dose, product, date,
    duplicate of, flags."""
    with store.transaction() as session:
        rows = session.scalars(select(DoseHistory).where(DoseHistory.person_id == person_id))
        return {row.record_id: tuple(getattr(row, name) for name in ROW) for row in rows}


def test_accepting_a_candidate_puts_the_dose_in_that_persons_history(
    published: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    _publish(published, actors["minh"], with_second_dose_under_review().write(tmp_path / "run2"))
    before = _history(published, CUC)
    assert before == {"R8": (1, PFIZER, "2021-09-01", None, "[]")}
    _decide(published, actors["hn01"], "R9", AcceptCandidate(1))
    assert _history(published, CUC) == {
        "R8": before["R8"],
        "R9": (2, MODERNA, "2021-10-15", None, "[]"),   # read from the record through vn
    }


def test_reject_all_takes_the_dose_out_of_the_previous_persons_history(
    published: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    _publish(published, actors["minh"], with_tentative_link().write(tmp_path / "run2"))
    assert set(_history(published, AN)) == {"R1", "R10"}
    _decide(published, actors["hn01"], "R10", RejectAll("another Nguyễn Văn An"))
    assert _history(published, AN) == {"R1": (1, PFIZER, "2021-09-01", None, "[]")}


def test_an_officers_link_survives_a_newer_run(
    published: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    _publish(published, actors["minh"], with_second_dose_under_review().write(tmp_path / "run2"))
    _decide(published, actors["hn01"], "R9", AcceptCandidate(1))
    decided = _history(published, CUC)
    # A newer cleaning of the same records still sends R9 to review: it knows nothing of the link.
    newer = with_second_dose_under_review("run-3")
    newer.results[0]["confidence"] = 0.98
    _publish(published, actors["minh"], newer.write(tmp_path / "run3"))
    assert _history(published, CUC) == decided
    assert set(decided) == {"R8", "R9"}


def test_a_refresh_leaves_unchanged_rows_alone(
    published: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    _publish(published, actors["minh"], with_second_dose_under_review().write(tmp_path / "run2"))
    with published.transaction() as session:
        people = set(session.scalars(select(DoseHistory.person_id)))
        before = session.execute(select(DoseHistory)).scalars().all()
        snapshot = sorted((r.person_id, r.record_id, r.run_id, *(getattr(r, c) for c in ROW))
                          for r in before)
        refreshed = refresh_dose_history(session, people)
        after = sorted((r.person_id, r.record_id, r.run_id, *(getattr(r, c) for c in ROW))
                       for r in session.scalars(select(DoseHistory)))
    assert (refreshed.people, refreshed.written, refreshed.removed) == (len(people), 0, 0)
    assert after == snapshot


# ---------------------------------------------------------------- the same rows as the pipeline

TODAY = dt.date(2022, 9, 1)
FLAGS = {"duplicate_dose", "dose_date_unknown", "dose_before_campaign", "dose_in_future",
         "vaccine_unknown", "interval_too_short", "dose_number_out_of_order", "dose_number_gap"}


def _shuffled_with_anomalies(rows: list[list[str]], header: list[str]) -> list[list[str]]:
    """Rows in random order (file order differs from record id order: the first of two doses on
    one day is the first in the file), some with an unknown vaccine, a moved date, another dose
    number or only a year, so that every plausibility flag occurs."""
    rng = random.Random(7)
    rng.shuffle(rows)
    column = {name: header.index(name) for name in header}
    for i, row in enumerate(rows):
        if i % 16 == 0:
            row[column["vaccine"]] = "Vắc xin không rõ"
        elif i % 16 == 1:
            moved = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(600))
            row[column["vaccinated_on"]] = moved.strftime("%d/%m/%Y")
        elif i % 16 == 2:
            row[column["dose_number"]] = str(rng.randint(1, 4))
        elif i % 16 == 3:
            row[column["vaccinated_on"]] = "2021"
    return rows


@pytest.fixture(scope="session")
def generated_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cleaning run of generated people with many errors, and anomalies added."""
    folder = tmp_path_factory.mktemp("generated-run")
    generate(GenerateOptions(persons=400, seed=7, out=folder / "data", error_scale=3.0))
    with (folder / "data" / "records.csv").open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    records = folder / "records.csv"
    with records.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *_shuffled_with_anomalies(rows, header)])
    clean([records], folder / "data" / "register.parquet", folder / "run",
          settings=CleanSettings(today=TODAY))
    return folder / "run"


def _rows(store: Store) -> list[tuple[Any, ...]]:
    with store.transaction() as session:
        return sorted((r.person_id, r.record_id, *(getattr(r, c) for c in ROW),
                       r.vaccine_ma, r.vaccine_vp, r.facility_id)
                      for r in session.scalars(select(DoseHistory)))


def test_recomputed_histories_are_the_runs_on_generated_data(
    store: Store, actors: dict[str, Actor], generated_run: Path
) -> None:
    _publish(store, actors["minh"], generated_run)
    published = _rows(store)
    run = pq.read_table(generated_run / RUN_DOSE_HISTORY).to_pylist()
    assert len(published) == len(run)
    # The data exercises every rule, and duplicates kept by file order, not by record id.
    assert {flag for d in run for flag in d["flags"]} == FLAGS
    assert any(d["duplicate_of"] and d["duplicate_of"] > d["record_id"] for d in run)
    with store.transaction() as session:
        people = set(session.scalars(select(DoseHistory.person_id)))
        session.execute(delete(DoseHistory))
        # No settings given: the run's own (its "today" is not the real date) come from the store.
        refreshed = refresh_dose_history(session, people)
    assert refreshed.written == len(run)
    assert _rows(store) == published


def test_a_run_of_another_file_keeps_the_doses_other_runs_published(
    published: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    """A run that saw only a person's second dose (another facility's file) must not drop the
    first dose an earlier run published: the certificate is signed from this history."""
    from tests.store.factory import RunSpec, dose, record, result

    an = PEOPLE[0]
    second = record("R20", "HN-02", name=an[1], dob="03/02/1990", gender="Nam", id_number=an[0],
                    commune="4", dose=2)
    second.update(vaccine="Moderna", vaccinated_on="15/10/2021")
    later = dose(an[0], "R20", "HN-02", 1)   # the run's own view: his only dose
    later.update(vaccine_mp=MODERNA, vaccinated_on=dt.date(2021, 10, 15))
    spec = RunSpec([second], [result("R20", "verified", an[0])], doses=[later], run_id="run-2")
    before = _history(published, AN)
    _publish(published, actors["minh"], spec.write(tmp_path / "run2"))
    history = _history(published, AN)
    assert history["R1"] == before["R1"]
    assert history["R20"][:3] == (2, MODERNA, "2021-10-15")   # recomputed: his second dose
