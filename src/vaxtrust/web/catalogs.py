"""Keep the gettext catalogs in step with the code: ``python -m vaxtrust.web.catalogs``.

Extracts every message of the templates and of the Python code (``_``, ``gettext``, ``N_``),
adds new ones to ``locale/vi`` (to translate) and ``locale/en`` (English is the source: the
message itself), and drops messages no longer used. The test suite fails while any message is
missing, untranslated or fuzzy.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from vaxtrust.web.i18n import LANGUAGES, catalog_path

WEB_DIR = Path(__file__).parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def extract() -> Catalog:
    """Every message the web app can show, as a catalog template."""
    template = Catalog(project="vaxtrust", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            WEB_DIR, METHODS, keywords=KEYWORDS, options_map=OPTIONS, strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments,
                     context=context)
    return template


def read_catalog(language: str) -> Catalog:
    with catalog_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def update() -> dict[str, int]:
    """Merge the extracted messages into every catalog; returns untranslated counts."""
    template = extract()
    missing = {}
    for language in LANGUAGES:
        path = catalog_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            catalog = read_catalog(language)
        else:
            catalog = Catalog(locale=language, project="vaxtrust", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        for message in catalog:
            if not message.id:
                continue
            if language == "en" and not message.string:
                message.string = message.id
        missing[language] = sum(1 for m in catalog if m.id and not m.string)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=True,
                     include_lineno=False)
    return missing


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.INFO)
    logging.getLogger(__name__).info("untranslated: %s", update())
