"""``vaxtrust evaluate``: score a cleaning run's results against the generator's ground truth.

The headline figures are the ones that matter for passports: precision of automatic links (a
wrong-person link can put someone else's doses on a passport, so their absolute number is shown
too), recall, the review rate, and how often people who are not in the register get linked anyway.
Scoring runs in DuckDB over Arrow/Parquet, so 10 million records are fine.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from vaxtrust.engine import Engine, small_job_engine, sql_string
from vaxtrust.errors import InputError, PipelineStageError
from vaxtrust.schema import AUTO_LINK_STATUSES, RESULT_COLUMNS, TRUTH_COLUMNS, Status

TRUTH_FILE = "records_truth.parquet"
REVIEW_CANDIDATES_FILE = "review_candidates.parquet"
_STAGE = "evaluate"


@dataclass(frozen=True)
class FieldScore:
    """Corrected values of one field: how many were given and how many equal the truth."""

    field: str
    corrected: int
    right: int

    @property
    def accuracy(self) -> float | None:
        return self.right / self.corrected if self.corrected else None


@dataclass(frozen=True)
class KindScore:
    """Outcome of the records that carry one injected error kind (``none`` = clean records)."""

    kind: str
    records: int
    linked_right: int
    wrong_links: int
    review: int
    unmatched_or_rejected: int
    reported: int   # records whose reasons name this kind
    field_corrected: int   # records with a corrected value for the field this kind damages
    field_right: int       # ... that equal the truth

    @property
    def recall(self) -> float | None:
        return self.linked_right / self.records if self.records else None

    @property
    def field_accuracy(self) -> float | None:
        return self.field_right / self.field_corrected if self.field_corrected else None


@dataclass(frozen=True)
class Score:
    records: int
    in_register: int
    not_in_register: int
    missing_results: int
    status_counts: dict[str, int]
    auto_links: int
    right_links: int
    wrong_person_links: int
    not_in_register_linked: int
    fields: tuple[FieldScore, ...]
    kinds: tuple[KindScore, ...]
    # Review items whose person is in the register, with review candidates (the run folder's
    # review_candidates.parquet beside the results): how often that person is the first / any.
    review_items: int = 0
    review_first_right: int = 0
    review_any_right: int = 0

    @property
    def review_first_candidate_rate(self) -> float | None:
        """Share of review items (person in the register) whose first candidate is that person."""
        return self.review_first_right / self.review_items if self.review_items else None

    @property
    def precision(self) -> float | None:
        """Share of automatic links (verified + corrected) that point to the right person."""
        return self.right_links / self.auto_links if self.auto_links else None

    @property
    def recall(self) -> float | None:
        """Share of records whose person is in the register that are auto-linked to that person."""
        return self.right_links / self.in_register if self.in_register else None

    @property
    def review_rate(self) -> float | None:
        return self.status_counts.get(Status.REVIEW.value, 0) / self.records if self.records else None

    @property
    def not_in_register_linked_share(self) -> float | None:
        return self.not_in_register_linked / self.not_in_register if self.not_in_register else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("precision", "recall", "review_rate", "not_in_register_linked_share",
                     "review_first_candidate_rate"):
            data[name] = getattr(self, name)
        data["fields"] = [{**asdict(f), "accuracy": f.accuracy} for f in self.fields]
        data["kinds"] = [{**asdict(k), "recall": k.recall, "field_accuracy": k.field_accuracy}
                         for k in self.kinds]
        return data


def truth_file(truth_dir: Path) -> Path:
    """The records truth inside a generated folder or its ``truth/`` folder."""
    for candidate in (truth_dir / "truth" / TRUTH_FILE, truth_dir / TRUTH_FILE):
        if candidate.is_file():
            return candidate
    raise InputError(f"no {TRUTH_FILE} in {truth_dir} or {truth_dir / 'truth'} "
                     "(pass the folder written by `vaxtrust generate`)", path=str(truth_dir))


def read_results(path: Path) -> pa.Table:
    """Read a results file (Parquet, or CSV with text columns) and check its columns."""
    if not path.is_file():
        raise InputError("results file not found", path=str(path))
    try:
        if path.suffix.lower() in (".csv", ".txt"):
            table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in RESULT_COLUMNS if c != "confidence"},
                strings_can_be_null=True))
        else:
            table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(f"cannot read results: {error}", path=str(path)) from error
    check_results(table, str(path))
    return table


def check_results(table: pa.Table, source: str | None = None) -> None:
    missing = [c for c in RESULT_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"results lack columns {', '.join(missing)} "
                         f"(expected {', '.join(RESULT_COLUMNS)})", path=source)


def score(truth_dir: Path | str, results: pa.Table | Path | str,
          review_candidates: Path | None = None) -> Score:
    """Score ``results`` (columns RESULT_COLUMNS) against the truth in ``truth_dir``.

    ``results`` is an Arrow table or a Parquet/CSV path; a path is streamed by DuckDB, so results
    larger than memory are fine. When ``review_candidates`` is given (or, for a results path, a
    ``review_candidates.parquet`` lies beside it), review items are scored too: how often the
    right person is the first candidate.
    """
    if review_candidates is None and not isinstance(results, pa.Table):
        beside = Path(results).with_name(REVIEW_CANDIDATES_FILE)
        review_candidates = beside if beside.is_file() else None
    truth_path = truth_file(Path(truth_dir))
    # A good neighbour on a shared machine: bounded memory, spilling to a private folder.
    with (tempfile.TemporaryDirectory(prefix="vaxtrust-evaluate-",
                                      ignore_cleanup_errors=True) as spill,
          small_job_engine(threads=None, memory_limit="3GB", temp_directory=spill) as engine):
        reasons_type = _register_results(engine, results)
        engine.execute(f"CREATE VIEW truth AS SELECT {', '.join(TRUTH_COLUMNS)} "
                       f"FROM read_parquet({sql_string(truth_path)})", stage=_STAGE)
        engine.execute(_RESULTS_SQL.format(reasons=_reasons_expression(reasons_type)),
                       stage=_STAGE)
        _check_keys(engine)
        fields = ", ".join(f"corrected_{name} IS NOT NULL AS {name}_given, "
                           f"coalesce(corrected_{name} IS NOT NULL AND {rule}, false) AS {name}_right"
                           for name, rule in _FIELD_SQL.items())
        engine.execute(_JOINED_SQL.format(
            auto=", ".join(f"'{s.value}'" for s in AUTO_LINK_STATUSES), fields=fields),
            stage=_STAGE)
        scored = _collect(engine)
        if review_candidates is not None:
            scored = _with_review_figures(engine, scored, review_candidates)
        return scored


def _rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a query as tuples (its columns may share a name)."""
    table = engine.query(sql, stage=_STAGE)
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))


