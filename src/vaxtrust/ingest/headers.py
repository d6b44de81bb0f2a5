"""Column headers: the names facilities and the register really use, mapped to our schema.

Headers are compared after folding (NFC, no diacritics, Đ→D, lower case, punctuation as spaces), so
"Họ và tên", "HO VA TEN" and "ho_va_ten" are the same header.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Final, Literal

from vaxtrust.schema import (
    COMPLAINT_COLUMNS,
    COMPLAINT_DOSE_COLUMNS,
    COMPLAINT_DOSES,
    DOSE_RECORD_COLUMNS,
    REGISTER_COLUMNS,
)

SourceKind = Literal["records", "register", "complaints"]

STANDARD_COLUMNS: Final[dict[SourceKind, tuple[str, ...]]] = {
    "records": DOSE_RECORD_COLUMNS,
    "register": REGISTER_COLUMNS,
    "complaints": COMPLAINT_COLUMNS,
}

# Columns a file must have to be usable at all, and values each row must have.
MANDATORY_COLUMNS: Final[dict[SourceKind, tuple[str, ...]]] = {
    "records": ("record_id", "full_name", "dob", "dose_number", "vaccinated_on"),
    "register": ("person_id", "full_name", "dob"),
    "complaints": ("complaint_id", "full_name", "dob", "phone", "id_number", "category"),
}

_RECORD_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "record_id": ("ma ban ghi", "ma mui tiem", "ma tiem chung", "ma ho so", "record id"),
    "full_name": ("ho va ten", "ho ten", "ho va ten nguoi tiem", "ten nguoi tiem", "full name",
                  "name"),
    "dob": ("ngay sinh", "ngay thang nam sinh", "ngay sinh nguoi tiem", "date of birth",
            "birth date", "birthdate"),
    "gender": ("gioi tinh", "gioi", "gender", "sex"),
    "id_number": ("so cccd cmnd", "so cmnd cccd", "cccd cmnd", "cmnd cccd", "so cccd", "so cmnd",
                  "cccd", "cmnd", "so dinh danh", "so dinh danh ca nhan", "so giay to",
                  "so giay to tuy than", "so cccd cmnd ho chieu", "id number"),
    "phone": ("so dien thoai", "dien thoai", "sdt", "so dt", "phone", "phone number"),
    "province": ("tinh", "tinh thanh pho", "tinh tp", "tinh thanh", "province"),
    "district": ("huyen", "quan huyen", "quan", "district"),
    "commune": ("xa", "xa phuong", "phuong xa", "xa phuong thi tran", "commune", "ward"),
    "dose_number": ("mui tiem", "mui tiem thu", "mui thu", "mui so", "lieu so", "mui",
                    "dose number", "dose"),
    "vaccine": ("loai vac xin", "loai vaccine", "ten vac xin", "ten vaccine", "vac xin",
                "vaccine"),
    "lot": ("lo vac xin", "so lo", "lo", "lot", "lot number"),
    "vaccinated_on": ("ngay tiem", "ngay tiem chung", "vaccinated on", "vaccination date"),
    "facility_id": ("co so tiem", "co so tiem chung", "ma co so tiem", "ma co so", "noi tiem",
                    "diem tiem", "facility", "facility id"),
}

_REGISTER_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "person_id": ("so dinh danh ca nhan", "so dinh danh", "so cccd", "cccd", "person id"),
    "old_id": ("so cmnd", "cmnd", "so cmnd cu", "cmnd cu", "old id"),
    "full_name": _RECORD_ALIASES["full_name"],
    "dob": _RECORD_ALIASES["dob"],
    "dob_precision": ("do chinh xac ngay sinh", "dob precision"),
    "gender": _RECORD_ALIASES["gender"],
    "province_code": ("ma tinh", "province code"),
    "district_code": ("ma huyen", "district code"),
    "commune_code": ("ma xa", "commune code"),
    "phone": _RECORD_ALIASES["phone"],
}

_COMPLAINT_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "complaint_id": ("ma phan anh", "so phan anh", "ma phieu phan anh", "so phieu", "ma yeu cau",
                     "complaint id", "complaint number"),
    **{column: _RECORD_ALIASES[column] for column in (
        "full_name", "dob", "gender", "id_number", "phone", "province", "district", "commune",
        "dose_number", "vaccine", "vaccinated_on", "facility_id")},
    "address": ("dia chi", "dia chi thuong tru", "dia chi lien he", "noi o", "address"),
    "category": ("loai phan anh", "noi dung phan anh", "van de phan anh", "category",
                 "complaint type", "type"),
    "description": ("mo ta", "ghi chu", "noi dung", "chi tiet", "description", "details"),
    "received_at": ("thoi gian tiep nhan", "ngay tiep nhan", "thoi gian phan anh",
                    "ngay phan anh", "received at", "received"),
    # the second, third ... dose of a complaint: "Mũi tiêm 2", "Ngày tiêm 2", ...
    **{f"{column}_{n}": tuple(f"{alias} {n}" for alias in _RECORD_ALIASES[column])
       for n in range(2, COMPLAINT_DOSES + 1) for column in COMPLAINT_DOSE_COLUMNS},
}

_ALIASES: Final[dict[SourceKind, dict[str, tuple[str, ...]]]] = {
    "records": _RECORD_ALIASES,
    "register": _REGISTER_ALIASES,
    "complaints": _COMPLAINT_ALIASES,
}


def fold_header(header: str) -> str:
    """A header as compared: no diacritics, Đ→D, lower case, punctuation and _ as single spaces."""
    text = unicodedata.normalize("NFD", header.replace("Đ", "D").replace("đ", "d"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def _alias_index(kind: SourceKind) -> dict[str, str]:
    index = {fold_header(column): column for column in STANDARD_COLUMNS[kind]}
    for column, aliases in _ALIASES[kind].items():
        for alias in aliases:
            index.setdefault(fold_header(alias), column)
    return index


def resolve_headers(
    headers: Iterable[str], kind: SourceKind, mapping: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """Map a file's headers to standard columns.

    Returns ``({standard column: file header}, [headers not used])``. An explicit ``mapping``
    (file header → standard column) wins over the built-in names; the first header naming a
    column wins over later ones.
    """
    headers = list(headers)
    explicit = {fold_header(src): dst for src, dst in (mapping or {}).items()}
    chosen: dict[str, str] = {}
    for header in headers:
        column = explicit.get(fold_header(header))
        if column is not None and column not in chosen:
            chosen[column] = header
    index = _alias_index(kind)
    taken = set(chosen.values())
    for header in headers:
        column = index.get(fold_header(header))
        if header not in taken and column is not None and column not in chosen:
            chosen[column] = header
            taken.add(header)
    return chosen, [header for header in headers if header not in taken]
