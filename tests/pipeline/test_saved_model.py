"""A run's saved linkage model: a facility's small file matched exactly as the national run did."""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from vaxtrust.cli import app
from vaxtrust.console import RecordingConsole
from vaxtrust.errors import ConfigError, InputError
from vaxtrust.pipeline.match.model import MODEL_FORMAT, read_model
from vaxtrust.pipeline.run import clean
from vaxtrust.pipeline.run_folder import RunManifest
from vaxtrust.pipeline.settings import CleanSettings

SETTINGS = CleanSettings(today=dt.date(2026, 1, 1))
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"]
MIDDLES = ["Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu"]
GIVENS = ["Hùng", "Lan", "Anh", "Bình", "Dũng", "Hoa", "Tuấn", "Mai", "Sơn", "Hương", "Long",
          "Nga", "Phúc", "Quang", "Trang", "Việt", "Yến"]
REGISTER_HEADER = ["person_id", "full_name", "dob", "gender", "phone", "province", "commune"]
RECORD_HEADER = ["record_id", "full_name", "dob", "gender", "id_number", "phone", "dose_number",
                 "vaccine", "vaccinated_on", "facility_id", "province", "commune"]
WITHOUT_ID = range(300, 330)   # the people whose records carry no ID (Splink's work)


@dataclass(frozen=True)
class Files:
    register: Path
    national: Path
    small: Path


def _person(i: int) -> list[str]:
    name = (f"{SURNAMES[i % len(SURNAMES)]} {MIDDLES[i // 7 % len(MIDDLES)]} "
            f"{GIVENS[i // 3 % len(GIVENS)]}")
    return [f"0010{i:08d}", name, f"{1950 + i % 60}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "Nam" if i % 2 else "Nữ", f"09{i:08d}", "01", f"{i % 40:05d}"]


def _record(i: int, *, with_id: bool) -> list[str]:
    pid, name, dob, gender, phone, province, commune = _person(i)
    # No ID, and the name typed without diacritics: only the probabilistic path can link it.
    name = name if with_id else name.replace("Nguyễn", "Nguyen").replace("Trần", "Tran")
    return [f"R{i}", name, dob, gender, pid if with_id else "", phone, "1", "AstraZeneca",
            "2021-07-15", "F-NORTH", province, commune]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def files(tmp_path: Path) -> Files:
    register = _write(tmp_path / "register.csv", REGISTER_HEADER, [_person(i) for i in range(400)])
    national = [_record(i, with_id=i not in WITHOUT_ID) for i in range(330)]
    small = [_record(i, with_id=False) for i in WITHOUT_ID]
    return Files(register, _write(tmp_path / "national.csv", RECORD_HEADER, national),
                 _write(tmp_path / "day.csv", RECORD_HEADER, small))


def _links(run: Path) -> dict[str, tuple[str, str | None]]:
    rows = pq.read_table(run / "results.parquet").to_pylist()
    return {row["record_id"]: (row["status"], row["person_id"]) for row in rows}


def test_the_national_run_saves_its_model_with_register_and_thresholds(
        files: Files, tmp_path: Path) -> None:
    run = tmp_path / "national"
    clean([files.national], files.register, run, settings=SETTINGS)
    document = json.loads((run / "model.json").read_text(encoding="utf-8"))
    assert document["format"] == MODEL_FORMAT
    assert document["trained_by_run"] == RunManifest.read(run).run_id
    assert document["register"]["rows"] == 400
    assert document["matching"]["probabilistic_auto_link"] == 0.999
    assert document["labelled_pairs"] == 300
    assert document["splink"]["comparisons"]   # Splink's trained parameters


def test_a_small_file_matched_with_the_saved_model_links_as_the_national_run(
        files: Files, tmp_path: Path) -> None:
    national = tmp_path / "national"
    clean([files.national], files.register, national, settings=SETTINGS)
    expected = {f"R{i}": _links(national)[f"R{i}"] for i in WITHOUT_ID}
    assert sum(status == "corrected" for status, _ in expected.values()) >= 25

    alone = tmp_path / "alone"
    console = RecordingConsole()
    clean([files.small], files.register, alone, settings=SETTINGS, console=console)
    assert all(status != "corrected" for status, _ in _links(alone).values())
    assert any("skipped" in str(text) for kind, _, text in console.events if kind == "message")

    day = tmp_path / "day"
    clean([files.small], files.register, day, settings=SETTINGS,
          model=read_model(national))
    assert _links(day) == expected
    # The day's run passes the same model on, still naming the run that trained it.
    assert read_model(day) == read_model(national)


def test_a_model_of_another_register_snapshot_is_refused_before_any_work(
        files: Files, tmp_path: Path) -> None:
    national = tmp_path / "national"
    clean([files.national], files.register, national, settings=SETTINGS)
    changed = _write(tmp_path / "register2.csv", REGISTER_HEADER,
                     [_person(i) for i in range(401)])
    with pytest.raises(ConfigError, match="another register snapshot"):
        clean([files.small], changed, tmp_path / "day", settings=SETTINGS,
              model=read_model(national))
    assert not (tmp_path / "day").exists()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda doc: doc | {"format_version": 0}, "incompatible version"),
    (lambda doc: doc | {"linkage_version": "0123456789abcdef"}, "incompatible version"),
    (lambda doc: doc["splink"], "not a vaxtrust linkage model"),   # Splink's bare JSON
    (lambda doc: {k: v for k, v in doc.items() if k != "matching"}, "incomplete"),
])
def test_an_incompatible_or_foreign_model_file_is_refused(
        files: Files, tmp_path: Path, edit: object, message: str) -> None:
    national = tmp_path / "national"
    clean([files.national], files.register, national, settings=SETTINGS)
    document = json.loads((national / "model.json").read_text(encoding="utf-8"))
    path = tmp_path / "other.json"
    path.write_text(json.dumps(edit(document)), encoding="utf-8")  # type: ignore[operator]
    with pytest.raises(ConfigError, match=message):
        read_model(path)


