"""Telex and VNI keystrokes left in names are decoded, in Python and in the SQL path alike."""

from __future__ import annotations

import pyarrow as pa
import pytest

from vaxtrust.engine.duckdb import DuckDBEngine
from vaxtrust.pipeline.standardise import standardise_records_sql
from vaxtrust.vn import names
from vaxtrust.vn.keyboard import decode_word
from vaxtrust.vn.legacy import is_vietnamese_word

CASES = [
    # full Telex words
    ("Nguyeenx Thij Lan", "Nguyễn Thị Lan"),
    ("Tranaf Vawn Dduwcs", "Trần Văn Đức"),
    ("NGUYEENX VAWN HUNGF", "Nguyễn Văn Hùng"),
    ("Truowngf Thij Huyeenf", "Trường Thị Huyền"),
    ("Ddoox Thanh Hieeus", "Đỗ Thanh Hiếu"),
    ("Hoangf Minh Tuaans", "Hoàng Minh Tuấn"),
    # Telex with the tone key right after the vowel, and the horn typed after the word
    ("Nguyeexn Truongw", "Nguyễn Trương"),
    # full VNI words
    ("Nguye6n4 Thi5 Lan", "Nguyễn Thị Lan"),
    ("D9o64 Va8n Hu2ng", "Đỗ Văn Hùng"),
    ("Tru7o7ng2 Thi5 Thu3y", "Trường Thị Thủy"),
    ("Tran62 Va8n An", "Trần Văn An"),
    # partial forms: some words right, or the vowel mark applied and the tone key left over
    ("Nguyễn Thij Lan", "Nguyễn Thị Lan"),
    ("Nguyênx Văn Hùng", "Nguyễn Văn Hùng"),
    ("Nguyễn Thị Hoa2", "Nguyễn Thị Hòa"),
    ("Phạm Ngọc Anhs", "Phạm Ngọc Ánh"),
    ("Lê Văn Nhw", "Lê Văn Như"),
    # a name typed without diacritics is still Vietnamese: its one keyed word is decoded
    ("NGUYEN THI LEE", "Nguyen Thi Lê"),
]

# Foreign names whose letters happen to be keys: decoded, they would read Lê Seo Yeon, Martin
# Piể, Ưu Wen, Park Ji Hôn (every such word decodes to a syllable, but its neighbours are none).
FOREIGN = ["LEE SEO YEON", "Martin Pierre", "WU WEN", "Park Ji Hoon", "DUBOIS PIERRE"]


@pytest.mark.parametrize(("typed", "expected"), CASES)
def test_keyboard_residue_is_decoded(typed: str, expected: str) -> None:
    name = names.standardise(typed)
    assert name.canonical == expected
    assert "name_keyboard_residue" in name.flags
    assert "name_stray_chars_removed" not in name.flags


@pytest.mark.parametrize("typed", [
    "Nguyen Van An",         # no diacritics: a valid way to write the name, never touched
    "Nguyễn Thị Lan",
    "Thomas Müller",         # foreign words are not syllables after decoding either
    "John Smith",
    "Trần Văn 2",            # a lone digit is no VNI key
])
def test_names_without_residue_are_left_alone(typed: str) -> None:
    assert "name_keyboard_residue" not in names.standardise(typed).flags


@pytest.mark.parametrize("typed", FOREIGN)
def test_a_foreign_name_keeps_its_spelling(typed: str) -> None:
    name = names.standardise(typed)
    assert name.canonical == typed.title()
    assert "name_keyboard_residue" not in name.flags


def test_a_number_or_a_word_without_vowels_does_not_make_a_name_foreign() -> None:
    assert names.standardise("Nguyeenx Thij Lan 2").canonical == "Nguyễn Thị Lan"
    assert names.standardise("Tra62n Vn Bo6ng3").canonical == "Trần Vn Bổng"  # VNI, a vowel lost


def test_a_keyed_name_with_a_word_broken_by_a_typo_stays_as_typed() -> None:
    # The price of leaving foreign names alone: "hiy" could be a foreign word as well as "huy".
    assert names.standardise("Nguyeenx Hiy").canonical == "Nguyeenx Hiy"


def test_a_word_is_decoded_only_into_one_vietnamese_syllable() -> None:
    assert decode_word("nguyeenx") == "nguyễn"
    assert decode_word("tuyeets") == "tuyết"
    assert decode_word("nguyen") is None          # already a syllable
    assert decode_word("thomas") is None          # "thomá" is no syllable
    assert decode_word("a0") is None              # 0 is no VNI key


def test_sql_path_decodes_the_same_as_python(vn_engine: DuckDBEngine) -> None:
    typed = [t for t, _ in CASES] + FOREIGN + ["Nguyen Van An", "John Smith", "Trần Văn 2"]
    table = pa.table({
        "record_id": [f"R{i}" for i in range(len(typed))], "full_name": typed,
        **{c: [""] * len(typed) for c in (
            "dob", "gender", "id_number", "phone", "province", "district", "commune",
            "dose_number", "vaccine", "lot", "vaccinated_on", "facility_id", "source")},
        "row_number": [str(i) for i in range(len(typed))],
    })
    vn_engine.register("raw_records", table)
    rows = vn_engine.query(standardise_records_sql("raw_records")).to_pylist()
    got = {r["record_id"]: (r["name_canonical"], r["name_flags"]) for r in rows}
    for i, text in enumerate(typed):
        expected = names.standardise(text)
        assert got[f"R{i}"] == (expected.canonical, list(expected.flags)), text


def test_a_vietnamese_word_may_be_written_with_or_without_its_marks() -> None:
    assert is_vietnamese_word("nguyễn") and is_vietnamese_word("nguyen")
    assert is_vietnamese_word("duc") and is_vietnamese_word("đức")
    assert not is_vietnamese_word("pierre") and not is_vietnamese_word("yeon")
