"""Issue 15: the rules of a complaint without a store: standardisation and its Vietnamese
messages, the 13 refusal grounds, deadlines (48 hours; working days with Viet Nam's holidays),
state changes, attachments checked by content."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from PIL import Image

from vaxtrust.complaints import grounds
from vaxtrust.complaints.attachments import FolderStore, prepare
from vaxtrust.complaints.deadlines import DeadlineRule
from vaxtrust.complaints.model import check_transition
from vaxtrust.complaints.standardise import MESSAGES, ComplaintInput, standardise
from vaxtrust.errors import ConfigError, InputError, NotFound
from vaxtrust.vn import names

TODAY = dt.date(2026, 12, 1)
GOOD = {"full_name": "  nguyễn  văn AN ", "dob": "3/2/1990", "phone": "0162 345 6789",
        "id_number": "1090000001", "category": "Sai thông tin cá nhân", "gender": "nam",
        "vaccine": "Astra", "dose_number": "Mũi 2", "vaccinated_on": "2021-09-01",
        "province": "TP. Hồ Chí Minh"}


def test_every_field_is_standardised_on_the_way_in() -> None:
    parsed = standardise(GOOD, today=TODAY)
    assert isinstance(parsed, ComplaintInput)
    assert (parsed.full_name, parsed.dob, parsed.phone, parsed.id_number) == (
        "Nguyễn Văn An", "1990-02-03", "0323456789", "001090000001")
    assert (parsed.category, parsed.gender, parsed.vaccine, parsed.dose_number,
            parsed.province_code) == ("wrong_personal_info", "M", "astrazeneca", 2, "79")


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("phone", "+33 6 12 34 56 78", "phone_not_vietnamese"),
    ("phone", "12345", "phone_not_vietnamese"),
    ("id_number", "ABC", "id_unparseable"),
    ("id_number", "12345", "id_unparseable"),
    ("vaccinated_on", "01/12/2027", "vaccinated_on_in_future"),
    ("vaccinated_on", "02/12/2026", "vaccinated_on_in_future"),
    ("vaccinated_on", "01/01/2020", "vaccinated_on_before_campaign"),
    ("dob", "1990", "dob_incomplete"),
    ("category", "khác", "category_unknown"),
    ("full_name", "", "missing_value"),
    ("full_name", "An\x00", "control_character"),
    ("full_name", "Nguy\x85n An", "control_character"),   # a control that is no letter's part
    ("phone", "0912\x85345678", "control_character"),      # never silently made a space
])
def test_bad_input_gets_a_clear_vietnamese_message(field: str, value: str, reason: str) -> None:
    problems = standardise({**GOOD, field: value}, today=TODAY)
    assert isinstance(problems, list)
    assert [(p.field, p.reason) for p in problems] == [(field, reason)]
    vietnamese = problems[0].message
    assert vietnamese == MESSAGES[reason][0] and vietnamese != MESSAGES[reason][1]


def mojibake(name: str) -> str:
    """``name`` as a portal shows it after reading its UTF-8 bytes as Latin-1 (C1 controls)."""
    return name.encode("utf-8").decode("latin-1")


def test_a_name_read_in_the_wrong_encoding_is_repaired_as_the_cleaning_repairs_it() -> None:
    damaged = mojibake("Nguyễn Văn Đức")
    assert "\x85" in damaged and "\x90" in damaged and damaged.endswith("\x90á»©c")
    parsed = standardise({**GOOD, "full_name": f" {damaged} "}, today=TODAY)
    assert isinstance(parsed, ComplaintInput), parsed
    assert parsed.full_name == "Nguyễn Văn Đức"
    assert "name_mojibake_repaired" in names.standardise(damaged).flags   # the cleaning's rule


def test_the_13_grounds_have_stable_codes_and_both_languages() -> None:
    assert [g.number for g in grounds.GROUNDS] == list(range(1, 14))
    assert len(grounds.BY_CODE) == 13
    assert grounds.ground("8").code == grounds.ground("photo_unreadable").code
    assert all(g.vi and g.en and g.vi != g.en for g in grounds.GROUNDS)
    for unknown in ("14", "0", "²", "9" * 4000, "photo"):   # never a failure on bad input
        with pytest.raises(ConfigError, match="13 grounds"):
            grounds.ground(unknown)


def test_the_deadline_is_48_hours_round_the_clock_by_default() -> None:
    received = dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC)   # Friday 22:00 in Ha Noi
    assert DeadlineRule().deadline(received) == received + dt.timedelta(hours=48)


def test_the_working_day_calendar_skips_weekends_and_tet() -> None:
    friday = dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.UTC)      # Friday 10:00 in Ha Noi
    # 14 h left of Friday, Saturday and Sunday skipped, 24 h Monday, 10 h Tuesday.
    assert DeadlineRule(working_days=True).deadline(friday) == \
        dt.datetime(2026, 12, 8, 3, 0, tzinfo=dt.UTC)
    before_tet = dt.datetime(2026, 2, 13, 3, 0, tzinfo=dt.UTC)  # the Friday before Tết 2026
    deadline = DeadlineRule(working_days=True).deadline(before_tet)
    assert deadline.date() > dt.date(2026, 2, 21)               # Tết holidays do not count


def test_final_states_stay_final() -> None:
    check_transition("received", "assigned", 1)
    check_transition("escalated", "resolved", 1)
    for final in ("resolved", "refused"):
        with pytest.raises(ConfigError, match="already"):
            check_transition(final, "assigned", 1)


def _png_with_text() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "21.0285,105.8542")
    out = io.BytesIO()
    Image.new("RGB", (20, 10), "red").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def test_images_are_re_encoded_without_metadata_and_stored_by_hash(tmp_path: Path) -> None:
    original = _png_with_text()
    prepared = prepare(original, max_bytes=100_000)
    assert prepared.content_type == "image/png" and b"21.0285" not in prepared.data
    files = FolderStore(tmp_path)
    files.put(prepared)
    files.put(prepared)
    assert files.get(prepared.sha256) == prepared.data
    assert (tmp_path / prepared.sha256[:2] / prepared.sha256).stat().st_mode & 0o077 == 0
    with pytest.raises(NotFound):
        files.get("../../etc/passwd")


@pytest.mark.parametrize("data", [b"GIF89a....", b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                                  b"%PDF-1.7", b"\x89PNG\r\n\x1a\n broken"])
def test_anything_but_a_real_image_is_refused_by_content(data: bytes) -> None:
    with pytest.raises(InputError, match="không phải là ảnh"):
        prepare(data, max_bytes=100_000)


def test_a_large_upload_is_refused_before_it_is_opened() -> None:
    with pytest.raises(InputError, match="quá lớn"):
        prepare(_png_with_text(), max_bytes=10)


def test_an_import_standardised_over_the_cores_keeps_every_row_in_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker turns its own slice of the Arrow table into rows and names its rejects."""
    from functools import partial

    import pyarrow as pa

    from vaxtrust.complaints import parallel
    from vaxtrust.complaints.importer import RejectRow, _standardise_slice

    rows = [{"row_number": n, **GOOD, "phone": phone}
            for n, phone in enumerate(("0912345678", "12", "0987654321") * 5, start=2)]
    table = pa.Table.from_pylist(rows)
    alone = _standardise_slice("f.csv", TODAY, table)
    monkeypatch.setattr(parallel, "MIN_ITEMS", 2)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    assert parallel.map_slices(partial(_standardise_slice, "f.csv", TODAY), table) == alone
    assert [number for number, _ in alone] == list(range(2, 17))
    assert [isinstance(r, ComplaintInput) for _, r in alone[:3]] == [True, False, True]
    assert alone[1][1] == [RejectRow("f.csv", 3, None, "phone", "12", "phone_not_vietnamese")]


def test_the_garbage_collector_paused_for_a_bulk_step_is_restored_after() -> None:
    import gc

    from vaxtrust.complaints import parallel

    assert gc.isenabled()
    with pytest.raises(KeyError), parallel.paused_gc():
        assert not gc.isenabled()
        raise KeyError("the step failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with parallel.paused_gc():
            pass
        assert not gc.isenabled()   # left as the caller had it
    finally:
        gc.enable()