def test_a_missing_or_unreadable_model_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no saved linkage model"):
        read_model(tmp_path)
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable linkage model"):
        read_model(tmp_path / "broken.json")


def test_clean_model_option_uses_the_model_and_refuses_another_register(
        files: Files, tmp_path: Path) -> None:
    national = tmp_path / "national"
    clean([files.national], files.register, national, settings=SETTINGS)
    changed = _write(tmp_path / "register2.csv", REGISTER_HEADER,
                     [_person(i) for i in range(399)])
    result = CliRunner().invoke(app, ["clean", "-r", str(files.small), "-g", str(changed),
                                      "-o", str(tmp_path / "day"), "--model", str(national)])
    assert isinstance(result.exception, ConfigError)   # the CLI's handler prints it as one line
    assert "another register snapshot" in str(result.exception)
    assert not (tmp_path / "day").exists()
    ok = CliRunner().invoke(app, ["clean", "-r", str(files.small), "-g", str(files.register),
                                  "-o", str(tmp_path / "day"), "--model",
                                  str(national / "model.json"), "--threads", "2"])
    assert ok.exit_code == 0, ok.output
    assert _links(tmp_path / "day") == {
        key: value for key, value in _links(national).items()
        if key in {f"R{i}" for i in WITHOUT_ID}}


def test_a_cached_register_gives_the_same_results(files: Files, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    clean([files.national], files.register, tmp_path / "first", settings=SETTINGS,
          register_cache=cache)
    assert len(list(cache.iterdir())) == 1
    (files.register).rename(tmp_path / "moved.csv")   # the cache is keyed by content, not path
    (tmp_path / "moved.csv").rename(files.register)
    clean([files.national], files.register, tmp_path / "second", settings=SETTINGS,
          register_cache=cache)
    assert _links(tmp_path / "second") == _links(tmp_path / "first")
    assert pq.read_table(tmp_path / "second" / "persons.parquet").equals(
        pq.read_table(tmp_path / "first" / "persons.parquet"))
    other = _write(tmp_path / "register2.csv", REGISTER_HEADER, [_person(i) for i in range(401)])
    clean([files.national], other, tmp_path / "third", settings=SETTINGS, register_cache=cache)
    assert len(list(cache.iterdir())) == 1           # only the newest snapshot is kept


def _register_accepted(run: Path) -> int:
    return int(json.loads((run / "summary.json").read_text())["register"]["accepted"])


def test_a_cached_register_is_read_again_when_today_would_judge_its_dates_otherwise(
        files: Files, tmp_path: Path) -> None:
    # A person born after the first run's today: rejected then, a person of the register later.
    born_late = [*_person(400)[:2], "2026-03-01", *_person(400)[3:]]
    register = _write(tmp_path / "register-late.csv", REGISTER_HEADER,
                      [*(_person(i) for i in range(400)), born_late])
    cache = tmp_path / "cache"
    early = CleanSettings(today=dt.date(2026, 1, 1))
    later = CleanSettings(today=dt.date(2026, 6, 1))
    clean([files.national], register, tmp_path / "early", settings=early, register_cache=cache)
    clean([files.national], register, tmp_path / "later", settings=later, register_cache=cache)
    assert (_register_accepted(tmp_path / "early"), _register_accepted(tmp_path / "later")) == (
        400, 401)
    # Without a date out of range, the cache serves every later day (the run reads no file).
    clean([files.national], files.register, tmp_path / "a", settings=early, register_cache=cache)
    files.register.write_bytes(files.register.read_bytes())   # same bytes, same key
    clean([files.national], files.register, tmp_path / "b", settings=later, register_cache=cache)
    kept = json.loads(next(cache.iterdir()).joinpath("source.json").read_text())
    assert kept["dates"] == {"today": "2026-01-01", "latest_dob": "2009-12-24",
                             "out_of_range": 0}
    # A run dated before the latest date of birth the cache accepted reads the file again.
    before = CleanSettings(today=dt.date(2009, 12, 1))
    clean([files.national], files.register, tmp_path / "c", settings=before, register_cache=cache)
    assert _register_accepted(tmp_path / "c") < 400
