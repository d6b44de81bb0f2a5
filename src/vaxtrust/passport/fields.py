"""The 11 displayed fields of Decision 5772/QĐ-BYT, in Vietnamese and English, from a DCC payload."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vaxtrust.passport.schemas import display


@dataclass(frozen=True)
class Field:
    number: int
    label_vi: str
    label_en: str
    value: str


_LABELS = (
    ("Họ và tên", "Full name"),
    ("Ngày tháng năm sinh", "Date of birth"),
    ("Quốc tịch", "Nationality"),
    ("Bệnh dịch mà chứng nhận nhắm tới", "Disease or agent targeted"),
    ("Số mũi tiêm đã nhận", "Number of doses received"),
    ("Ngày tiêm", "Date of vaccination"),
    ("Liều số", "Dose number"),
    ("Vắc xin", "Vaccine or prophylaxis"),
    ("Sản phẩm vắc xin", "Vaccine medicinal product"),
    ("Nhà cung cấp hoặc sản xuất vắc xin", "Marketing authorisation holder or manufacturer"),
    ("Mã số của chứng nhận", "Unique certificate identifier"),
)


def full_name(payload: Mapping[str, Any]) -> str:
    """Name as written, family first (Vietnamese order); the transliteration when nothing else."""
    nam = payload.get("nam") or {}
    written = " ".join(str(nam[key]) for key in ("fn", "gn") if nam.get(key))
    if written:
        return written
    return " ".join(str(nam[key]).replace("<", " ") for key in ("fnt", "gnt") if nam.get(key))


def certificate_fields(payload: Mapping[str, Any], *, issuing_country: str | None) -> list[Field]:
    """The 11 fields for a vaccination DCC.

    The DCC carries no nationality; like the Vietnamese template, field 3 shows the issuing state.
    """
    if "v" not in payload:
        return _other_kind_fields(payload, issuing_country)
    entry = (payload.get("v") or [{}])[0]
    if not isinstance(entry, Mapping):
        entry = {}
    country = issuing_country or entry.get("co")
    values = (
        full_name(payload),
        str(payload.get("dob", "")),
        display("country-2-codes", country) if country else "",
        display("disease-agent-targeted", entry.get("tg")),
        str(entry.get("dn", "")),
        str(entry.get("dt", "")),
        f"{entry.get('dn', '')}/{entry.get('sd', '')}",
        display("vaccine-prophylaxis", entry.get("vp")),
        display("vaccine-medicinal-product", entry.get("mp")),
        display("vaccine-mah-manf", entry.get("ma")),
        str(entry.get("ci", "")),
    )
    return [Field(number, vi, en, value)
            for number, ((vi, en), value) in enumerate(zip(_LABELS, values, strict=True), start=1)]


_GROUP_NAMES = {"t": ("Xét nghiệm", "Test"), "r": ("Khỏi bệnh", "Recovery")}


def _other_kind_fields(payload: Mapping[str, Any], issuing_country: str | None) -> list[Field]:
    """Test and recovery certificates (verified, never issued here): holder fields, then the entry."""
    kind = next((key for key in ("t", "r") if key in payload), "")
    entries = payload.get(kind) if kind else None
    entry = entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], Mapping) else {}
    vi, en = _GROUP_NAMES.get(kind, ("", ""))
    fields = [
        Field(1, _LABELS[0][0], _LABELS[0][1], full_name(payload)),
        Field(2, _LABELS[1][0], _LABELS[1][1], str(payload.get("dob", ""))),
        Field(3, _LABELS[2][0], _LABELS[2][1],
              display("country-2-codes", issuing_country) if issuing_country else ""),
    ]
    fields += [Field(number, f"{vi} ({key})", f"{en} ({key})", str(value))
               for number, (key, value) in enumerate(sorted(entry.items()), start=4)]
    return fields
