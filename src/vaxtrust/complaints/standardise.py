"""A complaint's fields, standardised with ``vaxtrust.vn`` on the way in (web form or import).

:func:`standardise` turns the text a citizen typed (or a portal exported) into a
:class:`ComplaintInput`, or lists every problem as ``(field, reason)``; :data:`MESSAGES` gives
each reason a clear Vietnamese sentence (and its English). Nothing is guessed: a phone that is
not Vietnamese, an ID that is no CCCD/CMND, a dose date in the future refuse the complaint.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Final

from vaxtrust.complaints.model import CATEGORY_ALIASES, CATEGORY_TEXT
from vaxtrust.ingest.headers import fold_header
from vaxtrust.ingest.validate import CONTROL_CHARACTER, MAX_VALUE_LENGTH
from vaxtrust.schema import COMPLAINT_DOSE_COLUMNS, COMPLAINT_DOSES
from vaxtrust.vn import admin, dates, gender, ids, names, phones, vaccines
from vaxtrust.vn.legacy import MOJIBAKE_CONTROL

# Reason → (Vietnamese, English). Reasons of the ingest rules (missing_value, ...) are here too,
# so an import's rejects read the same as the web form's messages.
MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "missing_value": ("Thiếu thông tin bắt buộc", "A required value is missing"),
    "missing_complaint_id": ("Thiếu mã phản ánh", "The complaint number is missing"),
    "duplicate_complaint_id": ("Mã phản ánh bị trùng với một dòng khác",
                               "Another row has the same complaint number"),
    "value_too_long": ("Giá trị quá dài", "The value is too long"),
    "control_character": ("Giá trị chứa ký tự điều khiển", "The value holds a control character"),
    "date_out_of_range": ("Ngày không hợp lệ (trước năm 1900 hoặc sau hôm nay)",
                          "The date is before 1900 or after today"),
    "dose_number_not_a_number": ("Mũi tiêm phải là một số", "The dose number is not a number"),
    "dose_number_out_of_range": ("Mũi tiêm phải từ 1 đến 10", "The dose number is not 1 to 10"),
    "name_missing": ("Thiếu họ và tên", "The full name is missing"),
    "dob_invalid": ("Ngày sinh không đọc được; hãy ghi dd/mm/yyyy",
                    "The date of birth cannot be read; write dd/mm/yyyy"),
    "dob_incomplete": ("Ngày sinh phải đủ ngày, tháng, năm",
                       "The date of birth needs day, month and year"),
    "dob_in_future": ("Ngày sinh ở tương lai", "The date of birth is in the future"),
    "phone_missing": ("Thiếu số điện thoại", "The phone number is missing"),
    "phone_not_vietnamese": ("Số điện thoại không phải số Việt Nam (ví dụ 0912345678)",
                             "The phone number is not a Vietnamese number (e.g. 0912345678)"),
    "id_missing": ("Thiếu số CCCD/CMND", "The CCCD/CMND number is missing"),
    "id_unparseable": ("Số CCCD/CMND không hợp lệ: CCCD có 12 chữ số, CMND có 9 chữ số",
                       "The CCCD/CMND number is not valid: a CCCD has 12 digits, a CMND 9"),
    "id_not_yours": ("Số CCCD/CMND phải là số của chính bạn, đã được xác thực bằng mã một lần",
                     "The ID number must be your own, the one your one-time code proved"),
    "category_unknown": ("Loại phản ánh không rõ", "Unknown complaint type"),
    "gender_unknown": ("Giới tính không rõ (Nam / Nữ)", "Unknown gender (Nam / Nữ)"),
    "vaccine_unknown": ("Loại vắc xin không rõ", "Unknown vaccine"),
    "vaccinated_on_invalid": ("Ngày tiêm không đọc được; hãy ghi dd/mm/yyyy",
                              "The vaccination date cannot be read; write dd/mm/yyyy"),
    "vaccinated_on_in_future": ("Ngày tiêm ở tương lai", "The vaccination date is in the future"),
    "vaccinated_on_before_campaign": ("Ngày tiêm trước khi bắt đầu chiến dịch tiêm chủng",
                                      "The vaccination date is before the campaign started"),
    "attachment_not_an_image": ("Tệp đính kèm không phải là ảnh (JPEG, PNG hoặc WebP)",
                                "The attachment is not an image (JPEG, PNG or WebP)"),
    "attachment_too_large": ("Tệp đính kèm quá lớn", "The attachment is too large"),
    "outside_scope": ("Phản ánh thuộc cơ sở / tỉnh khác: đơn vị đó nhập",
                      "The complaint belongs to another facility or province: they import it"),
    "received_at_invalid": ("Thời gian tiếp nhận không đọc được",
                            "The time the complaint was received cannot be read"),
}

CAMPAIGN_START: Final = dt.date(2021, 3, 8)
REQUIRED: Final = ("full_name", "dob", "phone", "id_number", "category")
CACHE: Final = 1 << 16
# A bulk import meets the same names, dates, places and vaccines again and again: each distinct
# value goes through its rule once (the rules are pure).
_name = lru_cache(maxsize=CACHE)(names.standardise)
_date = lru_cache(maxsize=CACHE)(dates.parse)
_places = lru_cache(maxsize=CACHE)(admin.parse)
_vaccine = lru_cache(maxsize=CACHE)(vaccines.parse)
_dose_number = lru_cache(maxsize=CACHE)(vaccines.parse_dose_number)
_gender = lru_cache(maxsize=CACHE)(gender.parse)
# The form's further doses: each one's suffix and its columns (named once, not per row).
MORE_DOSE_COLUMNS: Final = tuple(
    (f"_{n}", tuple(f"{column}_{n}" for column in COMPLAINT_DOSE_COLUMNS))
    for n in range(2, COMPLAINT_DOSES + 1))
# White space other than the controls Python's str.split() counts as such (see _text).
_BLANKS: Final = re.compile(r"[^\S\x1c-\x1f\x85]+")
# Free-text fields kept as typed (trimmed): what the officer reads.
TEXT_FIELDS: Final = ("address", "description", "facility_id", "complaint_id")


@dataclass(frozen=True)
class Problem:
    field: str
    reason: str

    @property
    def message(self) -> str:
        return MESSAGES.get(self.reason, (self.reason, self.reason))[0]

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class DoseClaim:
    """The citizen's claim about one dose (standardised): what the form asks per dose."""

    dose_number: int | None = None
    vaccine: str | None = None
    vaccinated_on: str | None = None
    claimed_facility_id: str | None = None


