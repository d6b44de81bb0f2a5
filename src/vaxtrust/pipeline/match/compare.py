"""Field-by-field explanation of a (record, register person) pair, shared by every matching path.

Each path proposes pairs; this module turns a pair into verdicts per field (a reason code, or
``equal``), a rule-based confidence, the reasons list and the JSON comparison a reviewer sees.
Verdicts are computed on the standardised columns of ``std_records`` (alias ``r``) and
``std_register`` (alias ``p``), so the same rules hold on every engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

EQUAL: Final = "equal"

# Surnames that are regional forms of one Sino-Vietnamese surname (vn-facts §3.2): a swap is a
# plausible entry error, never a different family by itself.
SURNAME_VARIANTS: Final = (("HOANG", "HUYNH"), ("VU", "VO"))

# Likelihood factor of each verdict: how much the pair still looks like one person given that
# field's verdict. Products of these are the rule paths' confidences (documented in
# docs/matching.md). "different" factors are low but not zero so a reviewer can still be shown
# the candidate.
NAME_FACTORS: Final[Mapping[str, float]] = {
    EQUAL: 1.0,
    "name_no_diacritics": 0.998,
    "name_diacritics_differ": 0.99,
    "name_middle_dropped": 0.99,
    "name_middle_added": 0.97,
    "name_order_swapped": 0.99,
    "name_words_rearranged": 0.95,
    "name_regional_variant": 0.985,
    "name_typo": 0.97,
    "name_middle_changed": 0.9,
    "name_partial_match": 0.8,
    "name_several_slips": 0.8,
    "name_missing": 0.5,
    "name_different": 0.2,
}
DOB_FACTORS: Final[Mapping[str, float]] = {
    EQUAL: 1.0,
    "dob_day_month_swapped": 0.99,
    "dob_year_only": 0.985,
    "dob_month_only": 0.985,
    "dob_placeholder": 0.97,
    "dob_typo": 0.96,
    "dob_missing": 0.97,
    "dob_unusable": 0.97,
    "dob_different": 0.7,
}
GENDER_FACTORS: Final[Mapping[str, float]] = {
    EQUAL: 1.0,
    "gender_missing": 0.999,
    "gender_flipped": 0.98,
}

# Share of its score kept per unexplained difference (name, date of birth): see explain_pairs_sql.
UNEXPLAINED_CAP: Final = 0.5

# Likelihood ratios of the supporting fields: the rule confidence's odds are multiplied by these
# when the record's phone or commune (both known) equals the register person's. Neither tells a
# person from their household (a parent's ID, a twin), so the name and date-of-birth verdicts
# keep those apart; what the support buys is tolerance for one more entry slip.
SUPPORT_RATIOS: Final[Mapping[str, float]] = {"phone": 10.0, "commune": 3.0, "birth_date": 10.0}
# Names essentially equal (a date of birth that differs beyond any slip may then still link,
# with ID and supporting fields, when the two dates are less than a generation apart).
SAME_NAME_VERDICTS: Final = (EQUAL, "name_no_diacritics", "name_diacritics_differ")
# The full name, every word of it, only written another way: enough to tell a person from a
# relative sharing the household's ID or phone when the date of birth says nothing.
FULL_NAME_VERDICTS: Final = (*SAME_NAME_VERDICTS, "name_regional_variant", "name_order_swapped")
# Fewer years apart than this, two people cannot be parent and child.
GENERATION_GAP_YEARS: Final = 12
# Name verdicts that can only link with support: their reasons name the supporting fields.
EVIDENCE_NAME_VERDICTS: Final = ("name_middle_changed", "name_partial_match", "name_several_slips")
SUPPORTED_PATHS: Final = ("exact", "id_anchored", "id_repair")

# Reason of a record whose ID, date of birth and gender are the ID holder's and whose name differs
# beyond any named slip (not a parent's ID: that comes with another date of birth).
OWN_ID_NAME_DIFFERS: Final = "name_differs_on_own_id"
# A 12-digit ID not in the register with the person's own first six digits (province, century
# and sex, year of birth) and another serial, beyond a slip of two digits: the ID of somebody
# else born that year there, such as a namesake outside the register. Capped like an
# unexplained name or date: it may reach review, never an automatic link.
OTHER_SERIAL: Final = "id_other_serial"
# Date-of-birth verdicts that say the record's date is the register person's (a slip at most).
OWN_DOB_VERDICTS: Final = (EQUAL, "dob_day_month_swapped", "dob_year_only", "dob_month_only",
                           "dob_typo")

# Dates entered when the real one was unknown; they carry no information.
PLACEHOLDER_DOBS: Final = ("1900-01-01", "1970-01-01")


def at_most_two_edits_sql(a: str, b: str) -> str:
    """``damerau_levenshtein(a, b) <= 2``, exactly, at a fraction of its cost.

    Levenshtein's distance is never below Damerau-Levenshtein's and at most twice it (a
    transposition is two edits): at most 2 settles it, above 4 rules it out, and only the few
    pairs between pay for Damerau-Levenshtein, several times slower in DuckDB. Most blocked pairs
    are two different people, whose names are many edits apart (20 million pairs at 10 M).
    Cheaper only where DuckDB evaluates the condition selectively, as in ``CASE WHEN`` (every
    use here): in an aggregate's ``FILTER`` it computes all three distances. Names whose lengths
    differ by more than two are more than two edits apart: no distance is computed for them (a
    third of the blocked pairs of two people).
    """
    return (f"(abs(length({a}) - length({b})) <= 2 AND (levenshtein({a}, {b}) <= 2 OR "
            f"(levenshtein({a}, {b}) <= 4 AND damerau_levenshtein({a}, {b}) <= 2)))")


def at_most_one_edit_sql(a: str, b: str) -> str:
    """``damerau_levenshtein(a, b) <= 1``, computed only where the lengths allow it."""
    return f"(abs(length({a}) - length({b})) <= 1 AND damerau_levenshtein({a}, {b}) <= 1)"


def region_sql(word: str) -> str:
    """A surname word as its region-neutral form (Huỳnh → Hoàng, Võ → Vũ)."""
    variants = " ".join(f"WHEN '{b}' THEN '{a}'" for a, b in SURNAME_VARIANTS)
    return f"(CASE {word} {variants} ELSE {word} END)"


def name_parts_sql(side: str) -> str:
    """Surname, middle and given name of ``{side}_fold`` by position, and the regional surname.

    Parts come from the folded name itself (first word, last word, the rest) so both sides are
    split the same way whatever the standardiser's compound-surname rules decided.
    """
    words = f"string_split({side}_fold, ' ')"
    return f"""{words}[1] AS {side}_sur,
        CASE WHEN len({words}) > 2 THEN array_to_string(list_slice({words}, 2, -2), ' ')
             ELSE '' END AS {side}_mid,
        CASE WHEN len({words}) > 1 THEN {words}[-1] ELSE '' END AS {side}_giv,
        {region_sql(f"{words}[1]")} AS {side}_sur_region"""


# The record's name words compared one by one (r_w1 ... r_w5 of :func:`record_words_sql`; more
# words are rare). Written out, not as a lambda: Spark cannot call the Python damerau_levenshtein
# inside one.
_WORDS_COMPARED: Final = 5


def name_words_sql(name: str) -> list[str]:
    """The first five words of the folded name ``name``, each '' where the name has fewer."""
    padded = f"list_concat(string_split({name}, ' '), {[''] * _WORDS_COMPARED})"
    return [f"{padded}[{i}]" for i in range(1, _WORDS_COMPARED + 1)]


def record_words_sql() -> str:
    """``r_w1`` ... ``r_w5``: the record name's words, '' where the name has fewer."""
    return ", ".join(f"{word} AS r_w{i}" for i, word in enumerate(name_words_sql("r_fold"), 1))


