"""``vaxtrust demo``: generate a small province, clean it, score it against the truth."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from vaxtrust.cli import app
from vaxtrust.errors import ConfigError


def test_demo_cleans_and_scores_a_generated_province(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--persons", "400", "--seed", "7", "--out",
                                      str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Against the truth: precision of automatic links" in result.output
    summary = json.loads((out / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["records"]["rows_in"] == (
        summary["records"]["accepted"] + summary["records"]["rejected"])
    evaluation = summary["evaluation"]
    assert evaluation["missing_results"] == 0
    assert evaluation["wrong_person_links"] == 0
    assert (out / "data" / "truth").is_dir()
    assert "Published to the store" in result.output


def test_demo_signs_passports_that_verify_against_its_trust_list(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--persons", "300", "--seed", "3", "--out",
                                      str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    certificates = pq.read_table(out / "passports" / "certificates.parquet")
    assert certificates.num_rows > 0
    assert all(text.startswith("HC1:") for text in certificates.column("qr_text").to_pylist())
    verify = CliRunner().invoke(app, [
        "passport", "verify", "--image", str(out / "passports" / "example.png"),
        "--trust-list", str(out / "passports" / "trust-list.json"),
        "--csca", str(out / "passports" / "keys" / "csca" / "csca.pem")])
    assert verify.exit_code == 0, verify.output
    assert "VALID" in verify.output and "UNPINNED" not in verify.output
    assert "--csca" in result.output  # the demo tells how to verify, pinned to its own CSCA
    assert (out / "passports" / "example.pdf").read_bytes().startswith(b"%PDF")


def test_demo_run_lands_in_a_store_with_its_review_queue(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    demo = CliRunner().invoke(app, ["demo", "--persons", "300", "--seed", "5", "--out",
                                    str(out)], catch_exceptions=False)
    password = " ".join(demo.output.split()).split("shown once: ")[1].split(";")[0]
    listing = CliRunner().invoke(app, ["review", "list", "--db", f"sqlite:///{out / 'store.db'}",
                                       "--as", "bo-y-te-demo"],
                                 env={"VAXTRUST_PASSWORD": password, "VAXTRUST_TOKEN": None})
    assert listing.exit_code == 0, listing.output
    assert "review items" in listing.output


def test_demo_refuses_a_folder_with_other_files(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(ConfigError, match="holds other files"):
        CliRunner().invoke(app, ["demo", "--persons", "10", "--out", str(tmp_path)],
                           catch_exceptions=False)
    assert (tmp_path / "thesis.docx").exists()
