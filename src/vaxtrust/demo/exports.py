"""How each vaccination facility writes its export: date and gender formats, vaccine names, ...

Real exports differ by facility (software, Excel habits), not by record, so every facility gets
one profile for the whole run. Formatting is vectorised with Arrow compute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Date formats, as facilities export them.
DATE_FORMATS = ("dd/mm/yyyy", "yyyy-mm-dd", "excel_serial", "d/m/yyyy", "dd-mm-yyyy")
DATE_FORMAT_P = (0.45, 0.2, 0.1, 0.15, 0.1)
# Gender codes: (male, female). '1'/'0' means 1 = Nam (male).
GENDER_CODES = (("Nam", "Nữ"), ("M", "F"), ("1", "0"), ("nam", "nữ"), ("NAM", "NỮ"),
                ("Male", "Female"))
GENDER_CODE_P = (0.5, 0.15, 0.1, 0.1, 0.1, 0.05)
EXCEL_EPOCH = np.datetime64("1899-12-30")
_ADMIN_PREFIXES = ("Thành phố ", "Tỉnh ", "Quận ", "Huyện ", "Thị xã ", "Phường ", "Xã ",
                   "Thị trấn ")


@dataclass
class FacilityProfiles:
    date_format: np.ndarray    # int8 index into DATE_FORMATS
    gender_code: np.ndarray    # int8 index into GENDER_CODES
    vaccine_style: np.ndarray  # int8: which of a vaccine's names the facility writes
    dose_prefix: np.ndarray    # bool: "Mũi 1" instead of "1"
    short_address: np.ndarray  # bool: "Nghệ An" instead of "Tỉnh Nghệ An"
    phone_style: np.ndarray    # int8: 0 = 0912..., 1 = +84912..., 2 = 84912...
    sloppiness: np.ndarray     # float (n, 3): error multipliers (text, legacy fonts, Excel IDs)


def facility_profiles(rng: np.random.Generator, count: int) -> FacilityProfiles:
    return FacilityProfiles(
        date_format=rng.choice(len(DATE_FORMATS), size=count, p=DATE_FORMAT_P).astype(np.int8),
        gender_code=rng.choice(len(GENDER_CODES), size=count, p=GENDER_CODE_P).astype(np.int8),
        vaccine_style=rng.choice(4, size=count, p=(0.65, 0.15, 0.12, 0.08)).astype(np.int8),
        dose_prefix=rng.random(count) < 0.15,
        short_address=rng.random(count) < 0.3,
        phone_style=rng.choice(3, size=count, p=(0.85, 0.1, 0.05)).astype(np.int8),
        # Mean 1, heavy spread: most facilities are careful, a few produce most damage.
        sloppiness=rng.gamma(0.6, 1 / 0.6, size=(count, 3)),
    )


def _text(values: np.ndarray | pa.Array) -> pa.Array:
    array = values if isinstance(values, pa.Array) else pa.array(values)
    return array.cast(pa.string())


def _pad2(values: np.ndarray) -> pa.Array:
    return pc.utf8_lpad(_text(values), width=2, padding="0")


def date_parts(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    years = dates.astype("datetime64[Y]")
    months = dates.astype("datetime64[M]")
    return (years.astype(np.int64) + 1970, months.astype(np.int64) % 12 + 1,
            (dates - months.astype("datetime64[D]")).astype(np.int64) + 1)


def format_dates(year: np.ndarray, month: np.ndarray, day: np.ndarray, fmt: np.ndarray) -> pa.Array:
    """Dates in each row's format (``fmt`` indexes DATE_FORMATS). Invalid dates use d/m/y text."""
    y, m, d = _text(year), _pad2(month), _pad2(day)
    iso_text = pc.binary_join_element_wise(y, m, d, "-")
    serial_dates = pc.strptime(iso_text, format="%Y-%m-%d", unit="s", error_is_null=True)
    days = pc.cast(pc.cast(serial_dates, pa.timestamp("s")), pa.int64())
    epoch_offset = int((EXCEL_EPOCH - np.datetime64("1970-01-01")).astype(np.int64))
    serial = pc.cast(pc.subtract(pc.divide(days, 86400), epoch_offset), pa.string())
    variants = [
        pc.binary_join_element_wise(d, m, y, "/"),
        iso_text,
        pc.coalesce(serial, pc.binary_join_element_wise(d, m, y, "/")),
        pc.binary_join_element_wise(_text(day), _text(month), y, "/"),
        pc.binary_join_element_wise(d, m, y, "-"),
    ]
    return pc.choose(pa.array(fmt, pa.int8()), *variants)


def format_genders(code: np.ndarray, style: np.ndarray) -> pa.Array:
    """``code`` 0 = male, 1 = female, 2 = missing (empty text)."""
    table = np.array([c for pair in GENDER_CODES for c in pair] + [""], dtype=object)
    index = np.where(code == 2, len(table) - 1, style.astype(np.int64) * 2 + code)
    return pa.array(table[index], pa.string())


def short_admin_name(names: pa.Array) -> pa.Array:
    """Drop the unit type: 'Tỉnh Nghệ An' → 'Nghệ An', 'Thành phố Hà Nội' → 'Hà Nội'."""
    pattern = "^(" + "|".join(_ADMIN_PREFIXES) + ")"
    return pc.replace_substring_regex(names, pattern=pattern, replacement="")


def format_phones(phones: pa.Array, style: np.ndarray) -> pa.Array:
    national = pc.utf8_slice_codeunits(phones, 1)
    variants = [phones, pc.binary_join_element_wise("+84", national, ""),
                pc.binary_join_element_wise("84", national, "")]
    return pc.choose(pa.array(style, pa.int8()), *variants)
