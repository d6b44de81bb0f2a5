"""Citizens' complaints ("phản ánh"): the pages of the complaints workflow (issue #15).

This router is where the complaint pages go: a citizen signed in with the one-time code files a
complaint about a record (``/citizen/complaints``), and facility and province officers settle them
(``/officer/complaints``). Until the workflow exists, the citizen page says how to reach the
facility, and nothing is stored.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from vaxtrust.web.deps import citizen_session, render

router = APIRouter(include_in_schema=False)


@router.get("/citizen/complaints")
def citizen_complaints(request: Request) -> Response:
    info = citizen_session(request)
    if info is None:
        return RedirectResponse("/citizen", status_code=303)
    return render(request, "complaints.html", {"citizen": True})
