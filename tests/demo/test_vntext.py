"""The text damage functions of the error model, one string at a time."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest

from vaxtrust.demo import vntext
from vaxtrust.demo.errors import _scientific, _tcvn3_mojibake, _utf8_mojibake, _vni_mojibake
from vaxtrust.vn.legacy import decode_tcvn3, decode_utf8_read_as_cp1252, decode_vni


@pytest.mark.parametrize(("old", "new"), [
    ("Hòa", "Hoà"), ("Thủy", "Thuỷ"), ("Khỏe", "Khoẻ"), ("Nguyễn Thị Thúy", "Nguyễn Thị Thuý"),
    ("Đoàn Văn Hoàng", "Đoàn Văn Hoàng"), ("Quý", "Quý"), ("Lê Văn Hòa", "Lê Văn Hoà"),
])
def test_tone_styles(old: str, new: str) -> None:
    assert vntext.to_tone_style(old, "new") == new
    assert vntext.to_tone_style(new, "old") == old
    assert vntext.has_style_sensitive_syllable(old) == (old != new)
    if old != new:
        assert vntext.flip_tone_style(old) == new and vntext.flip_tone_style(new) == old
        assert unicodedata.normalize("NFC", old) != unicodedata.normalize("NFC", new)


def test_diacritics_and_lookalikes() -> None:
    assert vntext.strip_diacritics("Đặng Thị Thuỷ") == "Dang Thi Thuy"
    assert vntext.eth_lookalike("Đỗ Đức") == "\u00d0ỗ \u00d0ức"
    assert vntext.nfd("Nguyễn") != "Nguyễn" and unicodedata.normalize("NFC", vntext.nfd("Nguyễn")) == "Nguyễn"


def test_name_structure_changes() -> None:
    assert vntext.drop_middle("Nguyễn Thị Minh Khai") == "Nguyễn Khai"
    assert vntext.drop_middle("Lê Lợi") == "Lê Lợi"
    assert vntext.swap_order("Nguyễn Bảo Duy") == "Bảo Duy Nguyễn"
    assert vntext.surname_variant("Hoàng Văn Nam") == "Huỳnh Văn Nam"
    assert vntext.surname_variant("Võ Thị Sáu") == "Vũ Thị Sáu"


def test_typos_and_misplaced_tones_change_the_name_a_little() -> None:
    rng = np.random.default_rng(1)
    for name in ("Nguyễn Văn Hùng", "Trần Thị Bảo Ngọc", "Lê An"):
        for _ in range(30):
            typo = vntext.typo(name, rng)
            assert typo != name and abs(len(typo) - len(name)) <= 2
    misplaced = vntext.misplace_tone("Phạm Bảo", rng)
    assert misplaced != "Phạm Bảo" and vntext.strip_diacritics(misplaced) == "Pham Bao"


def test_mojibake_is_what_legacy_software_shows() -> None:
    name = "Nguyễn Thị Thủy"
    assert decode_tcvn3(_tcvn3_mojibake(name)) == name
    assert decode_vni(_vni_mojibake(name)) == name
    assert _utf8_mojibake(name).startswith("Nguy") and decode_utf8_read_as_cp1252(_utf8_mojibake(name)) == name


def test_excel_scientific_notation() -> None:
    assert _scientific("079084000999") == "7.9084E+10"
    assert _scientific("001090590389") == "1.09059E+09"
    assert _scientific("100000000000") == "1E+11"
