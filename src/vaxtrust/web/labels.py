"""Vietnamese and English labels of every code officers, citizens and verifiers meet.

Codes are stable machine strings (docs/matching.md, docs/cleaning.md); the pages show their
label in the request's language. A test checks every documented code has a label here and a
translation in both catalogs.
"""

from __future__ import annotations

from vaxtrust.web.i18n import N_, gettext

# Cleaning: field verdicts, repairs, matching outcomes and rejects (docs/matching.md).
MATCH_REASONS: dict[str, str] = {
    "name_no_diacritics": N_("Name written without diacritics"),
    "name_diacritics_differ": N_("Name diacritics differ"),
    "name_tone_style": N_("Name tone marks in another style (hòa/hoà)"),
    "name_mojibake_repaired": N_("Name read back from a wrong text encoding (Nguyá»…n)"),
    "name_middle_dropped": N_("Middle name left out or shortened"),
    "name_middle_added": N_("A middle name added"),
    "name_middle_changed": N_("Middle name differs"),
    "name_partial_match": N_("Name partly equal"),
    "name_several_slips": N_("Several slips in the name (surname and given name still written)"),
    "phone_agrees": N_("The phone number agrees"),
    "commune_agrees": N_("The commune agrees"),
    "name_order_swapped": N_("Name words in another order"),
    "name_regional_variant": N_("Regional variant of the name (Hoàng/Huỳnh, Vũ/Võ)"),
    "name_typo": N_("Typing error in the name"),
    "name_missing": N_("Name missing"),
    "name_different": N_("Name differs"),
    "dob_day_month_swapped": N_("Day and month of birth swapped"),
    "dob_year_only": N_("Only the year of birth given"),
    "dob_month_only": N_("Only the month and year of birth given"),
    "dob_placeholder": N_("Placeholder date of birth (01/01)"),
    "dob_typo": N_("Typing error in the date of birth"),
    "dob_missing": N_("Date of birth missing"),
    "dob_different": N_("Date of birth differs"),
    "gender_missing": N_("Gender missing"),
    "gender_flipped": N_("Gender differs"),
    "id_digit_mistyped": N_("One digit of the ID number mistyped"),
    "id_digits_swapped": N_("Two digits of the ID number swapped"),
    "id_old_cmnd": N_("Old 9-digit ID card (CMND) number"),
    "id_missing": N_("ID number missing"),
    "id_not_in_register": N_("ID number not in the population register"),
    "id_other_serial": N_(
        "ID number with this person's province and year of birth but another serial"),
    "id_belongs_to_other_person": N_("ID number belongs to another person"),
    "name_differs_on_own_id": N_(
        "ID number, date of birth and gender are this person's; the name differs"),
    "id_leading_zero_lost": N_("Leading zero of the ID number lost (Excel)"),
    "id_scientific_notation": N_("ID number in scientific notation (Excel)"),
    "id_separators_removed": N_("Separators removed from the ID number"),
    "id_excel_decimal": N_("ID number with an Excel decimal (.0)"),
    "id_invalid": N_("ID number not valid"),
    "ambiguous_candidates": N_("Several register persons are close"),
    "no_candidate": N_("Nobody plausible in the register"),
    "register_person_changed": N_("The person's register data changed since the link"),
    "link_error_above_limit": N_("The link's calibrated error is above the limit"),
    "calibrated_link": N_("Linked on the combined evidence of all fields"),
    "foreign_passport": N_("Passport number of a foreigner"),
    "name_unusable": N_("Name not usable"),
    "dob_unusable": N_("Date of birth not usable"),
    "missing_name": N_("Name missing"),
    "dob_year_typo": N_("Year of birth mistyped"),
}

# Ingest rejects (docs/cleaning.md).
REJECT_REASONS: dict[str, str] = {
    "missing_record_id": N_("Record number missing"),
    "missing_person_id": N_("Person number missing"),
    "missing_value": N_("A required value is missing"),
    "dose_number_not_a_number": N_("Dose number is not a number"),
    "dose_number_out_of_range": N_("Dose number outside 1 to 10"),
    "date_out_of_range": N_("Date before 1900 or in the future"),
    "value_too_long": N_("Value longer than 255 characters"),
    "too_few_columns": N_("Row has too few columns"),
    "too_many_columns": N_("Row has too many columns"),
    "invalid_encoding": N_("Text encoding not readable"),
    "unbalanced_quotes": N_("Unbalanced quotes"),
    "line_too_long": N_("Line too long"),
    "unreadable_row": N_("Row not readable"),
    "duplicate_record_id": N_("Record number seen before with other values"),
    "duplicate_person_id": N_("Person number seen before with other values"),
}

