"""Telling the citizen: through the same pluggable sender as the one-time codes.

A sender (``vaxtrust.web.codes.CodeSender``: the console, a file, an SMS gateway) that also has
``notify(phone, text)`` is a :class:`Notifier`. The text is Vietnamese, short enough for an SMS,
and names no personal data beyond the complaint's number.
"""

from __future__ import annotations

from typing import Protocol

from vaxtrust.complaints.grounds import BY_CODE


class Notifier(Protocol):
    def notify(self, phone: str, text: str) -> None:
        """Deliver ``text`` to ``phone`` (national form)."""


def resolved_text(complaint_id: int) -> str:
    return (f"Phản ánh số {complaint_id} về thông tin tiêm chủng của bạn đã được giải quyết. "
            "Tra cứu lại chứng nhận tiêm tại cổng thông tin.")


def refused_text(complaint_id: int, ground: str) -> str:
    reason = BY_CODE[ground].vi if ground in BY_CODE else ground
    return (f"Phản ánh số {complaint_id} không được chấp nhận: {reason}. "
            "Vui lòng gửi lại phản ánh với thông tin đúng.")


def received_text(complaint_id: int, deadline: str) -> str:
    return f"Đã tiếp nhận phản ánh số {complaint_id}; hạn giải quyết {deadline}."