def _written_sql(word: str, *, region: bool = False) -> str:
    """A record word that is register word ``word`` with at most one slip: its last letter
    struck twice (Lêê, Hàà), or one edit keeping the first letter; a short word (Lê/Lý, Lan/Lâm)
    only exactly. ``region``: a surname may also be written the other region's way."""
    def written(w: str) -> str:
        same = f"{region_sql(w)} = {region_sql(word)}" if region else f"{w} = {word}"
        return (f"({same} OR {w} = {word} || right({word}, 1)"
                f" OR (length({word}) >= 4 AND left({w}, 1) = left({word}, 1)"
                f" AND damerau_levenshtein({w}, {word}) = 1))")

    return "(" + "\n            OR ".join(
        written(f"r_w{i}") for i in range(1, _WORDS_COMPARED + 1)) + ")"


# On the columns of explain_pairs_sql's ``parts`` step (r_* record side, p_* register side).
NAME_VERDICT_SQL: Final = f"""CASE
    WHEN r_fold IS NULL OR r_fold = '' THEN 'name_missing'
    WHEN r_canon = p_canon THEN '{EQUAL}'
    WHEN r_fold = p_fold AND upper(r_canon) = r_fold THEN 'name_no_diacritics'
    WHEN r_fold = p_fold THEN 'name_diacritics_differ'
    WHEN r_sur <> p_sur AND r_sur_region = p_sur_region AND r_mid = p_mid AND r_giv = p_giv
        THEN 'name_regional_variant'
    -- middle name left out or shortened (the surname may also be written the other region's way)
    WHEN r_sur_region = p_sur_region AND r_giv = p_giv AND r_mid <> p_mid
        AND (r_mid = '' OR contains(' ' || p_mid || ' ', ' ' || r_mid || ' '))
        THEN 'name_middle_dropped'
    -- a middle name the register does not have (Ngọc Ánh -> Thị Ngọc Ánh; Thị Ánh -> Thị Thu Ánh)
    WHEN r_sur_region = p_sur_region AND r_giv = p_giv AND r_mid <> p_mid
        AND (p_mid = '' OR contains(' ' || r_mid || ' ', ' ' || p_mid || ' ')
             OR len(list_filter(string_split(p_mid, ' '),
                                lambda w: NOT list_contains(string_split(r_mid, ' '), w))) = 0)
        THEN 'name_middle_added'
    WHEN list_sort(string_split(r_fold, ' ')) = list_sort(string_split(p_fold, ' '))
        THEN 'name_order_swapped'
    -- the register's surname and given name both written, one name's words all within the
    -- other's: a middle name dropped or added and the order changed (Hùng Nguyễn for Nguyễn
    -- Văn Hùng)
    WHEN p_giv <> '' AND list_contains(string_split(r_fold, ' '), p_sur)
        AND list_contains(string_split(r_fold, ' '), p_giv)
        AND (len(list_filter(string_split(r_fold, ' '),
                             lambda w: NOT list_contains(string_split(p_fold, ' '), w))) = 0
             OR len(list_filter(string_split(p_fold, ' '),
                                lambda w: NOT list_contains(string_split(r_fold, ' '), w))) = 0)
        THEN 'name_words_rearranged'
    -- A typo: one or two edits over the whole name, but the given name (how people are told
    -- apart, e.g. twins) must stay close, and the edits must not replace a short surname
    -- outright (Đỗ/Lê, Hồ/Võ: another family, not a slip).
    WHEN {at_most_two_edits_sql('r_fold', 'p_fold')} AND length(p_fold) >= 8
        AND (r_sur_region = p_sur_region
             OR (length(p_sur) >= 3 AND damerau_levenshtein(r_sur, p_sur) = 1))
        AND (r_giv = p_giv
             OR (damerau_levenshtein(r_giv, p_giv) = 1
                 -- short given names (Lan/Lam) only when the record's own ID names the person
                 AND (id_verdict = '{EQUAL}' OR length(p_giv) >= 4)
                 AND left(r_giv, 1) = left(p_giv, 1)))
        THEN 'name_typo'
    -- the same surname and given name, another middle name of the same length (Thị Thu Hà /
    -- Thị Thanh Hà)
    WHEN r_sur_region = p_sur_region AND r_giv = p_giv AND r_mid <> '' AND p_mid <> ''
        AND len(string_split(r_mid, ' ')) = len(string_split(p_mid, ' '))
        THEN 'name_middle_changed'
    -- surname and given name agree (the given name is how relatives are told apart), the rest
    -- differs in a way no rule names: links only with the record's ID and supporting fields
    WHEN r_sur_region = p_sur_region AND r_giv <> ''
        AND (r_giv = p_giv
             OR (damerau_levenshtein(r_giv, p_giv) = 1 AND length(p_giv) >= 4
                 AND left(r_giv, 1) = left(p_giv, 1)))
        THEN 'name_partial_match'
    -- several slips at once (a typo with a middle name added, dropped or changed, or the words
    -- moved): the register's surname and given name are each still written somewhere in the
    -- record's name with at most one slip. Like name_partial_match it links only with support.
    WHEN p_giv <> '' AND len(string_split(r_fold, ' ')) >= 2
        AND {_written_sql("p_sur", region=True)}
        AND {_written_sql("p_giv")}
        THEN 'name_several_slips'
    ELSE 'name_different'
END"""

