"""The saved linkage model: what a run learned, so that a later run can match with it.

A national run trains Splink's m and u probabilities from a million pairs; a facility's day of
fifty records cannot (it has too few ID-linked records to learn from). ``model.json`` in the run
folder keeps everything a later run needs to match exactly as the national run did:

- ``splink``: Splink's own settings and trained parameters (``save_model_to_json``);
- ``matching``: the thresholds the run decided with (:class:`MatchSettings`);
- ``register``: the identity of the register snapshot it was trained on (SHA-256 of the file's
  bytes, and its row count): the prior and the u probabilities describe that register only;
- ``format_version`` and ``linkage_version``: the file layout, and a digest of the code that
  prepares the columns the comparisons read. Either changing makes an old model unusable.

:func:`read_model` refuses a file that is not such a model, or of another version;
:meth:`SavedModel.require_register` refuses it for another register snapshot.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from vaxtrust import __version__
from vaxtrust.errors import ConfigError, InputError
from vaxtrust.pipeline.match.settings import MatchSettings
from vaxtrust.schema import RUN_MODEL

MODEL_FORMAT: Final = "vaxtrust-linkage-model"
MODEL_FORMAT_VERSION: Final = 1


def linkage_version() -> str:
    """A digest of the code a model's comparisons depend on: the linkage columns and blocking."""
    from vaxtrust.pipeline.match.probabilistic import (
        BLOCKING_RULES,
        LINKAGE_COLUMNS,
        RECORD_LINKAGE_COLUMNS,
    )

    text = (" ".join(LINKAGE_COLUMNS.split()) + "\n" + " ".join(RECORD_LINKAGE_COLUMNS.split())
            + "\n" + "\n".join(BLOCKING_RULES))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class RegisterIdentity:
    """Which register snapshot a model describes."""

    content_hash: str
    rows: int


@dataclass(frozen=True)
class SavedModel:
    """A trained linkage model with everything needed to reuse it safely."""

    splink: dict[str, Any]
    matching: MatchSettings
    register: RegisterIdentity
    trained_by_run: str
    labelled_pairs: int
    vaxtrust_version: str = __version__
    linkage: str = ""

    def document(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION,
            "linkage_version": self.linkage or linkage_version(),
            "vaxtrust_version": self.vaxtrust_version, "trained_by_run": self.trained_by_run,
            "labelled_pairs": self.labelled_pairs, "register": asdict(self.register),
            "matching": asdict(self.matching), "splink": self.splink,
        }

    def write(self, folder: Path) -> Path:
        path = folder / RUN_MODEL
        path.write_text(json.dumps(self.document(), ensure_ascii=False, indent=1, default=str)
                        + "\n", encoding="utf-8")
        return path

    def for_dialect(self, dialect: str) -> SavedModel:
        """The model for an engine of ``dialect`` (sqlglot's name: "duckdb", "spark").

        Splink writes each comparison level's SQL in the dialect of the engine that trained the
        model and runs it as written; the blocking rules keep their dialect and Splink translates
        them. So a model trained on DuckDB gets its levels translated for Spark (and back) the
        way Splink translates our levels when it trains on that engine itself."""
        trained_on = str(self.splink.get("sql_dialect", dialect))
        if trained_on == dialect:
            return self
        import sqlglot

        splink = copy.deepcopy(self.splink)
        for comparison in splink["comparisons"]:
            for level in comparison["comparison_levels"]:
                if level["sql_condition"].strip().upper() != "ELSE":   # Splink's own keyword
                    level["sql_condition"] = sqlglot.parse_one(
                        level["sql_condition"], read=trained_on).sql(dialect=dialect)
        splink["sql_dialect"] = dialect
        return replace(self, splink=splink)

    def require_register(self, content_hash: str) -> None:
        """Refuse the model for another register snapshot than the one it was trained on."""
        if content_hash != self.register.content_hash:
            raise ConfigError(
                f"the saved linkage model was trained on another register snapshot (sha256 "
                f"{self.register.content_hash[:12]}…, {self.register.rows:,} rows; this register "
                f"is {content_hash[:12]}…): clean against the snapshot it was trained on (run "
                f"{self.trained_by_run}), or run a national clean to train a new model")


def model_path(path: Path) -> Path:
    """A model file, or the run folder holding one."""
    return path / RUN_MODEL if path.is_dir() else path


def read_model(path: Path) -> SavedModel:
    """The saved model in ``path`` (a file or a run folder); ConfigError when unusable."""
    file = model_path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no saved linkage model here (a run writes model.json only when its "
                         "probabilistic path trained one)", path=str(file)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"not a readable linkage model: {error}", path=str(file)) from None
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise ConfigError(f"{file}: not a vaxtrust linkage model (made by a vaxtrust before "
                          "saved models, or another file): run a national clean to train one")
    found = (data.get("format_version"), data.get("linkage_version"))
    if found != (MODEL_FORMAT_VERSION, linkage_version()):
        raise ConfigError(
            f"{file}: the model was saved by vaxtrust {data.get('vaxtrust_version', '?')} in an "
            f"incompatible version (format {found[0]}, linkage {found[1]}; this vaxtrust reads "
            f"format {MODEL_FORMAT_VERSION}, linkage {linkage_version()}): run a national clean "
            "to train a new model")
    try:
        return SavedModel(
            splink=dict(data["splink"]), matching=MatchSettings(**data["matching"]),
            register=RegisterIdentity(**data["register"]),
            trained_by_run=str(data["trained_by_run"]),
            labelled_pairs=int(data["labelled_pairs"]),
            vaxtrust_version=str(data["vaxtrust_version"]), linkage=str(data["linkage_version"]))
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"{file}: the linkage model is incomplete: {error!r}") from None
