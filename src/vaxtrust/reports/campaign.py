"""A campaign's deadlines and targets; the origin letter's (1975/BYT-CNTT, 19/04/2022) by default.

Dates of the default are the letter's as issue 16 states them: complaints settled and every
verified person signed before 30/04/2022, cleaning finished before 05/05/2022, the province's
report to the ministry before 06/05/2022; and from ``shared/domain/vn-facts.md`` §0: review and
verification by the ministry's units before 30/04/2022 (1975/BYT-CNTT), procedure 2262 before
01/06/2022 (2262/BYT-CNTT). The ministry changes them per campaign (``vaxtrust report campaign``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from vaxtrust.complaints.deadlines import DeadlineRule
from vaxtrust.errors import ConfigError
from vaxtrust.store import audit
from vaxtrust.store.scope import Actor, Permission
from vaxtrust.store.tables import Campaign as CampaignRow
from vaxtrust.store.tables import utc_now_text

# What a deadline is measured by: a share that must reach its target, or a count that must be 0.
MEASURES = ("authenticated_share", "signed_share", "complaints_open", "none")
TARGETS = ("authenticated_share", "signed_share")
MAX_COMPLAINT_HOURS = 24 * 60   # as the settings allow


@dataclass(frozen=True)
class Deadline:
    key: str
    due_on: dt.date
    label: str
    measure: str = "none"

    def days_left(self, as_of: dt.date) -> int:
        """Days from ``as_of`` to the deadline (negative once it has passed)."""
        return (self.due_on - as_of).days

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "due_on": self.due_on.isoformat(), "label": self.label,
                "measure": self.measure}


@dataclass(frozen=True)
class Campaign:
    code: str
    name: str
    starts_on: dt.date
    deadlines: tuple[Deadline, ...]
    targets: dict[str, float] = field(default_factory=dict)
    saved: bool = False
    """False for the built-in default not yet saved in the store."""
    complaint_hours: int | None = None
    """Hours a complaint recorded in the campaign has (None: the settings' rule, 9458's 48)."""
    complaint_working_days: bool | None = None
    """Count them on working days only (None: as the settings say)."""

    def deadline(self, key: str) -> Deadline | None:
        return next((d for d in self.deadlines if d.key == key), None)

    def complaint_rule(self, fallback: DeadlineRule) -> DeadlineRule:
        """The complaint deadline rule: the campaign's where it sets one, else ``fallback``."""
        return DeadlineRule(
            fallback.hours if self.complaint_hours is None else self.complaint_hours,
            fallback.working_days if self.complaint_working_days is None
            else self.complaint_working_days)

    def complaint_deadline_text(self) -> str | None:
        if self.complaint_hours is None and self.complaint_working_days is None:
            return None
        hours = "settings" if self.complaint_hours is None else f"{self.complaint_hours}h"
        calendar = {None: "", True: " working days", False: " round the clock"}
        return hours + calendar[self.complaint_working_days]

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "starts_on": self.starts_on.isoformat(),
                "deadlines": [d.to_dict() for d in self.deadlines], "targets": self.targets,
                "complaint_hours": self.complaint_hours,
                "complaint_working_days": self.complaint_working_days}


DEFAULT = Campaign(
    code="1975-2022",
    name="Làm sạch dữ liệu tiêm chủng COVID-19 và ký Hộ chiếu vắc xin (1975/BYT-CNTT)",
    starts_on=dt.date(2022, 4, 19),
    deadlines=(
        # Issue 16: "complaints settled and every verified person signed before 30/04/2022".
        # The press copies of the 19/04 letter to the ministry's own units (vn-facts.md §0,
        # kinhtedothi.vn) give 25/04 for these two; the date is the one the provinces
        # answer to, and a campaign saved in the store changes either.
        Deadline("complaints", dt.date(2022, 4, 30),
                 "Xử lý xong phản ánh của người dân (9458/BYT-CNTT)", "complaints_open"),
        Deadline("signing", dt.date(2022, 4, 30),
                 "Ký xác nhận mọi người đã xác thực đúng (1908/BYT-CNTT)", "signed_share"),
        # vn-facts.md §0: the units review, verify and complete wrong data before 30/04/2022.
        Deadline("verification", dt.date(2022, 4, 30),
                 "Rà soát, xác thực, bổ sung thông tin sai, thiếu", "authenticated_share"),
        # Issue 16 and vn-facts.md §0 (letter to the provinces): cleaning before 05/05/2022.
        Deadline("cleaning", dt.date(2022, 5, 5),
                 "Tổ công tác Đề án 06 tỉnh hoàn thành làm sạch (1495/BYT-CNTT)",
                 "authenticated_share"),
        # Issue 16: the province's report to the ministry before 06/05/2022.
        Deadline("report", dt.date(2022, 5, 6), "Tỉnh báo cáo kết quả về Bộ Y tế"),
        # vn-facts.md §0: 2262/BYT-CNTT (04/05/2022) asks the provinces to finish by 01/06/2022.
        Deadline("procedure_2262", dt.date(2022, 6, 1),
                 "Hoàn thành quy trình làm sạch với Công an xã (2262/BYT-CNTT)",
                 "authenticated_share"),
    ),
    targets={"authenticated_share": 1.0, "signed_share": 1.0},
)


