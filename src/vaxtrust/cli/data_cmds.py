"""``vaxtrust generate`` and ``vaxtrust evaluate``: synthetic data with ground truth, and scoring."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    app.command("generate")(generate_command)
    app.command("evaluate")(evaluate_command)


def generate_command(
    persons: Annotated[int, typer.Option("--persons", help="Number of synthetic residents (e.g. 1000000).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (must be empty unless --overwrite).")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same files.")] = 0,
    error_scale: Annotated[float, typer.Option(
        "--error-scale", help="Multiplier of every error rate (2.0 doubles them, 0 = no errors).")] = 1.0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the contents of --out.")] = False,
    records_format: Annotated[str, typer.Option(
        "--format", help="Dose records as csv (records.csv), parquet or xlsx (text cells; "
        "up to 400,000 persons).")] = "csv",
    province: Annotated[list[str] | None, typer.Option(
        "--province", help="Only residents of this pre-2025 GSO province (e.g. 40); repeatable.")] = None,
) -> None:
    """Tạo dữ liệu tổng hợp / generate a synthetic register, dose records and ground truth."""
    from vaxtrust.console import RichConsole as ProgressConsole
    from vaxtrust.console import terminal
    from vaxtrust.demo.generate import GenerateOptions, generate

    options = GenerateOptions(persons=persons, seed=seed, out=out, error_scale=error_scale,
                              overwrite=overwrite, records_format=records_format,
                              provinces=tuple(province or ()))
    with ProgressConsole() as console:
        manifest = generate(options, console)
    counts, shares = manifest["counts"], manifest["shares"]
    terminal().print(
        f"wrote {out}: {counts['registered']:,} register persons, {counts['records']:,} dose records "
        f"({counts['foreigners']:,} foreigners); {shares['vaccinated_residents_with_mismatch']:.1%} of "
        f"vaccinated residents have a mismatch, "
        f"{shares['vaccinated_residents_without_usable_id']:.1%} lack a usable ID",
        highlight=False)


def evaluate_command(
    truth: Annotated[Path, typer.Option(
        "--truth", help="Folder written by `vaxtrust generate` (or its truth/).")],
    results: Annotated[Path, typer.Option("--results", help="Results file (Parquet or CSV).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the score as JSON.")] = False,
) -> None:
    """Chấm điểm kết quả / score a cleaning run against the ground truth."""
    from vaxtrust.console import terminal
    from vaxtrust.demo.evaluate import render_table, score

    result = score(truth, results)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        terminal().print(render_table(result))
