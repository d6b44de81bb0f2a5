"""What the complaint pages and their API share: the citizen's form, the officer's side-by-side
rows, the attachment answer, the JSON shapes. The workflow itself is ``vaxtrust.app.complaints``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any, Final

from fastapi import HTTPException, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from vaxtrust.app.complaints import ComplaintDetail, ComplaintSummary
from vaxtrust.complaints.notify import Notifier
from vaxtrust.complaints.standardise import Problem
from vaxtrust.config import Settings
from vaxtrust.schema import COMPLAINT_DOSE_COLUMNS, COMPLAINT_DOSES
from vaxtrust.vn import dates, vaccines
from vaxtrust.web import labels
from vaxtrust.web.deps import MAX_FORM_FIELDS

# The national form's fields, as the citizen's page and the API take them.
# The form's further doses: "vaccine_2", ... (each filed as a complaint of its own).
MORE_DOSES: Final = tuple(range(2, COMPLAINT_DOSES + 1))
FORM_FIELDS: Final = ("full_name", "dob", "gender", "phone", "id_number", "address", "province",
                      "district", "category", "vaccine", "dose_number", "vaccinated_on",
                      "facility_id", "description",
                      *(f"{column}_{n}" for n in MORE_DOSES for column in COMPLAINT_DOSE_COLUMNS))
DESCRIPTION_LIMIT: Final = 2000
# Room for the form's text fields around the photo before the body is refused unread.
FORM_MARGIN: Final = 100_000
# The rows of the complaint page: (field, the claim's name for it).
COMPARED: Final = (("full_name", "full_name"), ("dob", "dob"), ("gender", "gender"),
                   ("id_number", "id_number"), ("dose_number", "dose_number"),
                   ("vaccine", "vaccine"), ("vaccinated_on", "vaccinated_on"),
                   ("facility_id", "claimed_facility_id"))


def complaint_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.all_settings
    return settings


def notifier_of(request: Request) -> Notifier | None:
    """The one-time code sender, when it can also deliver messages (``notify``)."""
    sender = request.app.state.sender
    return sender if callable(getattr(sender, "notify", None)) else None


@dataclass(frozen=True)
class Upload:
    values: dict[str, str | None]
    photo: bytes | None
    too_large: bool = False


async def read_complaint_form(request: Request) -> tuple[FormData | None, Upload]:
    """The citizen's form with its photo. A body larger than the photo limit allows is not
    read at all: the answer is the "too large" message, nothing else is looked at."""
    limit = complaint_settings(request).complaints.max_attachment_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + FORM_MARGIN:
        return None, Upload({}, None, too_large=True)
    try:
        form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS,
                                  max_part_size=DESCRIPTION_LIMIT * 4)
    except Exception:   # multipart errors: malformed, or a field too large
        raise HTTPException(400, "the form could not be read") from None
    values: dict[str, str | None] = {}
    for name in FORM_FIELDS:
        value = form.get(name)
        values[name] = value if isinstance(value, str) and value.strip() else None
    upload = form.get("attachment")
    photo = None
    if isinstance(upload, UploadFile) and (upload.filename or upload.size):
        photo = await upload.read(limit + 1)
    return form, Upload(values, photo or None)


def problem_messages(problems: list[Problem]) -> dict[str, list[str]]:
    """Each field's problems, in the request's language."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(problem.field, []).append(
            labels.complaint_label("problem", problem.reason))
    return found


def problem_lines(problems: list[Problem]) -> list[str]:
    return [f"{problem.field}: {labels.complaint_label('problem', problem.reason)}"
            for problem in problems]


@cache
def vaccine_choices() -> dict[str, str]:
    """Product key → the name the citizen knows (the DCC value set's display name)."""
    from vaxtrust.passport.schemas import display

    return {key: str(display("vaccine-medicinal-product", product.mp))
            for key, product in vaccines.products().items()}


@dataclass(frozen=True)
class Row:
    """One field of the complaint page: the citizen's claim, the record, the register."""

    name: str
    claim: str | None
    record: str | None
    register: str | None
    record_differs: bool | None      # the record against the claim (None: nothing to compare)
    register_differs: bool | None    # the register against the claim


def _comparable(name: str, value: str | None) -> str | None:
    """A value as the claim holds it (ISO date, product key, dose number), to compare."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if name in ("dob", "vaccinated_on"):
        parsed = dates.parse(text)
        return parsed.value.isoformat() if parsed.valid and parsed.value else text
    if name == "vaccine":
        product = vaccines.parse(text).vaccine
        return product.key if product else text.casefold()
    if name == "dose_number":
        number = vaccines.parse_dose_number(text)
        return str(number) if number is not None else text
    return " ".join(text.split()).casefold()


def _differs(name: str, claim: str | None, other: str | None) -> bool | None:
    mine, theirs = _comparable(name, claim), _comparable(name, other)
    return None if mine is None or theirs is None else mine != theirs


def compare_rows(detail: ComplaintDetail) -> list[Row]:
    record = detail.record or {}
    original: dict[str, Any] = record.get("original") or {}
    current: dict[str, Any] = record.get("current") or {}
    register = dict(detail.register or {})
    if register:
        register["id_number"] = register.get("person_id")
    rows = []
    for name, claim_name in COMPARED:
        claim = _text(detail.claim.get(claim_name))
        on_record = _text(current.get(name, original.get(name)))
        in_register = _text(register.get(name))
        rows.append(Row(name, claim, on_record, in_register, _differs(name, claim, on_record),
                        _differs(name, claim, in_register)))
    return rows


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def attachment_response(data: bytes, content_type: str, complaint_id: int,
                        sha256: str) -> Response:
    """The stored (re-encoded) image with its own type, never sniffed (nor cached: the security
    headers), and a policy that lets it run nothing even when opened on its own."""
    extension = content_type.rpartition("/")[2].replace("jpeg", "jpg")
    return Response(data, media_type=content_type, headers={
        "Content-Disposition": f'inline; filename="phan-anh-{complaint_id}-{sha256[:12]}.'
                               f'{extension}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox"})


def summary_json(summary: ComplaintSummary) -> dict[str, Any]:
    return asdict(summary)


def detail_json(detail: ComplaintDetail) -> dict[str, Any]:
    body = asdict(detail)
    body["proposal_text"] = ({"vi": detail.proposal_text[0], "en": detail.proposal_text[1]}
                             if detail.proposal_text else None)
    return body