def parse_date(text: str, what: str) -> dt.date:
    """A YYYY-MM-DD or DD/MM/YYYY date, else a ConfigError naming ``what``."""
    for form in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text.strip(), form).date()
        except ValueError:
            continue
    raise ConfigError(f"{what} {text!r}: write a date as YYYY-MM-DD or DD/MM/YYYY")


def _from_row(row: CampaignRow) -> Campaign:
    deadlines = tuple(
        Deadline(d["key"], dt.date.fromisoformat(d["due_on"]), d.get("label", d["key"]),
                 d.get("measure", "none"))
        for d in json.loads(row.deadlines))
    return Campaign(row.code, row.name, dt.date.fromisoformat(row.starts_on), deadlines,
                    {key: float(value) for key, value in json.loads(row.targets).items()},
                    saved=True, complaint_hours=row.complaint_hours,
                    complaint_working_days=row.complaint_working_days)


def current(session: Session) -> Campaign:
    """The active campaign saved most recently, else the built-in default."""
    row = session.scalar(select(CampaignRow).where(CampaignRow.active)
                         .order_by(CampaignRow.updated_at.desc()).limit(1))
    return _from_row(row) if row is not None else DEFAULT


def get(session: Session, code: str | None) -> Campaign:
    if code is None:
        return current(session)
    row = session.get(CampaignRow, code)
    if row is not None:
        return _from_row(row)
    if code == DEFAULT.code:
        return DEFAULT
    raise ConfigError(f"no campaign {code!r}")


def edited(base: Campaign, *, code: str | None = None, name: str | None = None,
           starts_on: dt.date | None = None, deadlines: dict[str, dt.date] | None = None,
           targets: dict[str, float] | None = None, complaint_hours: int | None = None,
           complaint_working_days: bool | None = None) -> Campaign:
    """``base`` with the given changes; a deadline key not in ``base`` is added."""
    if complaint_hours is not None and not 1 <= complaint_hours <= MAX_COMPLAINT_HOURS:
        raise ConfigError(f"complaint deadline {complaint_hours} h: between 1 and "
                          f"{MAX_COMPLAINT_HOURS} hours")
    changed = list(base.deadlines)
    for key, due_on in (deadlines or {}).items():
        index = next((i for i, d in enumerate(changed) if d.key == key), None)
        if index is None:
            changed.append(Deadline(key, due_on, key))
        else:
            changed[index] = replace(changed[index], due_on=due_on)
    new_targets = dict(base.targets)
    for key, value in (targets or {}).items():
        if key not in TARGETS:
            raise ConfigError(f"target {key}: use {', '.join(TARGETS)}")
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"target {key}={value}: a share between 0 and 1")
        new_targets[key] = value
    return Campaign(code or base.code, name or base.name, starts_on or base.starts_on,
                    tuple(sorted(changed, key=lambda d: d.due_on)), new_targets,
                    complaint_hours=(base.complaint_hours if complaint_hours is None
                                     else complaint_hours),
                    complaint_working_days=(base.complaint_working_days
                                            if complaint_working_days is None
                                            else complaint_working_days))


def save(session: Session, actor: Actor, campaign: Campaign) -> Campaign:
    """Create or replace the campaign (ministry only); audited as ``campaign_saved``."""
    actor.require(Permission.CAMPAIGNS)
    if not campaign.code.strip() or len(campaign.code) > 40:
        raise ConfigError("a campaign code has 1 to 40 characters")
    deadlines = audit.canonical_json([d.to_dict() for d in campaign.deadlines])
    targets = audit.canonical_json(campaign.targets)
    row = session.get(CampaignRow, campaign.code) or CampaignRow(code=campaign.code)
    row.name, row.starts_on = campaign.name, campaign.starts_on.isoformat()
    row.deadlines, row.targets, row.active = deadlines, targets, True
    row.updated_at, row.updated_by = utc_now_text(), actor.username
    row.complaint_hours = campaign.complaint_hours
    row.complaint_working_days = campaign.complaint_working_days
    session.add(row)
    session.flush()
    audit.append(session, [audit.CampaignSaved(
        actor=actor.username, subject_id=f"campaign:{campaign.code}"[:80], code=campaign.code,
        deadlines=deadlines, targets=targets,
        complaint_deadline=campaign.complaint_deadline_text())])
    return _from_row(row)
