"""Legacy encodings: the encoders, the decoders and the repair of damaged names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaxtrust.vn.legacy import (
    decode_tcvn3,
    decode_vni,
    encode_tcvn3,
    encode_vni,
    is_vietnamese_syllable,
    looks_damaged,
    repair,
)

NAMES = ["Nguyễn Thị Hương", "Trần Văn Đức", "Hoàng Ngọc Ánh", "Lê Bảo Quyên", "Phạm Khuyến",
         "Đặng Thị Thủy", "Vũ Ưng Ơn", "Ngô Ỷ Lan", "Bùi Thị Mỹ Dạ", "Huỳnh Tấn Phát",
         "Trương Mỹ Lệ", "Dương Quốc Việt", "Lý Thường Kiệt"]


@pytest.mark.parametrize(("damaged", "expected"), [
    ("Ninh B×nh", "Ninh Bình"),            # TCVN3 read as cp1252 (public converter examples)
    ("B¶o Th¾ng", "Bảo Thắng"),
    ("M\xadêng Kh\xad¬ng", "Mường Khương"),  # U+00AD (soft hyphen) is TCVN3 "ư"
    ("NguyÔn ThÞ H\xad¬ng", "Nguyễn Thị Hương"),
    ("Xin chaøo caùc baïn", "Xin chào các bạn"),  # VNI read as cp1252
    ("Nguyeãn Vaên Taâm", "Nguyễn Văn Tâm"),   # VNI damage made only of Vietnamese letters
    ("Nguyá»…n Thá»‹ HÆ°Æ¡ng", "Nguyễn Thị Hương"),  # UTF-8 read as cp1252
])
def test_repair_undoes_each_kind_of_damage(damaged: str, expected: str) -> None:
    result = repair(damaged)
    assert (result.text, result.status) == (expected, "repaired")


@pytest.mark.parametrize("name", NAMES)
def test_both_encoders_round_trip_through_cp1252(name: str) -> None:
    assert decode_vni(encode_vni(name).decode("cp1252")) == name
    assert decode_vni(encode_vni(name)) == name  # from the bytes themselves
    assert repair(encode_vni(name).decode("cp1252")).text == name
    # TCVN3/ABC cannot write a capital with a tone inside mixed-case text: only case is lost.
    assert decode_tcvn3(encode_tcvn3(name).decode("cp1252")).lower() == name.lower()
    assert repair(encode_tcvn3(name).decode("cp1252")).text.lower() == name.lower()


def test_tcvn3_capitals_with_tones_share_the_lower_case_code() -> None:
    assert encode_tcvn3("ĐẶNG") == b"\xa7\xc6NG"
    assert encode_tcvn3("Ễ") == encode_tcvn3("ễ")
    assert decode_tcvn3(encode_tcvn3("ĐẶNG THỊ THỦY")) == "ĐẶNG THỊ THỦY"


def test_encoders_replace_characters_outside_the_code_page() -> None:
    assert encode_tcvn3("A☃") == b"A?"
    assert encode_vni("Ω") == b"?"


@pytest.mark.parametrize("clean", ["Nguyễn Thị Hoà", "Hoá", "Nguyen Van A", "Y Bih Niê", ""])
def test_clean_text_is_left_alone(clean: str) -> None:
    assert not looks_damaged(clean) or repair(clean).status == "clean"
    assert repair(clean) == repair(clean)
    assert repair(clean).text == clean and repair(clean).status == "clean"


def test_eth_is_read_as_d_with_stroke() -> None:
    assert repair("Ðỗ Văn Ðức").text == "Đỗ Văn Đức"


@pytest.mark.parametrize("lost", ["Nguy?n V?n A", "Nguy\ufffdn", "Tr\ufffd\ufffdn Văn"])
def test_lost_letters_are_flagged_not_guessed(lost: str) -> None:
    result = repair(lost)
    assert result.status == "unrepairable"
    assert result.text == lost


def test_syllable_check_knows_vietnamese() -> None:
    assert all(is_vietnamese_syllable(w) for w in "Nguyễn Thị Hương khuỷu ngoẹo giường".split())
    assert not any(is_vietnamese_syllable(w) for w in ["Nguyeãn", "Bih", "Vaên", "xyzzy"])


@given(st.text())
def test_repair_and_decoders_never_raise(text: str) -> None:
    result = repair(text)
    assert result.status in ("clean", "repaired", "unrepairable")
    decode_vni(text)
    decode_tcvn3(text.encode("utf-8", errors="replace"))


@given(st.text(alphabet="aăâeêioôơuưyđbcdghklmnpqrstvxàáảãạầấẩẫậềếểễệờớởỡợừứửữựỳýỷỹỵ ",
               max_size=30))
def test_vni_round_trips_any_lower_case_vietnamese(text: str) -> None:
    assert decode_vni(encode_vni(text)) == text
    assert decode_tcvn3(encode_tcvn3(text)) == text