# Dose history flags (pipeline/consolidate.py).
DOSE_FLAGS: dict[str, str] = {
    "duplicate_dose": N_("Duplicate of another dose"),
    "dose_date_unknown": N_("Vaccination date unknown"),
    "dose_before_campaign": N_("Dose before the campaign started"),
    "dose_in_future": N_("Dose date in the future"),
    "vaccine_unknown": N_("Vaccine not recognised"),
    "interval_too_short": N_("Too soon after the previous dose"),
    "dose_number_out_of_order": N_("Dose number out of order"),
    "dose_number_gap": N_("A dose number is missing"),
}

RECORD_STATUSES: dict[str, str] = {
    "verified": N_("Verified"),
    "corrected": N_("Corrected"),
    "review": N_("Under review"),
    "unmatched": N_("Not found in the register"),
    "rejected": N_("Rejected"),
}

REVIEW_STATES: dict[str, str] = {
    "open": N_("Open"),
    "deferred": N_("Deferred"),
    "decided": N_("Decided"),
    "superseded": N_("Superseded"),
}

DECISION_KINDS: dict[str, str] = {
    "accept": N_("Link to the candidate"),
    "reject_all": N_("Not in the register"),
    "edit": N_("Correct fields"),
    "defer": N_("Defer"),
}

VERDICTS: dict[str, str] = {
    "equal": N_("Equal"),
    "different": N_("Different"),
}

SIGNING_STATES: dict[str, str] = {
    "pending": N_("Waiting"),
    "claimed": N_("Being signed"),
    "done": N_("Signed"),
    "failed": N_("Refused"),
}

BATCH_STATES: dict[str, str] = {
    "batch_running": N_("Running"),
    "batch_done": N_("Finished"),
    "batch_failed": N_("Failed"),
}

# The verifier's answer: one reason per kind of failure (passport.verify's exceptions).
VERIFIER_REASONS: dict[str, str] = {
    "valid": N_("Valid"),
    "bad_signature": N_("The signature does not verify"),
    "unknown_key": N_("Signed by a key that is not trusted"),
    "expired": N_("Expired or not yet valid"),
    "revoked": N_("Revoked"),
    "not_a_certificate": N_("Not a vaccination certificate"),
    "no_qr": N_("No readable QR code in the image"),
}

ROLES: dict[str, str] = {
    "ministry": N_("Ministry of Health"),
    "province": N_("Province"),
    "facility": N_("Vaccination facility"),
    "commune_police": N_("Commune police"),
    "citizen": N_("Citizen"),
}

FIELDS: dict[str, str] = {
    "full_name": N_("Full name"),
    "dob": N_("Date of birth"),
    "gender": N_("Gender"),
    "id_number": N_("ID number"),
    "old_id": N_("Old ID card"),
    "phone": N_("Phone"),
    "status": N_("Status"),
    "person_id": N_("Register person"),
    "address": N_("Address"),
    "district": N_("District"),
    "category": N_("Complaint type"),
    "dose_number": N_("Dose number"),
    "vaccine": N_("Vaccine"),
    "vaccinated_on": N_("Vaccination date"),
    "facility_id": N_("Facility"),
    "description": N_("What is wrong"),
    "attachment": N_("Photo of the vaccination certificate"),
}