@dataclass(frozen=True)
class ComplaintInput:
    """A complaint as stored: every value standardised. ``more_doses``: the form's second,
    third ... dose; each is filed as a complaint of its own (:meth:`per_dose`)."""

    category: str
    full_name: str
    dob: str
    phone: str
    id_number: str
    gender: str | None = None
    address: str | None = None
    province_code: str | None = None
    district_code: str | None = None
    commune_code: str | None = None
    dose_number: int | None = None
    vaccine: str | None = None
    vaccinated_on: str | None = None
    claimed_facility_id: str | None = None
    description: str | None = None
    external_id: str | None = None
    received_at: dt.datetime | None = None
    more_doses: tuple[DoseClaim, ...] = ()

    def per_dose(self) -> list[ComplaintInput]:
        """One complaint per dose claimed: this one (its first dose), then one per further dose
        with that dose's claim and the number ``{external_id}/{n}`` (a re-import skips it
        too)."""
        return [self, *(
            replace(self, **dose.__dict__, more_doses=(),
                    external_id=f"{self.external_id}/{n}" if self.external_id else None)
            for n, dose in enumerate(self.more_doses, start=2))]


def _text(value: str | None) -> str | None:
    """Trimmed, inner runs of white space made one space (the work only when there are).

    The control characters Python also counts as white space (U+001C-U+001F, U+0085) are kept:
    they are either part of a letter read in the wrong encoding (``á»\x85`` is ``ễ``, repaired
    by the name rule) or refused as ``control_character``, never silently made a space."""
    if value is None:
        return None
    if "  " in value or not value.isprintable() or value[:1].isspace() or \
            value[-1:].isspace():
        value = _BLANKS.sub(" ", value).strip(" ")
    return value or None


@lru_cache(maxsize=256)
def category_of(value: str | None) -> str | None:
    if value is None:
        return None
    if value in CATEGORY_TEXT:
        return value
    folded = fold_header(value)
    for code, (vi, en) in CATEGORY_TEXT.items():
        if folded in (fold_header(vi), fold_header(en), fold_header(code)):
            return code
    return CATEGORY_ALIASES.get(folded)


def _dob(value: str, today: dt.date, problems: list[Problem]) -> str | None:
    parsed = _date(value)
    if not parsed.valid or parsed.value is None:
        problems.append(Problem("dob", "dob_invalid"))
    elif parsed.precision != "day":
        problems.append(Problem("dob", "dob_incomplete"))
    elif parsed.value > today:
        problems.append(Problem("dob", "dob_in_future"))
    else:
        return parsed.value.isoformat()
    return None


def _dose_date(value: str | None, today: dt.date, problems: list[Problem],
               suffix: str = "") -> str | None:
    if value is None:
        return None
    parsed = _date(value)
    field = f"vaccinated_on{suffix}"
    if parsed.year is not None and parsed.year > today.year:
        problems.append(Problem(field, "vaccinated_on_in_future"))
    elif not parsed.valid or parsed.value is None or parsed.precision != "day":
        problems.append(Problem(field, "vaccinated_on_invalid"))
    elif parsed.value > today:
        problems.append(Problem(field, "vaccinated_on_in_future"))
    elif parsed.value < CAMPAIGN_START:
        problems.append(Problem(field, "vaccinated_on_before_campaign"))
    else:
        return parsed.value.isoformat()
    return None


