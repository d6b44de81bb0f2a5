"""The data contracts every area shares: import schemas, the results contract and the run layout.

Column lists are the single source of truth; docs/data-formats.md describes each column.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

# Dose records as facilities export them. Every column is text; parsing is the standardiser's job.
DOSE_RECORD_COLUMNS: Final = (
    "record_id", "full_name", "dob", "gender", "id_number", "phone",
    "province", "district", "commune",
    "dose_number", "vaccine", "lot", "vaccinated_on", "facility_id",
)

# The population register snapshot (CSDLQG về dân cư). dob is ISO text; dob_precision is
# day | month | year; codes are the pre-2025 GSO codes (2, 3 and 5 digits).
REGISTER_COLUMNS: Final = (
    "person_id", "old_id", "full_name", "dob", "dob_precision", "gender",
    "province_code", "district_code", "commune_code", "phone",
)

# Complaints (phản ánh) exported from another portal (``vaxtrust complaints import``): the national
# form's fields, one complaint per row, with up to ``COMPLAINT_DOSES`` doses (the citizen's claim
# per dose: the first dose's columns unnumbered, then ``dose_number_2`` ...). Every column is
# text.
COMPLAINT_DOSE_COLUMNS: Final = ("dose_number", "vaccine", "vaccinated_on", "facility_id")
COMPLAINT_DOSES: Final = 4
COMPLAINT_COLUMNS: Final = (
    "complaint_id", "full_name", "dob", "gender", "phone", "id_number", "address",
    "province", "district", "commune", "category", *COMPLAINT_DOSE_COLUMNS,
    "description", "received_at",
    *(f"{column}_{n}" for n in range(2, COMPLAINT_DOSES + 1) for column in COMPLAINT_DOSE_COLUMNS),
)

# The results contract (docs/data-formats.md, "Results of a cleaning run"): one row per input
# dose record.
RESULT_COLUMNS: Final = (
    "record_id", "status", "person_id", "corrected_full_name", "corrected_dob",
    "corrected_gender", "corrected_id_number", "confidence", "reasons",
)


class Status(StrEnum):
    VERIFIED = "verified"      # matches the register as entered
    CORRECTED = "corrected"    # linked to person_id; corrected_* filled where they differ
    REVIEW = "review"          # needs a person; candidates in review_candidates
    UNMATCHED = "unmatched"    # no register person found
    REJECTED = "rejected"      # unusable input; reasons say why


AUTO_LINK_STATUSES: Final = frozenset({Status.VERIFIED, Status.CORRECTED})

# Files of a cleaning run directory (``vaxtrust clean --out DIR``).
RUN_RESULTS: Final = "results.parquet"
RUN_REVIEW_CANDIDATES: Final = "review_candidates.parquet"
RUN_DOSE_HISTORY: Final = "dose_history.parquet"
RUN_REJECTS: Final = "rejects.csv"
RUN_SUMMARY: Final = "summary.json"
# What publish and the store read (vaxtrust.pipeline.run_folder): nothing else of a run.
RUN_MANIFEST: Final = "run.json"
RUN_MODEL: Final = "model.json"
RUN_RECORDS: Final = "records.parquet"
RUN_PERSONS: Final = "persons.parquet"

# The identity fields a run may correct (results' corrected_* columns).
IDENTITY_FIELDS: Final = ("full_name", "dob", "gender", "id_number")
# A record's original values as the facility typed them (records.parquet: original_<field>).
ORIGINAL_FIELDS: Final = tuple(name for name in DOSE_RECORD_COLUMNS if name != "record_id")

# Review candidates: one row per (record, candidate), rank 1 = best.
REVIEW_CANDIDATE_COLUMNS: Final = (
    "record_id", "rank", "person_id", "match_probability", "comparison", "reasons",
)

# Person dose histories: one row per (person, dose record) for linked records.
DOSE_HISTORY_COLUMNS: Final = (
    "person_id", "record_id", "dose_number", "vaccine_mp", "vaccine_ma", "vaccine_vp",
    "vaccinated_on", "facility_id", "duplicate_of", "flags",
)

# Rejects: one row per problem found on an input row (a row may have several).
REJECT_COLUMNS: Final = ("source", "row_number", "record_id", "field", "value", "reason")

# Ground truth written by ``vaxtrust generate`` (truth/ folder).
TRUTH_COLUMNS: Final = (
    "record_id", "true_person_id", "true_full_name", "true_dob", "true_gender",
    "true_id_number", "error_kinds",
)
