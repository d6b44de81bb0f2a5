"""Draw docs/screenshots/report-progress-page1.png: the first page of a progress report PDF made
from a small generated store with a week of daily snapshots (synthetic people only).

    uv run python scripts/report_picture.py
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reports.generated import populate  # noqa: E402
from tests.store.conftest import _prepare  # noqa: E402

from vaxtrust.app import reports  # noqa: E402
from vaxtrust.store.db import Store, make_engine, upgrade  # noqa: E402
from vaxtrust.store.scope import load_actor  # noqa: E402

PROVINCES = ["01", "79", "48", "31", "92", "26", "27", "38", "40", "46", "75", "89"]
FACILITIES: list[tuple[str, str, tuple[str, ...]]] = [
    (f"TYT-{code}-{n}", code, ("",)) for code in PROVINCES for n in (1, 2)]
FIRST = dt.date(2022, 4, 22)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/store.db"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        _prepare(url, Path(folder) / "run1")
        store = Store.open(url)
        populate(store, records=3000, facilities=FACILITIES)
        with store.transaction() as session:
            ministry = load_actor(session, "minh")
        rng = random.Random(5)
        day = FIRST
        for _ in range(8):
            with store.engine.begin() as connection:
                # A day's work: some records verified, some signed, at a pace that differs by
                # province so the ranking shows something.
                for code in PROVINCES:
                    share = 0.05 + 0.25 * rng.random()
                    connection.execute(text(
                        "UPDATE vaccination_record SET status = 'verified' WHERE province_code = "
                        ":p AND status IN ('review', 'unmatched') AND abs(random()) % 1000 < :s"),
                        {"p": code, "s": int(share * 1000)})
                connection.execute(text(
                    "UPDATE certificate SET issued_at = :at WHERE issued_at > :at"),
                    {"at": f"{day.isoformat()}T03:00:00.000000Z"})
            reports.take_snapshot(store, ministry, day=day, today=day)
            day += dt.timedelta(days=1)
        last = day - dt.timedelta(days=1)
        report = reports.progress(store, ministry, day=last, today=last)
        pdf = reports.write_progress(report, Path(folder) / "report.pdf", "pdf")
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(Path(folder) / "page1")], check=True)
        target = ROOT / "docs" / "screenshots" / "report-progress-page1.png"
        shutil.copy(Path(folder) / "page1.png", target)
        print(f"wrote {target}")
        store.close()


if __name__ == "__main__":
    main()