def _received_at(value: str | None, problems: list[Problem]) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = dates.parse(value)
        if parsed.valid and parsed.value is not None and parsed.precision == "day":
            moment = dt.datetime.combine(parsed.value, dt.time())
        else:
            problems.append(Problem("received_at", "received_at_invalid"))
            return None
    # A time without a zone is Viet Nam's (the portals' exports are local time).
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=7)))
    return moment.astimezone(dt.UTC)


def _has_control(key: str, value: str) -> bool:
    """A control character in ``value``; in a name, not one that is part of a letter read in
    the wrong encoding (the name rule repairs those, as the cleaning does: ingest's rule)."""
    if key == "full_name":
        value = MOJIBAKE_CONTROL.sub("", value)
    return CONTROL_CHARACTER.search(value) is not None


def _value_problems(text: dict[str, str | None]) -> list[Problem]:
    present = [value for value in text.values() if value is not None]
    # One look at the whole row first: almost every row is clean.
    if not CONTROL_CHARACTER.search(" ".join(present)) and \
            max(map(len, present), default=0) <= MAX_VALUE_LENGTH:
        return []
    problems: list[Problem] = []
    for key, value in text.items():
        if value is None:
            continue
        if _has_control(key, value):
            problems.append(Problem(key, "control_character"))
        elif len(value) > MAX_VALUE_LENGTH and key != "description":
            problems.append(Problem(key, "value_too_long"))
    return problems


def standardise(raw: dict[str, str | None], *, today: dt.date | None = None
                ) -> ComplaintInput | list[Problem]:
    """The complaint in ``raw`` (text by field name) standardised, or all of its problems."""
    today = today or dt.date.today()
    text = {name: _text(value) for name, value in raw.items()}
    problems = _value_problems(text)
    for key in REQUIRED:
        if text.get(key) is None:
            problems.append(Problem(key, "missing_value"))
    if problems:
        return problems
    name = _name(text["full_name"])
    if name.canonical is None:
        problems.append(Problem("full_name", "name_missing"))
    dob = _dob(text["dob"] or "", today, problems)
    phone = phones.parse(text["phone"])
    if phone.kind not in ("mobile", "landline") or phone.number is None:
        problems.append(Problem("phone", "phone_not_vietnamese"))
    parsed_id = ids.parse(text["id_number"])
    if parsed_id.kind not in ("cccd", "cmnd") or parsed_id.clean is None:
        problems.append(Problem("id_number", "id_unparseable"))
    category = category_of(text["category"])
    if category is None:
        problems.append(Problem("category", "category_unknown"))
    sex = _gender(text.get("gender")) if text.get("gender") else None
    if text.get("gender") and sex is None:
        problems.append(Problem("gender", "gender_unknown"))
    first = _dose(text, "", today, problems)
    more = tuple(_dose(text, suffix, today, problems) for suffix, columns in MORE_DOSE_COLUMNS
                 if any(map(text.get, columns)))
    received_at = _received_at(text.get("received_at"), problems)
    if problems:
        return problems
    assert name.canonical and dob and phone.number and parsed_id.clean and category
    units = _places(text.get("province"), text.get("district"), text.get("commune"))
    return ComplaintInput(
        category=category, full_name=name.canonical, dob=dob, phone=phone.number,
        id_number=parsed_id.clean, gender=sex, address=text.get("address"),
        province_code=units.province_code, district_code=units.district_code,
        commune_code=units.commune_code, **first.__dict__,
        description=text.get("description"), external_id=text.get("complaint_id"),
        received_at=received_at, more_doses=more)


def _dose(text: dict[str, str | None], suffix: str, today: dt.date,
          problems: list[Problem]) -> DoseClaim:
    """One dose's claim (``suffix``: "" for the first dose, "_2" for the second ...)."""
    vaccine = _vaccine(text.get(f"vaccine{suffix}")) if text.get(f"vaccine{suffix}") else None
    if vaccine is not None and vaccine.vaccine is None:
        problems.append(Problem(f"vaccine{suffix}", "vaccine_unknown"))
    dose_number = None
    if text.get(f"dose_number{suffix}"):
        dose_number = _dose_number(text[f"dose_number{suffix}"])
        if dose_number is None:
            problems.append(Problem(f"dose_number{suffix}", "dose_number_not_a_number"))
        elif not 1 <= dose_number <= 10:
            problems.append(Problem(f"dose_number{suffix}", "dose_number_out_of_range"))
    day = _dose_date(text.get(f"vaccinated_on{suffix}"), today, problems, suffix)
    return DoseClaim(dose_number, vaccine.vaccine.key if vaccine and vaccine.vaccine else None,
                     day, text.get(f"facility_id{suffix}"))