def _first_row(engine: Engine, sql: str) -> tuple[Any, ...] | None:
    rows = _rows(engine, sql)
    return rows[0] if rows else None


def _register_results(engine: Engine, results: pa.Table | Path | str) -> str:
    """Make ``results_in`` a view of the results; return the DuckDB type of ``reasons``."""
    if isinstance(results, pa.Table):
        check_results(results)
        engine.register("results_arrow", results.select(list(RESULT_COLUMNS)))
        source = "results_arrow"
        where = None
    else:
        path = Path(results)
        if not path.is_file():
            raise InputError("results file not found", path=str(path))
        source = (f"read_csv({sql_string(path)}, header = true, all_varchar = true)"
                  if path.suffix.lower() in (".csv", ".txt") else f"read_parquet({sql_string(path)})")
        where = str(path)
    try:
        engine.execute(f"CREATE VIEW results_in AS SELECT * FROM {source}", stage=_STAGE)
        described = {str(name): str(kind) for name, kind, *_ in
                     _rows(engine, "DESCRIBE results_in")}
    except PipelineStageError as error:
        # the engine's own message (the cause), not the stage wrapper's
        raise InputError(f"cannot read results: {error.__cause__ or error}", path=where) from error
    missing = [c for c in RESULT_COLUMNS if c not in described]
    if missing:
        raise InputError(f"results lack columns {', '.join(missing)} "
                         f"(expected {', '.join(RESULT_COLUMNS)})", path=where)
    return described["reasons"]


def _reasons_expression(duckdb_type: str) -> str:
    if duckdb_type.endswith("[]"):
        return "CAST(reasons AS VARCHAR[])"
    if duckdb_type == '"NULL"' or duckdb_type == "NULL":
        return "CAST([] AS VARCHAR[])"
    return ("list_filter(string_split(coalesce(CAST(reasons AS VARCHAR), ''), ';'), "
            "lambda x: trim(x) <> '')")


