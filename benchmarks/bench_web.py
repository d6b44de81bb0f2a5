"""Loopback load on ``vaxtrust serve`` over a store of 1 M records on PostgreSQL (issue 14).

Targets on 2 cores: citizen look-up p95 <= 100 ms at 50 concurrent clients, verifier throughput
>= 500 requests/s, review-queue page p95 <= 150 ms.

1. Builds the store once (kept for later runs with ``--reuse``): ``bench_publish.py``'s synthetic
   run (1 M records, 500 k register persons, 80 k review items) published into the database
   ``vaxtrust_web_bench`` through the ordinary publish path (55-115 s at 1 M); keys, a trust
   list and a certificate for the verifier; an audit key file. Everything lives in ``--data``.
2. Starts ``vaxtrust serve --workers N --no-access-log`` on a free loopback port.
3. Drives it from a second process, ``wrk`` (Debian's; Lua scripts written here), one phase
   after the other: citizen look-ups (three in four of people in the register with the right
   details, one in four unknown; then each kind apart with ``--officers`` clients, to compare
   their timing), a citizen's record page (API), verifier checks of ``HC1:`` text, and the review
   queue page as the ministry (first page, and pages 1-100).

Run it under the heavy lock:

    flock /tmp/vaxtrust-heavy.lock uv run python benchmarks/bench_web.py --records 1000000
    uv run python benchmarks/bench_web.py --reuse            # the store built before
    uv run python benchmarks/bench_web.py --drop             # drop the database and stop
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url, text

sys.path.insert(0, str(Path(__file__).parent))
from bench_publish import generate_run  # noqa: E402
from vaxtrust.store.db import Store  # noqa: E402
from vaxtrust.store.publish import RunFolder, publish_run  # noqa: E402
from vaxtrust.store.scope import load_actor  # noqa: E402
from vaxtrust.store.users import add_user  # noqa: E402
from vaxtrust.web.sessions import create_session  # noqa: E402

# The server's address; BENCH_WEB_PG may name another (e.g. the Unix socket,
# postgresql+psycopg://postgres@/postgres?host=/var/run/postgresql).
ADMIN_URL = os.environ.get("BENCH_WEB_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DATABASE = "vaxtrust_web_bench"
DATA = Path("/work/bench-data/web")
MINISTRY = "bench-ministry"
PASSPHRASE = "bench only, never for real keys"
PERSONS_PER_RECORD = 2      # bench_publish: person p has records 2p and 2p+1
PHONE = "0912345678"        # bench_publish: every record's phone

WRK_REPORT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, ' ..
    '"p95_ms": %.2f, "p99_ms": %.2f, "non2xx": %d, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def lua_cycle(requests: list[tuple[str, str, dict[str, str], str | None]],
              think_ms: int = 0) -> str:
    """A wrk script that sends ``requests`` (method, path, headers, body) round and round; each
    client waits 0.5-1.5 x ``think_ms`` after an answer before its next request (0: a closed
    loop, which measures the most the server does: latency is then the queue in front of it)."""
    def quote(value: str) -> str:
        return json.dumps(value)    # a JSON string is a valid Lua string literal here

    rows = []
    for method, path, headers, body in requests:
        header_text = ", ".join(f"[{quote(k)}] = {quote(v)}" for k, v in headers.items())
        rows.append(f"  {{{quote(method)}, {quote(path)}, {{{header_text}}}, "
                    f"{quote(body) if body is not None else 'nil'}}},")
    return ("local requests = {\n" + "\n".join(rows) + "\n}\nlocal i = 0\n"
            "request = function()\n  i = i % #requests + 1\n  local r = requests[i]\n"
            "  return wrk.format(r[1], r[2], r[3], r[4])\nend\n"
            # uniform around think_ms: a fixed pause would keep the clients in step (bursts)
            + (f"delay = function()\n  return math.random({think_ms // 2}, {think_ms * 3 // 2})"
               "\nend\n" if think_ms else "")
            + WRK_REPORT)


@dataclass(frozen=True)
class Built:
    url: str
    key_file: Path
    trust_list: Path
    csca: Path
    journal: Path
    qr_text: str


def database_url(name: str) -> str:
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def admin(sql: str) -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


def database_exists(name: str) -> bool:
    engine = create_engine(ADMIN_URL)
    with engine.connect() as connection:
        found = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                   {"n": name}).first()
    engine.dispose()
    return found is not None


def audit_key_file(data: Path) -> Path:
    path = data / "audit.key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path


def build_store(records: int, data: Path, key_file: Path) -> str:
    url = database_url(DATABASE)
    admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{DATABASE}"')
    with tempfile.TemporaryDirectory(prefix="bench-web-", dir=data) as tmp:
        started = time.perf_counter()
        run_dir = generate_run(Path(tmp), records)
        print(f"generated {records:,} records in {time.perf_counter() - started:.1f} s")
        store = Store.open(url, audit_key_file=key_file)
        with store.transaction() as session:
            add_user(session, by=None, username=MINISTRY, role="ministry")
        started = time.perf_counter()
        with store.transaction() as session:
            report = publish_run(session, load_actor(session, MINISTRY), RunFolder.open(run_dir))
        print(f"published in {time.perf_counter() - started:.1f} s: {report}")
        store.close()
    # What autovacuum does within a minute or two of a large publish: planner statistics (stale
    # ones made the queue's first page sort all 80 k items) and the visibility map.
    started = time.perf_counter()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(f"vacuum analyze in {time.perf_counter() - started:.1f} s")
    return url


def make_keys(data: Path) -> tuple[Path, Path, Path, str]:
    """A key store, its trust list, an issuance journal and one valid certificate's QR text."""
    from vaxtrust.passport.issue import issue_certificate
    from vaxtrust.passport.keystore import KeyStore
    from vaxtrust.passport.payload import Dose, Holder
    from vaxtrust.passport.pki import Passphrase
    from vaxtrust.passport.trustlist import export_trust_list
    from vaxtrust.signing.journal import IssuanceJournal

    folder = data / "keys"
    shutil.rmtree(folder, ignore_errors=True)
    now = datetime.now(UTC)
    secret = Passphrase.of(PASSPHRASE)
    keys = KeyStore.create(folder / "store", country="VN", common_name="VN CSCA bench",
                           passphrase=secret, now=now - timedelta(days=1))
    keys.new_signer("national", csca_passphrase=secret, key_passphrase=secret,
                    now=now - timedelta(days=1))
    signer = keys.load_signer("national", now=now, passphrase=secret)
    doses = [Dose(date(2021, 9, 1), "EU/1/20/1528"), Dose(date(2021, 10, 6), "EU/1/20/1528")]
    issued = issue_certificate(Holder("Nguyễn Văn An", "1990-02-03"), doses, signer, now=now)
    journal = folder / "issued" / "issuance.sqlite"
    with IssuanceJournal(journal) as book:
        book.begin()
        book.record_issued(person_id="001000000000", fingerprint="bench", signer="national",
                           issued=issued, now=now)
        book.commit()
    trust_list = folder / "trust-list.json"
    export_trust_list(keys, trust_list, now=now, csca_passphrase=secret)
    return trust_list, keys.directory / "csca" / "csca.pem", journal, issued.qr_text


