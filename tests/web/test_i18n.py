"""Every text of the web app is in both catalogs, translated and not fuzzy; every reason code
the cleaning, the review and the verifier produce has a label in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vaxtrust.schema import DOSE_RECORD_COLUMNS, REGISTER_COLUMNS
from vaxtrust.web import i18n, labels
from vaxtrust.web.catalogs import extract, read_catalog

DOCS = Path(__file__).parents[2] / "docs"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_catalog_holds_every_message_translated_and_none_fuzzy(language: str) -> None:
    catalog = read_catalog(language)
    wanted = {message.id for message in extract() if message.id}
    present = {message.id: message for message in catalog if message.id}
    missing = sorted(wanted - set(present))
    untranslated = sorted(key for key in wanted & set(present) if not present[key].string)
    fuzzy = sorted(key for key, message in present.items() if message.fuzzy)
    assert (missing, untranslated, fuzzy) == ([], [], []), \
        "run `uv run python -m vaxtrust.web.catalogs` and translate locale/vi"


def _codes(text: str) -> set[str]:
    return set(re.findall(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`", text))


def test_every_documented_reason_code_has_a_label() -> None:
    matching = (DOCS / "matching.md").read_text(encoding="utf-8")
    reasons = matching[matching.index("## Reason codes"):]
    reasons = reasons[:reasons.index("\n## ", 4)]
    cleaning = (DOCS / "cleaning.md").read_text(encoding="utf-8")
    rejects = cleaning[cleaning.index("| reason | when |"):]
    rejects = rejects[:rejects.index("\n\n")]
    columns = set(DOSE_RECORD_COLUMNS) | set(REGISTER_COLUMNS)    # fields named in the tables
    documented = (_codes(reasons) | _codes(rejects)) - columns
    assert len(documented) > 40
    assert sorted(documented - set(labels.ALL_CODES)) == []


def test_every_label_differs_between_the_languages_where_it_should() -> None:
    vi = i18n.translations("vi")
    same = [text for text in labels.ALL_CODES.values() if vi.gettext(text) == text]
    assert same == []


def test_labels_follow_the_language_of_the_request() -> None:
    i18n.set_language("en")
    assert labels.label("revoked") == "Revoked"
    i18n.set_language("vi")
    assert labels.label("revoked") == "Đã thu hồi"
    assert labels.label("no_such_code") == "no_such_code"
