"""Scoring results against the ground truth: perfect, damaged and malformed results files."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.demo.conftest import Generated
from vaxtrust.cli import app
from vaxtrust.demo.evaluate import read_results, score
from vaxtrust.errors import InputError
from vaxtrust.schema import RESULT_COLUMNS


def perfect_results(generated: Generated) -> pa.Table:
    """What a flawless cleaning run would write for the generated records."""
    truth = generated.truth()
    in_register = pc.is_valid(truth["true_person_id"])
    clean = pc.equal(pc.list_value_length(truth["error_kinds"]), 0)
    status = pc.if_else(in_register, pc.if_else(clean, "verified", "corrected"), "unmatched")
    return pa.table({
        "record_id": truth["record_id"], "status": status, "person_id": truth["true_person_id"],
        "corrected_full_name": truth["true_full_name"], "corrected_dob": truth["true_dob"],
        "corrected_gender": truth["true_gender"], "corrected_id_number": truth["true_id_number"],
        "confidence": pa.array([1.0] * len(truth)), "reasons": truth["error_kinds"],
    })


def replace_rows(table: pa.Table, column: str, rows: list[int], value: object) -> pa.Table:
    values = table[column].to_pylist()
    for row in rows:
        values[row] = value
    index = table.column_names.index(column)
    return table.set_column(index, column, pa.array(values, table.schema.field(column).type))


def test_perfect_results_score_one(small: Generated) -> None:
    result = score(small.folder, perfect_results(small))
    assert result.precision == 1.0 and result.recall == 1.0
    assert result.wrong_person_links == 0 and result.review_rate == 0.0
    assert result.not_in_register_linked_share == 0.0 and result.missing_results == 0
    assert all(f.accuracy == 1.0 for f in result.fields)
    kinds = {k.kind: k for k in result.kinds}
    assert kinds["none"].recall == 1.0
    assert kinds["name_typo"].recall == 1.0 and kinds["name_typo"].reported == kinds["name_typo"].records
    assert kinds["dob_day_month_swapped"].field_accuracy == 1.0
    assert kinds["foreigner_passport"].recall == 0.0 and kinds["foreigner_passport"].wrong_links == 0


def test_wrong_links_reviews_and_linked_foreigners_are_counted(small: Generated) -> None:
    results = perfect_results(small)
    truth = small.truth().to_pylist()
    in_register = [i for i, t in enumerate(truth) if t["true_person_id"]]
    outsiders = [i for i, t in enumerate(truth) if not t["true_person_id"]][:3]
    wrong, review = in_register[:5], in_register[5:25]
    someone_else = truth[in_register[-1]]["true_person_id"]
    results = replace_rows(results, "person_id", wrong + outsiders, someone_else)
    results = replace_rows(results, "status", review, "review")
    results = replace_rows(results, "status", outsiders, "corrected")
    named = [i for i in in_register[30:] if any(k.startswith("name_") for k in truth[i]["error_kinds"])]
    renamed = in_register[30:40] + named[:4]
    results = replace_rows(results, "corrected_full_name", renamed, "Nguyen Van Sai")
    result = score(small.folder, results)

    auto = len(in_register) - len(review) + len(outsiders)
    assert result.auto_links == auto
    assert result.wrong_person_links == len(wrong) + len(outsiders)
    assert result.precision == pytest.approx((auto - len(wrong) - len(outsiders)) / auto)
    assert result.recall == pytest.approx((len(in_register) - 25) / len(in_register))
    assert result.review_rate == pytest.approx(20 / len(truth))
    assert result.not_in_register_linked == 3
    names = next(f for f in result.fields if f.field == "full_name")
    assert names.corrected - names.right == len(set(renamed))
    expected = sum(k.startswith("name_") for i in set(renamed) for k in truth[i]["error_kinds"])
    name_kinds = [k for k in result.kinds if k.kind.startswith("name_")]
    assert sum(k.field_corrected - k.field_right for k in name_kinds) == expected >= 4


def test_missing_results_count_as_not_linked(small: Generated) -> None:
    results = perfect_results(small).slice(100)
    result = score(small.folder, results)
    assert result.missing_results == 100 and result.status_counts["missing"] == 100
    assert result.recall is not None and result.recall < 1.0 and result.precision == 1.0


def test_names_compare_in_nfc(small: Generated) -> None:
    results = perfect_results(small)
    nfd = pc.utf8_normalize(results["corrected_full_name"], form="NFD")
    results = results.set_column(results.column_names.index("corrected_full_name"),
                                 "corrected_full_name", nfd)
    result = score(small.folder, results)
    assert next(f for f in result.fields if f.field == "full_name").accuracy == 1.0


def test_csv_results_with_joined_reasons(small: Generated, tmp_path: Path) -> None:
    results = perfect_results(small)
    joined = pc.binary_join(results["reasons"], ";")
    results = results.set_column(results.column_names.index("reasons"), "reasons", joined)
    path = tmp_path / "results.csv"
    pacsv.write_csv(results, path)
    result = score(small.folder, read_results(path))
    assert result.precision == 1.0 and result.recall == 1.0
    kinds = {k.kind: k for k in result.kinds}
    assert kinds["id_old_cmnd"].reported == kinds["id_old_cmnd"].records


def test_results_files_are_streamed_from_disk(small: Generated, tmp_path: Path) -> None:
    results = perfect_results(small)
    pq.write_table(results, tmp_path / "results.parquet")
    assert score(small.folder, tmp_path / "results.parquet").precision == 1.0
    as_text = results.set_column(results.column_names.index("reasons"), "reasons",
                                 pc.binary_join(results["reasons"], ";"))
    pacsv.write_csv(as_text.drop_columns(["confidence"]), tmp_path / "partial.csv")
    with pytest.raises(InputError, match="lack columns confidence"):
        score(small.folder, tmp_path / "partial.csv")
    pacsv.write_csv(as_text, tmp_path / "results.csv")
    assert score(small.folder, str(tmp_path / "results.csv")).recall == 1.0
    with pytest.raises(InputError, match="not found"):
        score(small.folder, tmp_path / "absent.csv")


def test_bad_results_are_refused_with_a_reason(small: Generated, tmp_path: Path) -> None:
    results = perfect_results(small)
    with pytest.raises(InputError, match="lack columns status"):
        score(small.folder, results.drop_columns(["status"]))
    with pytest.raises(InputError, match="status 'linked'"):
        score(small.folder, replace_rows(results, "status", [0], "linked"))
    duplicated = pa.concat_tables([results, results.slice(0, 1)])
    with pytest.raises(InputError, match="appears 2 times"):
        score(small.folder, duplicated)
    with pytest.raises(InputError, match="not in the truth"):
        score(small.folder, replace_rows(results, "record_id", [0], "X1"))
    with pytest.raises(InputError, match="no records_truth.parquet"):
        score(tmp_path, results)
    with pytest.raises(InputError, match="not found"):
        read_results(tmp_path / "nothing.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="cannot read results"):
        read_results(tmp_path / "broken.parquet")


def test_cli_evaluate_json_and_table(small: Generated, tmp_path: Path) -> None:
    path = tmp_path / "results.parquet"
    pq.write_table(perfect_results(small), path)
    runner = CliRunner()
    as_json = runner.invoke(app, ["evaluate", "--truth", str(small.folder), "--results", str(path),
                                  "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["precision"] == 1.0 and data["wrong_person_links"] == 0
    assert set(RESULT_COLUMNS) >= {"record_id", "status"}
    table = runner.invoke(app, ["evaluate", "--truth", str(small.folder / "truth"), "--results",
                                str(path)])
    assert table.exit_code == 0 and "wrong-person links" in table.output


def test_review_items_are_scored_on_their_first_candidate(small: Generated, tmp_path: Path) -> None:
    results = perfect_results(small)
    truth = small.truth().to_pylist()
    first_of_person: dict[str, int] = {}
    for i, t in enumerate(truth):
        if t["true_person_id"]:
            first_of_person.setdefault(t["true_person_id"], i)
    in_register = list(first_of_person.values())[:3]   # three different persons
    results = replace_rows(results, "status", in_register, "review")
    results = replace_rows(results, "person_id", in_register, None)
    pq.write_table(results, tmp_path / "results.parquet")
    right, wrong = truth[in_register[0]], truth[in_register[1]]   # the third has no candidates
    other = list(first_of_person)[3]
    pq.write_table(pa.table({
        "record_id": [right["record_id"], right["record_id"], wrong["record_id"],
                      wrong["record_id"]],
        "rank": pa.array([1, 2, 1, 2], pa.int32()),
        "person_id": [right["true_person_id"], other, other, wrong["true_person_id"]],
    }), tmp_path / "review_candidates.parquet")
    result = score(small.folder, tmp_path / "results.parquet")   # found beside the results
    assert (result.review_items, result.review_first_right, result.review_any_right) == (3, 1, 2)
    assert result.review_first_candidate_rate == pytest.approx(1 / 3)
    assert result.to_dict()["review_first_candidate_rate"] == pytest.approx(1 / 3)
    assert score(small.folder, results).review_items == 0   # a table alone: nothing to score
