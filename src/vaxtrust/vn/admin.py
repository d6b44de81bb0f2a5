"""Administrative units: free-text province/district/commune to pre-2025 GSO codes, and to 2025.

Records of 2021-2022 use the 63-province, three-level structure (Decision 124/2004 codes; GSO list
of 2025-01-04); an address written in the 2025 units (a commune of the 34 provinces, no district)
is read back to the old units its commune was made of. Names are matched on a key: no
diacritics, lower case, unit prefixes removed (``Tỉnh``, ``TP.``, ``Quận``, ``Huyện``, ``Thị xã``, ``Phường``, ``Xã``, ``Thị trấn`` ...), spaces and
punctuation removed, leading zeros of numbered units removed (``Phường 05`` = ``5``). A district
is looked up inside its province, a commune inside its district (or inside its province when the
district is missing and the name is unique there). Ambiguous keys resolve to nothing.

:func:`to_2025` converts to the 34-province structure of 1 July 2025: provinces always map to one
new province; a commune split across several new communes has no single successor.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Final, Literal

from vaxtrust.vn._alphabet import FOLD_TABLE
from vaxtrust.vn._data import read_rows

Level = Literal["province", "district", "commune"]

PREFIXES: Final[dict[Level, str]] = {
    "province": "tinh|thanh pho|tp",
    "district": "quan|huyen|thi xa|thanh pho|tp|tx|q|h",
    "commune": "phuong|xa|thi tran|tt|p|x",
}
# Prefix letters written directly before a number: "Q1", "P12".
NUMBER_PREFIXES: Final[dict[Level, str]] = {
    "province": "tp", "district": "quan|q", "commune": "phuong|p",
}
NOT_ALNUM_RE: Final = re.compile("[^a-z0-9]+")
LEADING_ZEROS_RE: Final = re.compile("^0+([0-9])")
_ASCII_LOWER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# Extra province keys people type (after key normalisation).
PROVINCE_ALIASES: Final = {
    "hcm": "79", "tphcm": "79", "saigon": "79", "sg": "79", "hn": "01", "thuathienhue": "46",
    "brvt": "77", "vungtau": "77", "daclac": "66", "dacnong": "67", "backan": "06",
}


def admin_key(raw: str, level: Level) -> str:
    """The matching key of a typed unit name at ``level`` (see module doc)."""
    text = NOT_ALNUM_RE.sub(" ", raw.translate(FOLD_TABLE).translate(_ASCII_LOWER)).strip()
    text = re.sub(f"^(?:{PREFIXES[level]}) +", "", text)
    text = re.sub(f"^(?:{NUMBER_PREFIXES[level]})([0-9])", r"\1", text)
    return LEADING_ZEROS_RE.sub(r"\1", text.replace(" ", ""))


@dataclass(frozen=True)
class Legacy:
    """The pre-2025 units a 2025 commune was made of: each code None unless they share it."""

    province_code: str | None
    district_code: str | None
    commune_code: str | None


@dataclass(frozen=True)
class KeyTables:
    """Unambiguous key -> code lookups, one per level (also loaded into engines by the standardise stage)."""

    provinces: dict[str, str]
    districts: dict[tuple[str, str], str]             # (province_code, key) -> district_code
    communes: dict[tuple[str, str], str]              # (district_code, key) -> commune_code
    communes_by_province: dict[tuple[str, str], str]  # (province_code, key) -> commune_code
    provinces_2025: dict[str, str]                    # key -> 2025 province code
    province_to_2025: dict[str, str]                  # province_code -> 2025 province code
    communes_2025: dict[tuple[str, str], Legacy]      # (2025 province code, key) -> old units
    commune_names: frozenset[tuple[str, str]]         # (province_code, key) of every old commune


def _unique(pairs: list[tuple[tuple[str, str], str]]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for key, code in pairs:
        found[key].add(code)
    return {key: next(iter(codes)) for key, codes in found.items() if len(codes) == 1}


@cache
def key_tables() -> KeyTables:
    rows = read_rows("admin_units_pre2025.csv")
    provinces = {row["province_code"]: row["province"] for row in rows}
    province_keys = _unique(
        [(("", admin_key(name, "province")), code) for code, name in provinces.items()]
        + [(("", admin_key(code, "province")), code) for code in provinces]
        + [(("", alias), code) for alias, code in PROVINCE_ALIASES.items()]
    )
    districts = {(row["province_code"], row["district_code"], row["district"]) for row in rows}
    return KeyTables(
        provinces={key: code for (_, key), code in province_keys.items()},
        districts=_unique([((p, admin_key(name, "district")), d) for p, d, name in districts]),
        communes=_unique([((row["district_code"], admin_key(row["commune"], "commune")),
                           row["commune_code"]) for row in rows]),
        communes_by_province=_unique([((row["province_code"], admin_key(row["commune"], "commune")),
                                       row["commune_code"]) for row in rows]),
        provinces_2025={key: code for (_, key), code in _unique(
            [(("", admin_key(row["new_province"], "province")), row["new_code"])
             for row in read_rows("province_63_to_34_2025.csv")]).items()},
        province_to_2025=_province_2025(),
        communes_2025=_communes_2025(rows),
        commune_names=frozenset((row["province_code"], admin_key(row["commune"], "commune"))
                                for row in rows),
    )


def _communes_2025(rows: list[dict[str, str]]) -> dict[tuple[str, str], Legacy]:
    """(2025 province, key of a 2025 commune name) -> the old units it was made of (a name used
    twice in one new province resolves to nothing)."""
    old_units = {row["commune_code"]: (row["province_code"], row["district_code"]) for row in rows}
    parts: dict[tuple[str, str], set[tuple[str, str, str]]] = defaultdict(set)
    names: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in read_rows("commune_2025.csv"):
        key = (row["new_province_code"], admin_key(row["new_commune"], "commune"))
        names[key].add(row["new_commune_code"])
        province, district = old_units.get(row["commune_code"], ("", ""))
        parts[key].add((province, district, row["commune_code"]))

    def shared(values: set[str]) -> str | None:
        return next(iter(values)) if len(values) == 1 and "" not in values else None

    return {key: Legacy(shared({p for p, _, _ in parts[key]}), shared({d for _, d, _ in parts[key]}),
                        shared({c for _, _, c in parts[key]}))
            for key, codes in names.items() if len(codes) == 1}


@dataclass(frozen=True)
class AdminCodes:
    province_code: str | None
    district_code: str | None
    commune_code: str | None


def parse(province: object, district: object = None, commune: object = None) -> AdminCodes:
    """Pre-2025 codes of a typed address; each level None when missing or not recognised.

    An address written in the 2025 units (a 2025 province and commune, no district) gives the
    old units its commune was made of, as far as they are one (:class:`Legacy`).
    """
    tables = key_tables()
    province_key = admin_key(province, "province") if isinstance(province, str) else None
    p = tables.provinces.get(province_key) if province_key else None
    d = (tables.districts.get((p, admin_key(district, "district")))
         if p and isinstance(district, str) else None)
    commune_key = admin_key(commune, "commune") if isinstance(commune, str) else ""
    c = None
    if commune_key and p:
        c = (tables.communes.get((d, commune_key)) if d
             else tables.communes_by_province.get((p, commune_key)))
    # No district, and a commune name the old province never had (not even twice): 2025 units.
    if (c is None and d is None and commune_key and province_key
            and (p or "", commune_key) not in tables.commune_names):
        new_province = (tables.provinces_2025.get(province_key)
                        or tables.province_to_2025.get(p or ""))
        legacy = tables.communes_2025.get((new_province or "", commune_key))
        if legacy:
            return AdminCodes(legacy.province_code or p, legacy.district_code,
                              legacy.commune_code)
    return AdminCodes(p, d, c)


@dataclass(frozen=True)
class Units2025:
    """Successor units of 1 July 2025; ``commune_code`` None when the commune was divided."""

    province_code: str | None
    commune_code: str | None
    reason: str | None = None


@cache
def _province_2025() -> dict[str, str]:
    return {row["old_code_gso"]: row["new_code"] for row in read_rows("province_63_to_34_2025.csv")}


@cache
def _commune_2025() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for row in read_rows("commune_2025.csv"):
        found[row["commune_code"]].add(row["new_commune_code"])
    return found


def to_2025(province_code: str | None, commune_code: str | None = None) -> Units2025:
    """Convert pre-2025 codes to the 2025 units (34 provinces, 3,321 communes)."""
    new_province = _province_2025().get(province_code or "")
    if commune_code is None:
        return Units2025(new_province, None, None if new_province else "admin_unknown_province")
    successors = _commune_2025().get(commune_code, set())
    if len(successors) == 1:
        return Units2025(new_province, next(iter(successors)))
    return Units2025(new_province, None,
                     "admin_commune_divided" if successors else "admin_unknown_commune")
