"""The vn rules as SQL text, in the reference dialect (DuckDB's; every engine translates it).

Every expression here is generated from the same constants as the Python functions of
``vaxtrust.vn`` and a test proves both give identical results. Plain text builders: no engine,
no I/O, nothing beyond the standard library and ``vaxtrust.vn``. One rule cannot be written in
SQL: repairing legacy-encoding damage and decoding keyboard residue. Names that show any sign of
either (characters outside the Vietnamese alphabet, VNI mark pairs, lost letters, Telex or VNI
keys: ``vaxtrust.vn.keyboard.SUSPECT_PATTERN``) are handed to the Python functions of
:func:`python_functions`, which the SQL calls by name; every other name stays in SQL.

What is here:

- the ``*_sql`` builders (one expression per rule) and the ``*_stages`` builders (a rule as
  successive columns, composed with :func:`chain`); :func:`name_query` and :func:`admin_query`
  (one row per distinct name or place);
- what the SQL needs from an engine: :func:`python_functions` (called by name) and
  :func:`reference_tables` (the admin-unit keys joined by :func:`admin_query`).

The standardise stage (:mod:`vaxtrust.pipeline.standardise`) composes them into ``std_records``
and ``std_register``, and registers those functions and tables in an engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

from vaxtrust.vn import admin, dates, ids, keyboard, names, phones, vaccines
from vaxtrust.vn._alphabet import (
    BASE_VOWELS,
    FOLD_FROM,
    FOLD_TO,
    VN_LETTERS,
    VOWEL_PARTS,
    with_tone,
)
from vaxtrust.vn.gender import GENDER_CODES
from vaxtrust.vn.gender import STRIP_CHARS as GENDER_STRIP
from vaxtrust.vn.legacy import (
    CP1252_CHARACTERS,
    HARMLESS_CHARS,
    SYLLABLE_PATTERN,
    TCVN3_CAPITAL_PATTERN,
    VNI_DIGRAPH_PATTERN,
)

NAME_CANONICAL_UDF: Final = "vn_name_canonical"
NAME_FLAGS_UDF: Final = "vn_name_flags"
REF_PROVINCES: Final = "vn_ref_province_keys"
REF_DISTRICTS: Final = "vn_ref_district_keys"
REF_COMMUNES: Final = "vn_ref_commune_keys"
REF_COMMUNES_BY_PROVINCE: Final = "vn_ref_commune_province_keys"
REF_PROVINCES_2025: Final = "vn_ref_province_2025_keys"
REF_PROVINCE_TO_2025: Final = "vn_ref_province_to_2025"
REF_COMMUNES_2025: Final = "vn_ref_commune_2025_keys"
REF_COMMUNE_NAMES: Final = "vn_ref_commune_names"

_UPPER: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER: Final = _UPPER.lower()


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _char_class(chars: str, *, negate: bool = False) -> str:
    escaped = "".join("\\" + ch if ch in "\\]^-[" else ch for ch in chars)
    return f"[{'^' if negate else ''}{escaped}]"


# --- names -----------------------------------------------------------------------------------
_ALL_LETTERS: Final = "abcdefghijklmnopqrstuvwxyz" + _UPPER + VN_LETTERS
_LETTER_CLASS: Final = _char_class(_ALL_LETTERS)
# Names the SQL path cannot handle: possible legacy-encoding damage (see vn.legacy.repair).
NEEDS_PYTHON_PATTERN: Final = "|".join([
    _char_class(_ALL_LETTERS + HARMLESS_CHARS, negate=True),
    VNI_DIGRAPH_PATTERN,
    TCVN3_CAPITAL_PATTERN,
    f"{_LETTER_CLASS}\\?|\\?{_LETTER_CLASS}",
])
# The combining marks of the Vietnamese letters (NFD: a + U+0302 + U+0301 for ấ). A name typed in
# NFD, made of letters, harmless characters and these marks only, is read in its NFC form: the
# Python path reads every name in NFC too (vn.legacy.repair), so both give the same result, and
# such a name needs no Python. Any other character keeps the name as typed (and in Python).
_VN_MARKS: Final = "\u0300\u0301\u0302\u0303\u0306\u0309\u031b\u0323"
_NFC_SAFE_PATTERN: Final = _char_class(_ALL_LETTERS + HARMLESS_CHARS + _VN_MARKS, negate=True)
# Ð (U+00D0, the Icelandic eth) typed for Đ: vn.legacy.repair reads it as Đ unless another
# reading (as VNI, TCVN3 or UTF-8 seen as cp1252) scores better. None of those is possible for
# text holding a Vietnamese letter outside Latin-1 and cp1252 (ă, đ, ơ, ư, ạ, ễ...): there the
# SQL reads Ð as Đ too, and the name needs Python only if it would without the Ð.
_ETH: Final = "\u00d0"
_BEYOND_LATIN1_LETTERS: Final = _char_class("".join(
    ch for ch in VN_LETTERS if ord(ch) > 0xFF and ch not in CP1252_CHARACTERS))


def _beyond_latin1(expr: str) -> str:
    """Whether ``expr`` holds a letter no legacy reading can start from (ă, đ, ơ, ư, ạ, ễ...)."""
    return f"regexp_matches({expr}, {lit(_BEYOND_LATIN1_LETTERS)})"

# In the SQL path only letters and harmless characters remain: stray = harmless minus blanks.
_STRAY_PATTERN: Final = _char_class(HARMLESS_CHARS.replace(" ", "").replace("\t", ""))
_NOT_LETTERS_PATTERN: Final = "[^" + names.LOWER_LETTERS + "]+"
# Lower-case letter words separated by single spaces: text the cleaning leaves as it is.
_WORDS_PATTERN: Final = f"^[{names.LOWER_LETTERS}]+(?: [{names.LOWER_LETTERS}]+)*$"
_TONE_DIGITS: Final = "".join(str(VOWEL_PARTS[ch][1]) for ch in names.TONED_LOWER)
_LOWER_BASES: Final = BASE_VOWELS


def _toned(expr: str, tone: str) -> str:
    """``expr`` (one lower-case base vowel) carrying the tone whose digit is ``tone``."""
    branches = " ".join(
        f"WHEN '{t}' THEN translate({expr}, {lit(_LOWER_BASES)}, "
        f"{lit(''.join(with_tone(v, t) for v in _LOWER_BASES))})"
        for t in range(1, 6)
    )
    return f"(CASE {tone} {branches} END)"


def _place_tone_sql(w: str) -> str:
    """SQL for :func:`vaxtrust.vn.names.place_tone` on the lower-case word ``w``."""
    toned = lit(names.TONED_LOWER)
    base = f"translate({w}, {toned}, {lit(names.TONED_LOWER_BASE)})"
    tone = f"translate(regexp_extract({w}, {lit('[' + names.TONED_LOWER + ']')}, 0), {toned}, " \
           f"{lit(_TONE_DIGITS)})"
    mod = lit("^" + names.MODIFIED_SPLIT_RE.pattern + "$")
    plain = lit("^" + names.PLAIN_SPLIT_RE.pattern + "$")

    def group(pattern: str, n: int) -> str:
        return f"regexp_extract({base}, {pattern}, {n})"

    g2 = group(plain, 2)
    vowel_group = (
        f"CASE WHEN {group(plain, 3)} <> '' THEN left({g2}, length({g2}) - 1) || "
        f"{_toned(f'right({g2}, 1)', tone)} "
        f"WHEN length({g2}) >= 3 THEN left({g2}, 1) || {_toned(f'substr({g2}, 2, 1)', tone)} "
        f"|| substr({g2}, 3) "
        f"ELSE {_toned(f'left({g2}, 1)', tone)} || substr({g2}, 2) END"
    )
    vowels = lit("[" + _LOWER_BASES + names.TONED_LOWER + "]")
    return (
        f"CASE WHEN length(regexp_replace({w}, {vowels}, '', 'g')) >= length({w}) - 1 THEN {w} "
        f"WHEN length({w}) - length(translate({w}, {toned}, '')) <> 1 THEN {w} "
        f"WHEN regexp_matches({base}, {lit('[' + 'ăâêôơư' + ']')}) THEN "
        f"{group(mod, 1)} || {_toned(group(mod, 2), tone)} || {group(mod, 3)} "
        f"WHEN regexp_matches({base}, {plain}) THEN "
        f"{group(plain, 1)} || ({vowel_group}) || {group(plain, 3)} "
        f"ELSE {w} END"
    )


def _suspect_word_sql(w: str) -> str:
    """SQL for :func:`vaxtrust.vn.legacy.is_suspect_word` on the lower-case word ``w``."""
    toned = lit(names.TONED_LOWER)
    toneless = f"translate({w}, {toned}, {lit(names.TONED_LOWER_BASE)})"
    syllable = lit("^" + SYLLABLE_PATTERN + "$")
    return (f"(regexp_matches({w}, '[^a-z]') AND NOT (regexp_matches({toneless}, {syllable}) "
            f"AND length({w}) - length(translate({w}, {toned}, '')) <= 1))")


def translate_sql(expr: str, source: str, target: str) -> str:
    """``translate(expr, source, target)`` for a column ``expr``, run only where ``expr`` holds
    a character of ``source`` (elsewhere translate changes nothing). DuckDB's translate builds
    its character map on every call, about 0.9 µs a value; the regexp test costs a tenth."""
    return (f"CASE WHEN regexp_matches({expr}, {lit(_char_class(source))}) "
            f"THEN translate({expr}, {lit(source)}, {lit(target)}) ELSE {expr} END")


def fold_sql(expr: str) -> str:
    """SQL for :func:`vaxtrust.vn.names.fold_canonical` (no diacritics, Đ->D, upper case)."""
    return f"upper(translate({expr}, {lit(FOLD_FROM)}, {lit(FOLD_TO)}))"


def name_query(source: str, col: str = "full_name") -> str:
    """Name columns for each distinct ``col`` of ``source`` (joined back by the caller).

    Tone placement, capitalisation and folding run once per distinct word (a few thousand), not
    per row: regexes inside list lambdas are slow, and the same syllables recur across millions
    of names. Each name is then re-assembled from maps word -> result.
    """
    stages = [
        [("_n_nfc", f"CASE WHEN regexp_matches({col}, {lit(_char_class(_VN_MARKS))}) AND NOT "
                    f"regexp_matches({col}, {lit(_NFC_SAFE_PATTERN)}) "
                    f"THEN nfc_normalize({col}) ELSE {col} END")],
        [("_n_text", f"CASE WHEN contains(_n_nfc, {lit(_ETH)}) AND {_beyond_latin1('_n_nfc')} "
                     f"THEN replace(_n_nfc, {lit(_ETH)}, 'Đ') ELSE _n_nfc END")],
        [("_n_lower", "lower(_n_text)")],
        [("_n_py0", "coalesce(regexp_matches(_n_text, "
                    f"{lit(NEEDS_PYTHON_PATTERN)}) OR regexp_matches(_n_lower, "
                    f"{lit(keyboard.SUSPECT_PATTERN)}), false)")],
        # Most names are words of letters and single spaces already, which the cleaning
        # would give back; the test costs a third of the regexp_replace it spares.
        [("_n_clean", f"CASE WHEN NOT _n_py0 THEN CASE WHEN regexp_matches(_n_lower, "
                      f"{lit(_WORDS_PATTERN)}) THEN _n_lower ELSE nullif(trim(regexp_replace("
                      f"_n_lower, {lit(_NOT_LETTERS_PATTERN)}, ' ', 'g')), '') END END")],
    ]
    cleaned = chain(f"(SELECT DISTINCT {col} FROM {source})", stages,
                    [col, "_n_text", "_n_py0", "_n_clean"], prefix="_vn_n")
    sql_flags = (
        "list_filter([CASE WHEN _n_clean IS NULL THEN 'name_missing' END, "
        f"CASE WHEN regexp_matches(_n_text, {lit(_STRAY_PATTERN)}) "
        "THEN 'name_stray_chars_removed' END, "
        "CASE WHEN _n_moved THEN 'name_tone_style' END, "
        f"CASE WHEN regexp_matches(_n_clean, {lit(names.MULTIPLE_TONES_RE.pattern)}) "
        "THEN 'name_multiple_tones' END], lambda x: x IS NOT NULL)"
    )
    head = ("CASE WHEN len(_n_words) >= 3 AND (_n_words[1] || ' ' || _n_words[2]) IN ("
            + ", ".join(lit(s) for s in sorted(names.COMPOUND_SURNAMES))
            + ") THEN 2 WHEN len(_n_words) >= 2 THEN 1 ELSE 0 END")
    def word_map(value: str) -> str:
        # One list of (key, value) pairs, so keys and values cannot come apart.
        return f"map_from_entries(list(struct_pack(k := w, v := {value})))"

    def per_word(map_column: str) -> str:
        return f"list_transform(string_split(c._n_clean, ' '), lambda x: m.{map_column}[x])"

    # A word that is no syllable (Nguyễnn, Thhị) is a sign of legacy-encoding damage, which only
    # Python repairs; but no legacy reading is possible while the name, typed and canonical,
    # holds a letter beyond Latin-1 and cp1252 (vn.legacy.repair keeps it as typed, and the
    # second pass over the canonical form too): then the SQL gives what Python would. (_n_text
    # holds such a letter exactly when the name as typed does: its Đ for Ð needs one already.)
    # A CASE, so that only those names are searched (DuckDB computes both sides of an AND).
    needs_python = (f"CASE WHEN _n_py0 THEN true WHEN _n_suspect THEN NOT "
                    f"({_beyond_latin1('_n_text')} AND {_beyond_latin1('_n_cap')}) ELSE false END")
    return f"""(WITH _vn_nc AS ({cleaned}),
_vn_dw AS (SELECT w, {_place_tone_sql('w')} AS placed, {_suspect_word_sql('w')} AS suspect
           FROM (SELECT DISTINCT unnest(string_split(_n_clean, ' ')) AS w FROM _vn_nc
                 WHERE _n_clean IS NOT NULL)),
_vn_pw AS (SELECT *, upper(left(placed, 1)) || substr(placed, 2) AS cap FROM _vn_dw),
_vn_fw AS (SELECT *, {fold_sql('cap')} AS fw FROM _vn_pw),
_vn_map AS (SELECT {word_map('cap')} AS m_cap, {word_map('fw')} AS m_fw,
                   {word_map('placed <> w')} AS m_moved, {word_map('suspect')} AS m_suspect
            FROM _vn_fw),
_vn_ns AS (SELECT c.*,
                  coalesce(list_contains({per_word('m_suspect')}, true), false) AS _n_suspect,
                  array_to_string({per_word('m_cap')}, ' ') AS _n_cap,
                  array_to_string({per_word('m_fw')}, ' ') AS _n_fw,
                  list_contains({per_word('m_moved')}, true) AS _n_moved
           FROM _vn_nc c, _vn_map m),
_vn_n0 AS (SELECT * EXCLUDE (_n_py0, _n_suspect), {needs_python} AS _n_py FROM _vn_ns),
_vn_np AS (SELECT {col}, {NAME_CANONICAL_UDF}({col}) AS _p_canonical,
                  {NAME_FLAGS_UDF}({col}) AS _p_flags FROM _vn_n0 WHERE _n_py),
_vn_n1 AS (SELECT c.*, p._p_canonical, p._p_flags FROM _vn_n0 c
           LEFT JOIN _vn_np p ON c.{col} IS NOT DISTINCT FROM p.{col}),
_vn_n2 AS (SELECT *, CASE WHEN _n_py THEN _p_canonical ELSE _n_cap END AS name_canonical,
    CASE WHEN _n_py THEN list_filter(string_split(_p_flags, ','), lambda x: x <> '')
         ELSE {sql_flags} END AS name_flags FROM _vn_n1),
_vn_n3 AS (SELECT *, CASE WHEN _n_py THEN {fold_sql('name_canonical')} ELSE _n_fw END
           AS name_fold FROM _vn_n2),
_vn_n4 AS (SELECT *, string_split(name_fold, ' ') AS _n_words FROM _vn_n3),
_vn_n5 AS (SELECT *, {head} AS _n_head FROM _vn_n4),
_vn_n6 AS (SELECT *, CASE WHEN _n_words IS NULL THEN NULL
                  WHEN _n_head = 2 THEN _n_words[1] || ' ' || _n_words[2]
                  WHEN _n_head = 1 THEN _n_words[1] ELSE '' END AS surname_fold,
                  _n_words[len(_n_words)] AS given_fold FROM _vn_n5)
SELECT {col}, name_canonical, name_fold, surname_fold,
       CASE WHEN len(_n_words) - _n_head <= 1 THEN '' ELSE substr(name_fold,
            length(surname_fold) + 2, length(name_fold) - length(surname_fold)
            - length(given_fold) - 2) END AS middle_fold,
       given_fold, name_flags FROM _vn_n6)"""


# --- dates -----------------------------------------------------------------------------------
def days_in_month_sql(y: str, m: str) -> str:
    """Days in month ``m`` of year ``y`` (integer expressions), leap years included."""
    leap = f"(({y}) % 4 = 0 AND (({y}) % 100 <> 0 OR ({y}) % 400 = 0))"
    return (f"(CASE WHEN ({m}) = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END "
            f"WHEN ({m}) IN (4, 6, 9, 11) THEN 30 ELSE 31 END)")


def _valid_day(y: str, m: str, d: str) -> str:
    return (f"(({y}) BETWEEN {dates.EARLIEST_YEAR} AND {dates.LATEST_YEAR} AND ({m}) BETWEEN 1 "
            f"AND 12 AND ({d}) BETWEEN 1 AND {days_in_month_sql(y, m)})")


def date_stages(col: str, p: str) -> list[list[tuple[str, str]]]:
    """Stages giving ``{p}_date``, ``{p}_year``, ``{p}_month``, ``{p}_day`` and
    ``{p}_precision`` for one date column (see vn.dates.parse)."""
    y, m, d = f"{p}_y0", f"{p}_m0", f"{p}_d0"
    return [
        *date_parts_stages(col, p),
        [(f"{p}_precision",
          f"CASE WHEN {y} IS NULL OR {y} NOT BETWEEN {dates.EARLIEST_YEAR} AND "
          f"{dates.LATEST_YEAR} THEN NULL WHEN {m} IS NULL THEN 'year' "
          f"WHEN {m} NOT BETWEEN 1 AND 12 THEN NULL WHEN {d} IS NULL THEN 'month' "
          f"WHEN {d} BETWEEN 1 AND {days_in_month_sql(y, m)} THEN 'day' END")],
        [(f"{p}_year", f"CASE WHEN {p}_precision IS NOT NULL THEN {y} END"),
         (f"{p}_month", f"CASE WHEN {p}_precision IN ('day', 'month') THEN {m} END"),
         (f"{p}_day", f"CASE WHEN {p}_precision = 'day' THEN {d} END")],
        [(f"{p}_date", f"CASE WHEN {p}_precision IS NOT NULL THEN make_date({p}_year, "
                       f"coalesce({p}_month, 1), coalesce({p}_day, 1)) END")],
    ]


def date_parts_stages(col: str, p: str) -> list[list[tuple[str, str]]]:
    """Stages giving the parts as written, ``{p}_y0``, ``{p}_m0``, ``{p}_d0`` (NULL when not
    given), before any check of range or calendar: the one reading of a typed date."""
    t = f"{p}_t"

    def rx(regex: re.Pattern[str]) -> str:
        return lit("^" + regex.pattern + "$")

    def grp(regex: re.Pattern[str], n: int) -> str:
        return f"CAST(regexp_extract({t}, {rx(regex)}, {n}) AS INTEGER)"

    def sub(start: int, length: int) -> str:
        return f"CAST(substr({t}, {start}, {length}) AS INTEGER)"

    yy = f"CAST(regexp_extract({t}, {rx(dates.DAY_FIRST_RE)}, 3) AS INTEGER)"
    day_first_year = (f"CASE WHEN length(regexp_extract({t}, {rx(dates.DAY_FIRST_RE)}, 3)) = 4 "
                      f"THEN {yy} WHEN {yy} <= {dates.TWO_DIGIT_YEAR_PIVOT} THEN 2000 + {yy} "
                      f"ELSE 1900 + {yy} END")
    eight_day_first = f"({_valid_day(sub(5, 4), sub(3, 2), sub(1, 2))} OR NOT " \
                      f"{_valid_day(sub(1, 4), sub(5, 2), sub(7, 2))})"
    serial = f"CAST(regexp_extract({t}, {rx(dates.EXCEL_SERIAL_RE)}, 1) AS INTEGER)"
    serial_ok = f"{serial} BETWEEN {dates.EXCEL_SERIAL_MIN} AND {dates.EXCEL_SERIAL_MAX}"
    serial_date = f"(DATE '{dates.EXCEL_EPOCH.isoformat()}' + {serial})"
    kind = (
        f"CASE WHEN {t} IS NULL OR {t} = '' THEN NULL "
        f"WHEN regexp_matches({t}, {rx(dates.DAY_FIRST_RE)}) THEN 'dmy' "
        f"WHEN regexp_matches({t}, {rx(dates.ISO_RE)}) THEN 'ymd' "
        f"WHEN regexp_matches({t}, {rx(dates.YEAR_MONTH_RE)}) THEN 'ym' "
        f"WHEN regexp_matches({t}, {rx(dates.MONTH_YEAR_RE)}) THEN 'my' "
        f"WHEN regexp_matches({t}, {rx(dates.YEAR_RE)}) THEN 'y' "
        f"WHEN regexp_matches({t}, {rx(dates.EIGHT_DIGITS_RE)}) THEN 'eight' "
        f"WHEN regexp_matches({t}, {rx(dates.EXCEL_SERIAL_RE)}) THEN 'serial' END"
    )
    strip = lit(dates.STRIP_CHARS)
    y, m, d = f"{p}_y0", f"{p}_m0", f"{p}_d0"
    return [
        [(t, f"trim({col}, {strip})")],
        [(f"{p}_kind", kind)],
        [(y, f"CASE {p}_kind WHEN 'dmy' THEN {day_first_year} "
             f"WHEN 'ymd' THEN {grp(dates.ISO_RE, 1)} WHEN 'ym' THEN {grp(dates.YEAR_MONTH_RE, 1)} "
             f"WHEN 'my' THEN {grp(dates.MONTH_YEAR_RE, 2)} WHEN 'y' THEN CAST({t} AS INTEGER) "
             f"WHEN 'eight' THEN CASE WHEN {eight_day_first} THEN {sub(5, 4)} ELSE {sub(1, 4)} END "
             f"WHEN 'serial' THEN CASE WHEN {serial_ok} THEN year({serial_date}) END END"),
         (m, f"CASE {p}_kind WHEN 'dmy' THEN {grp(dates.DAY_FIRST_RE, 2)} "
             f"WHEN 'ymd' THEN {grp(dates.ISO_RE, 2)} WHEN 'ym' THEN {grp(dates.YEAR_MONTH_RE, 2)} "
             f"WHEN 'my' THEN {grp(dates.MONTH_YEAR_RE, 1)} "
             f"WHEN 'eight' THEN CASE WHEN {eight_day_first} THEN {sub(3, 2)} ELSE {sub(5, 2)} END "
             f"WHEN 'serial' THEN CASE WHEN {serial_ok} THEN month({serial_date}) END END"),
         (d, f"CASE {p}_kind WHEN 'dmy' THEN {grp(dates.DAY_FIRST_RE, 1)} "
             f"WHEN 'ymd' THEN {grp(dates.ISO_RE, 3)} "
             f"WHEN 'eight' THEN CASE WHEN {eight_day_first} THEN {sub(1, 2)} ELSE {sub(7, 2)} END "
             f"WHEN 'serial' THEN CASE WHEN {serial_ok} THEN day({serial_date}) END END")],
    ]


# --- ids -------------------------------------------------------------------------------------
def _cccd_problem_sql(x: str) -> str:
    codes = ", ".join(lit(c) for c in sorted(ids.known_birth_codes()))
    year = f"((19 + CAST(substr({x}, 4, 1) AS INTEGER) // 2) * 100 + " \
           f"CAST(substr({x}, 5, 2) AS INTEGER))"
    return (f"CASE WHEN substr({x}, 1, 3) NOT IN ({codes}) THEN 'id_unknown_province_code' "
            f"WHEN substr({x}, 4, 1) NOT IN ({', '.join(lit(c) for c in ids.CENTURY_DIGITS)}) "
            f"THEN 'id_impossible_century' "
            f"WHEN {year} > {ids.LATEST_BIRTH_YEAR} THEN 'id_impossible_birth_year' END")


def id_stages(col: str, p: str) -> list[list[tuple[str, str]]]:
    """Stages giving ``{p}_clean``, ``{p}_kind`` and ``{p}_repairs`` (see vn.ids.parse)."""
    t, form, digits = f"{p}_t", f"{p}_form", f"{p}_digits"
    invisible = lit(_char_class(ids.INVISIBLE_CHARS) + "+")

    def rx(regex: re.Pattern[str]) -> str:
        return lit("^" + regex.pattern + "$")

    sci = rx(ids.SCIENTIFIC_RE)
    mantissa = f"(regexp_extract({t}, {sci}, 1) || regexp_extract({t}, {sci}, 2))"
    exponent = f"CAST(regexp_extract({t}, {sci}, 3) AS INTEGER)"
    padded = f"lpad({digits}, 12, '0')"
    n, cccd = f"{p}_n", f"{p}_cccd"
    passport = (f"{form} = 'other' AND regexp_matches({t}, {rx(ids.PASSPORT_RE)}) "
                f"AND regexp_matches({t}, '[0-9]') AND regexp_matches({t}, '[A-Z]')")
    visible = f"{p}_visible"
    return [
        [(visible, f"regexp_replace({col}, {invisible}, '', 'g')")],
        [(t, f"nullif({translate_sql(visible, _LOWER, _UPPER)}, '')")],
        [(form, f"CASE WHEN {t} IS NULL THEN 'missing' WHEN regexp_matches({t}, "
                f"{rx(ids.DIGITS_RE)}) THEN 'digits' WHEN regexp_matches({t}, {sci}) THEN 'sci' "
                f"WHEN regexp_matches({t}, {rx(ids.EXCEL_DECIMAL_RE)}) THEN 'decimal' "
                f"WHEN regexp_matches({t}, {rx(ids.SEPARATED_RE)}) THEN 'separated' "
                f"ELSE 'other' END")],
        [(digits, f"CASE {form} WHEN 'digits' THEN {t} "
                  f"WHEN 'sci' THEN CASE WHEN length({mantissa}) = {exponent} + 1 "
                  f"THEN {mantissa} END "
                  f"WHEN 'decimal' THEN regexp_extract({t}, {rx(ids.EXCEL_DECIMAL_RE)}, 1) "
                  f"WHEN 'separated' THEN regexp_replace({t}, "
                  f"{lit(ids.SEPARATORS_RE.pattern)}, '', 'g') END"),
         (f"{p}_form_repair", f"CASE {form} WHEN 'sci' THEN 'id_scientific_notation' "
                              f"WHEN 'decimal' THEN 'id_excel_decimal' "
                              f"WHEN 'separated' THEN 'id_separators_removed' END")],
        # The digits as twelve (a CCCD that lost its leading zeros is padded back), so that
        # the CCCD checks run once, on one column.
        [(n, f"length({digits})"),
         (cccd, f"CASE WHEN length({digits}) = 12 THEN {digits} "
                f"WHEN length({digits}) IN (10, 11) THEN {padded} END")],
        [(f"{p}_problem12", _cccd_problem_sql(cccd))],
        [(f"{p}_kind",
          f"CASE WHEN {form} = 'missing' THEN 'missing' "
          f"WHEN {digits} IS NULL THEN CASE WHEN {passport} THEN 'passport' ELSE 'invalid' END "
          f"WHEN {n} IN (10, 11, 12) THEN CASE WHEN {p}_problem12 IS NULL THEN 'cccd' "
          f"ELSE 'invalid' END "
          f"WHEN {n} IN (8, 9) THEN 'cmnd' ELSE 'invalid' END"),
         (f"{p}_clean",
          f"CASE WHEN {digits} IS NULL THEN CASE WHEN {passport} THEN {t} END "
          f"WHEN {n} IN (10, 11) AND {p}_problem12 IS NULL THEN {cccd} "
          f"WHEN {n} = 8 THEN '0' || {digits} ELSE {digits} END"),
         (f"{p}_repairs", _two_flags_sql(f"{p}_form_repair", f"({n} IN (10, 11) AND "
                                         f"{p}_problem12 IS NULL) OR {n} = 8",
                                         "id_leading_zero_lost"))],
    ]


def _two_flags_sql(first: str, condition: str, second: str) -> str:
    """``list_filter([first, CASE WHEN condition THEN second END], lambda x: x IS NOT NULL)``
    without the lambda (a list built and filtered on every value)."""
    return (f"CASE WHEN {first} IS NULL THEN CASE WHEN {condition} THEN [{lit(second)}] "
            f"ELSE []::VARCHAR[] END ELSE CASE WHEN {condition} THEN [{first}, {lit(second)}] "
            f"ELSE [{first}] END END")


# --- gender, phones, vaccines, dose number ------------------------------------------------------
def gender_sql(col: str) -> str:
    """SQL for :func:`vaxtrust.vn.gender.parse`."""
    key = f"upper(translate(trim({col}, {lit(GENDER_STRIP)}), {lit(FOLD_FROM)}, {lit(FOLD_TO)}))"
    males = ", ".join(lit(k) for k, v in GENDER_CODES.items() if v == "M")
    females = ", ".join(lit(k) for k, v in GENDER_CODES.items() if v == "F")
    return f"CASE WHEN {key} IN ({males}) THEN 'M' WHEN {key} IN ({females}) THEN 'F' END"


def phone_stages(col: str, p: str) -> list[list[tuple[str, str]]]:
    """Stages giving ``{p}_number`` (see vn.phones.parse)."""
    t, nd = f"{p}_t", f"{p}_national"
    prefixes = phones.old_mobile_prefixes()
    old = ", ".join(lit(k) for k in sorted(prefixes))
    convert = "CASE substr({nd}, 1, 4) " + " ".join(
        f"WHEN {lit(k)} THEN {lit(v)}" for k, v in sorted(prefixes.items())) + " END"
    return [
        [(t, f"regexp_replace({col}, {lit(phones.SEPARATORS_RE.pattern)}, '', 'g')")],
        [(nd, f"CASE WHEN NOT regexp_matches({t}, {lit('^' + phones.NUMBER_RE.pattern + '$')}) "
              f"THEN NULL WHEN starts_with({t}, '+84') THEN '0' || substr({t}, 4) "
              f"WHEN starts_with({t}, '+') THEN NULL "
              f"WHEN starts_with({t}, '0084') THEN '0' || substr({t}, 5) "
              f"WHEN starts_with({t}, '84') AND length({t}) IN (11, 12) THEN '0' || substr({t}, 3) "
              f"WHEN length({t}) IN (9, 10) AND NOT starts_with({t}, '0') THEN '0' || {t} "
              f"ELSE {t} END")],
        [(f"{p}_number",
          f"CASE WHEN length({nd}) = 11 AND substr({nd}, 1, 4) IN ({old}) "
          f"THEN {convert.format(nd=nd)} || substr({nd}, 5) "
          f"WHEN regexp_matches({nd}, {lit('^' + phones.MOBILE_RE.pattern + '$')}) THEN {nd} "
          f"WHEN regexp_matches({nd}, {lit('^' + phones.LANDLINE_RE.pattern + '$')}) THEN {nd} "
          f"END")],
    ]


def vaccine_key_sql(col: str) -> str:
    """SQL for :func:`vaxtrust.vn.vaccines.vaccine_key`."""
    return (f"regexp_replace(translate(translate({col}, {lit(FOLD_FROM)}, {lit(FOLD_TO)}), "
            f"{lit(_UPPER)}, {lit(_LOWER)}), '[^a-z0-9]+', '', 'g')")


def vaccine_product_sql(key: str) -> str:
    """SQL giving our product key (NULL when unknown) from a vaccine key expression."""
    branches = " ".join(
        f"WHEN regexp_matches({key}, {lit(pattern)}) THEN "
        f"{lit(product) if product else 'NULL'}"
        for pattern, product in vaccines.PATTERNS
    )
    return f"CASE WHEN {key} = '' THEN NULL {branches} END"


def vaccine_code_sql(product: str, attribute: str) -> str:
    branches = " ".join(f"WHEN {lit(key)} THEN {lit(getattr(v, attribute))}"
                        for key, v in vaccines.products().items())
    return f"CASE {product} {branches} END"


def dose_number_sql(col: str) -> str:
    """SQL for :func:`vaxtrust.vn.vaccines.parse_dose_number`."""
    pattern = lit(vaccines.DOSE_NUMBER_RE.pattern)
    return (f"CASE WHEN regexp_matches({col}, {pattern}) "
            f"THEN CAST(regexp_extract({col}, {pattern}, 1) AS INTEGER) END")


def text_sql(col: str) -> str:
    """Trimmed text, NULL when empty."""
    return f"nullif(trim({col}), '')"


# --- admin -----------------------------------------------------------------------------------
def admin_key_sql(col: str, level: admin.Level) -> str:
    """SQL for :func:`vaxtrust.vn.admin.admin_key`."""
    text = (f"trim(regexp_replace(translate(translate({col}, {lit(FOLD_FROM)}, {lit(FOLD_TO)}), "
            f"{lit(_UPPER)}, {lit(_LOWER)}), '[^a-z0-9]+', ' ', 'g'))")
    text = f"regexp_replace({text}, {lit('^(?:' + admin.PREFIXES[level] + ') +')}, '')"
    text = f"regexp_replace({text}, {lit('^(?:' + admin.NUMBER_PREFIXES[level] + ')([0-9])')}, " \
           f"'\\1')"
    return f"regexp_replace(replace({text}, ' ', ''), '^0+([0-9])', '\\1')"


def reference_tables() -> dict[str, dict[str, list[str | None]]]:
    """The admin-unit key tables the ``*_sql`` of :func:`admin_query` join, as named columns."""
    tables = admin.key_tables()
    commune_names = sorted(tables.commune_names)
    return {
        REF_PROVINCES: {"key": list(tables.provinces),
                        "province_code": list(tables.provinces.values())},
        REF_DISTRICTS: {"province_code": [k[0] for k in tables.districts],
                        "key": [k[1] for k in tables.districts],
                        "district_code": list(tables.districts.values())},
        REF_COMMUNES: {"district_code": [k[0] for k in tables.communes],
                       "key": [k[1] for k in tables.communes],
                       "commune_code": list(tables.communes.values())},
        REF_COMMUNES_BY_PROVINCE: {
            "province_code": [k[0] for k in tables.communes_by_province],
            "key": [k[1] for k in tables.communes_by_province],
            "commune_code": list(tables.communes_by_province.values())},
        REF_PROVINCES_2025: {"key": list(tables.provinces_2025),
                             "new_province_code": list(tables.provinces_2025.values())},
        REF_PROVINCE_TO_2025: {"province_code": list(tables.province_to_2025),
                               "new_province_code": list(tables.province_to_2025.values())},
        REF_COMMUNES_2025: {
            "new_province_code": [k[0] for k in tables.communes_2025],
            "key": [k[1] for k in tables.communes_2025],
            "province_code": [v.province_code for v in tables.communes_2025.values()],
            "district_code": [v.district_code for v in tables.communes_2025.values()],
            "commune_code": [v.commune_code for v in tables.communes_2025.values()]},
        REF_COMMUNE_NAMES: {"province_code": [k[0] for k in commune_names],
                            "key": [k[1] for k in commune_names]},
    }


def admin_query(source: str) -> str:
    """Codes for each distinct (province, district, commune) of ``source``; an address in the
    2025 units gives the old units its commune was made of (:func:`vaxtrust.vn.admin.parse`)."""
    # Each level's key once per distinct name of that level (a few thousand communes, far
    # fewer places than the distinct triples): the key's two translate() calls are its cost.
    levels: tuple[admin.Level, ...] = ("province", "district", "commune")
    keyed = " ".join(
        f"LEFT JOIN (SELECT {level}, {admin_key_sql(level, level)} AS k{level[0]} FROM "
        f"(SELECT DISTINCT {level} FROM _vn_at)) _vn_k{level[0]} "
        f"ON t.{level} IS NOT DISTINCT FROM _vn_k{level[0]}.{level}" for level in levels)
    keys = (f"WITH _vn_at AS (SELECT DISTINCT province, district, commune FROM {source}) "
            f"SELECT t.province, t.district, t.commune, kp, kd, kc FROM _vn_at t {keyed}")
    old = (
        f"SELECT r.province, r.district, r.commune, r.kp, r.kc, rn.key AS old_name, "
        f"rp.province_code AS province_code, rd.district_code AS district_code, "
        f"coalesce(rc.commune_code, CASE WHEN rd.district_code IS NULL THEN rcp.commune_code END)"
        f" AS commune_code "
        f"FROM ({keys}) r "
        f"LEFT JOIN {REF_PROVINCES} rp ON rp.key = r.kp "
        f"LEFT JOIN {REF_DISTRICTS} rd ON rd.province_code = rp.province_code AND rd.key = r.kd "
        f"LEFT JOIN {REF_COMMUNES} rc ON rc.district_code = rd.district_code AND rc.key = r.kc "
        f"LEFT JOIN {REF_COMMUNES_BY_PROVINCE} rcp ON rcp.province_code = rp.province_code "
        f"AND rcp.key = r.kc "
        f"LEFT JOIN {REF_COMMUNE_NAMES} rn ON rn.province_code = rp.province_code "
        f"AND rn.key = r.kc"
    )
    # no district, and a commune name the old province never had (not even twice)
    in_2025 = ("o.commune_code IS NULL AND o.district_code IS NULL AND o.old_name IS NULL "
               "AND nc.key IS NOT NULL")
    return (
        f"(SELECT o.province, o.district, o.commune, "
        f"CASE WHEN {in_2025} THEN coalesce(nc.province_code, o.province_code) "
        f"ELSE o.province_code END AS province_code, "
        f"CASE WHEN {in_2025} THEN nc.district_code ELSE o.district_code END AS district_code, "
        f"CASE WHEN {in_2025} THEN nc.commune_code ELSE o.commune_code END AS commune_code "
        f"FROM ({old}) o "
        f"LEFT JOIN {REF_PROVINCES_2025} np ON np.key = o.kp "
        f"LEFT JOIN {REF_PROVINCE_TO_2025} op ON op.province_code = o.province_code "
        f"LEFT JOIN {REF_COMMUNES_2025} nc "
        f"ON nc.new_province_code = coalesce(np.new_province_code, op.new_province_code) "
        f"AND nc.key = o.kc)"
    )


# --- Python functions the SQL calls ------------------------------------------------------------
def _canonical(value: str | None) -> str | None:
    return names.standardise(value).canonical


def _flags(value: str | None) -> str | None:
    return ",".join(names.standardise(value).flags)


def python_functions() -> dict[str, Callable[[str | None], str | None]]:
    """The scalar functions (text in, text out) the SQL calls by name, for names it cannot
    repair in SQL; an engine runs them as vectorised functions (``pipeline.standardise``)."""
    return {NAME_CANONICAL_UDF: _canonical, NAME_FLAGS_UDF: _flags}


# --- composing stages ---------------------------------------------------------------------
def chain(source: str, stages: Sequence[list[tuple[str, str]]], select: Sequence[str],
          prefix: str = "_vn") -> str:
    """A query adding each stage's columns in turn, then selecting ``select``."""
    ctes = []
    previous = source
    for i, stage in enumerate(stages):
        name = f"{prefix}_s{i}"
        columns = ", ".join(f"{expr} AS {alias}" for alias, expr in stage)
        ctes.append(f"{name} AS (SELECT *, {columns} FROM {previous})")
        previous = name
    return f"WITH {', '.join(ctes)} SELECT {', '.join(select)} FROM {previous}"
