"""The complaint's states, categories and the changes allowed between states.

received → assigned → in_progress → resolved | refused | escalated; an escalated complaint is
handled by the province (it may assign it again, resolve or refuse it). Resolved and refused are
final. Reassignment (assigned or in progress → assigned) needs a reason.
"""

from __future__ import annotations

from typing import Final

from vaxtrust.errors import ConfigError
from vaxtrust.store.tables import COMPLAINT_CATEGORIES, COMPLAINT_STATES

OPEN_STATES: Final = ("received", "assigned", "in_progress", "escalated")
FINAL_STATES: Final = ("resolved", "refused")

# state → states it may move to
TRANSITIONS: Final[dict[str, tuple[str, ...]]] = {
    "received": ("assigned", "in_progress", "resolved", "refused", "escalated"),
    "assigned": ("assigned", "in_progress", "resolved", "refused", "escalated"),
    "in_progress": ("assigned", "resolved", "refused", "escalated"),
    "escalated": ("assigned", "in_progress", "resolved", "refused"),
    "resolved": (),
    "refused": (),
}

CATEGORY_TEXT: Final[dict[str, tuple[str, str]]] = {
    "missing_dose": ("Thiếu mũi tiêm", "A dose is missing"),
    "wrong_personal_info": ("Sai thông tin cá nhân", "Wrong personal information"),
    "wrong_dose_info": ("Sai thông tin mũi tiêm", "Wrong dose information"),
    "duplicate_dose": ("Mũi tiêm bị ghi trùng", "A dose recorded twice"),
    "no_certificate": ("Không được cấp chứng nhận", "No certificate can be issued"),
}
STATE_TEXT: Final[dict[str, tuple[str, str]]] = {
    "received": ("Đã tiếp nhận", "Received"),
    "assigned": ("Đã phân công", "Assigned"),
    "in_progress": ("Đang xử lý", "In progress"),
    "resolved": ("Đã giải quyết", "Resolved"),
    "refused": ("Từ chối", "Refused"),
    "escalated": ("Đã chuyển Sở Y tế / CDC tỉnh", "Escalated to the province"),
}
assert set(CATEGORY_TEXT) == set(COMPLAINT_CATEGORIES) and set(STATE_TEXT) == set(COMPLAINT_STATES)

# What people type for a category (folded: no diacritics, lower case).
CATEGORY_ALIASES: Final[dict[str, str]] = {
    "thieu mui tiem": "missing_dose", "thieu mui": "missing_dose", "chua co mui": "missing_dose",
    "sai thong tin ca nhan": "wrong_personal_info", "sai thong tin": "wrong_personal_info",
    "sai ho ten": "wrong_personal_info", "sai ngay sinh": "wrong_personal_info",
    "sai thong tin mui tiem": "wrong_dose_info", "sai mui tiem": "wrong_dose_info",
    "trung mui tiem": "duplicate_dose", "mui tiem bi trung": "duplicate_dose",
    "ghi trung": "duplicate_dose", "khong duoc cap chung nhan": "no_certificate",
    "chua co chung nhan": "no_certificate", "khong co chung nhan": "no_certificate",
}


def check_transition(state: str, new_state: str, complaint_id: int) -> None:
    if new_state not in TRANSITIONS.get(state, ()):
        if state in FINAL_STATES:
            raise ConfigError(f"complaint {complaint_id} is {state} already: it cannot become "
                              f"{new_state}")
        raise ConfigError(f"complaint {complaint_id} is {state}: it cannot become {new_state}")
