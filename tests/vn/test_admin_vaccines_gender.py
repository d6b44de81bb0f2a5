"""Addresses to GSO codes and 2025 units; vaccine brands to EU DCC codes; gender."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaxtrust.vn import admin, gender, vaccines


@pytest.mark.parametrize(("typed", "codes"), [
    (("Thành phố Hà Nội", "Quận Ba Đình", "Phường Phúc Xá"), ("01", "001", "00001")),
    (("Ha Noi", "Ba Dinh", "Phuc Xa"), ("01", "001", "00001")),
    (("TP.HCM", "Quận 1", "Phường Bến Nghé"), ("79", "760", "26740")),
    (("Hồ Chí Minh", "Q3", "P.05"), ("79", "770", "27151")),
    (("79", "Quận 3", "Phường 5"), ("79", "770", "27151")),
    (("Tỉnh Hoà Bình", "Huyện Lạc Sơn", "Xã Ân Nghĩa"), ("17", "157", "05347")),
    (("tinh hoa binh", "lac son", "an nghia"), ("17", "157", "05347")),
    (("Khánh Hòa", "Nha Trang", None), ("56", "568", None)),
    (("Nowhere", "X", "Y"), (None, None, None)),
    ((None, None, None), (None, None, None)),
])
def test_parse_typed_addresses(typed: tuple[str | None, ...],
                               codes: tuple[str | None, ...]) -> None:
    result = admin.parse(*typed)
    assert (result.province_code, result.district_code, result.commune_code) == codes


def test_commune_found_inside_its_province_when_the_district_is_missing() -> None:
    assert admin.parse("Hà Nội", None, "Phúc Xá").commune_code == "00001"


@pytest.mark.parametrize(("typed", "codes"), [
    # Bàu Bàng, now a commune of Hồ Chí Minh City, was Lai Uyên town of Bình Dương
    (("Thành phố Hồ Chí Minh", None, "Xã Bàu Bàng"), ("74", "719", "25822")),
    # Tuyên Quang took in Hà Giang: Lũng Cú merged several communes of Đồng Văn district
    (("Tỉnh Tuyên Quang", None, "Xã Lũng Cú"), ("02", "026", None)),
])
def test_an_address_in_the_2025_units_reads_back_to_the_old_units(
        typed: tuple[str | None, ...], codes: tuple[str | None, ...]) -> None:
    result = admin.parse(*typed)
    assert (result.province_code, result.district_code, result.commune_code) == codes


def test_to_2025() -> None:
    assert admin.to_2025("02").province_code == "08"      # Hà Giang -> Tuyên Quang
    assert admin.to_2025("74").province_code == "79"      # Bình Dương -> Hồ Chí Minh
    assert admin.to_2025("01", "00001") == admin.Units2025("01", "00097")
    divided = admin.to_2025("01", "00007")
    assert (divided.commune_code, divided.reason) == (None, "admin_commune_divided")
    assert admin.to_2025("99").reason == "admin_unknown_province"


@pytest.mark.parametrize(("typed", "mp", "ma"), [
    ("Astra", "EU/1/21/1529", "ORG-100001699"),
    ("AZ", "EU/1/21/1529", "ORG-100001699"),
    ("AstraZeneca", "EU/1/21/1529", "ORG-100001699"),
    ("Covishield", "Covishield", "ORG-100001981"),
    ("Pfizer", "EU/1/20/1528", "ORG-100030215"),
    ("Pfizer-BioNTech", "EU/1/20/1528", "ORG-100030215"),
    ("Vero Cell", "BBIBP-CorV", "ORG-100020693"),
    ("Vắc xin Vero cell", "BBIBP-CorV", "ORG-100020693"),
    ("Sinopharm", "BBIBP-CorV", "ORG-100020693"),
    ("Hayat", "Hayat-Vax", "ORG-100023050"),
    ("Sputnik V", "Sputnik-V", "Gamaleya-Research-Institute"),
    ("Abdala", "Abdala", "CIGB"),
    ("Moderna", "EU/1/20/1507", "ORG-100031184"),
    ("Janssen", "EU/1/20/1525", "ORG-100001417"),
])
def test_vaccine_brands_map_to_dcc_codes(typed: str, mp: str, ma: str) -> None:
    product = vaccines.parse(typed).vaccine
    assert product is not None and (product.mp, product.ma) == (mp, ma)


@pytest.mark.parametrize(("typed", "reason"), [
    ("Sinovac", "vaccine_unknown"), ("xyz", "vaccine_unknown"), ("", "vaccine_missing"),
    (None, "vaccine_missing"),
])
def test_unknown_vaccines_are_explicit(typed: str | None, reason: str) -> None:
    assert vaccines.parse(typed) == vaccines.ParsedVaccine(None, reason)


def test_schedules() -> None:
    products = vaccines.products()
    assert products["janssen"].primary_doses == 1
    assert products["abdala"].primary_doses == 3
    assert all(p.primary_doses == 2 for k, p in products.items() if k not in ("janssen", "abdala"))
    assert products["pfizer"].min_interval_days == 21
    assert all(p.min_interval_days >= 14 for p in products.values())
    assert vaccines.parse_dose_number("Mũi 2") == 2 and vaccines.parse_dose_number("x") is None


@pytest.mark.parametrize(("typed", "code"), [
    ("Nam", "M"), ("nam ", "M"), ("M", "M"), ("Nữ", "F"), ("NỮ", "F"), ("nu", "F"),
    ("F", "F"), ("khác", None), ("", None), (None, None),
])
def test_gender(typed: str | None, code: str | None) -> None:
    assert gender.parse(typed) == code


@given(st.text(), st.text(), st.text())
def test_nothing_raises(a: str, b: str, c: str) -> None:
    admin.parse(a, b, c)
    vaccines.parse(a)
    vaccines.parse_dose_number(b)
    gender.parse(c)
