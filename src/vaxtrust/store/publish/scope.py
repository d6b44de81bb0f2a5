"""Publishing stays within the publisher's scope: across provinces it is the ministry's.

Checked on the staged records once each record's province is its facility's (the province
accountable for it), before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from vaxtrust.errors import PermissionDenied
from vaxtrust.store.scope import Actor, Role

_SHOWN_PROVINCES = 10


@dataclass(frozen=True)
class OutsideScope:
    """Records of a run outside the publisher's scope, by province (largest first)."""

    records: int
    total: int
    provinces: dict[str, int]

    def describe(self) -> str:
        shown = list(self.provinces.items())[:_SHOWN_PROVINCES]
        places = ", ".join(f"{province} ({count:,})" for province, count in shown)
        more = len(self.provinces) - len(shown)
        return (f"{self.records:,} of {self.total:,} records are outside your scope, in "
                f"provinces {places}" + (f" and {more} more" if more > 0 else ""))


class PublishOutsideScope(PermissionDenied):
    """A run holds records outside the publishing actor's scope."""

    def __init__(self, actor: Actor, outside: OutsideScope) -> None:
        super().__init__(f"user {actor.username} ({actor.role} {actor.scope_label()}) may not "
                         f"publish this run: {outside.describe()}; publishing across provinces "
                         "is the ministry's")
        self.outside = outside


def _outside_filter(actor: Actor) -> tuple[str, dict[str, str | None]] | None:
    """SQL condition on ``stage_records`` for records outside ``actor``'s scope."""
    match actor.role:
        case Role.MINISTRY:
            return None
        case Role.PROVINCE:
            return "province_code IS DISTINCT FROM :scope", {"scope": actor.province_code}
        case Role.FACILITY:
            return "facility_id IS DISTINCT FROM :scope", {"scope": actor.facility_id}
    return "true", {}  # no other role publishes; Actor.require refuses them before this


def records_outside_scope(connection: Connection, actor: Actor) -> OutsideScope | None:
    """The staged records ``actor`` may not publish, or None when there are none."""
    condition = _outside_filter(actor)
    if condition is None:
        return None
    where, params = condition
    rows = connection.execute(text(f"""
        SELECT province_code, count(*) AS n FROM stage_records WHERE {where}
        GROUP BY province_code ORDER BY n DESC, province_code"""), params).fetchall()
    if not rows:
        return None
    total = int(connection.exec_driver_sql("SELECT count(*) FROM stage_records").scalar() or 0)
    provinces = {str(province): int(count) for province, count in rows}
    return OutsideScope(sum(provinces.values()), total, provinces)


def refuse_outside_scope(connection: Connection, actor: Actor) -> None:
    """Raise :class:`PublishOutsideScope` when the run holds records outside ``actor``'s scope."""
    outside = records_outside_scope(connection, actor)
    if outside is not None:
        raise PublishOutsideScope(actor, outside)
