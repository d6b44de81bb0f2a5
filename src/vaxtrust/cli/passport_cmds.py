"""``vaxtrust passport ...``: issue, verify, show and conformance-test vaccine passports."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from vaxtrust.cli.settings import cli_settings
from vaxtrust.console import styled, terminal
from vaxtrust.errors import ConfigError, InputError

passport_app = typer.Typer(
    help="Hộ chiếu vắc xin (EU DCC) / vaccine passports: issue, verify, revoke.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``passport`` and its sub-commands to ``app``."""
    from vaxtrust.cli import passport_keys_cmds, signing_cmds

    passport_keys_cmds.register(passport_app)
    signing_cmds.register(passport_app)
    app.add_typer(passport_app, name="passport")


def _clock(now: str | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    from vaxtrust.passport.conformance import parse_instant

    try:
        return parse_instant(now)
    except ValueError:
        raise ConfigError(f"--now: {now!r} is not an ISO 8601 instant") from None


def _qr_text(text: str | None, image: Path | None) -> str:
    from vaxtrust.passport.qr import read_qr

    if (text is None) == (image is None):
        raise ConfigError("give either the HC1 text (or - for stdin) or --image, not both")
    if image is not None:
        if not image.is_file():
            raise InputError("image not found", path=str(image))
        return read_qr(image)
    return sys.stdin.read() if text == "-" else str(text)


def _print_fields(certificate_fields: list[Any], header: list[Any]) -> None:
    """The fields of a certificate; its values (from a QR anyone can make) print literally."""
    from rich.table import Table

    table = Table(show_header=False, box=None)
    for field in certificate_fields:
        table.add_row(styled("{}. {}\n[dim]{}[/]", field.number, field.label_vi, field.label_en),
                      str(field.value))
    console = terminal()
    for line in header:
        console.print(line)
    console.print(table)


@passport_app.command("verify")
def verify_command(
    trust_list: Annotated[Path, typer.Option("--trust-list", help="Trust list JSON (passport trust-list export).")],
    text: Annotated[str | None, typer.Argument(help="The HC1: text, or - to read it from stdin.")] = None,
    image: Annotated[Path | None, typer.Option("--image", help="A PNG/JPEG with the QR instead of text.")] = None,
    revocation_list: Annotated[Path | None, typer.Option("--revocation-list", help="Revocation list JSON.")] = None,
    now: Annotated[str | None, typer.Option("--now", help="Validation clock, ISO 8601 (default: now, UTC).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verified payload as JSON.")] = False,
    csca: Annotated[list[Path] | None, typer.Option("--csca", help=(
        "Pin a CSCA certificate (PEM; repeatable): the trust and revocation lists must be signed by "
        "it and every signer certified by it. Default: passport.pinned_csca, then "
        "$VAXTRUST_PINNED_CSCA."))] = None,
    insecure_unpinned: Annotated[bool, typer.Option("--insecure-unpinned", help=(
        "Run without a pinned CSCA, trusting the trust list's own CSCA (anyone can make one); "
        "every answer says UNPINNED."))] = False,
) -> None:
    """Verify a certificate: prefix, Base45, zlib, COSE, signer, expiry, key usage, schema, revocation."""
    from vaxtrust.errors import VaxtrustError
    from vaxtrust.passport.pinning import (
        UNPINNED_NOTE,
        pinned_csca_paths,
        resolve_pinning,
    )

    paths = pinned_csca_paths(csca or [], cli_settings().passport.pinned_csca)
    pinning = resolve_pinning(paths, insecure_unpinned=insecure_unpinned)
    try:
        verified = _verified(text, image, trust_list, revocation_list, now, pinning.cscas)
    except VaxtrustError as error:
        if not pinning.pinned:  # the refusal is an answer too
            error.args = (f"{UNPINNED_NOTE}. {error}",)
        raise
    if as_json:
        typer.echo(json.dumps({"valid": True, "pinned": pinning.pinned,
                               **({} if pinning.pinned else {"warning": UNPINNED_NOTE}),
                               "kid": verified.kid.hex(), "alg": verified.algorithm,
                               "iss": verified.issuer_country,
                               "iat": verified.issued_at.isoformat(),
                               "exp": verified.expires_at.isoformat(),
                               "payload": verified.payload}, ensure_ascii=False, indent=1))
        return
    _print_fields(verified.fields(), [
        styled("[bold green]HỢP LỆ / VALID[/]") if pinning.pinned
        else styled("[bold red]{}[/] [bold yellow]HỢP LỆ / VALID[/] only if you trust this "
                    "trust list's CSCA", UNPINNED_NOTE),
        f"signer kid {verified.kid.hex()} ({verified.algorithm}), issued {verified.issued_at:%Y-%m-%d},"
        f" expires {verified.expires_at:%Y-%m-%d} (UTC)",
    ])


def _verified(text: str | None, image: Path | None, trust_list: Path,
              revocation_list: Path | None, now: str | None,
              pinned: list[Any] | None) -> Any:
    from vaxtrust.passport.revocation import RevocationList
    from vaxtrust.passport.trustlist import TrustList
    from vaxtrust.passport.verify import verify_certificate

    clock = _clock(now)
    qr_text = _qr_text(text, image)
    trust = TrustList.load(trust_list, pinned_cscas=pinned)
    revocation = (RevocationList.load(revocation_list, now=clock, pinned_cscas=pinned)
                  if revocation_list else None)
    return verify_certificate(qr_text, trust, now=clock, revocation=revocation)


@passport_app.command("show")
def show_command(
    text: Annotated[str | None, typer.Argument(help="The HC1: text, or - to read it from stdin.")] = None,
    image: Annotated[Path | None, typer.Option("--image", help="A PNG/JPEG with the QR instead of text.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decoded payload as JSON.")] = False,
) -> None:
    """Decode a certificate and print its fields WITHOUT checking signature, expiry or revocation."""
    from vaxtrust.passport.fields import certificate_fields
    from vaxtrust.passport.verify import decode

    decoded = decode(_qr_text(text, image))
    if as_json:
        typer.echo(json.dumps(decoded.payload, ensure_ascii=False, indent=1))
        return
    kid = decoded.message.kid
    _print_fields(certificate_fields(decoded.payload, issuing_country=decoded.issuer_country), [
        styled("[bold yellow]CHƯA XÁC MINH / NOT VERIFIED[/] (decoded only)"),
        f"kid {kid.hex() if kid else '-'}, alg {decoded.message.algorithm}",
    ])


@passport_app.command("issue")
def issue_command(
    holder_file: Annotated[Path, typer.Argument(help="JSON: full_name, date_of_birth, doses[{vaccinated_on, product}].")],
    keystore: Annotated[Path, typer.Option("--keystore", help="Key store directory (passport keys).")],
    signer: Annotated[str, typer.Option("--signer", help="Signer name in the key store.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory for qr.txt, qr.png, qr.svg, certificate.pdf.")],
    passphrase_env: Annotated[str, typer.Option(
        "--passphrase-env", help="Environment variable holding the key file passphrase.")
    ] = "VAXTRUST_KEY_PASSPHRASE",
    pin_env: Annotated[str, typer.Option(
        "--pin-env", help="Environment variable holding the token PIN (PKCS#11 signers).")
    ] = "VAXTRUST_PKCS11_PIN",
    validity_days: Annotated[int, typer.Option("--validity-days", min=1, max=3650)] = 365,
    now: Annotated[str | None, typer.Option("--now", help="Issuing time, ISO 8601 (default: now, UTC).")] = None,
) -> None:
    """Issue one certificate for a verified person and write its QR (text, PNG, SVG) and PDF."""
    from vaxtrust.passport.issue import issue_certificate
    from vaxtrust.passport.keystore import KeyStore
    from vaxtrust.passport.pki import Passphrase

    clock = _clock(now)
    holder, doses = _read_holder(holder_file)
    passphrase_text = os.environ.get(passphrase_env)
    passphrase = Passphrase.of(passphrase_text) if passphrase_text else None
    store = KeyStore.open(keystore)
    signing = store.load_signer(signer, now=clock, passphrase=passphrase,
                                pin=os.environ.get(pin_env))
    certificate = issue_certificate(holder, doses, signing, now=clock,
                                    validity=timedelta(days=validity_days))
    out.mkdir(parents=True, exist_ok=True)
    (out / "qr.txt").write_text(certificate.qr_text + "\n", encoding="ascii")
    (out / "qr.png").write_bytes(certificate.png())
    (out / "qr.svg").write_text(certificate.svg(), encoding="utf-8")
    (out / "certificate.pdf").write_bytes(certificate.pdf())
    typer.echo(f"issued {certificate.uvci} (expires {certificate.expires_at:%Y-%m-%d}) → {out}")


def _read_holder(path: Path) -> tuple[Any, list[Any]]:
    from vaxtrust.passport.payload import Dose, Holder

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        holder = Holder(str(data["full_name"]), str(data.get("date_of_birth", "")))
        doses = [Dose(date.fromisoformat(dose["vaccinated_on"]), str(dose["product"]),
                      str(dose.get("country", "VN"))) for dose in data["doses"]]
    except FileNotFoundError:
        raise InputError("holder file not found", path=str(path)) from None
    except (OSError, ValueError) as error:
        raise InputError(f"not readable JSON ({error})", path=str(path)) from None
    except (KeyError, TypeError) as error:
        raise InputError(f"missing or wrong field {error}", path=str(path)) from None
    return holder, doses


@passport_app.command("conformance")
def conformance_command(
    directory: Annotated[Path, typer.Argument(help="A dgc-testdata-format directory, e.g. ../shared/dcc-testdata.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full per-file, per-flag result as JSON.")] = False,
) -> None:
    """Score the verifier against every test file under DIRECTORY, flag by flag."""
    from vaxtrust.passport.conformance import run_directory

    report = run_directory(directory)
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=1))
        return
    _print_report(report)


