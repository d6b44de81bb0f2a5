"""Reference data of the synthetic population: admin units, names, phone prefixes, vaccines.

Frequencies come from vn-facts.md (surnames §3.2, middle names §3.3, phone prefixes §6.5,
vaccines §5). Files live in ``demo/data`` (provenance in ``data/PROVENANCE.md``).
"""

from __future__ import annotations

import csv
import gzip
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"

# Surname shares of vn-facts §3.2 (national estimates); Hoàng/Huỳnh and Vũ/Võ split by the
# Đắk Lắk sample. The remainder goes to less common surnames.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 0.38), ("Trần", 0.11), ("Lê", 0.095), ("Phạm", 0.071), ("Hoàng", 0.03),
    ("Huỳnh", 0.021), ("Phan", 0.045), ("Vũ", 0.017), ("Võ", 0.022), ("Đặng", 0.021),
    ("Bùi", 0.02), ("Đỗ", 0.014), ("Hồ", 0.013), ("Ngô", 0.013), ("Dương", 0.01),
    ("Lý", 0.005), ("Đinh", 0.006), ("Trương", 0.006), ("Đào", 0.005), ("Mai", 0.004),
    ("Trịnh", 0.004), ("Lâm", 0.003), ("Phùng", 0.002), ("Cao", 0.003), ("Hà", 0.003),
    ("Lương", 0.003), ("Tạ", 0.002), ("Chu", 0.002), ("Thái", 0.002), ("Tô", 0.002),
    ("Quách", 0.001), ("La", 0.001), ("Lưu", 0.002), ("Kiều", 0.001), ("Châu", 0.002),
    ("Triệu", 0.002), ("Vương", 0.001), ("Tăng", 0.001), ("Lò", 0.001), ("Thạch", 0.001),
)

# Middle names by gender; the traditional ones dominate older cohorts (vn-facts §3.3).
MALE_TRADITIONAL_MIDDLE = "Văn"
FEMALE_TRADITIONAL_MIDDLE = "Thị"
MALE_MIDDLES = ("Hữu", "Đức", "Minh", "Quốc", "Công", "Quang", "Xuân", "Thành", "Hoàng", "Anh",
                "Gia", "Bảo", "Ngọc", "Thanh", "Duy", "Trọng", "Đình", "Tuấn", "Nhật", "Hoài")
FEMALE_MIDDLES = ("Ngọc", "Thu", "Thanh", "Phương", "Minh", "Kim", "Hồng", "Thùy", "Mỹ", "Bảo",
                  "Thúy", "Hoài", "Khánh", "Diệu", "Hải", "Quỳnh", "Lan", "Tuyết", "Mai", "Bích")

# Given names that are far more common than the rest, so many people share a full name.
COMMON_MALE_GIVEN = ("Hùng", "Dũng", "Tuấn", "Minh", "Hải", "Nam", "Sơn", "Thắng", "Long",
                     "Hưng", "Cường", "Thành", "Trung", "Phong", "Quang", "Tùng", "Đức", "Hiếu",
                     "Huy", "Khoa", "Bình", "Tâm", "Phúc", "Lâm", "Thịnh")
COMMON_FEMALE_GIVEN = ("Hương", "Lan", "Hà", "Linh", "Trang", "Hằng", "Mai", "Thảo", "Ngọc",
                       "Anh", "Hoa", "Nga", "Thủy", "Huyền", "Nhung", "Phương", "Yến", "Dung",
                       "Loan", "Hạnh", "Oanh", "Thúy", "Vân", "Tuyết", "Hòa")

# Mobile prefixes in use since 2018 (10-digit numbers), with rough market shares.
MOBILE_PREFIXES: tuple[tuple[str, float], ...] = (
    ("032", 4), ("033", 4), ("034", 4), ("035", 4), ("036", 4), ("037", 4), ("038", 4),
    ("039", 4), ("086", 5), ("096", 7), ("097", 7), ("098", 7), ("090", 5), ("093", 4),
    ("089", 2), ("070", 2), ("076", 2), ("077", 2), ("078", 2), ("079", 2), ("091", 5),
    ("094", 4), ("088", 2), ("081", 1), ("082", 1), ("083", 1), ("084", 1), ("085", 1),
    ("056", 1), ("058", 1), ("059", 1),
)

# Foreign residents vaccinated in Viet Nam (passport numbers, not in the register).
FOREIGN_NAMES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...] = (
    ("KR", ("KIM", "LEE", "PARK", "CHOI", "JUNG"), ("MIN JUN", "SEO YEON", "JI HOON", "HA EUN"), "M"),
    ("CN", ("WANG", "LI", "ZHANG", "LIU", "CHEN"), ("WEI", "FANG", "JING", "LEI", "YAN"), "E"),
    ("JP", ("SATO", "SUZUKI", "TAKAHASHI", "TANAKA"), ("HIROSHI", "YUKI", "KENJI", "AYAKA"), "T"),
    ("US", ("SMITH", "JOHNSON", "BROWN", "MILLER"), ("JOHN", "EMILY", "MICHAEL", "SARAH"), "A"),
    ("FR", ("MARTIN", "BERNARD", "DUBOIS", "MOREAU"), ("PIERRE", "CAMILLE", "LUC", "MARIE"), "F"),
    ("TW", ("CHANG", "HUANG", "LIN", "WU"), ("CHIA HAO", "YU TING", "WEN"), "T"),
)


