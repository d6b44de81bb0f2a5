"""Accuracy, speed and memory of the cleaning run, side by side with plain Splink 5 and a floor.

    python benchmarks/bench_clean.py accuracy --persons 200000 --scales 1,2
    python benchmarks/bench_clean.py speed --doses 100000,1000000 [--skip-splink]
        [--splink-blocking stock|tight] [--only splink]
    python benchmarks/bench_clean.py blocking --doses 10000000

``accuracy`` generates data (``vaxtrust.demo``) at each error scale, cleans it with vaxtrust and
with plain Splink (benchmarks/plain_splink.py) and scores both with ``vaxtrust.demo.evaluate``.
``speed`` generates a register of N persons and takes the first N dose records, then times three
contenders end to end, each in its own process under ``/usr/bin/time -v`` (wall time, peak RSS):
vaxtrust (``vaxtrust.pipeline.run.clean``: ingest → outputs), plain Splink (the same ingest and
standardise, then Splink), and the floor: a bare DuckDB join of the records to the register on the
ID number, written to Parquet. ``--splink-blocking`` picks plain Splink's blocking
(``plain_splink.BLOCKING``). ``blocking`` counts the pairs each blocking rule of plain Splink
generates on the speed data, with Splink's own ``count_comparisons_from_blocking_rules``. Run heavy
sizes under ``flock /tmp/vaxtrust-bench.lock``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

BENCH_DIR = Path(os.environ.get("VAXTRUST_BENCH_DIR", "/tmp/vaxtrust-bench"))
SEED = 20220323


def _generate(persons: int, scale: float, folder: Path) -> Path:
    from vaxtrust.demo.generate import GenerateOptions, generate

    if not (folder / "records.csv").is_file():
        start = time.perf_counter()
        generate(GenerateOptions(persons=persons, seed=SEED, out=folder, error_scale=scale,
                                 overwrite=True))
        print(f"generated {persons:,} persons (scale {scale}) in "
              f"{time.perf_counter() - start:.0f} s", flush=True)
    return folder


def _first_doses(source: Path, doses: int, folder: Path) -> Path:
    """The first ``doses`` records of a generated folder, with their truth and the register."""
    if (folder / "records.csv").is_file():
        return folder
    (folder / "truth").mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT * FROM read_csv('{source / "records.csv"}', all_varchar = true,
                    header = true) LIMIT {doses})
                    TO '{folder / "records.csv"}' (HEADER, FORMAT csv)""")
    con.execute(f"""COPY (SELECT t.* FROM read_parquet('{source / "truth/records_truth.parquet"}') t
                    SEMI JOIN read_csv('{folder / "records.csv"}', all_varchar = true) r
                    USING (record_id))
                    TO '{folder / "truth/records_truth.parquet"}' (FORMAT parquet)""")
    con.close()
    os.symlink(source / "register.parquet", folder / "register.parquet")
    return folder


# -- contenders (each runs in a child process) ---------------------------------------------------

def _run_vaxtrust(data: Path, out: Path, blocking: str = "stock") -> dict[str, Any]:
    from vaxtrust.pipeline.run import clean

    summary = clean([data / "records.csv"], data / "register.parquet", out)
    return {"stages": getattr(summary, "stage_seconds", None)}


def _standardised(engine: Any, data: Path) -> None:
    """vaxtrust's ingest and standardise: ``std_records`` and ``std_register``."""
    import datetime as dt

    from vaxtrust.ingest.load import ingest
    from vaxtrust.pipeline.standardise import (
        register_vn_functions,
        standardise_records_sql,
        standardise_register_sql,
    )

    ingest(engine, "register", [data / "register.parquet"], today=dt.date.today())
    ingest(engine, "records", [data / "records.csv"], today=dt.date.today())
    register_vn_functions(engine)
    engine.create_table("std_register", standardise_register_sql("raw_register"))
    engine.create_table("std_records", standardise_records_sql("raw_records"))


def _run_splink(data: Path, out: Path, blocking: str = "stock") -> dict[str, Any]:
    from plain_splink import plain_splink_results
    from vaxtrust.engine import create_engine

    out.mkdir(parents=True, exist_ok=True)
    stages: dict[str, float] = {}
    with create_engine("duckdb", temp_directory=out / ".spill") as engine:
        start = time.perf_counter()
        _standardised(engine, data)
        stages["ingest+standardise"] = time.perf_counter() - start
        start = time.perf_counter()
        plain_splink_results(engine, blocking)
        stages["splink"] = time.perf_counter() - start
        engine.write_parquet("results", out / "results.parquet")
    return {"stages": stages, "blocking": blocking}


