"""Names: canonical form, fold key, parts, ICAO form and the Vietnamese-aware comparison."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaxtrust.vn.legacy import encode_tcvn3, encode_vni, looks_damaged
from vaxtrust.vn.names import (
    IcaoName,
    NameParts,
    _is_settled,
    _standardise_once,
    canonical,
    compare,
    fold,
    icao,
    jaro_winkler,
    split,
    split_words,
    standardise,
)


@pytest.mark.parametrize(("typed", "stored"), [
    ("Nguyễn Thị Hòa", "Nguyễn Thị Hòa"),
    ("  NGUYỄN  thị   hoà ", "Nguyễn Thị Hòa"),          # case, spaces, new tone style
    ("Đặng Thị Thuỷ", "Đặng Thị Thủy"),
    ("Lê Văn Khoẻ", "Lê Văn Khỏe"),
    ("Hoàng Văn Toán", "Hoàng Văn Toán"),                 # closed syllable: on the last vowel
    ("Hoàng Văn Tóan", "Hoàng Văn Toán"),
    ("Trần Hùynh", "Trần Huỳnh"),
    ("Võ Thị Ngoại", "Võ Thị Ngoại"),                     # three vowels: the middle one
    ("Lý Quý Gìn", "Lý Quý Gìn"),                         # qu and gi onsets
    ("Nguyễn Thị Giàu", "Nguyễn Thị Giàu"),
    ("Phạm Hướng", "Phạm Hướng"),                         # ươ: on ơ
    ("Ðỗ Minh Ðức", "Đỗ Minh Đức"),                       # Ð (U+00D0) read as Đ
    ("Nguyễn Văn A.", "Nguyễn Văn A"),                    # stray characters removed
    ("Lê-Thị-Lan 2", "Lê Thị Lan"),
    ("Nguye\u0302\u0303n Thi\u0323", "Nguyễn Thị"),       # decomposed Unicode
    ("NguyÔn V¨n Hïng", "Nguyễn Văn Hùng"),               # TCVN3 damage repaired
])
def test_canonical_stores_one_form(typed: str, stored: str) -> None:
    assert canonical(typed) == stored


@pytest.mark.parametrize("empty", [None, "", "   ", "123", "...", 42])
def test_names_without_letters_are_missing(empty: object) -> None:
    result = standardise(empty)  # type: ignore[arg-type]
    assert result.canonical is None and result.fold is None
    assert "name_missing" in result.flags


def test_flags_say_what_was_done() -> None:
    assert standardise("Nguyễn Thị Hoà").flags == ("name_tone_style",)
    assert standardise("NguyÔn ThÞ Lan").flags == ("name_mojibake_repaired",)
    assert standardise("Nguy?n V?n A").flags == ("name_unrepairable", "name_stray_chars_removed")
    assert standardise("Nguyễn Vắn A1").flags == ("name_stray_chars_removed",)
    assert standardise("Nguyễn Thị Hòa").flags == ()


@pytest.mark.parametrize(("typed", "key"), [
    ("Đặng Thị Thuỷ", "DANG THI THUY"),
    ("nguyen   van an", "NGUYEN VAN AN"),
    ("Hương", "HUONG"),
    ("Hướng", "HUONG"),
])
def test_fold_is_the_comparison_key(typed: str, key: str) -> None:
    assert fold(typed) == key


def test_split_knows_compound_surnames() -> None:
    assert split("nguyen thi minh khai") == NameParts("Nguyen", "Thi Minh", "Khai")
    assert split("Tôn Thất Thuyết") == NameParts("Tôn Thất", "", "Thuyết")
    assert split("Âu Dương Phong") == NameParts("Âu Dương", "", "Phong")
    assert split("Lan") == NameParts("", "", "Lan")
    assert split(None) == NameParts("", "", "")


def test_icao_matches_the_vietnamese_test_certificate() -> None:
    # Viet Nam's EU DCC test QR: fn "Nguyễn", gn "Bảo Duy", fnt "NGUYEN", gnt "BAO<DUY".
    assert icao("Nguyễn Bảo Duy") == IcaoName("NGUYEN", "BAO<DUY")
    assert icao("Nguyễn Thị Thủy") == IcaoName("NGUYEN", "THI<THUY")
    assert icao("Đỗ Đức") == IcaoName("DO", "DUC")


@pytest.mark.parametrize(("a", "b", "verdict"), [
    ("Nguyễn Thị Hoà", "Nguyễn Thị Hòa", "equal"),
    ("Nguyễn Thị Hòa", "NGUYEN THI HOA", "no_diacritics"),
    ("Hoàng Văn An", "Huỳnh Văn An", "regional_variant"),
    ("Vũ Thị Lan", "Võ Thị Lan", "regional_variant"),
    ("Nguyễn Thị Hương", "Nguyễn Hương", "middle_dropped"),
    ("Nguyễn Văn Nam", "Văn Nam Nguyễn", "order_swapped"),
    ("Nguyễn Thị Hương", "Nguyễn Thị Hướng", "diacritics_differ"),
    ("Nguyễn Văn Nam", "Trần Thị Bưởi", "different"),
    ("Nguyễn Văn Nam", None, "missing"),
])
def test_compare_gives_the_verdict_a_reader_would(a: str, b: str | None, verdict: str) -> None:
    assert compare(a, b).verdict == verdict


def test_compare_scores_are_ordered() -> None:
    scores = [compare(a, b).score for a, b in [
        ("Nguyễn Thị Hoà", "Nguyễn Thị Hòa"), ("Nguyễn Thị Hòa", "Nguyen Thi Hoa"),
        ("Hoàng Văn An", "Huỳnh Văn An"), ("Nguyễn Thị Hương", "Nguyễn Hương"),
        ("Nguyễn Thị Hương", "Nguyễn Thị Hướng"),
    ]]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 5
    assert compare("Nguyễn Thị Hoà", "Nguyễn Thị Hòa").reasons == ("name_tone_style",)
    assert compare("Hương", "Hướng").score < compare("Hoàng", "Huỳnh").score


@pytest.mark.parametrize(("a", "b", "similarity"), [
    ("MARTHA", "MARHTA", 0.9611), ("DWAYNE", "DUANE", 0.84), ("DIXON", "DICKSONX", 0.8133),
    ("NGUYEN VAN AN", "NGUYEN VAN AN", 1.0), ("", "", 1.0), ("AN", "", 0.0), ("ABC", "XYZ", 0.0),
])
def test_jaro_winkler_gives_the_textbook_values(a: str, b: str, similarity: float) -> None:
    assert jaro_winkler(a, b) == pytest.approx(similarity, abs=1e-4)


def test_jaro_winkler_agrees_with_duckdb() -> None:
    import random

    import pyarrow as pa

    from vaxtrust.engine import small_job_engine

    rng = random.Random(7)
    words = ["NGUYEN", "VAN", "THI", "HOANG", "HUYNH", "AN", "HUONG", "LE", "TRAN", "MINH"]
    pairs = [(" ".join(rng.choices(words, k=rng.randint(1, 4))),
              " ".join(rng.choices(words, k=rng.randint(1, 4)))) for _ in range(2000)]
    pairs += [("".join(rng.choices("ABCDE", k=rng.randint(1, 12))),
               "".join(rng.choices("ABCDE", k=rng.randint(1, 12)))) for _ in range(2000)]
    with small_job_engine() as engine:
        engine.register("pairs", pa.table({"a": [a for a, _ in pairs], "b": [b for _, b in pairs]}))
        rows = engine.query("SELECT a, b, jaro_winkler_similarity(a, b) AS s FROM pairs").to_pylist()
    assert len(rows) == len(pairs)
    assert [jaro_winkler(row["a"], row["b"]) for row in rows] == pytest.approx(
        [row["s"] for row in rows], abs=1e-12)


_vietnamese = st.text(alphabet="aăâeêioôơuưyđĐbcdghklmnpqrstvxàáảãạầấẩẫậềếểễệờớởỡợừứửữựỳýỷỹỵ"
                               "ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ .-'0", max_size=40)


@given(st.text())
def test_no_name_function_raises(text: str) -> None:
    standardise(text)
    split(text)
    icao(text)
    compare(text, "Nguyễn Văn A")


@given(_vietnamese)
def test_canonical_is_idempotent_and_fold_agrees(text: str) -> None:
    stored = canonical(text)
    assert canonical(stored) == stored
    assert fold(stored) == fold(text)
    if stored is not None:
        assert compare(text, stored).verdict == "equal"
        family, given = icao(text).family, icao(text).given
        assert all(ch.isupper() or ch == "<" for ch in family + given)


_SYLLABLES = ("Nguyễn Trần Lê Phạm Hoàng Huỳnh Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Văn Thị Hữu Đức "
              "Ngọc Minh Thanh Quốc Xuân Hòa Thủy Khỏe Hương Hướng Tuấn Nguyệt Quỳnh Ngoại "
              "Khuỷu Loan Giang Quý Gìn Oanh Nhung An Bình Yến Phượng Trương Thường Ưng Ơn").split()


@given(st.lists(st.sampled_from(_SYLLABLES), min_size=1, max_size=5))
def test_detectable_legacy_damage_never_changes_the_stored_name(words: list[str]) -> None:
    name = " ".join(words)
    # "Vũ" alone is "Vò" in TCVN3 and "Thị" is "Thò" in VNI, both valid syllables themselves:
    # only damage that leaves evidence can be undone.
    for damaged in (encode_vni(name).decode("cp1252"), encode_tcvn3(name).decode("cp1252")):
        if looks_damaged(damaged):
            assert fold(damaged) == fold(name)
    utf8 = name.encode("utf-8").decode("cp1252", errors="replace")
    assert canonical(utf8) == canonical(name) or "name_unrepairable" in standardise(utf8).flags


def test_tcvn3_damage_in_common_full_names_is_undone() -> None:
    for name in ("Vũ Văn An", "Nguyễn Thị Hương", "Huỳnh Tấn Phát", "Đỗ Thị Thủy", "Võ Thị Lan"):
        assert canonical(encode_tcvn3(name).decode("cp1252")) == canonical(name)
        assert canonical(encode_vni(name).decode("cp1252")) == canonical(name)


@pytest.mark.parametrize(("name", "surname"), [
    ("Hoàng Phú Hiệp", ["Hoàng"]),
    ("Huỳnh Phú Hiệp", ["Huỳnh"]),
    ("Nguyễn Phúc Khang", ["Nguyễn"]),
    ("Tôn Thất Thuyết", ["Tôn", "Thất"]),
])
def test_common_middle_names_are_not_read_as_compound_surnames(name: str,
                                                                surname: list[str]) -> None:
    assert split_words(name.split(" "))[0] == surname


# Text that reaches every branch of the second pass: legacy bytes, keystrokes, stray marks.
_messy = st.text(alphabet="aăâeêioôơuưyđĐbcdghklmnpqrstvxwfjzàáảãạầấẩẫậờớởỡợừứỳýỷỹỵ"
                          "ÀÁÂÃÈÉÊÔÕÙÚÝ¸µ¶·¹¨©ª«¬®ÐÑ 0123456789?\u0301\u0300\u0302", max_size=30)


@given(_messy)
def test_a_settled_canonical_form_is_its_own_standard_form(text: str) -> None:
    stored = _standardise_once(text).canonical
    if stored is not None and _is_settled(stored):
        assert _standardise_once(stored).canonical == stored


def test_the_second_pass_still_runs_where_it_changes_the_name() -> None:
    # bÒy repairs to Bòy, which is itself TCVN3 damage (for Bũy): not settled.
    assert _standardise_once("bÒy").canonical == "Bòy"
    assert not _is_settled("Bòy")
    assert standardise("bÒy").canonical == "Bũy"
    assert not _is_settled("Wang")   # a w could be a Telex key