def person(p: int) -> tuple[str, str]:
    return f"001{p:09d}", (date(1950, 1, 1) + timedelta(days=p % 20000)).isoformat()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(built: Built, workers: int, port: int, data: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VAXTRUST__STORE__AUDIT_KEY_FILE": str(built.key_file),
           "VAXTRUST__WEB__LOOKUPS_PER_ADDRESS": "1000000000",   # one client address here
           "VAXTRUST__WEB__LOOKUPS_PER_ID": "1000000"}
    log = (data / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "vaxtrust", "serve", "--db", built.url, "--port", str(port),
         "--workers", str(workers), "--trust-list", str(built.trust_list),
         "--csca", str(built.csca), "--journal", str(built.journal),
         "--code-sender", f"file:{data / 'codes.txt'}", "--no-access-log"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"the server did not start; see {data / 'server.log'}")


def wrk(name: str, script: str, url: str, *, connections: int, seconds: int,
        data: Path) -> dict[str, float]:
    path = data / f"{name}.lua"
    path.write_text(script)
    answer = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(path),
         url], capture_output=True, text=True, check=True)
    line = next(line for line in answer.stdout.splitlines() if line.startswith("RESULT "))
    result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
    result["per_second"] = result["requests"] / result["seconds"]
    return result


def phases(built: Built, store: Store, persons: int, think_ms: int) -> dict[str, str]:
    """The Lua script of each phase."""
    json_headers = {"Content-Type": "application/json"}
    lookups, known, unknown = [], [], []
    for n in range(4000):
        p = (n * 7919) % persons
        id_number, dob = person(p)
        if n % 4 == 3:
            id_number = f"079{p:09d}"           # nobody: the same answer shape
        body = json.dumps({"id_number": id_number, "dob": dob, "phone": PHONE})
        lookups.append(("POST", "/api/v1/citizen/lookup", json_headers, body))
        (unknown if n % 4 == 3 else known).append(lookups[-1])
    records = []
    for n in range(200):
        token = create_session(store, minutes=600, person_id=person((n * 104729) % persons)[0])
        records.append(("GET", "/api/v1/citizen/record",
                        {"Authorization": f"Bearer {token.token}"}, None))
    verify = [("POST", "/api/v1/verify", json_headers, json.dumps({"text": built.qr_text}))]
    officer = create_session(store, minutes=600, username=MINISTRY).token
    cookie = {"Cookie": f"vt_session={officer}; vt_lang=vi"}
    first_page = [("GET", "/officer/review", cookie, None)]
    pages = [("GET", f"/officer/review?page_number={(n * 37) % 100 + 1}", cookie, None)
             for n in range(100)]
    return {"citizen-lookup": lua_cycle(lookups, think_ms),
            # the same look-ups apart: people in the register versus nobody (similar timing)
            "lookup-registered": lua_cycle(known, think_ms),
            "lookup-nobody": lua_cycle(unknown, think_ms),
            "citizen-record": lua_cycle(records, think_ms), "verify": lua_cycle(verify),
            "review-page-1": lua_cycle(first_page, think_ms),
            "review-pages-1-100": lua_cycle(pages, think_ms)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--reuse", action="store_true", help="use the store built before")
    parser.add_argument("--drop", action="store_true", help="drop the database and stop")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--officers", type=int, default=10,
                        help="concurrent clients of the review-queue phases")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--only", nargs="*", help="run only these phases")
    parser.add_argument("--think-ms", type=int, default=0,
                        help="each client waits this long between requests (0: closed loop; "
                        "the verifier phase always runs closed, for throughput)")
    args = parser.parse_args()
    if args.drop:
        admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        return
    data: Path = args.data
    data.mkdir(parents=True, exist_ok=True)
    key_file = audit_key_file(data)
    if args.reuse and database_exists(DATABASE):
        url = database_url(DATABASE)
    else:
        url = build_store(args.records, data, key_file)
    trust_list, csca, journal, qr_text = make_keys(data)
    built = Built(url, key_file, trust_list, csca, journal, qr_text)
    store = Store.open(url, audit_key_file=key_file)
    with store.engine.connect() as connection:
        records = connection.execute(text("SELECT count(*) FROM vaccination_record")).scalar_one()
        items = connection.execute(text("SELECT count(*) FROM review_item")).scalar_one()
        persons = connection.execute(text("SELECT count(*) FROM person")).scalar_one()
    print(f"think time {args.think_ms} ms; store: {records:,} records, {persons:,} persons, {items:,} review items "
          f"(PostgreSQL, {DATABASE})")
    scripts = phases(built, store, persons - 1, args.think_ms)
    store.close()
    port = free_port()
    server = start_server(built, args.workers, port, data)
    try:
        base = f"http://127.0.0.1:{port}"
        for name, script in scripts.items():
            if args.only and name not in args.only:
                continue
            clients = args.officers if name.startswith(("review", "lookup-")) else \
                args.connections
            wrk(name + "-warm", script, base, connections=clients, seconds=3, data=data)
            load = os.getloadavg()[0]
            result = wrk(name, script, base, connections=clients, seconds=args.seconds,
                         data=data)
            print(f"{name:<20} clients {clients:>3}  {result['per_second']:8.1f} req/s  "
                  f"p50 {result['p50_ms']:7.1f} ms  p95 {result['p95_ms']:7.1f} ms  "
                  f"p99 {result['p99_ms']:7.1f} ms  non-2xx {int(result['non2xx'])}  "
                  f"errors {int(result['errors'])}  (load before {load:.1f})", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