def _run_floor(data: Path, out: Path, blocking: str = "stock") -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"""COPY (
        SELECT r.*, p.person_id AS register_person_id, p.full_name AS register_name
        FROM read_csv('{data / "records.csv"}', all_varchar = true, header = true) AS r
        JOIN read_parquet('{data / "register.parquet"}') AS p ON p.person_id = r.id_number
    ) TO '{out / "joined.parquet"}' (FORMAT parquet)""")
    con.close()
    return {}


CONTENDERS = {"vaxtrust": _run_vaxtrust, "splink": _run_splink, "floor": _run_floor}


def _child(contender: str, data: Path, out: Path, splink_blocking: str) -> None:
    start = time.perf_counter()
    extra = CONTENDERS[contender](data, out, splink_blocking)
    print("RESULT " + json.dumps({"seconds": time.perf_counter() - start, **extra}), flush=True)


def _measure(contender: str, data: Path, out: Path, splink_blocking: str = "stock") -> dict[str, Any]:
    """Run one contender in a fresh process; wall seconds, peak RSS and its own figures."""
    command = ["/usr/bin/time", "-v", sys.executable, __file__, "_child", contender, str(data),
               str(out), "--splink-blocking", splink_blocking]
    # the caller's own path first (a checkout measured apart from the installed one)
    path = [os.environ.get("PYTHONPATH", ""), str(Path(__file__).parent)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{contender} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.split("RESULT ", 1)[1].splitlines()[0])
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)[1])  # type: ignore[index]
    result["peak_rss_gb"] = rss_kb / 1024 / 1024
    return result


def _score(data: Path, results: Path) -> dict[str, Any]:
    from vaxtrust.demo.evaluate import score

    figures = score(data, pq.read_table(results)).to_dict()
    return {key: figures[key] for key in (
        "records", "in_register", "auto_links", "right_links", "wrong_person_links",
        "not_in_register_linked", "precision", "recall", "review_rate", "status_counts")}


# -- commands ------------------------------------------------------------------------------------

def _out_name(contender: str, splink_blocking: str) -> str:
    return f"{contender}-{splink_blocking}" if contender == "splink" and splink_blocking != "stock" \
        else contender


def accuracy(persons: int, scales: list[float], splink_blocking: str = "stock") -> None:
    for scale in scales:
        data = _generate(persons, scale, BENCH_DIR / f"acc_{persons}_{scale}")
        for contender in ("vaxtrust", "splink"):
            out = BENCH_DIR / f"acc_{persons}_{scale}_{_out_name(contender, splink_blocking)}"
            timing = _measure(contender, data, out, splink_blocking)
            figures = _score(data, out / "results.parquet")
            print(json.dumps({"scale": scale, "contender": contender,
                              "seconds": round(timing["seconds"], 1), **figures}), flush=True)


def speed(sizes: list[int], skip_splink: bool, splink_blocking: str = "stock",
          only: list[str] | None = None) -> None:
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, Python "
          f"{platform.python_version()}", flush=True)
    for doses in sizes:
        source = _generate(doses, 1.0, BENCH_DIR / f"gen_{doses}")
        data = _first_doses(source, doses, BENCH_DIR / f"speed_{doses}")
        row: dict[str, Any] = {"doses": doses, "splink_blocking": splink_blocking}
        contenders = only or ["floor", "vaxtrust"] + ([] if skip_splink else ["splink"])
        for contender in contenders:
            out = BENCH_DIR / f"speed_{doses}_{_out_name(contender, splink_blocking)}"
            result = _measure(contender, data, out, splink_blocking)
            row[contender] = {"seconds": round(result["seconds"], 1),
                              "peak_rss_gb": round(result["peak_rss_gb"], 2),
                              "stages": result.get("stages")}
            if contender != "floor":
                row[contender].update(_score(data, out / "results.parquet"))
        print(json.dumps(row), flush=True)