_DIGITS = "strftime(r_dob, '%Y%m%d')"
_REG_DIGITS = "strftime(p_dob, '%Y%m%d')"

DOB_VERDICT_SQL: Final = f"""CASE
    -- a date typed in full that is no date of birth (01/08/9968) is unknown, unless one digit
    -- away from the register person's: then that is the slip, repaired like an ID's
    WHEN r_dob IS NULL OR r_dob_precision IS NULL THEN CASE
        WHEN p_dob_precision = 'day' AND hamming(r_dob_typed, {_REG_DIGITS}) = 1 THEN 'dob_typo'
        WHEN r_dob_typed IS NOT NULL THEN 'dob_unusable'
        ELSE 'dob_missing' END
    WHEN r_dob = p_dob AND r_dob_precision = p_dob_precision THEN '{EQUAL}'
    -- the register knows less (month or year only) and the record agrees with what it knows
    WHEN p_dob_precision = 'month' AND r_dob_precision = 'day'
        AND r_dob_year = p_dob_year AND r_dob_month = p_dob_month THEN '{EQUAL}'
    WHEN p_dob_precision = 'year' AND r_dob_precision IN ('day', 'month')
        AND r_dob_year = p_dob_year THEN '{EQUAL}'
    WHEN CAST(r_dob AS VARCHAR) IN ({", ".join(f"'{d}'" for d in PLACEHOLDER_DOBS)})
        THEN 'dob_placeholder'
    WHEN r_dob_precision = 'day' AND p_dob_precision = 'day' AND r_dob_year = p_dob_year
        AND r_dob_day = p_dob_month AND r_dob_month = p_dob_day THEN 'dob_day_month_swapped'
    WHEN r_dob_precision = 'year' AND r_dob_year = p_dob_year THEN 'dob_year_only'
    WHEN r_dob_precision = 'month' AND r_dob_year = p_dob_year AND r_dob_month = p_dob_month
        THEN 'dob_month_only'
    -- 01/01 of the right year typed in when only the year was known
    WHEN r_dob_precision = 'day' AND r_dob_day = 1 AND r_dob_month = 1
        AND r_dob_year = p_dob_year THEN 'dob_placeholder'
    -- one digit, the day within the right month, or the year one off: typing slips
    WHEN p_dob_precision = 'day' AND r_dob_precision = 'day'
        AND (hamming({_DIGITS}, {_REG_DIGITS}) = 1
             OR (r_dob_year = p_dob_year AND r_dob_month = p_dob_month)
             OR (r_dob_month = p_dob_month AND r_dob_day = p_dob_day
                 AND abs(r_dob_year - p_dob_year) = 1)) THEN 'dob_typo'
    ELSE 'dob_different'
END"""

