"""Fixtures of the web tests: the store tests' published two-province store, plus keys,
certificates and an in-process client (tests/web/fixtures.py)."""

from tests.store.conftest import (  # noqa: F401  (store fixtures shared with the store tests)
    actors,
    pg_databases,
    pg_published_template,
    published,
    sqlite_published_template,
    sqlite_template,
    store,
    store_url,
)
from tests.web.browser import browser  # noqa: F401
from tests.web.fixtures import client, codes_file, keys, settings, web_store  # noqa: F401