_RESULTS_SQL = """
CREATE TEMP VIEW results AS
SELECT CAST(record_id AS VARCHAR) AS record_id,
       lower(trim(CAST(status AS VARCHAR))) AS status,
       nullif(trim(CAST(person_id AS VARCHAR)), '') AS person_id,
       nullif(CAST(corrected_full_name AS VARCHAR), '') AS corrected_full_name,
       nullif(CAST(corrected_dob AS VARCHAR), '') AS corrected_dob,
       nullif(CAST(corrected_gender AS VARCHAR), '') AS corrected_gender,
       nullif(CAST(corrected_id_number AS VARCHAR), '') AS corrected_id_number,
       {reasons} AS reasons
FROM results_in
"""

# One narrow row per truth record: the outcome flags, the error kinds and the reasons given.
_JOINED_SQL = """
CREATE TEMP TABLE joined AS
SELECT t.true_person_id IS NOT NULL AS in_register, t.error_kinds,
       r.record_id IS NOT NULL AS has_result,
       coalesce(r.status, 'missing') AS status,
       coalesce(r.reasons, []) AS reasons,
       coalesce(r.status IN ({auto}), false) AS auto_link,
       coalesce(r.status IN ({auto}) AND r.person_id = t.true_person_id, false) AS right_link,
       {fields}
FROM truth t LEFT JOIN results r USING (record_id)
"""


def _check_keys(engine: Engine) -> None:
    bad_status = _first_row(
        engine,
        "SELECT status, count(*) FROM results WHERE status IS NULL OR status NOT IN "
        f"({', '.join(repr(s.value) for s in Status)}) GROUP BY ALL ORDER BY 2 DESC LIMIT 1")
    if bad_status:
        raise InputError(f"{bad_status[1]} results have status {bad_status[0]!r}; expected one of "
                         f"{', '.join(s.value for s in Status)}", field="status")
    duplicate = _first_row(engine, "SELECT record_id, count(*) FROM results GROUP BY 1 "
                                   "HAVING count(*) > 1 LIMIT 1")
    if duplicate:
        raise InputError(f"record {duplicate[0]} appears {duplicate[1]} times in the results",
                         field="record_id")
    unknown = _first_row(engine, "SELECT count(*), min(record_id) FROM results r ANTI JOIN truth t "
                                 "USING (record_id)")
    if unknown and unknown[0]:
        raise InputError(f"{unknown[0]} result records are not in the truth (e.g. {unknown[1]}); "
                         "were they made from another generated data set?", field="record_id")


_FIELD_SQL = {
    "full_name": "nfc_normalize(trim(corrected_full_name)) = nfc_normalize(t.true_full_name)",
    "dob": "(corrected_dob = t.true_dob OR (length(t.true_dob) < 10 "
           "AND left(corrected_dob, length(t.true_dob)) = t.true_dob))",
    "gender": "upper(trim(corrected_gender)) = t.true_gender",
    "id_number": "regexp_replace(corrected_id_number, '[^0-9A-Za-z]', '', 'g') = t.true_id_number",
}


def _collect(engine: Engine) -> Score:
    field_sql = ", ".join(f"count(*) FILTER (WHERE {name}_given), count(*) FILTER (WHERE {name}_right)"
                          for name in _FIELD_SQL)
    row = _first_row(engine, f"""
        SELECT count(*), count(*) FILTER (WHERE in_register), count(*) FILTER (WHERE NOT in_register),
               count(*) FILTER (WHERE NOT has_result), count(*) FILTER (WHERE auto_link),
               count(*) FILTER (WHERE right_link),
               count(*) FILTER (WHERE auto_link AND NOT right_link),
               count(*) FILTER (WHERE auto_link AND NOT in_register),
               {field_sql}
        FROM joined""")
    assert row is not None
    statuses = dict(_rows(engine, "SELECT status, count(*) FROM joined GROUP BY 1 ORDER BY 1"))
    fields = [FieldScore(name, int(row[8 + 2 * i]), int(row[9 + 2 * i]))
              for i, name in enumerate(_FIELD_SQL)]
    kinds = [KindScore(str(k), *map(int, rest)) for k, *rest in _rows(engine, """
        WITH per_kind AS (
            SELECT unnest(CASE WHEN len(error_kinds) = 0 THEN ['none'] ELSE error_kinds END) AS kind,
                   * EXCLUDE (error_kinds)
            FROM joined),
        with_field AS (
            SELECT *,
                   CASE WHEN kind LIKE 'name%' THEN full_name_given WHEN kind LIKE 'dob%' THEN dob_given
                        WHEN kind LIKE 'gender%' THEN gender_given
                        WHEN kind LIKE 'id%' THEN id_number_given ELSE false END AS field_given,
                   CASE WHEN kind LIKE 'name%' THEN full_name_right WHEN kind LIKE 'dob%' THEN dob_right
                        WHEN kind LIKE 'gender%' THEN gender_right
                        WHEN kind LIKE 'id%' THEN id_number_right ELSE false END AS field_ok
            FROM per_kind)
        SELECT kind, count(*), count(*) FILTER (WHERE right_link),
               count(*) FILTER (WHERE auto_link AND NOT right_link),
               count(*) FILTER (WHERE status = 'review'),
               count(*) FILTER (WHERE status IN ('unmatched', 'rejected', 'missing')),
               count(*) FILTER (WHERE list_contains(reasons, kind)),
               count(*) FILTER (WHERE field_given), count(*) FILTER (WHERE field_ok)
        FROM with_field GROUP BY 1 ORDER BY 2 DESC, 1""")]
    return Score(
        records=int(row[0]), in_register=int(row[1]), not_in_register=int(row[2]),
        missing_results=int(row[3]), status_counts={str(k): int(v) for k, v in statuses.items()},
        auto_links=int(row[4]), right_links=int(row[5]), wrong_person_links=int(row[6]),
        not_in_register_linked=int(row[7]), fields=tuple(fields), kinds=tuple(kinds),
    )