def blocking(sizes: list[int], sample: float) -> None:
    """Pairs per blocking rule of each plain Splink configuration, counted by Splink itself."""
    from plain_splink import BLOCKING, plain_splink_linker
    from vaxtrust.engine import create_engine

    for doses in sizes:
        source = _generate(doses, 1.0, BENCH_DIR / f"gen_{doses}")
        data = _first_doses(source, doses, BENCH_DIR / f"speed_{doses}")
        spill = BENCH_DIR / f"blocking_{doses}.spill"
        with create_engine("duckdb", temp_directory=spill) as engine:
            start = time.perf_counter()
            _standardised(engine, data)
            print(f"{doses:,}: ingest + standardise {time.perf_counter() - start:.0f} s", flush=True)
            engine.execute(f"""CREATE TABLE true_pairs AS
                SELECT record_id, true_person_id AS person_id
                FROM read_parquet('{data / "truth/records_truth.parquet"}')
                WHERE true_person_id IS NOT NULL""")
            for name, config in BLOCKING.items():
                analysis = plain_splink_linker(engine, name).blocking_analysis
                start = time.perf_counter()
                counts = analysis.count_comparisons_from_blocking_rules(
                    record_sample_proportion=sample)
                em = [analysis.count_comparisons_from_blocking_rules(
                    [rule], record_sample_proportion=sample)[0] for rule in config.em]
                # true pairs (record, its person in the register) that some rule lets through
                any_rule = " OR ".join(f"({rule.get_blocking_rule('duckdb').blocking_rule_sql})"
                                       for rule in config.predict)
                reach = engine.query(f"""
                    SELECT count(*) AS true_pairs, count_if({any_rule}) AS blocked_true_pairs
                    FROM true_pairs AS t JOIN std_records AS l ON l.record_id = t.record_id
                    JOIN std_register AS r ON r.person_id = t.person_id""").to_pylist()[0]
                print(json.dumps({
                    "doses": doses, "blocking": name, "sample": sample,
                    "seconds": round(time.perf_counter() - start, 1),
                    "predict": [{"rule": c["blocking_rule"],
                                 "marginal": c["marginal_comparison_count"],
                                 "cumulative": c["cumulative_comparison_count"]} for c in counts],
                    "em": [{"rule": c["blocking_rule"], "pairs": c["marginal_comparison_count"],
                            "max_pairs": config.em_max_pairs} for c in em],
                    **reach,
                }, default=int), flush=True)
                for rule in config.predict:
                    largest = analysis.n_largest_blocks(rule, n_largest=3).as_record_list()
                    print(json.dumps({"doses": doses, "blocking": name,
                                      "rule": rule.get_blocking_rule("duckdb").blocking_rule_sql,
                                      "largest_blocks": largest}, default=str), flush=True)
        shutil.rmtree(spill, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    acc = commands.add_parser("accuracy")
    acc.add_argument("--persons", type=int, default=200_000)
    acc.add_argument("--scales", default="1,2")
    spd = commands.add_parser("speed")
    spd.add_argument("--doses", default="100000,1000000")
    spd.add_argument("--skip-splink", action="store_true")
    spd.add_argument("--only", help="contenders to run, e.g. splink or floor,vaxtrust")
    child = commands.add_parser("_child")
    child.add_argument("contender", choices=sorted(CONTENDERS))
    child.add_argument("data", type=Path)
    child.add_argument("out", type=Path)
    for sub in (acc, spd, child):
        sub.add_argument("--splink-blocking", choices=("stock", "tight"), default="stock",
                         help="plain Splink's blocking rules (plain_splink.BLOCKING)")
    blk = commands.add_parser("blocking")
    blk.add_argument("--doses", default="1000000")
    blk.add_argument("--sample", type=float, default=0.05,
                     help="Splink's record_sample_proportion (1 = exact counts)")
    args = parser.parse_args()
    if args.command == "accuracy":
        accuracy(args.persons, [float(s) for s in args.scales.split(",")], args.splink_blocking)
    elif args.command == "speed":
        speed([int(s) for s in args.doses.split(",")], args.skip_splink, args.splink_blocking,
              args.only.split(",") if args.only else None)
    elif args.command == "blocking":
        blocking([int(s) for s in args.doses.split(",")], args.sample)
    else:
        _child(args.contender, args.data, args.out, args.splink_blocking)


if __name__ == "__main__":
    main()
