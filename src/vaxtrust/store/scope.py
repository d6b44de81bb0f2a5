"""Roles and scope, enforced where the store builds its queries.

Every repository function takes an :class:`Actor` and adds the actor's filter to its SQL, so a
facility officer's query cannot return another facility's rows whatever the caller asks for.

| role | records visible | may decide reviews |
| --- | --- | --- |
| ministry | all | yes |
| province | records of facilities in its province | yes |
| facility | records of its facility | yes |
| commune_police | the authentication list of its commune (review / unmatched records) | no |
| citizen | records linked to their own register person | no |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from vaxtrust.errors import NotFound, PermissionDenied
from vaxtrust.store.tables import Complaint, ReviewItem, User, VaccinationRecord


class Role(StrEnum):
    MINISTRY = "ministry"
    PROVINCE = "province"
    FACILITY = "facility"
    COMMUNE_POLICE = "commune_police"
    CITIZEN = "citizen"


class Permission(StrEnum):
    PUBLISH = "publish runs"
    # A facility sends its own day (``vaxtrust daily``); publishing whole runs stays above it.
    SEND_DAILY = "send the day's dose records"
    REVIEW = "review and decide items"
    MANAGE_USERS = "manage users"
    AUDIT = "read and verify the audit trail"
    SIGN = "sign certificates"
    REPORT = "read progress reports and accountability lists"
    CAMPAIGNS = "manage campaigns and take progress snapshots"
    POLICE_LISTS = "export and apply the commune police lists"


_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.MINISTRY: frozenset(Permission),
    Role.PROVINCE: frozenset({Permission.PUBLISH, Permission.SEND_DAILY, Permission.REVIEW,
                              Permission.SIGN, Permission.MANAGE_USERS, Permission.REPORT,
                              Permission.POLICE_LISTS}),
    Role.FACILITY: frozenset({Permission.SEND_DAILY, Permission.REVIEW, Permission.SIGN,
                              Permission.REPORT, Permission.POLICE_LISTS}),
    Role.COMMUNE_POLICE: frozenset(),
    Role.CITIZEN: frozenset(),
}

# Administrator mode's actors are named os:ACCOUNT (no username can hold a ':').
ADMIN_PREFIX = "os:"
# A citizen who proved the web's one-time code acts as citizen:PERSON_ID (no user row either).
CITIZEN_PREFIX = "citizen:"

# Records that still need authentication against the population register.
AUTHENTICATION_STATUSES = ("review", "unmatched")


@dataclass(frozen=True)
class Actor:
    """Who is asking, with the one piece of scope their role is limited to."""

    username: str
    role: Role
    province_code: str | None = None
    facility_id: str | None = None
    commune_code: str | None = None
    person_id: str | None = None

    @classmethod
    def from_user(cls, user: User) -> Actor:
        return cls(
            username=user.username, role=Role(user.role), province_code=user.province_code,
            facility_id=user.facility_id, commune_code=user.commune_code,
            person_id=user.person_id,
        )

    @property
    def is_administrator(self) -> bool:
        """The deployment owner's account in administrator mode (no user row behind it)."""
        return self.username.startswith(ADMIN_PREFIX)

    @property
    def is_code_citizen(self) -> bool:
        """A citizen of the web's one-time code (``vaxtrust.web.deps.citizen_actor``): no user
        row behind it, limited to the one person the code proved."""
        return (self.role is Role.CITIZEN and self.person_id is not None
                and self.username == CITIZEN_PREFIX + self.person_id)

    def require(self, permission: Permission) -> None:
        if permission not in _PERMISSIONS[self.role]:
            raise PermissionDenied(
                f"user {self.username} ({self.role}) may not {permission.value}"
            )

    def records_filter(self) -> ColumnElement[bool]:
        """The WHERE clause limiting ``vaccination_record`` rows to this actor's scope."""
        record = VaccinationRecord
        match self.role:
            case Role.MINISTRY:
                return true()
            case Role.PROVINCE:
                return record.province_code == self.province_code
            case Role.FACILITY:
                return record.facility_id == self.facility_id
            case Role.COMMUNE_POLICE:
                return and_(record.commune_code == self.commune_code,
                            record.status.in_(AUTHENTICATION_STATUSES))
            case Role.CITIZEN:
                return record.person_id == self.person_id
        raise AssertionError(self.role)  # pragma: no cover - exhaustive match

    def review_items_filter(self) -> ColumnElement[bool]:
        """The WHERE clause limiting ``review_item`` rows: only reviewing roles see any."""
        item = ReviewItem
        match self.role:
            case Role.MINISTRY:
                return true()
            case Role.PROVINCE:
                return item.province_code == self.province_code
            case Role.FACILITY:
                return item.facility_id == self.facility_id
            case _:
                return false()

    def complaints_filter(self) -> ColumnElement[bool]:
        """The WHERE clause limiting ``complaint`` rows: the facility handling it, the province
        it is routed or escalated to, the ministry (and its daily pick-up queue); a citizen
        their own complaints."""
        complaint = Complaint
        match self.role:
            case Role.MINISTRY:
                return true()
            case Role.PROVINCE:
                return complaint.province_code == self.province_code
            case Role.FACILITY:
                return complaint.facility_id == self.facility_id
            case Role.CITIZEN:
                return or_(complaint.person_id == self.person_id,
                           complaint.filed_by == f"{CITIZEN_PREFIX}{self.person_id}")
            case _:
                return false()

    def persons_filter(
        self, person_id_column: ColumnElement[str] | InstrumentedAttribute[str]
    ) -> ColumnElement[bool]:
        """Persons are visible when one of their records is (a citizen: only themself)."""
        if self.role is Role.MINISTRY:
            return true()
        if self.role is Role.CITIZEN:
            return person_id_column == self.person_id
        return exists(
            select(VaccinationRecord.record_id).where(
                VaccinationRecord.person_id == person_id_column, self.records_filter()
            )
        )

    def scope_label(self) -> str:
        return {
            Role.MINISTRY: "",
            Role.PROVINCE: self.province_code or "",
            Role.FACILITY: self.facility_id or "",
            Role.COMMUNE_POLICE: self.commune_code or "",
            Role.CITIZEN: self.person_id or "",
        }[self.role]


def load_actor(session: Session, username: str) -> Actor:
    """The active user ``username`` as an Actor, or a clear refusal."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}: create one with `vaxtrust users add`")
    if not user.active:
        raise PermissionDenied(f"user {username!r} is deactivated")
    return Actor.from_user(user)