@dataclass(frozen=True)
class Vaccine:
    key: str
    names: tuple[str, ...]   # how facilities write it; the first is the usual one
    lot_prefix: str
    primary_interval: tuple[int, int]   # days between primary doses (min, max)
    primary_doses: int


# The eight vaccines of the passport list (vn-facts §4.1, §5). Lot prefixes are synthetic.
VACCINES: tuple[Vaccine, ...] = (
    Vaccine("astrazeneca", ("AstraZeneca", "Vaxzevria", "AZ", "Astra Zeneca"), "AZV", (56, 84), 2),
    Vaccine("verocell", ("Vero Cell", "Sinopharm", "VeroCell", "Vero-Cell"), "VCB", (21, 28), 2),
    Vaccine("pfizer", ("Pfizer", "Comirnaty", "Pfizer-BioNTech", "PFIZER"), "PFZ", (21, 42), 2),
    Vaccine("moderna", ("Moderna", "Spikevax", "MODERNA"), "MOD", (28, 42), 2),
    Vaccine("sputnik", ("Sputnik V", "Gam-COVID-Vac", "SPUTNIK V"), "SPV", (21, 21), 2),
    Vaccine("hayatvax", ("Hayat-Vax", "Hayat Vax", "HayatVax"), "HYT", (21, 28), 2),
    Vaccine("abdala", ("Abdala", "ABDALA", "CIGB-66"), "ABD", (14, 14), 3),
    Vaccine("janssen", ("Janssen", "Johnson & Johnson", "J&J"), "JNS", (0, 0), 1),
)
VACCINE_INDEX = {v.key: i for i, v in enumerate(VACCINES)}


@dataclass(frozen=True)
class AdminUnits:
    """Pre-2025 communes (one row each) with their district and province (GSO codes)."""

    province_code: np.ndarray
    province_name: np.ndarray
    district_code: np.ndarray
    district_name: np.ndarray
    commune_code: np.ndarray
    commune_name: np.ndarray
    level: np.ndarray
    district_index: np.ndarray   # index of the commune's district in ``district_codes``
    district_codes: np.ndarray
    province_codes: np.ndarray   # the 63 provinces, sorted


@cache
def admin_units() -> AdminUnits:
    with gzip.open(DATA_DIR / "admin_units_pre2025.csv.gz", "rt", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    unique = list({r["commune_code"]: r for r in reversed(rows)}.values())[::-1]

    def column(name: str) -> np.ndarray:
        return np.array([r[name] for r in unique], dtype=object)

    district_code = column("district_code")
    district_codes, district_index = np.unique(district_code.astype(str), return_inverse=True)
    province_code = column("province_code")
    return AdminUnits(
        province_code=province_code, province_name=column("province_name"),
        district_code=district_code, district_name=column("district_name"),
        commune_code=column("commune_code"), commune_name=column("commune_name"),
        level=column("level"), district_index=district_index.astype(np.int32),
        district_codes=district_codes.astype(object),
        province_codes=np.unique(province_code.astype(str)).astype(object),
    )


def _read_lines(name: str) -> tuple[str, ...]:
    """Lines in NFC; the list's few look-alike Ð (U+00D0) become the real Đ (U+0110)."""
    text = unicodedata.normalize("NFC", (DATA_DIR / name).read_text(encoding="utf-8"))
    lines = (line.strip().replace("\u00d0", "Đ") for line in text.splitlines())
    return tuple(dict.fromkeys(line for line in lines if line))


@cache
def given_names(gender: str) -> tuple[str, ...]:
    """One-word given names, the common ones first (see :func:`given_name_weights`)."""
    common = COMMON_MALE_GIVEN if gender == "M" else COMMON_FEMALE_GIVEN
    listed = _read_lines("given_names_male.txt" if gender == "M" else "given_names_female.txt")
    return common + tuple(n for n in listed if n not in common)


@cache
def given_name_weights(gender: str) -> np.ndarray:
    """Zipf-like weights: the common names hold about 60 % of people, the long tail the rest."""
    names = given_names(gender)
    n_common = len(COMMON_MALE_GIVEN if gender == "M" else COMMON_FEMALE_GIVEN)
    ranks = np.arange(1, n_common + 1, dtype=float)
    common = ranks ** -0.7
    common = 0.6 * common / common.sum()
    tail = np.full(len(names) - n_common, 0.4 / (len(names) - n_common))
    return np.concatenate([common, tail])


@cache
def compound_names(gender: str) -> tuple[str, ...]:
    """Two-word middle+given combinations popular with younger cohorts (``Bảo Anh``)."""
    lines = _read_lines("compound_names_male.txt" if gender == "M" else "compound_names_female.txt")
    return tuple(n for n in lines if n.count(" ") == 1)


@cache
def old_mobile_prefixes() -> dict[str, str]:
    """New 3-digit prefix → old 4-digit prefix (2018 change, vn-facts §6.5)."""
    with (DATA_DIR / "mobile_prefix_11_to_10_digits_2018.csv").open(encoding="utf-8") as handle:
        return {row["new_prefix"]: row["old_prefix"] for row in csv.DictReader(handle)}


def weights(pairs: tuple[tuple[str, float], ...]) -> tuple[np.ndarray, np.ndarray]:
    """Values and normalised probabilities of a (value, weight) table."""
    values = np.array([v for v, _ in pairs], dtype=object)
    probs = np.array([w for _, w in pairs], dtype=float)
    return values, probs / probs.sum()
