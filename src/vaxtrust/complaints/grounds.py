"""The 13 grounds on which 9458/BYT-CNTT lets a facility refuse a complaint (annex, step 2.3).

Each ground is a stable code (stored with the complaint, shown in reports and the API) with its
Vietnamese and English text; the wording is a paraphrase of the published list
(``shared/domain/vn-facts.md`` §6.3), in its order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from vaxtrust.errors import ConfigError


@dataclass(frozen=True)
class Ground:
    number: int
    code: str
    vi: str
    en: str


GROUNDS: Final[tuple[Ground, ...]] = (
    Ground(1, "photo_lacks_dose_details",
           "Ảnh chụp phiếu sàng lọc không có ngày tiêm, mũi tiêm và loại vắc xin",
           "The photo shows the screening form without vaccination date, dose and vaccine"),
    Ground(2, "name_contradicts_certificate",
           "Họ tên trong phản ánh mâu thuẫn với họ tên trên giấy xác nhận tiêm",
           "The name in the complaint contradicts the name on the vaccination certificate"),
    Ground(3, "personal_photo_only",
           "Chỉ đính kèm ảnh cá nhân, không phải giấy xác nhận tiêm",
           "Only a personal photo is attached, not the certificate"),
    Ground(4, "dose_differs_from_certificate",
           "Mũi tiêm khai báo khác mũi tiêm trên giấy xác nhận",
           "The dose declared differs from the dose on the certificate"),
    Ground(5, "dob_differs_from_system",
           "Ngày sinh trên giấy xác nhận không khớp với hệ thống",
           "The date of birth on the certificate does not match the system's"),
    Ground(6, "photo_lacks_identity",
           "Ảnh giấy xác nhận thiếu họ tên, giới tính, thời gian tiêm hoặc loại vắc xin",
           "The certificate photo lacks name, gender, time of vaccination or vaccine"),
    Ground(7, "photo_partly_hidden",
           "Ảnh giấy xác nhận bị che mất một phần thông tin cá nhân",
           "The certificate photo hides part of the personal information"),
    Ground(8, "photo_unreadable",
           "Ảnh bị mờ, không đọc được",
           "The photo is blurred and unreadable"),
    Ground(9, "date_differs_from_certificate",
           "Ngày tiêm khai báo khác ngày tiêm trên giấy xác nhận",
           "The vaccination date declared differs from the certificate's"),
    Ground(10, "nothing_matches_certificate",
           "Không có thông tin nào trên giấy xác nhận khớp với nội dung khai báo",
           "Nothing on the certificate matches what was declared"),
    Ground(11, "name_without_diacritics",
           "Họ tên khai báo không đầy đủ hoặc không có dấu",
           "The name declared is incomplete or written without diacritics"),
    Ground(12, "vaccine_differs_from_certificate",
           "Loại vắc xin khai báo khác loại vắc xin trên giấy xác nhận",
           "The vaccine declared is not the vaccine on the certificate"),
    Ground(13, "form_altered_by_hand",
           "Thông tin cá nhân trên phiếu bị sửa bằng tay",
           "Personal information was altered by hand on the paper form"),
)
BY_CODE: Final[dict[str, Ground]] = {ground.code: ground for ground in GROUNDS}


def ground(code: str) -> Ground:
    """The ground of ``code`` (or of its number, ``"8"``), else a refusal naming the codes."""
    if code.isascii() and code.isdigit() and len(code) <= 2 and 1 <= int(code) <= len(GROUNDS):
        return GROUNDS[int(code) - 1]
    found = BY_CODE.get(code)
    if found is None:
        raise ConfigError(f"refusal ground {code!r}: use one of the 13 grounds of 9458/BYT-CNTT "
                          f"({', '.join(BY_CODE)}) or its number 1-13")
    return found