def _with_review_figures(engine: Engine, scored: Score, path: Path) -> Score:
    """``scored`` plus how the ranked candidates of review items compare with the truth."""
    if not path.is_file():
        raise InputError("review candidates file not found", path=str(path))
    row = _first_row(engine, f"""
        WITH items AS (
            SELECT r.record_id, t.true_person_id FROM results r JOIN truth t USING (record_id)
            WHERE r.status = 'review' AND t.true_person_id IS NOT NULL),
        candidates AS (
            SELECT CAST(record_id AS VARCHAR) AS record_id, CAST(rank AS INTEGER) AS rank,
                   CAST(person_id AS VARCHAR) AS person_id
            FROM read_parquet({sql_string(path)}))
        SELECT count(*),
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM candidates c WHERE
                   c.record_id = i.record_id AND c.rank = 1 AND c.person_id = i.true_person_id)),
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM candidates c WHERE
                   c.record_id = i.record_id AND c.person_id = i.true_person_id))
        FROM items i""")
    assert row is not None
    return replace(scored, review_items=int(row[0]), review_first_right=int(row[1]),
                   review_any_right=int(row[2]))


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


def render_table(result: Score) -> Any:
    """The score as rich tables (headline, corrected fields, per error kind)."""
    from rich.console import Group
    from rich.table import Table

    head = Table(title="Kết quả / score", show_header=False)
    head.add_column("metric")
    head.add_column("value", justify="right")
    for label, value in (
        ("records", f"{result.records:,}"),
        ("precision of auto-links", _percent(result.precision)),
        ("wrong-person links", f"{result.wrong_person_links:,}"),
        ("recall (in-register records linked right)", _percent(result.recall)),
        ("review rate", _percent(result.review_rate)),
        ("review items whose first candidate is the right person",
         f"{result.review_first_right:,} of {result.review_items:,} "
         f"({_percent(result.review_first_candidate_rate)})"),
        ("not-in-register records linked (share)",
         f"{result.not_in_register_linked:,} ({_percent(result.not_in_register_linked_share)})"),
        ("records without a result", f"{result.missing_results:,}"),
        *((f"status {k}", f"{v:,}") for k, v in result.status_counts.items()),
    ):
        head.add_row(label, value)
    fields = Table(title="corrected fields")
    for column in ("field", "corrected", "right", "accuracy"):
        fields.add_column(column, justify="left" if column == "field" else "right")
    for f in result.fields:
        fields.add_row(f.field, f"{f.corrected:,}", f"{f.right:,}", _percent(f.accuracy))
    kinds = Table(title="per injected error kind")
    for column in ("kind", "records", "recall", "wrong links", "review", "unmatched/rejected",
                   "reason given", "field corrected right"):
        kinds.add_column(column, justify="left" if column == "kind" else "right")
    for k in result.kinds:
        kinds.add_row(k.kind, f"{k.records:,}", _percent(k.recall), f"{k.wrong_links:,}",
                      f"{k.review:,}", f"{k.unmatched_or_rejected:,}",
                      _percent(k.reported / k.records if k.records else None),
                      _percent(k.field_accuracy))
    return Group(head, fields, kinds)
