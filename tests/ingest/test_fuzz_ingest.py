"""Fuzzing ingest: random bytes and random damage to a good CSV never give a traceback or lose a row.

Either the file is refused as a whole with an :class:`InputError`, or every data line that holds
anything ends in ``raw_records`` or ``rejects`` and the counts add up (rows in = accepted +
rejected).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.ingest.conftest import TODAY
from vaxtrust.engine import create_engine
from vaxtrust.errors import InputError
from vaxtrust.ingest.load import ingest

HEADER = b"record_id,full_name,dob,dose_number,vaccinated_on,phone"
GOOD_ROWS = [f"R{n},Nguyễn Văn {n},0{1 + n % 9}/02/1990,{1 + n % 3},15/07/2021,0912345{n:03d}"
             .encode() for n in range(12)]
DAMAGE = [b'"', b'""', b",", b"\n", b"\r", b"\r\n", b"\x00", b"\x1b", b"\xff", b"\xc3", b";",
          b"\t", b"=cmd|' /C calc'!A0", "Trần".encode(), b" ", b"\xef\xbb\xbf"]

_fuzz = settings(max_examples=int(os.environ.get("VAXTRUST_FUZZ_EXAMPLES", "40")), deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


def _content_lines(data: bytes) -> set[int]:
    """Data-row numbers of lines that hold more than delimiters, quotes and spaces."""
    lines = data.split(b"\n")[1:]
    if lines and lines[-1] == b"":
        lines = lines[:-1]
    return {number for number, line in enumerate(lines, start=1)
            if line.strip(b' ,"\r\t')}


def _ingest_accounts_for_every_row(path: Path, data: bytes) -> None:
    with create_engine("duckdb", threads=1, memory_limit="256MB") as engine:
        try:
            counts = ingest(engine, "records", [path], today=TODAY)
        except InputError as error:
            event(f"refused: {str(error).split(': ', 1)[-1][:40]}")
            return  # refused as a whole, with a message naming the file
        event("read")
        [count] = counts
        assert count.rows_in == count.accepted + count.rejected
        accepted = {r["row_number"] for r in engine.to_arrow("raw_records").to_pylist()}
        rejected = {r["row_number"] for r in engine.to_arrow("rejects").to_pylist()}
        assert len(rejected) == count.rejected
        assert len(accepted) + count.duplicates_collapsed == count.accepted
        assert not accepted & rejected
        if b"\r" not in data and b"\xef\xbb\xbf" not in data[3:]:  # lines as DuckDB counts them
            assert _content_lines(data) <= accepted | rejected | _collapsed(count, data)


def _collapsed(count: object, data: bytes) -> set[int]:
    """Exact duplicates collapse silently (counted): allow lines equal to an earlier line."""
    lines = data.split(b"\n")[1:]
    return {number for number, line in enumerate(lines, start=1) if line in lines[:number - 1]}


@_fuzz
@given(st.one_of(st.binary(max_size=400), st.binary(max_size=400).map(
    lambda tail: HEADER + b"\n" + tail)))
def test_random_bytes_never_give_a_traceback(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "random.csv"
    path.write_bytes(data)
    _ingest_accounts_for_every_row(path, data)


@_fuzz
@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(DAMAGE),
                          st.sampled_from(["insert", "replace", "delete"])),
                min_size=1, max_size=4),
       st.booleans())
def test_damaged_csv_is_refused_loudly_or_fully_accounted(
        tmp_path: Path, damages: list[tuple[int, bytes, str]], damage_header: bool) -> None:
    body = b"\n".join(GOOD_ROWS) + b"\n"
    for position, piece, how in damages:
        at = position % (len(body) + 1)
        if how == "insert":
            body = body[:at] + piece + body[at:]
        elif how == "replace":
            body = body[:at] + piece + body[at + len(piece):]
        else:
            body = body[:at] + body[at + len(piece):]
    header = HEADER
    if damage_header:
        position, piece, _ = damages[0]
        at = position % (len(header) + 1)
        header = header[:at] + piece + header[at:]
    data = header + b"\n" + body
    path = tmp_path / "damaged.csv"
    path.write_bytes(data)
    _ingest_accounts_for_every_row(path, data)


def test_fuzz_helpers_see_a_lost_row() -> None:
    """The accounting check itself: a line with content that is nowhere is noticed."""
    data = HEADER + b"\n" + b"\n".join(GOOD_ROWS[:3]) + b"\n"
    assert _content_lines(data) == {1, 2, 3}
    assert not _content_lines(HEADER + b'\n,,\n"",\n')
    assert dt.date(2021, 7, 15) <= TODAY