GENDER_VERDICT_SQL: Final = f"""CASE
    WHEN r_gender IS NULL THEN 'gender_missing'
    WHEN p_gender IS NULL OR r_gender = p_gender THEN '{EQUAL}'
    ELSE 'gender_flipped'
END"""


def factor_sql(column: str, factors: Mapping[str, float]) -> str:
    """A CASE mapping a verdict column to its likelihood factor."""
    whens = " ".join(f"WHEN '{code}' THEN {value}" for code, value in factors.items())
    return f"(CASE {column} {whens} ELSE 0.0 END)"


def explain_pairs_sql(pairs: str) -> str:
    """Verdicts, reasons, comparison JSON and rule confidence for every pair of ``pairs``.

    ``pairs`` must have ``record_id, person_id, path, id_verdict, id_factor, probability``: the ID
    evidence of the path that proposed the pair (``equal``, ``id_digit_mistyped``, ``id_old_cmnd``, ...), its
    factor, and a probability when the path scored the pair itself (Splink), else NULL for the rule
    confidence. A pair whose name or date of birth differs beyond any explained error, or whose
    ID is somebody else's born when and where the person was (:data:`OTHER_SERIAL`), is capped at
    :data:`UNEXPLAINED_CAP` of its score: it may reach review, never an automatic link. Output:
    ``record_id, person_id, path, name_verdict, dob_verdict, gender_verdict, id_verdict,
    match_probability, reasons``. The comparison a reviewer sees is written only for the pairs
    that need it (:func:`field_comparison_sql`).
    """
    return _explain_joined_sql(f"""
    SELECT c.record_id, c.person_id, c.path, c.id_verdict, c.id_factor, c.probability,
        {PAIR_COLUMNS}
    FROM {pairs} AS c
    JOIN std_records AS r ON r.record_id = c.record_id
    JOIN std_register AS p ON p.person_id = c.person_id""")


