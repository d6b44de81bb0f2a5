"""The conformance runner on dgc-testdata, and vaxtrust's own certificates as test files."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DCC_TESTDATA, require_shared
from tests.passport.conftest_core import CORE_NOW
from vaxtrust.cli import app
from vaxtrust.passport import issue_certificate
from vaxtrust.passport.conformance import dcc_test_file, run_directory, run_file

TESTDATA = DCC_TESTDATA
# README "Label caveats": labels that contradict the hcert spec or the signed data (docs/conformance.md)
LABEL_ERRORS = {
    ("ES/2DCode/raw/401.json", "EXPECTEDVERIFY"),
    ("ES/2DCode/raw/402.json", "EXPECTEDVERIFY"),
    ("ES/2DCode/raw/403.json", "EXPECTEDVERIFY"),
    ("FR/2DCode/raw/test_pcr_ok.json", "EXPECTEDDECODE"),
    ("FR/2DCode/raw/test_pcr_ok.json", "EXPECTEDVALIDJSON"),
}


@pytest.fixture(scope="module")
def report():
    return run_directory(require_shared(TESTDATA))


@pytest.mark.shared_data
def test_transport_decoding_and_crypto_flags_all_agree(report) -> None:
    core = {(path, r.flag) for path, r in report.disagreements()
            if r.category in {"transport", "decoding", "crypto"}}
    assert core == LABEL_ERRORS


@pytest.mark.shared_data
def test_negative_cases_are_all_caught(report) -> None:
    negatives = [r for f in report.files for r in f.results
                 if not r.expected and r.category in {"transport", "decoding", "crypto"}]
    assert len(negatives) >= 90
    assert all(r.outcome == "agree" for r in negatives)


@pytest.mark.shared_data
def test_schema_disagreements_are_the_known_nl_labels(report) -> None:
    schema = {path.split("/")[0] for path, r in report.disagreements() if r.category == "schema"}
    assert schema <= {"NL"}
    comparable = report.summary()["by_flag_upstream_comparable"]
    assert all("positive disagree" not in counts and "negative disagree" not in counts
               for counts in comparable.values())


@pytest.mark.shared_data
def test_cli_conformance_json(tmp_path) -> None:
    require_shared(TESTDATA)
    result = CliRunner().invoke(app, ["passport", "conformance", str(TESTDATA / "common"), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["summary"]["files"] == len(document["files"]) > 30
    assert {"transport", "crypto", "schema"} <= set(document["summary"]["by_category"])


@pytest.mark.parametrize("signer_name", ["es256_signer", "ps256_signer"])
def test_issued_certificates_pass_every_conformance_check(request, signer_name, holder, doses,
                                                         tmp_path) -> None:
    signer = request.getfixturevalue(signer_name)
    certificate = issue_certificate(holder, doses, signer, now=CORE_NOW)
    test_file = dcc_test_file(certificate, signer.certificate, clock=CORE_NOW + timedelta(days=1))
    path = tmp_path / "vaxtrust.json"
    path.write_text(json.dumps(test_file, ensure_ascii=False), encoding="utf-8")
    result = run_file(path)
    assert [(r.flag, r.outcome) for r in result.results if r.outcome != "agree"] == []
    assert len(result.results) == 12


def test_committed_vaxtrust_vectors_still_verify() -> None:
    """Certificates issued by earlier versions (tests/vectors/passport) keep their expected flags."""
    vectors = Path(__file__).resolve().parents[1] / "vectors" / "passport"
    report = run_directory(vectors)
    assert len(report.files) == 6
    assert report.disagreements() == []
    negatives = {(f.path, r.flag) for f in report.files for r in f.results if not r.expected}
    assert negatives == {("VN/2DCode/raw/4-expired.json", "EXPECTEDEXPIRATIONCHECK"),
                         ("VN/2DCode/raw/5-test-only-signer.json", "EXPECTEDKEYUSAGE"),
                         ("VN/2DCode/raw/6-tampered.json", "EXPECTEDVERIFY")}
