"""vaxtrust and plain Splink 5 on the independent evaluation set (never used for tuning).

    flock /tmp/vaxtrust-heavy.lock uv run python benchmarks/bench_independent.py \
        [--sets doubled,realistic] [--data-dir /work/bench-data/independent] [--regenerate]

Each set is generated once by ``benchmarks.independent`` (its own error model, written from
vn-facts.md without reading the matcher) and cached under ``--data-dir``. The contenders run on
the same files in the same run, each in its own process under ``/usr/bin/time -v`` (the
``_measure`` of bench_clean.py: wall time and peak RSS; plain Splink is benchmarks/plain_splink.py
after vaxtrust's own ingest and standardise, with its stock and its tight blocking). Scoring is
``benchmarks.independent.score``. Prints the issue-13 tables: the headline per set and
contender, the auto-resolved share per error kind, and whether the right person is the first
candidate of review items.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks.independent.generate import generate  # noqa: E402
from benchmarks.independent.score import score  # noqa: E402

from bench_clean import _measure  # noqa: E402  (the shared contender runner)

DATA_DIR = Path(os.environ.get("VAXTRUST_INDEPENDENT_DIR", "/work/bench-data/independent"))

# contender: (bench_clean.py's contender, plain Splink's blocking). ``splink-tight`` is the same
# model with smaller blocks (plain_splink.py): as accurate, and the faster yardstick for speed.
CONTENDERS = {"vaxtrust": ("vaxtrust", "stock"), "splink": ("splink", "stock"),
              "splink-tight": ("splink", "tight")}
LABELS = {"vaxtrust": "vaxtrust", "splink": "plain Splink 5",
          "splink-tight": "plain Splink 5, tight blocking"}
# name: (persons, error scale, seed). Seeds differ from the project generator's (20220323).
SETS = {
    "smoke": (10_000, 1.0, 1301),
    "doubled": (100_000, 2.0, 1302),
    "realistic": (1_000_000, 1.0, 1303),
    # Fresh seeds for a blind check once the sets above have been read (benchmarks/README.md):
    # run each once, report it, and never look into its records.
    "fresh-doubled": (100_000, 2.0, 1402),
    "fresh-realistic": (1_000_000, 1.0, 1403),
}


def _dataset(name: str, data_dir: Path, regenerate: bool) -> Path:
    persons, scale, seed = SETS[name]
    folder = data_dir / name / "data"
    manifest = folder / "manifest.json"
    if regenerate or not manifest.is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        start = dt.datetime.now()
        generate(persons, seed, folder, scale, overwrite=True)
        print(f"generated {name}: {persons:,} persons, scale {scale}, seed {seed} in "
              f"{(dt.datetime.now() - start).total_seconds():.0f} s", flush=True)
    return folder


def _pct(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f} %"


def run_set(name: str, data_dir: Path, regenerate: bool, rescore: bool = False,
            contenders: tuple[str, ...] = tuple(CONTENDERS)) -> dict[str, Any]:
    """Run the contenders on one set and score them; ``rescore``: only score the last runs.

    A contender left out keeps its figures of the last run (marked ``earlier_run``)."""
    data = _dataset(name, data_dir, regenerate)
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    row: dict[str, Any] = {"set": name, "persons": manifest["persons"],
                           "error_scale": manifest["error_scale"],
                           "records": manifest["counts"]["records"]}
    previous = data_dir / name / "figures.json"
    last = json.loads(previous.read_text(encoding="utf-8")) if previous.is_file() else {}
    for contender in CONTENDERS:
        if contender not in contenders:
            if contender in last:  # a first run of one contender has nothing to keep
                row[contender] = {**last[contender], "earlier_run": True}
            continue
        out = data_dir / name / contender
        timing = {"seconds": last[contender]["wall_seconds"],
                  "peak_rss_gb": last[contender]["peak_rss_gb"],
                  "stages": last[contender]["stages"]} if rescore \
            else _measure(CONTENDERS[contender][0], data, out,
                          splink_blocking=CONTENDERS[contender][1])
        figures = score(data, out / "results.parquet", out / "review_candidates.parquet")
        figures["wall_seconds"] = round(timing["seconds"], 1)
        figures["peak_rss_gb"] = round(timing["peak_rss_gb"], 2)
        figures["stages"] = timing.get("stages")
        row[contender] = figures
        print(json.dumps({"set": name, "contender": contender,
                          **{k: v for k, v in figures.items()
                             if k not in ("per_kind", "per_trait")}}, default=str), flush=True)
    (data_dir / name / "figures.json").write_text(json.dumps(row, indent=1, default=str),
                                                   encoding="utf-8")
    return row


def print_tables(rows: list[dict[str, Any]]) -> None:
    print("\n| set | contender | wrong-person links | auto-resolved | review | "
          "people outside the register linked | wall | peak memory |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        label = (f"{row['persons']:,} persons, {row['records']:,} doses, "
                 f"{'doubled error rates' if row['error_scale'] == 2 else 'realistic'}")
        for contender in (c for c in CONTENDERS if c in row):
            f = row[contender]
            who = LABELS[contender] + (" (earlier run)" if f.get("earlier_run") else "")
            print(f"| {label} | {who} | "
                  f"{f['wrong_person_links']:,} | {_pct(f['auto_resolved'])} | "
                  f"{_pct(f['review_share'])} | {f['outside_persons_linked']:,} of "
                  f"{f['outside_persons']:,} | {f['wall_seconds']:.1f} s | "
                  f"{f['peak_rss_gb']:.2f} GB |")
            label = "same"
    for row in (r for r in rows if "vaxtrust" in r):  # the per-kind tables are vaxtrust's
        vax, spl = row["vaxtrust"], row.get("splink", {})
        print(f"\nAuto-resolved per error kind, {row['set']} set (records of register people "
              "carrying the kind; a record may carry several; for twin and namesake_same_dob "
              "the right-hand columns count records without any error):\n")
        print("| error in the record | records | vaxtrust | vaxtrust review | plain Splink 5 | "
              "records with only this error | vaxtrust | plain Splink 5 |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        kinds = {**vax["per_kind"], **vax["per_trait"], **vax["clean_records"]}
        others = {**spl.get("per_kind", {}), **spl.get("per_trait", {}),
                  **spl.get("clean_records", {})}
        for kind, k in kinds.items():
            other = others.get(kind, {})
            print(f"| {kind} | {k['records']:,} | {_pct(k['auto_resolved'], 1)} | "
                  f"{_pct(k['review'], 1)} | {_pct(other.get('auto_resolved'), 1)} | "
                  f"{k['alone']:,} | {_pct(k['alone_auto_resolved'], 1)} | "
                  f"{_pct(other.get('alone_auto_resolved'), 1)} |")
        first = vax.get("review_first_candidate")
        if first:
            print(f"\nReview items of register people ({row['set']}): {first['items']:,}; right "
                  f"person first candidate {_pct(first['right_first_share'])}, among the "
                  f"candidates {_pct(first['right_anywhere_share'])}, no candidate "
                  f"{first['without_candidates']:,}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="doubled,realistic",
                        help=f"comma-separated, from {', '.join(SETS)}")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--rescore", action="store_true",
                        help="score the last runs again (timings from their figures.json)")
    parser.add_argument("--contenders", default=",".join(CONTENDERS),
                        help="run only these; the others keep the figures of their last run")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, Python "
          f"{platform.python_version()}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    contenders = tuple(args.contenders.split(","))
    if unknown := set(contenders) - set(CONTENDERS):
        parser.error(f"unknown contenders {sorted(unknown)}; choose from {', '.join(CONTENDERS)}")
    rows = [run_set(name, args.data_dir, args.regenerate, args.rescore, contenders)
            for name in args.sets.split(",")]
    print_tables(rows)


if __name__ == "__main__":
    main()
