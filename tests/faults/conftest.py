"""The end-to-end harness (replay proxy, real crawls in a subprocess), shared with tests/e2e."""

from tests.e2e.conftest import crawl, overrides, replay, site  # noqa: F401
