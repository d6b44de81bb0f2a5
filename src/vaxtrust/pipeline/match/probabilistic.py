"""Probabilistic linkage with Splink 5 for records the ID paths could not settle.

Splink runs on the same engine (``engine.splink_db_api()``). Design:

* Only open records enter (those without a usable ID, or whose ID led nowhere); the register is
  read through a view, never copied. With a saved model, only the register rows an open record
  blocks with enter (a semi-join per blocking rule): a day of a thousand records is scored
  against a few thousand rows, with the very pairs and scores the whole register would give.
* Blocking stays tractable at 100 million register rows: every rule joins on the date of birth
  (or its parts), a phone or a place *together with* a name part — never on names alone, since
  Nguyễn alone is 38 % of the country.
* Comparisons are the Vietnamese ones: folded names (diacritics and tone style do not count),
  token order and dropped middle names, day/month swaps and year-only dates.
* Training is bounded and honest: m probabilities come from the pairs the exact and ID-anchored
  paths already linked (labelled pairs, up to ``training_labels``), u from random sampling
  (``u_max_pairs``), and the prior from the register size. No EM over the full data.
* A saved model (:mod:`.model`, a national run's ``model.json``) replaces training: a file of any
  size is then matched exactly as the run that trained it matched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from vaxtrust.console import Console
from vaxtrust.engine import Engine
from vaxtrust.pipeline.match.calibrate import keep_levels, levels_of
from vaxtrust.pipeline.match.compare import (
    PLACEHOLDER_DOBS,
    at_most_one_edit_sql,
    at_most_two_edits_sql,
    region_sql,
)
from vaxtrust.pipeline.match.settings import MatchSettings

if TYPE_CHECKING:
    from vaxtrust.pipeline.match.model import SavedModel

logger = logging.getLogger(__name__)

MIN_TRAINING_LABELS = 50
# One row (columns ``model``, ``labelled_pairs``): the model as Splink's JSON and the labelled
# pairs it was trained on, kept in the run folder (``model.json``).
MODEL_TABLE = "match_splink_model"
U_SAMPLING_SEED = 20220323  # the day the 41 million unauthenticated doses were ordered cleaned

# Name parts by position (first word, last word), the same way on both sides: each part as an
# expression of the folded name (``{name}``). The calibration (:mod:`.calibrate`) computes them
# only for the pairs whose folded names differ.
NAME_PARTS: Final = {
    "surname_fold": "string_split({name}, ' ')[1]",
    "given_fold": "CASE WHEN len(string_split({name}, ' ')) > 1 THEN string_split({name}, ' ')[-1]"
                  " ELSE '' END",
    "name_sorted": "array_to_string(list_sort(string_split({name}, ' ')), ' ')",
}
_NAME_COLUMNS = "name_fold, " + ", ".join(
    f"{part.format(name='name_fold')} AS {column}" for column, part in NAME_PARTS.items()) + ","
_DOB_COLUMNS: Final = ("dob", "dob_year", "dob_month", "dob_day", "dob_precision")
_OTHER_COLUMNS = """
    gender, phone, province_code, district_code, commune_code"""
# The compared columns other than the name parts: a register row's as they are.
PAIR_COLUMNS: Final = "name_fold, " + ", ".join(_DOB_COLUMNS) + "," + _OTHER_COLUMNS
LINKAGE_COLUMNS = _NAME_COLUMNS + """
    dob, dob_year, dob_month, dob_day, dob_precision,""" + _OTHER_COLUMNS
# A dose record's date of birth typed as a fixed placeholder (1900-01-01, 1970-01-01: "unknown")
# says nothing: unknown to the comparisons, not a date that disagrees with everybody's.
_PLACEHOLDER = ("(dob_precision = 'day' AND CAST(dob AS VARCHAR) IN ("
                + ", ".join(f"'{d}'" for d in PLACEHOLDER_DOBS) + "))")
_RECORD_DOB_COLUMNS = ", ".join(f"CASE WHEN {_PLACEHOLDER} THEN NULL ELSE {c} END AS {c}"
                                for c in _DOB_COLUMNS)
RECORD_LINKAGE_COLUMNS = _NAME_COLUMNS + "\n    " + _RECORD_DOB_COLUMNS + "," + _OTHER_COLUMNS
# The same as PAIR_COLUMNS, of a dose record (a placeholder date of birth is unknown).
RECORD_PAIR_COLUMNS: Final = "name_fold, " + _RECORD_DOB_COLUMNS + "," + _OTHER_COLUMNS

# Two years (l.dob_year, r.dob_year) one apart or equal but for one of their four digits.
_YEAR_SLIP: Final = (
    "(abs(l.dob_year - r.dob_year) <= 1"
    " OR l.dob_year // 10 = r.dob_year // 10"
    " OR (l.dob_year // 100 = r.dob_year // 100 AND l.dob_year % 10 = r.dob_year % 10)"
    " OR (l.dob_year // 1000 = r.dob_year // 1000 AND l.dob_year % 100 = r.dob_year % 100)"
    " OR l.dob_year % 1000 = r.dob_year % 1000)")

# The birthday (month and day), surname and given name of both sides agree.
_BIRTHDAY_AND_NAME: Final = ("l.dob_month = r.dob_month AND l.dob_day = r.dob_day"
                             " AND l.surname_fold = r.surname_fold"
                             " AND l.given_fold = r.given_fold")

# Each rule is an equality join (one also keeps only some of its pairs); none is on names alone.
BLOCKING_RULES = (
    "l.dob = r.dob AND l.given_fold = r.given_fold",
    "l.dob = r.dob AND l.commune_code = r.commune_code",
    "l.phone = r.phone",
    "l.dob_year = r.dob_year AND l.province_code = r.province_code"
    " AND l.surname_fold = r.surname_fold AND l.given_fold = r.given_fold",
    "l.dob_year = r.dob_year AND l.dob_month = r.dob_day AND l.dob_day = r.dob_month"
    " AND l.given_fold = r.given_fold",
    # the year mistyped (off by one, a digit): the birthday and the name still agree. Only years
    # that are one apart or differ in one digit: the birthday and name alone pair every namesake
    # born on that day of any year, pairs that grow with the square of the data (40 million at
    # 10 M records, three quarters of all) and that the date of birth then tells apart anyway.
    # In the person's province (or a record with none): the country over, namesakes born on
    # that day within a decade were still 7.6 million pairs at 10 M, 38 % of all, and every
    # link they gave on the project's own data was in the person's province.
    f"{_BIRTHDAY_AND_NAME} AND l.province_code = r.province_code AND {_YEAR_SLIP}",
    f"l.province_code IS NULL AND {_BIRTHDAY_AND_NAME} AND {_YEAR_SLIP}",
    # no date to block on (a placeholder, none, another year): the name where the person lives
    "l.commune_code = r.commune_code AND l.surname_fold = r.surname_fold"
    " AND l.given_fold = r.given_fold",
)


def _keep_model(engine: Engine, model: dict[str, Any], labelled_pairs: int) -> None:
    """Leave the trained model in the engine for the run folder (``model.json``)."""
    import json

    import pyarrow as pa

    engine.register(MODEL_TABLE, pa.table({
        "model": [json.dumps(model, ensure_ascii=False, default=str)],
        "labelled_pairs": [labelled_pairs]}))


def _comparisons() -> list[Any]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def level(sql: str, label: str) -> Any:
        # Written in DuckDB SQL; Splink translates it for the engine it runs on.
        return cll.CustomLevel(sql, label, base_dialect_str="duckdb")

    # the same surname, or its other region's form (Hoàng/Huỳnh, Vũ/Võ)
    same_family = f"{region_sql('surname_fold_l')} = {region_sql('surname_fold_r')}"
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_fold"),
            cll.ExactMatchLevel("name_fold"),
            level("name_sorted_l = name_sorted_r", "tokens reordered"),
            # Hoàng/Huỳnh, Vũ/Võ: one surname written the other region's way, the rest equal
            level(f"{same_family} AND substr(name_fold_l, length(surname_fold_l) + 1)"
                  " = substr(name_fold_r, length(surname_fold_r) + 1)", "regional surname"),
            level("surname_fold_l = surname_fold_r AND given_fold_l = given_fold_r",
                            "middle name differs"),
            level("given_fold_l = given_fold_r AND "
                            "jaro_winkler_similarity(name_fold_l, name_fold_r) >= 0.9",
                            "given equal, rest similar"),
            level(at_most_two_edits_sql("name_fold_l", "name_fold_r"), "typo"),
            # the family and the given name (how relatives are told apart) each with at most one
            # slip, the rest garbled: Ngô Lụ for Ngô Thị Lục, Lê Thị Ngọc Yn for Lê Thị Yến
            level(f"{same_family} AND {at_most_one_edit_sql('given_fold_l', 'given_fold_r')}",
                  "surname and given name close"),
            cll.ElseLevel(),
        ],
    )
    dob = cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            cll.NullLevel("dob"),
            level("dob_l = dob_r AND dob_precision_l = dob_precision_r", "exact"),
            level("dob_year_l = dob_year_r AND dob_month_l = dob_day_r"
                            " AND dob_day_l = dob_month_r", "day and month swapped"),
            level("hamming(strftime(dob_l, '%Y%m%d'), strftime(dob_r, '%Y%m%d')) = 1",
                            "one digit"),
            level("dob_year_l = dob_year_r AND (dob_precision_l <> 'day'"
                            " OR dob_precision_r <> 'day')", "year only"),
            # 01/01 typed when only the year was known (on either side)
            level("dob_year_l = dob_year_r AND ((dob_month_l = 1 AND dob_day_l = 1)"
                  " OR (dob_month_r = 1 AND dob_day_r = 1))", "01/01 of the same year"),
            level("dob_year_l = dob_year_r", "same year"),
            cll.ElseLevel(),
        ],
    )
    gender = cl.CustomComparison(
        output_column_name="gender",
        comparison_levels=[cll.NullLevel("gender"), cll.ExactMatchLevel("gender"),
                           cll.ElseLevel()],
    )
    phone = cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[cll.NullLevel("phone"), cll.ExactMatchLevel("phone"), cll.ElseLevel()],
    )
    place = cl.CustomComparison(
        output_column_name="place",
        comparison_levels=[
            cll.NullLevel("province_code"),
            cll.ExactMatchLevel("commune_code"),
            cll.ExactMatchLevel("district_code"),
            cll.ExactMatchLevel("province_code"),
            cll.ElseLevel(),
        ],
    )
    return [name, dob, gender, phone, place]


# The register's side of the linkage, from ``std_register``; a cached register keeps it as the
# table ``LINK_REGISTER`` (:mod:`vaxtrust.pipeline.register_cache`), computed once per snapshot.
LINK_REGISTER = "link_register"
LINK_REGISTER_SQL = f"""
    SELECT person_id AS unique_id, {LINKAGE_COLUMNS}, false AS is_open FROM std_register"""


def _register_side(engine: Engine) -> str:
    """``LINK_REGISTER``, made once if the register was not cached (read six times below)."""
    if not engine.table_exists(LINK_REGISTER):
        engine.create_table(LINK_REGISTER, LINK_REGISTER_SQL, stage="match_probabilistic")
    return LINK_REGISTER


def _prepare_inputs(engine: Engine, open_records: str, candidates: str,
                    settings: MatchSettings, model: SavedModel | None) -> int:
    """Create the linkage inputs; returns the number of labelled pairs (none with a model)."""
    engine.create_table("match_splink_labels", f"""
        SELECT 'records' AS source_dataset_l, c.record_id AS unique_id_l,
            'register' AS source_dataset_r, c.person_id AS unique_id_r
        FROM {candidates} AS c
        WHERE c.path IN ('exact', 'id_anchored') AND c.match_probability >= {settings.auto_link}
        ORDER BY hash(c.record_id)
        LIMIT {0 if model is not None else settings.training_labels}""",
                        stage="match_probabilistic")
    engine.create_table("match_splink_records", f"""
        SELECT record_id AS unique_id, {RECORD_LINKAGE_COLUMNS}, true AS is_open
        FROM std_records
        WHERE record_id IN (SELECT record_id FROM {open_records}) AND name_fold IS NOT NULL
        UNION ALL
        SELECT record_id AS unique_id, {RECORD_LINKAGE_COLUMNS}, false AS is_open
        FROM std_records
        WHERE record_id IN (SELECT unique_id_l FROM match_splink_labels)""",
                        stage="match_probabilistic")
    if model is None:   # training samples u from the whole register: a view, never a copy
        engine.execute(f"CREATE OR REPLACE VIEW match_splink_register AS {LINK_REGISTER_SQL}",
                       stage="match_probabilistic")
    else:
        engine.create_table("match_splink_register", _blockable_register_sql(
            _register_side(engine), _model_rules(model)), stage="match_probabilistic")
    return engine.count("match_splink_labels")


def _model_rules(model: SavedModel) -> list[str]:
    return [str(rule["blocking_rule"]) if isinstance(rule, dict) else str(rule)
            for rule in model.splink["blocking_rules_to_generate_predictions"]]


def _blockable_register_sql(register: str, rules: Sequence[str]) -> str:
    """The register rows some open record blocks with, under ``rules`` (equality joins).

    With a saved model nothing is learned from the register, and the model has no term-frequency
    adjustments: every (record, person) pair's score depends on the pair alone. So Splink scores
    exactly the same pairs against these rows as against all 10 million, without copying them."""
    joins = " UNION ".join(
        f"SELECT r.unique_id FROM {register} AS r JOIN match_splink_records AS l ON {rule}"
        for rule in rules)
    return f"SELECT * FROM {register} WHERE unique_id IN ({joins})"


def _settings(engine: Engine) -> Any:
    from splink import SettingsCreator
    from splink.blocking_rule_library import CustomRule

    return SettingsCreator(
        link_type="link_only",
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=[
            CustomRule(rule, sql_dialect="duckdb") for rule in BLOCKING_RULES],
        probability_two_random_records_match=1.0 / max(engine.count("std_register"), 1),
        retain_matching_columns=False,
        additional_columns_to_retain=["is_open"],
    )


def _linker_inputs(engine: Engine, records: str, register: str) -> tuple[Any, list[Any]]:
    """A new Splink API on ``engine`` (a table's display name is unique per API) and the tables
    ``records`` and ``register`` registered in it under the names the pairs' SQL reads in
    ``source_dataset_l``: 'records' and 'register'."""
    db_api = engine.splink_db_api()
    return db_api, [db_api.register(table, dataset_display_name=side)
                    for table, side in ((records, "records"), (register, "register"))]


def probabilistic_pairs(engine: Engine, open_records: str, candidates: str,
                        settings: MatchSettings, console: Console, *, output: str,
                        model: SavedModel | None = None) -> bool:
    """Score open records against the register with Splink into table ``output``.

    ``output`` gets ``record_id, person_id, probability``. Returns False when there was nothing
    to link (no open record with a name). With a saved ``model`` nothing is trained.
    """
    from splink import Linker

    labels = _prepare_inputs(engine, open_records, candidates, settings, model)
    open_count = int(engine.query(
        "SELECT count(*) AS n FROM match_splink_records WHERE is_open").column("n")[0].as_py())
    if open_count == 0:
        return False
    if model is None and labels < MIN_TRAINING_LABELS:
        # Too little to learn from (a tiny file): skip rather than guess; the open records stay
        # open and end in review or unmatched.
        console.message(
            f"probabilistic linkage skipped: it needs at least {MIN_TRAINING_LABELS} records "
            f"authenticated by their ID to learn from, found {labels}; give a saved model "
            "(clean --model) to match them with the national run's model")
        return False
    if model is None:
        console.message(
            f"probabilistic linkage: {open_count:,} open records, {labels:,} labelled pairs")
        trained = _train(engine, settings, console)
        labels_used = labels
    else:
        trained = dict(model.splink)
        console.message(f"probabilistic linkage: {open_count:,} open records, with the saved "
                        f"model of run {model.trained_by_run}")
        labels_used = model.labelled_pairs
    # Only the open records are scored: the labelled ones were there to learn from, and with no
    # term-frequency adjustments a pair's score does not depend on the other rows.
    engine.execute("CREATE OR REPLACE VIEW match_splink_open AS "
                   "SELECT * FROM match_splink_records WHERE is_open", stage="match_probabilistic")
    db_api, inputs = _linker_inputs(engine, "match_splink_open", "match_splink_register")
    linker = Linker(inputs, trained, log_level=None)
    trained = linker.misc.save_model_to_json()
    _keep_model(engine, trained, labels_used)
    # decide calibrates every path's links with the model's levels
    keep_levels(engine, levels_of(linker, str(trained.get("sql_dialect", "duckdb"))))
    predictions = linker.inference.predict(
        threshold_match_probability=settings.candidate_floor, warning_mode="never")
    engine.create_table(output, f"""
        SELECT CASE WHEN source_dataset_l = 'records' THEN unique_id_l ELSE unique_id_r END
                   AS record_id,
               CASE WHEN source_dataset_l = 'records' THEN unique_id_r ELSE unique_id_l END
                   AS person_id,
               match_probability AS probability
        FROM {predictions.physical_name}""", stage="match_probabilistic")
    predictions.drop_table_from_database_and_remove_from_cache()
    db_api.delete_tables_created_by_splink_from_db()  # free the engine's memory of Splink's work
    return True


def _train(engine: Engine, settings: MatchSettings, console: Console) -> dict[str, Any]:
    """Estimate u (over the linkage inputs) and m (over the labelled pairs); return the model."""
    from splink import Linker

    db_api, inputs = _linker_inputs(engine, "match_splink_records", "match_splink_register")
    linker = Linker(inputs, _settings(engine), log_level=None)
    # One chunk: early stopping never triggers on the rare agreement levels, so probing only
    # repeats work. A fixed seed makes runs reproducible.
    linker.training.estimate_u_using_random_sampling(
        max_pairs=settings.u_max_pairs, seed=U_SAMPLING_SEED, num_chunks=1)
    console.message("probabilistic linkage: u probabilities estimated")
    # m from the labelled pairs over their own rows only: given the whole register, Splink
    # computes every register row's name parts to find 50,000 of them (23 of its 90 s CPU at
    # 10 M). The same pairs give the same m probabilities.
    labelled_rows = {
        "records": "SELECT * FROM match_splink_records WHERE unique_id IN "
                   "(SELECT unique_id_l FROM match_splink_labels)",
        # the persons chosen before their name parts are computed, not after
        "register": f"{LINK_REGISTER_SQL} WHERE person_id IN "
                    "(SELECT unique_id_r FROM match_splink_labels)",
    }
    for side, rows in labelled_rows.items():
        engine.execute(f"CREATE OR REPLACE VIEW match_splink_labelled_{side} AS {rows}",
                       stage="match_probabilistic")
    labelled_api, labelled_inputs = _linker_inputs(
        engine, "match_splink_labelled_records", "match_splink_labelled_register")
    labelled = Linker(labelled_inputs, linker.misc.save_model_to_json(), log_level=None)
    labelled.training.estimate_m_from_pairwise_labels("match_splink_labels")
    labelled_api.delete_tables_created_by_splink_from_db()
    db_api.delete_tables_created_by_splink_from_db()
    console.message("probabilistic linkage: m probabilities estimated from labelled pairs")
    trained: dict[str, Any] = labelled.misc.save_model_to_json()
    return trained