def tone_style_sql(side: str) -> str:
    """Whether a side's name was written in the other tone style (hoà for hòa): canonical names
    unify the style, the reasons say so. In parentheses: on Spark it becomes a comparison
    (``array_position(...) > 0``), which another comparison beside it would split."""
    return f"(list_contains(coalesce({side}.name_flags, []), 'name_tone_style'))"


# The record (r) and register (p) values the verdicts need, for one joined pair.
PAIR_COLUMNS: Final = f"""r.name_canonical AS r_canon, p.name_canonical AS p_canon,
        r.name_fold AS r_fold, p.name_fold AS p_fold,
        r.dob AS r_dob, r.dob_precision AS r_dob_precision, r.dob_year AS r_dob_year,
        r.dob_month AS r_dob_month, r.dob_day AS r_dob_day, r.dob_typed AS r_dob_typed,
        p.dob AS p_dob, p.dob_precision AS p_dob_precision, p.dob_year AS p_dob_year,
        p.dob_month AS p_dob_month, p.dob_day AS p_dob_day,
        r.gender AS r_gender, p.gender AS p_gender,
        {tone_style_sql("r")} AS r_tone_style, {tone_style_sql("p")} AS p_tone_style,
        r.id_clean AS r_id, p.person_id AS p_id, r.id_repairs,
        r.phone = p.phone AS phone_agrees, r.commune_code = p.commune_code AS commune_agrees"""


# The comparison a reviewer sees (JSON text: per field the record value, register value and
# verdict), on the PAIR_COLUMNS names and the four verdicts of a pair.
FIELD_COMPARISON_SQL: Final = """CAST(to_json({
        'name': {'record': r_canon, 'register': p_canon, 'verdict': name_verdict},
        'dob': {'record': CAST(r_dob AS VARCHAR), 'record_precision': r_dob_precision,
                'register': CAST(p_dob AS VARCHAR), 'register_precision': p_dob_precision,
                'verdict': dob_verdict},
        'gender': {'record': r_gender, 'register': p_gender, 'verdict': gender_verdict},
        'id': {'record': r_id, 'register': p_id, 'verdict': id_verdict}
    }) AS VARCHAR)"""