def _print_report(report: Any) -> None:
    from rich.table import Table

    from vaxtrust.passport.conformance import FLAGS

    console = terminal(width=max(terminal().width, 110))
    for file in report.files:   # one line per file: every expected flag, agree or disagree
        flags = " ".join(f"{r.flag.removeprefix('EXPECTED')}={'T' if r.expected else 'F'}:{r.outcome}"
                         for r in file.results)
        verdict = "pass" if file.passed else "FAIL"
        console.print(f"{verdict} {file.path} {file.error or flags}", highlight=False, markup=False,
                      soft_wrap=True)
    columns = {"+agree": "positive agree", "+disagree": "positive disagree",
               "-agree": "negative agree", "-disagree": "negative disagree",
               "+n/e": "positive not evaluable", "-n/e": "negative not evaluable"}
    summary = report.summary()
    for title, key in (("per flag (+ expected true, - expected false = negative cases)", "by_flag"),
                       ("upstream-comparable: known_issues.upstream.csv and issuer flags dropped",
                        "by_flag_upstream_comparable")):
        table = Table(title=title)
        table.add_column("category")
        table.add_column("flag")
        for column in columns:
            table.add_column(column, justify="right")
        for flag, counts in summary[key].items():
            table.add_row(FLAGS[flag], flag.removeprefix("EXPECTED"),
                          *(str(counts.get(column, 0)) for column in columns.values()))
        console.print(table)
    console.print(f"files: {summary['files']}, passed: {summary['files_passed']}, "
                  f"passed upstream-comparable: {summary['files_passed_upstream_comparable']}",
                  highlight=False)