# Complaints (docs/complaints.md): the states, in vaxtrust.complaints.model's words.
COMPLAINT_STATES: dict[str, str] = {
    "received": N_("Received"),
    "assigned": N_("Assigned"),
    "in_progress": N_("In progress"),
    "resolved": N_("Resolved"),
    "refused": N_("Refused"),
    "escalated": N_("Escalated to the province"),
}
# The complaint types of the national form.
COMPLAINT_CATEGORIES: dict[str, str] = {
    "missing_dose": N_("A dose is missing"),
    "wrong_personal_info": N_("Wrong personal information"),
    "wrong_dose_info": N_("Wrong dose information"),
    "duplicate_dose": N_("A dose recorded twice"),
    "no_certificate": N_("No certificate can be issued"),
}
# The 13 refusal grounds of 9458/BYT-CNTT (vaxtrust.complaints.grounds).
REFUSAL_GROUNDS: dict[str, str] = {
    "photo_lacks_dose_details": N_("The photo shows the screening form without vaccination date, dose and vaccine"),
    "name_contradicts_certificate": N_("The name in the complaint contradicts the name on the vaccination certificate"),
    "personal_photo_only": N_("Only a personal photo is attached, not the certificate"),
    "dose_differs_from_certificate": N_("The dose declared differs from the dose on the certificate"),
    "dob_differs_from_system": N_("The date of birth on the certificate does not match the system's"),
    "photo_lacks_identity": N_("The certificate photo lacks name, gender, time of vaccination or vaccine"),
    "photo_partly_hidden": N_("The certificate photo hides part of the personal information"),
    "photo_unreadable": N_("The photo is blurred and unreadable"),
    "date_differs_from_certificate": N_("The vaccination date declared differs from the certificate's"),
    "nothing_matches_certificate": N_("Nothing on the certificate matches what was declared"),
    "name_without_diacritics": N_("The name declared is incomplete or written without diacritics"),
    "vaccine_differs_from_certificate": N_("The vaccine declared is not the vaccine on the certificate"),
    "form_altered_by_hand": N_("Personal information was altered by hand on the paper form"),
}
# Why a complaint was not accepted (vaxtrust.complaints.standardise.MESSAGES).
COMPLAINT_PROBLEMS: dict[str, str] = {
    "missing_value": N_("A required value is missing"),
    "missing_complaint_id": N_("The complaint number is missing"),
    "duplicate_complaint_id": N_("Another row has the same complaint number"),
    "value_too_long": N_("The value is too long"),
    "control_character": N_("The value holds a control character"),
    "date_out_of_range": N_("The date is before 1900 or after today"),
    "dose_number_not_a_number": N_("The dose number is not a number"),
    "dose_number_out_of_range": N_("The dose number is not 1 to 10"),
    "name_missing": N_("The full name is missing"),
    "dob_invalid": N_("The date of birth cannot be read; write dd/mm/yyyy"),
    "dob_incomplete": N_("The date of birth needs day, month and year"),
    "dob_in_future": N_("The date of birth is in the future"),
    "phone_missing": N_("The phone number is missing"),
    "phone_not_vietnamese": N_("The phone number is not a Vietnamese number (e.g. 0912345678)"),
    "id_missing": N_("The CCCD/CMND number is missing"),
    "id_unparseable": N_("The CCCD/CMND number is not valid: a CCCD has 12 digits, a CMND 9"),
    "id_not_yours": N_("The ID number must be your own, the one your one-time code proved"),
    "category_unknown": N_("Unknown complaint type"),
    "gender_unknown": N_("Unknown gender (Nam / Nữ)"),
    "vaccine_unknown": N_("Unknown vaccine"),
    "vaccinated_on_invalid": N_("The vaccination date cannot be read; write dd/mm/yyyy"),
    "vaccinated_on_in_future": N_("The vaccination date is in the future"),
    "vaccinated_on_before_campaign": N_("The vaccination date is before the campaign started"),
    "attachment_not_an_image": N_("The attachment is not an image (JPEG, PNG or WebP)"),
    "attachment_too_large": N_("The attachment is too large"),
    "outside_scope": N_("The complaint belongs to another facility or province: they import it"),
    "received_at_invalid": N_("The time the complaint was received cannot be read"),
}
# What triage proposes (vaxtrust.complaints.triage.PROPOSALS), in short.
PROPOSAL_KINDS: dict[str, str] = {
    "link_record": N_("Link a record to the person"),
    "correct_to_register": N_("Correct a record to the register"),
    "dose_exists": N_("The dose exists already"),
    "duplicate": N_("The dose is recorded twice"),
    "refuse": N_("Refuse"),
}
# Who a complaint went to (vaxtrust.complaints.routing, 9458's routing).
ROUTINGS: dict[str, str] = {
    "facility": N_("The facility that gave the dose"),
    "province": N_("The province's Department of Health / CDC"),
    "district": N_("The province (may delegate to the district)"),
    "pickup": N_("Daily pick-up queue"),
}
# Complaint labels by kind: their codes overlap the cleaning's ("duplicate_dose",
# "missing_value"), so they are looked up apart from ALL_CODES.
COMPLAINT_LABELS: dict[str, dict[str, str]] = {
    "state": COMPLAINT_STATES, "category": COMPLAINT_CATEGORIES, "ground": REFUSAL_GROUNDS,
    "problem": COMPLAINT_PROBLEMS, "proposal": PROPOSAL_KINDS, "routing": ROUTINGS,
}

ALL_CODES: dict[str, str] = {
    **MATCH_REASONS, **REJECT_REASONS, **DOSE_FLAGS, **RECORD_STATUSES, **REVIEW_STATES,
    **DECISION_KINDS, **VERDICTS, **SIGNING_STATES, **BATCH_STATES, **VERIFIER_REASONS, **ROLES,
    **FIELDS,
}


def label(code: str | None) -> str:
    """The code's label in the request's language (an unknown code is shown as it is)."""
    if not code:
        return ""
    text = ALL_CODES.get(code)
    return gettext(text) if text else code


def complaint_label(kind: str, code: str | None) -> str:
    """A complaint code's label (``kind``: state, category, ground, problem, proposal,
    routing) in the request's language; an unknown code is shown as it is."""
    if not code:
        return ""
    text = COMPLAINT_LABELS[kind].get(code)
    return gettext(text) if text else code