def field_comparison_sql(candidates: str) -> str:
    """``candidates`` (with ``record_id, person_id`` and the four verdicts) and their
    ``field_comparison``, written from the standardised values the paths compared.

    Only the pairs a reviewer sees need it (the review candidates: a fraction of a per cent of
    the pairs); the paths do not carry it, so a run holds no JSON text per pair in memory.
    """
    return f"""
SELECT c.*, {FIELD_COMPARISON_SQL} AS field_comparison
FROM (
    SELECT c.*, r.name_canonical AS r_canon, p.name_canonical AS p_canon,
        r.dob AS r_dob, r.dob_precision AS r_dob_precision,
        p.dob AS p_dob, p.dob_precision AS p_dob_precision,
        r.gender AS r_gender, p.gender AS p_gender, r.id_clean AS r_id, p.person_id AS p_id
    FROM {candidates} AS c
    JOIN std_records AS r ON r.record_id = c.record_id
    JOIN std_register AS p ON p.person_id = c.person_id
) AS c"""


def _explain_joined_sql(joined: str) -> str:
    """``explain_pairs_sql`` on pairs already joined to their values (``PAIR_COLUMNS``)."""
    rule_confidence = (
        f"id_factor * {factor_sql('name_verdict', NAME_FACTORS)}"
        f" * {factor_sql('dob_verdict', DOB_FACTORS)}"
        f" * {factor_sql('gender_verdict', GENDER_FACTORS)}"
    )
    verdicts = f"""parts AS (
    SELECT *, {name_parts_sql("r")}, {name_parts_sql("p")}, {record_words_sql()} FROM joined
),
verdicts AS (
    SELECT *,
        {NAME_VERDICT_SQL} AS name_verdict,
        {DOB_VERDICT_SQL} AS dob_verdict,
        {GENDER_VERDICT_SQL} AS gender_verdict
    FROM parts
)"""
    same_name = ", ".join(f"'{v}'" for v in SAME_NAME_VERDICTS)
    full_name = ", ".join(f"'{v}'" for v in FULL_NAME_VERDICTS)
    fixed_placeholders = ", ".join(f"'{d}'" for d in PLACEHOLDER_DOBS)
    evidence_names = ", ".join(f"'{v}'" for v in EVIDENCE_NAME_VERDICTS)
    own_dob = ", ".join(f"'{v}'" for v in OWN_DOB_VERDICTS)
    phone, commune, birth_date = (SUPPORT_RATIOS[field]
                                  for field in ("phone", "commune", "birth_date"))
    return f"""
WITH joined AS ({joined}
),
{verdicts},
scored AS (
    SELECT *,
        -- the paths that rest on the record's own ID (or its repair) take support from phone
        -- and commune; Splink weighs them itself, the evidence path keys on them
        probability IS NULL AND path IN ({", ".join(f"'{p}'" for p in SUPPORTED_PATHS)})
            AS supported,
        name_verdict = 'name_different' AS name_unexplained,
        -- a date of birth beyond any slip, on a record whose own ID and name are the person's,
        -- is left to the supporting fields, unless a generation apart: a father and son may
        -- share a full name, and a parent's ID on a child's record is the common error
        (dob_verdict = 'dob_different'
         AND NOT (id_verdict = '{EQUAL}' AND name_verdict IN ({same_name})
                  AND abs(r_dob_year - p_dob_year) < {GENERATION_GAP_YEARS}))
        -- without a date of birth (none, or a fixed placeholder that says nothing) only a full
        -- name tells a person from a relative sharing the household phone or given name (Hồ
        -- Văn Phong, his son Hồ Đông Phong; Đặng Đình Hùng, his son Đặng Minh Hùng 01/01/1900)
        OR ((dob_verdict IN ('dob_missing', 'dob_unusable')
             OR (dob_verdict = 'dob_placeholder'
                 AND CAST(r_dob AS VARCHAR) IN ({fixed_placeholders})))
            AND name_verdict NOT IN ({full_name}))
            AS dob_unexplained,
        -- a CASE: hamming needs equal lengths, and DuckDB computes both sides of an AND
        CASE WHEN id_verdict = 'id_not_in_register' AND length(r_id) = 12
                  AND length(p_id) = 12 AND left(r_id, 6) = left(p_id, 6)
             THEN hamming(r_id, p_id) > 2 ELSE false END AS id_unexplained,
        -- the full date of birth of the person the record's own ID names, with the given name
        -- written exactly (or its last key struck twice): only a twin sibling shares the date,
        -- and a twin's given name differs (a changed middle name is left out: twins may share
        -- the given name)
        dob_verdict = '{EQUAL}' AND r_dob_precision = 'day' AND p_dob_precision = 'day'
            AND gender_verdict <> 'gender_flipped' AND name_verdict <> 'name_middle_changed'
            AND (list_contains(string_split(r_fold, ' '), string_split(p_fold, ' ')[-1])
                 OR list_contains(string_split(r_fold, ' '),
                                  string_split(p_fold, ' ')[-1] || right(p_fold, 1)))
            AS birth_date_agrees
    FROM verdicts
),
capped AS (
    SELECT *, coalesce(probability, {rule_confidence})
        * CASE WHEN name_unexplained THEN {UNEXPLAINED_CAP} ELSE 1.0 END
        * CASE WHEN dob_unexplained THEN {UNEXPLAINED_CAP} ELSE 1.0 END
        * CASE WHEN id_unexplained THEN {UNEXPLAINED_CAP} ELSE 1.0 END AS base_probability
    FROM scored
),
weighed AS (
    -- support never lifts a capped pair: it tolerates one more slip, not an unexplained field
    SELECT *, CASE WHEN supported AND NOT name_unexplained AND NOT dob_unexplained
                       AND NOT id_unexplained THEN
            CASE WHEN coalesce(phone_agrees, false) THEN {phone} ELSE 1.0 END
            * CASE WHEN coalesce(commune_agrees, false) THEN {commune} ELSE 1.0 END
            * CASE WHEN birth_date_agrees THEN {birth_date} ELSE 1.0 END
        ELSE 1.0 END AS support_ratio
    FROM capped
)
SELECT record_id, person_id, path, name_verdict, dob_verdict, gender_verdict, id_verdict,
    least(1.0, greatest(0.0, CASE
        WHEN support_ratio = 1.0 OR base_probability >= 1.0 THEN base_probability
        -- odds times the likelihood ratio of the agreeing fields
        ELSE base_probability * support_ratio
             / (base_probability * support_ratio + 1.0 - base_probability) END))
        AS match_probability,
    -- nothing to say of a pair that agrees on everything (most of them): no list is built.
    -- Every term of the list below is NULL or empty under this condition: a new term must be.
    CASE WHEN name_verdict = '{EQUAL}' AND dob_verdict = '{EQUAL}' AND gender_verdict = '{EQUAL}'
              AND id_verdict = '{EQUAL}' AND NOT coalesce(r_tone_style <> p_tone_style, false)
              AND coalesce(len(id_repairs), 0) = 0 THEN CAST([] AS VARCHAR[]) ELSE
    -- list_distinct drops the NULLs of the fields that agree
    list_sort(list_distinct(list_concat(
        [nullif(name_verdict, '{EQUAL}'), nullif(dob_verdict, '{EQUAL}'),
         nullif(gender_verdict, '{EQUAL}'), nullif(id_verdict, '{EQUAL}'),
         CASE WHEN id_unexplained THEN '{OTHER_SERIAL}' END,
         -- the record's ID names a person of another name: with that person's date of birth
         -- and gender it is their own record with a name no rule explains (or a twin's), with
         -- another date (a parent's ID on a child's record) somebody else's ID
         CASE WHEN id_verdict = '{EQUAL}' AND name_verdict = 'name_different'
              THEN CASE WHEN dob_verdict IN ({own_dob}) AND gender_verdict <> 'gender_flipped'
                        THEN '{OWN_ID_NAME_DIFFERS}' ELSE 'id_belongs_to_other_person' END
              END,
         -- canonical names unify the tone style; say so when the record used the other one
         CASE WHEN r_tone_style <> p_tone_style THEN 'name_tone_style' END,
         -- the fields that carried a difference no slip explains
         CASE WHEN support_ratio > 1.0 AND (name_verdict IN ({evidence_names})
                                           OR dob_verdict = 'dob_different')
              THEN CASE WHEN phone_agrees THEN 'phone_agrees' END END,
         CASE WHEN support_ratio > 1.0 AND (name_verdict IN ({evidence_names})
                                           OR dob_verdict = 'dob_different')
              THEN CASE WHEN commune_agrees THEN 'commune_agrees' END END],
        coalesce(id_repairs, [])))) END AS reasons
FROM weighed
"""


