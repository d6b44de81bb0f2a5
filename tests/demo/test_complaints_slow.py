"""Issue 15: triage accuracy on complaints of known truth about a cleaned generated province
(generate, clean, publish with ``vaxtrust demo``; then complaints, import, score)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vaxtrust.app import complaints as app
from vaxtrust.cli import app as cli
from vaxtrust.config import Settings
from vaxtrust.demo import complaints as known
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, Role

pytestmark = pytest.mark.slow


def test_triage_of_complaints_about_a_cleaned_province_is_never_wrong(
        tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--persons", "400", "--seed", "11", "--out",
                                      str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    store = Store.open(f"sqlite:///{out / 'store.db'}")
    truth = known.read_truth(out / "data" / "truth" / "records_truth.parquet")
    with store.engine.connect() as connection:
        rows, expected = known.known_complaints(connection, truth, count=1500, seed=4)
    path, truth_path = tmp_path / "phan-anh.csv", tmp_path / "truth.csv"
    known.write(rows, expected, path, truth_path)
    report = app.import_file(Settings(), store, Actor("os:test", Role.MINISTRY), path,
                             today=dt.date(2026, 12, 1))
    assert report.rows_in == report.accepted + report.rejected == 1500
    with store.engine.connect() as connection:
        scored = known.score(known.stored_proposals(connection),
                             known.read_expected(truth_path))
    store.close()
    assert scored.total == report.accepted
    assert scored.wrong == 0, scored.wrong_examples
    assert scored.share(scored.right) > 0.9
