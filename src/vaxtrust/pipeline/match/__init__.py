"""Matching: every path that proposes register persons for dose records, in the issue's order.

Each step only sees the records still open after the steps before it:

1. exact authentication (:mod:`.exact`),
2. ID-anchored comparison (:mod:`.id_anchored`),
3. repaired and mistyped IDs, old CMND (:mod:`.id_repair`),
4. probabilistic linkage with Splink (:mod:`.probabilistic`),
5. evidence from the person's other dose records (:mod:`.evidence`).

Every proposed pair is explained field by field (:mod:`.compare`) and written to
``match_candidates``; :mod:`vaxtrust.pipeline.decide` then gives each record its one status.
Input: ``std_records``, ``std_register``. Output: ``match_candidates``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from vaxtrust.console import Console, stage
from vaxtrust.engine import Engine
from vaxtrust.pipeline.match.compare import explain_pairs_sql, relate_ids_sql
from vaxtrust.pipeline.match.evidence import evidence_pairs_sql, evidence_sources_sql
from vaxtrust.pipeline.match.exact import exact_candidates_sql
from vaxtrust.pipeline.match.guards import best_candidates, guard_tables, linkable_sql
from vaxtrust.pipeline.match.id_anchored import id_anchored_pairs_sql
from vaxtrust.pipeline.match.id_repair import id_repair_pairs_sql, id_variants_sql
from vaxtrust.pipeline.match.probabilistic import probabilistic_pairs
from vaxtrust.pipeline.match.settings import MatchSettings

if TYPE_CHECKING:
    from vaxtrust.pipeline.match.model import SavedModel

__all__ = ["MatchSettings", "run_matching", "CANDIDATE_COLUMNS"]

# match_candidates: the contract columns of docs/pipeline-tables.md, then the per-field verdicts
# the decide stage needs to fill corrected_*. The comparison a reviewer sees is written by decide
# for review candidates only (compare.field_comparison_sql), not held for every pair.
CANDIDATE_COLUMNS = (
    "record_id", "person_id", "path", "match_probability", "reasons",
    "name_verdict", "dob_verdict", "gender_verdict", "id_verdict",
)
WORK_TABLES = (
    "match_open", "match_open_next", "match_pairs", "match_scored", "match_variants",
    "match_splink_labelled_records", "match_splink_labelled_register", "match_splink_pairs",
    "match_splink_labels", "match_splink_open", "match_splink_records", "match_splink_register",
    "match_linked", *guard_tables("match"), "match_evidence_pairs", "match_evidence_sources",
)


class _Matcher:
    """Runs the paths in order over one engine, narrowing the open records after each."""

    def __init__(self, engine: Engine, settings: MatchSettings, console: Console,
                 model: SavedModel | None) -> None:
        self.engine = engine
        self.settings = settings
        self.console = console
        self.model = model

    def run(self) -> None:
        engine = self.engine
        engine.create_table("match_open", "SELECT record_id FROM std_records", stage="match")
        engine.create_table(
            "match_candidates",
            f"SELECT {', '.join(CANDIDATE_COLUMNS)} "
            f"FROM ({exact_candidates_sql('match_open')}) LIMIT 0",
            stage="match",
        )
        self._path("exact", lambda: exact_candidates_sql("match_open"), explained=True)
        self._path("id_anchored", lambda: id_anchored_pairs_sql("match_open"))
        # A changed ID is only believable when the person's name and date of birth agree.
        self._path("id_repair", self._id_repair_pairs,
                   keep="name_verdict <> 'name_different' AND dob_verdict <> 'dob_different'",
                   dead=("match_variants",))
        if self.settings.probabilistic:
            self._path("probabilistic", self._probabilistic_pairs,
                       dead=("match_splink_labelled_records", "match_splink_labelled_register",
                             "match_splink_pairs", "match_splink_labels", "match_splink_open",
                             "match_splink_records", "match_splink_register"))
        self._path("household_evidence", self._evidence_pairs,
                   dead=("match_evidence_pairs", "match_evidence_sources", "match_linked",
                         *guard_tables("match")))
        for name in WORK_TABLES:
            engine.drop(name)

    def _path(self, name: str, pairs_sql: Callable[[], str | None], keep: str = "true",
              *, explained: bool = False, dead: tuple[str, ...] = ()) -> None:
        """Run one path: its pairs, explained, kept as candidates; then narrow the open records.

        ``explained`` says ``pairs_sql`` already returns explained candidates. ``dead`` names the
        path's own work tables, dropped as soon as its pairs are made (at 10 M records the ID
        variants alone are some 26 million rows): memory the later paths and decide need.
        """
        engine, settings = self.engine, self.settings
        with stage(self.console, f"match_{name}", total=engine.count("match_open")):
            sql = pairs_sql()
            if sql is None:
                return
            if not explained:
                engine.create_table("match_pairs", sql, stage=f"match_{name}")
                sql = explain_pairs_sql("match_pairs")
            for table in dead:
                engine.drop(table)
            engine.create_table(
                "match_scored",
                f"SELECT * FROM ({sql}) "
                f"WHERE match_probability >= {settings.candidate_floor} AND {keep}",
                stage=f"match_{name}",
            )
            engine.execute(
                f"INSERT INTO match_candidates SELECT {', '.join(CANDIDATE_COLUMNS)} "
                "FROM match_scored", stage=f"match_{name}")
            # A record with a candidate strong enough to link is settled: linked, or ambiguous
            # (then review) — later, weaker paths must not change that.
            engine.create_table("match_open_next", f"""
                SELECT record_id FROM match_open
                WHERE record_id NOT IN (
                    SELECT record_id FROM match_scored
                    WHERE match_probability >= {settings.auto_link_sql()})""",
                                stage=f"match_{name}")
            engine.create_table("match_open", "SELECT * FROM match_open_next", stage="match")
            self.console.rows_processed(f"match_{name}", engine.count("match_scored"))
            for table in ("match_pairs", "match_scored", "match_open_next"):
                engine.drop(table)

    def _id_repair_pairs(self) -> str:
        self.engine.create_table("match_variants", id_variants_sql("match_open"),
                                 stage="match_id_repair")
        return id_repair_pairs_sql("match_variants", "match_open",
                                   repair_factor=self.settings.id_repair_factor,
                                   old_id_factor=self.settings.old_id_factor)

    def _probabilistic_pairs(self) -> str | None:
        found = probabilistic_pairs(self.engine, "match_open", "match_candidates",
                                    self.settings, self.console, output="match_splink_pairs",
                                    model=self.model)
        return relate_ids_sql("match_splink_pairs", "probabilistic", 1.0) if found else None

    def _evidence_pairs(self) -> str:
        stage_name = "match_household_evidence"
        self.engine.create_table("match_evidence_sources", evidence_sources_sql("match_open"),
                                 stage=stage_name)
        _, top = best_candidates(
            self.engine, "(SELECT * FROM match_candidates WHERE record_id IN "
            "(SELECT record_id FROM match_evidence_sources))", "match", self.settings, stage_name)
        self.engine.create_table("match_linked", f"""
            SELECT record_id, person_id FROM {top}
            WHERE {linkable_sql(top, self.settings)}""", stage=stage_name)
        self.engine.create_table(
            "match_evidence_pairs", evidence_pairs_sql("match_open", "match_linked"),
            stage="match_household_evidence")
        return relate_ids_sql("match_evidence_pairs", "household_evidence",
                              self.settings.evidence_factor)


def run_matching(engine: Engine, settings: MatchSettings, console: Console,
                 model: SavedModel | None = None) -> None:
    """Propose and explain register candidates for every record of ``std_records``.

    Writes ``match_candidates`` (one row per record and candidate person per path that found it).
    A saved ``model`` is used instead of training the probabilistic path.
    """
    _Matcher(engine, settings, console, model).run()