def relate_ids_sql(scored_pairs: str, path: str, id_factor: float) -> str:
    """Pairs for ``explain_pairs_sql`` from a path that found them without the record's ID.

    ``scored_pairs`` has ``record_id, person_id, probability`` (NULL for rule scoring). The ID
    verdict then says what the record's own ID was: absent, the person's, a typo of it, the old
    CMND, or the ID of somebody else in the register: a holder with the record's own date of
    birth (or a slip of it) and gender is the record's own person under a name no rule explains
    (:data:`OWN_ID_NAME_DIFFERS`, as on the ID-anchored pair), anybody else a relative's ID (a
    parent's on a child's record: another date of birth).
    """
    own_dob = ", ".join(f"'{v}'" for v in OWN_DOB_VERDICTS)
    return f"""
WITH related AS (
    SELECT s.record_id, s.person_id, s.probability, r.id_clean, r.id_kind, p.old_id,
        other.person_id AS holder_id, other.gender AS holder_gender, r.gender AS r_gender,
        r.dob AS r_dob, r.dob_precision AS r_dob_precision, r.dob_year AS r_dob_year,
        r.dob_month AS r_dob_month, r.dob_day AS r_dob_day, r.dob_typed AS r_dob_typed,
        other.dob AS p_dob, other.dob_precision AS p_dob_precision, other.dob_year AS p_dob_year,
        other.dob_month AS p_dob_month, other.dob_day AS p_dob_day
    FROM {scored_pairs} AS s
    JOIN std_records AS r ON r.record_id = s.record_id
    JOIN std_register AS p ON p.person_id = s.person_id
    LEFT JOIN std_register AS other
        ON other.person_id = r.id_clean AND other.person_id <> p.person_id
)
SELECT record_id, person_id, '{path}' AS path,
    CASE
        WHEN id_clean IS NULL OR id_kind NOT IN ('cccd', 'cmnd') THEN 'id_missing'
        WHEN id_clean = person_id THEN '{EQUAL}'
        WHEN id_clean = old_id THEN 'id_old_cmnd'
        WHEN length(id_clean) = length(person_id) AND hamming(id_clean, person_id) = 1
            THEN 'id_digit_mistyped'
        WHEN holder_id IS NOT NULL THEN
            CASE WHEN ({DOB_VERDICT_SQL}) IN ({own_dob})
                      AND NOT coalesce(r_gender <> holder_gender, false)
                 THEN '{OWN_ID_NAME_DIFFERS}' ELSE 'id_belongs_to_other_person' END
        ELSE 'id_not_in_register'
    END AS id_verdict,
    {id_factor} AS id_factor, probability
FROM related
"""
