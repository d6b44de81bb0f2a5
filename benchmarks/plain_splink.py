"""The baseline for bench_clean.py: plain Splink 5 with its stock comparisons, on the same data.

It reads the same standardised tables vaxtrust matches (the vaxtrust ingest and standardise stages
run first, and their time counts for both contenders), then links records to the register the way
a careful Splink user would without Vietnamese knowledge: stock comparisons, the ID as one
comparison among others, EM training blocked on ID and on date of birth, u by random sampling,
and the best candidate per record linked at a match probability of 0.99 or more (0.5 to 0.99 goes
to review). The output follows the results contract so `vaxtrust.demo.evaluate.score` scores both.

Two blocking configurations (``BLOCKING``): ``stock`` (ID; date of birth + surname; phone), the
natural choice up to a few million rows, and ``tight``, what a careful user picks at 10 million
after counting pairs with ``splink.blocking_analysis``: the same comparisons, the ID still one of
them, date of birth + surname narrowed by the first two letters of the given name (48 M pairs in
all at 10 M x 10 M instead of 821 M), and EM on date of birth limited to about 30 M pairs by
Splink's own ``max_pairs`` sampling (4.2 billion unsampled).
"""

from __future__ import annotations

from dataclasses import dataclass

import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator

from vaxtrust.engine import Engine

AUTO_LINK = 0.99
REVIEW = 0.5

COLUMNS = """name_fold, surname_fold, given_fold, dob, gender, id_clean, phone, commune_code"""


@dataclass(frozen=True)
class Blocking:
    """Which pairs Splink scores (``predict``) and trains EM on."""

    predict: tuple[BlockingRuleCreator, ...]
    em: tuple[BlockingRuleCreator, ...] = (block_on("id_clean"), block_on("dob"))
    em_max_pairs: float | None = None  # Splink's EM pair sampling; None = every blocked pair


BLOCKING = {
    "stock": Blocking(predict=(
        block_on("id_clean"),
        block_on("dob", "surname_fold"),
        block_on("phone"),
    )),
    "tight": Blocking(predict=(
        block_on("id_clean"),
        block_on("dob", "surname_fold", "substr(given_fold, 1, 2)"),
        block_on("phone"),
    ), em_max_pairs=3e7),
}


def plain_splink_linker(engine: Engine, blocking: str = "stock") -> Linker:
    """A Splink linker of ``std_records`` to ``std_register``, untrained."""
    engine.execute(f"""CREATE OR REPLACE VIEW plain_records AS
        SELECT record_id AS unique_id, {COLUMNS} FROM std_records""")
    engine.execute(f"""CREATE OR REPLACE VIEW plain_register AS
        SELECT person_id AS unique_id, {COLUMNS} FROM std_register""")
    db_api = engine.splink_db_api()
    records = db_api.register("plain_records", dataset_display_name="records")
    register = db_api.register("plain_register", dataset_display_name="register")
    linker = Linker(
        [records, register],
        SettingsCreator(
            link_type="link_only",
            comparisons=[
                cl.ExactMatch("id_clean"),
                cl.NameComparison("name_fold"),
                cl.DateOfBirthComparison("dob", input_is_string=False),
                cl.ExactMatch("gender"),
                cl.ExactMatch("phone"),
                cl.ExactMatch("commune_code"),
            ],
            blocking_rules_to_generate_predictions=list(BLOCKING[blocking].predict),
            probability_two_random_records_match=1.0 / max(engine.count("std_register"), 1),
            retain_matching_columns=False,
        ),
        log_level=None,
    )
    return linker


def plain_splink_results(engine: Engine, blocking: str = "stock") -> None:
    """Link ``std_records`` to ``std_register`` with plain Splink into table ``results``."""
    linker = plain_splink_linker(engine, blocking)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    for rule in BLOCKING[blocking].em:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, max_pairs=BLOCKING[blocking].em_max_pairs)
    predictions = linker.inference.predict(threshold_match_probability=REVIEW)
    engine.create_table("plain_best", f"""
        WITH pairs AS (
            SELECT CASE WHEN source_dataset_l = 'records' THEN unique_id_l ELSE unique_id_r END
                       AS record_id,
                   CASE WHEN source_dataset_l = 'records' THEN unique_id_r ELSE unique_id_l END
                       AS person_id,
                   match_probability
            FROM {predictions.physical_name})
        SELECT * FROM pairs
        QUALIFY row_number() OVER (PARTITION BY record_id ORDER BY match_probability DESC) = 1
    """)
    engine.create_table("results", f"""
        SELECT r.record_id,
            CASE WHEN b.match_probability >= {AUTO_LINK} THEN 'verified'
                 WHEN b.match_probability >= {REVIEW} THEN 'review'
                 ELSE 'unmatched' END AS status,
            CASE WHEN b.match_probability >= {AUTO_LINK} THEN b.person_id END AS person_id,
            CAST(NULL AS VARCHAR) AS corrected_full_name, CAST(NULL AS VARCHAR) AS corrected_dob,
            CAST(NULL AS VARCHAR) AS corrected_gender, CAST(NULL AS VARCHAR) AS corrected_id_number,
            coalesce(b.match_probability, 0.0) AS confidence, CAST([] AS VARCHAR[]) AS reasons
        FROM std_records AS r LEFT JOIN plain_best AS b ON b.record_id = r.record_id
    """)
