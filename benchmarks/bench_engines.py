"""Time and memory of `vaxtrust clean` on DuckDB and on Spark (local mode), stage by stage.

Usage:
    flock /tmp/vaxtrust-bench.lock python benchmarks/bench_engines.py --data /tmp/bench1m \
        [--engines duckdb spark] [--threads 2]

``--data`` is a folder made by ``vaxtrust generate`` (records.csv, register.parquet). Each engine
runs as its own `vaxtrust clean` process; peak memory is the largest resident size of that
process and all its children (Spark's JVM and Python workers included), sampled every 0.2 s.
Stage times come from the run's summary.json. Prints one table; nothing is written elsewhere.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _tree_rss_bytes(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        pid, parent = int(fields["Pid"]), int(fields["PPid"])
        children.setdefault(parent, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_engine(engine: str, data: Path, threads: int) -> dict[str, object]:
    out = Path(tempfile.mkdtemp(prefix=f"bench-{engine}-")) / "run"
    command = [
        sys.executable, "-m", "vaxtrust", "clean", "--records", str(data / "records.csv"),
        "--register", str(data / "register.parquet"), "--out", str(out),
        "--engine", engine, "--threads", str(threads),
    ]
    peak = 0
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_bytes(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{engine} failed: {stderr.decode(errors='replace')[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())
    shutil.rmtree(out.parent, ignore_errors=True)
    return {"engine": engine, "wall_s": round(wall, 1), "peak_rss_gib": round(peak / 2**30, 2),
            "stages": summary.get("stage_seconds") or {}, "records": summary.get("records", {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    rows = [run_engine(engine, args.data, args.threads) for engine in args.engines]
    stage_names = sorted({name for row in rows for name in row["stages"]})  # type: ignore[attr-defined]
    print(f"data: {args.data}  threads: {args.threads}")
    print(f"{'engine':8} {'wall s':>8} {'peak GiB':>9}  " + "  ".join(f"{s:>12}" for s in stage_names))
    for row in rows:
        stages = row["stages"]
        print(f"{row['engine']:8} {row['wall_s']:>8} {row['peak_rss_gib']:>9}  " + "  ".join(
            f"{stages.get(s, '-'):>12}" for s in stage_names))  # type: ignore[attr-defined]
    print(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
