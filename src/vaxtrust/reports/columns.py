"""The report's columns: key, Vietnamese header, English header, kind. Shared by every writer and
the web pages, so the Excel file, the PDF and the dashboard name each figure the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "count", "share", "days"]


@dataclass(frozen=True)
class Column:
    key: str
    vi: str
    en: str
    kind: Kind = "count"


UNIT_COLUMNS = (
    Column("code", "Mã", "Code", "text"),
    Column("name", "Tên đơn vị", "Unit", "text"),
    Column("province_code", "Mã tỉnh", "Province code", "text"),
)
FIGURE_COLUMNS = (
    Column("records", "Mũi tiêm (bản ghi)", "Dose records"),
    Column("verified", "Đã xác thực", "Verified"),
    Column("corrected", "Đã hiệu chỉnh", "Corrected"),
    Column("review", "Chờ rà soát", "In review"),
    Column("unmatched", "Không khớp CSDLQG", "Unmatched"),
    Column("rejected", "Bị loại", "Rejected"),
    Column("authenticated_share", "Tỷ lệ xác thực", "Authenticated share", "share"),
    Column("review_open", "Mục rà soát đang mở", "Open review items"),
    Column("review_over_7d", "Mở quá 7 ngày", "Open over 7 days"),
    Column("review_over_30d", "Mở quá 30 ngày", "Open over 30 days"),
    Column("oldest_review_days", "Chờ lâu nhất (ngày)", "Oldest wait (days)", "days"),
    Column("people_linked", "Người đã xác thực", "People authenticated"),
    Column("people_signed", "Người đã ký", "People signed"),
    Column("verified_unsigned", "Đã xác thực, chưa ký", "Authenticated, not signed"),
    Column("signed_share", "Tỷ lệ đã ký", "Signed share", "share"),
    Column("certificates_revoked", "Chứng nhận thu hồi", "Certificates revoked"),
    Column("certificates_reissued", "Chứng nhận cấp lại", "Certificates re-issued"),
    Column("complaints_received", "Phản ánh đã nhận", "Complaints received"),
    Column("complaints_open", "Phản ánh đang mở", "Complaints open"),
    Column("complaints_overdue", "Phản ánh quá hạn", "Complaints overdue"),
    Column("complaints_resolved", "Phản ánh đã giải quyết", "Complaints resolved"),
    Column("complaints_refused", "Phản ánh từ chối", "Complaints refused"),
)
REPORT_COLUMNS = (*UNIT_COLUMNS, *FIGURE_COLUMNS)
LEVEL_SHEETS = {"country": ("Toàn quốc", "Country"), "province": ("Tỉnh", "Provinces"),
                "district": ("Quận huyện", "Districts"), "commune": ("Xã phường", "Communes"),
                "facility": ("Cơ sở tiêm chủng", "Facilities")}


def header_key(text: str) -> str:
    """A header (or short answer) as compared: no diacritics, lower case, letters and digits."""
    import re

    from vaxtrust.vn import names

    return re.sub(r"[^a-z0-9]", "", (names.fold(text) or "").lower())
